"""Campaigns over a measured table (`instrument: kind: recorded`): the table's conditions are the
only points of the design space, served row by row by `instruments.recorded.pool_instrument`.

A pool replay writes one such campaign file per seed (`pool_campaign_text`) and runs it through
the loop, so its stores open in `junkan status` and the dashboard like any campaign's.

Noise: a condition with replicates reports its own replicate variance, one without reports the
pooled variance of the replicated conditions (`orchestrator.pool_replay.load_pool`). A table with
no replicates at all says nothing about its noise: it reports only a negligible floor, and the
model learns the noise (the surrogate's learned homoscedastic floor, chosen by leave-one-out
evidence), instead of a rule of thumb.
"""

import math
import re
from pathlib import Path

import numpy as np
import yaml

from instruments.recorded.pool_instrument import RecordedPoolInstrument
from orchestrator.campaign import CampaignSpec
from orchestrator.pool_replay import (
    PERCENT_ABOVE,
    PLACEHOLDER,
    SIMPLEX_TOLERANCE,
    VARIANCE_FLOOR_FRACTION,
    Pool,
    design_space,
    load_pool,
)
from policies import Costs, DesignSpace

SPOT_SECONDS = 1.0  # every recorded row costs the same: a measurement is a measurement


def table_path(spec: CampaignSpec) -> Path:
    assert spec.instrument.table is not None
    return Path(spec.instrument.table).expanduser()


def recorded_pool(spec: CampaignSpec) -> tuple[Pool, DesignSpace, np.ndarray]:
    """The table grouped into conditions, the design space it spans and every condition as a point
    of it (rows in `space.names` order). ValueError when the table cannot be read or used."""
    objectives = [(o.name, o.goal) for o in spec.objectives]
    pool = load_pool(table_path(spec), spec.instrument.inputs, objectives)
    if spec.space.process and any(e in spec.instrument.inputs for e in spec.space.composition):
        return pool, *_composition_and_process(spec, pool)  # not a box (whose elements are stand-ins)
    space, points, _ = design_space(pool)
    return pool, space, points


def _composition_and_process(spec: CampaignSpec, pool: Pool) -> tuple[DesignSpace, np.ndarray]:
    """A table of compositions made at several process settings (a library per substrate
    temperature): the campaign's own space, its element columns fractions (or percentages) that
    sum to 1 in every row, its process columns as they are."""
    space = spec.space.simplex()
    if tuple(pool.inputs) != space.names:
        raise ValueError(
            f"inputs {list(pool.inputs)} must name the space's elements, then its process parameters: "
            f"{list(space.names)}"
        )
    x = pool.conditions.astype(float)
    d = len(space.elements)
    fractions = x[:, :d] / 100.0 if np.any(x[:, :d] > PERCENT_ABOVE) else x[:, :d]
    sums = fractions.sum(axis=1)
    off = np.flatnonzero(
        (np.abs(sums - 1.0) > SIMPLEX_TOLERANCE) | np.any(fractions < -SIMPLEX_TOLERANCE, axis=1)
    )
    if len(off):
        row = pool.rows[int(off[0])][0]
        raise ValueError(
            f"the element columns {list(space.elements)} of data row {row + 1} sum to {sums[off[0]]:.4g} "
            f"({len(off)} condition(s) off); each row's fractions must sum to 1 (or 100 %)"
        )
    fractions = np.clip(fractions, 0.0, None)
    return space, np.column_stack([fractions / fractions.sum(axis=1, keepdims=True), x[:, d:]])


def check_recorded(spec: CampaignSpec) -> list[str]:
    """The campaign's space must be the one the table spans (as `junkan replay --pool` writes it)."""
    try:
        _, spanned, points = recorded_pool(spec)
    except (ValueError, OSError) as exc:
        return [f"instrument.table: {exc}"]
    problems = []
    asked = spec.space.simplex()
    if asked.names != spanned.names:
        problems.append(
            f"space: names {list(asked.names)} do not match the table's inputs {spec.instrument.inputs}, "
            f"which span {space_section(spanned)}"
        )
    elif not bool(np.all(asked.contains(points, tol=1e-6))):
        problems.append(f"space: the table's conditions lie outside it; they span {space_section(spanned)}")
    if spec.policy.constraints:
        problems.append("policy.constraints: a recorded table serves its objectives only")
    return problems


def space_section(space: DesignSpace) -> dict[str, dict[str, list[float]]]:
    """The `space:` section of a campaign file for a design space."""
    section: dict[str, dict[str, list[float]]] = {
        "composition": {
            e: [lo, hi] for e, lo, hi in zip(space.elements, space.lower, space.upper, strict=True)
        }
    }
    if space.process:
        section["process"] = {p.name: [p.lower, p.upper] for p in space.process}
    return section


def reported_variances(pool: Pool) -> np.ndarray:
    """The variance served with each condition's rows, per objective (see the module docstring)."""
    variances = np.array(pool.variances, dtype=float)
    for j, name in enumerate(pool.objectives):
        if pool.noise[name]["replicated_conditions"] == 0:
            variances[:, j] = VARIANCE_FLOOR_FRACTION * float(pool.means[:, j].var())
    return variances


def build_recorded_instrument(spec: CampaignSpec) -> RecordedPoolInstrument:
    pool, space, points = recorded_pool(spec)
    return RecordedPoolInstrument(pool, points, space.names, reported_variances(pool))


def recorded_costs() -> Costs:
    """Only the table's rows can be measured: nothing new can be made."""
    return Costs(spot_s=SPOT_SECONDS, library_s=math.inf)


def pool_campaign_text(pool: Pool, data: Path, seed: int, budget: int, policy: dict[str, object]) -> str:
    """The campaign file a pool replay runs for one seed over `pool`, loaded from `data`."""
    space, _, kind = design_space(pool)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(data).stem).strip("-") or "table"
    campaign = {
        "name": f"pool-{stem}-seed-{seed}",
        "description": (
            f"pool replay over {Path(data).name}: the policy chooses among its {len(pool)} conditions"
            + (
                f" (inputs as process parameters; {list(PLACEHOLDER)} are a constant stand-in)"
                if kind == "box"
                else ""
            )
        ),
        "space": space_section(space),
        "objectives": [{"name": n, "goal": g} for n, g in zip(pool.objectives, pool.goals, strict=True)],
        "instrument": {"kind": "recorded", "table": str(Path(data).resolve()), "inputs": list(pool.inputs)},
        "policy": {"kind": "bayesian", **policy},
        "budget": budget,
        "seed": seed,
    }
    return yaml.safe_dump(campaign, sort_keys=False)
