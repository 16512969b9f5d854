"""Pool replay: a policy run over a fully measured data set, choosing only among its rows.

    result = pool_replay(Path("table.csv"), ["Fe", "Ga", "Pd"], [("magnetization_signal", "max")])

Data: a CSV with a header row (read by `instruments.recorded.pool.load_table`), or a zarr store of an
xarray dataset (a directory or a `.zarr` path) whose variables or coordinates named by the inputs and
objectives lie along one dimension (a campaign's `observations.zarr` is one).

Conditions and replicates: rows with identical inputs (exact float equality) are one condition, whose
value is the mean of its rows. Measuring a condition serves its rows in turn (table order); it stays
a candidate while it has unserved rows. Each served value is reported with the variance of one
replicate, per objective:

- the sample variance (ddof 1) of the condition's own rows when it has at least 2;
- else the pooled within-condition variance of all replicated conditions, when there are any;
- else `TABLE_VARIANCE_FRACTION` (1 %) of the variance of the conditions' means across the table
  (a noise sd of 10 % of the table's spread: the data say nothing about their noise);

never below `VARIANCE_FLOOR_FRACTION` of the table's variance. These are what `load_pool` records
(and what `benchmarks/peers.py` serves every agent). The policy's campaign reports them as known,
except for a table with no replicates at all: there each row reports only the floor and the model
learns the noise (`orchestrator.recorded_campaign.reported_variances`).

Policies: "random" measures the conditions in a seeded permutation (then, if the budget exceeds the
number of conditions, their second rows in a new permutation, and so on). "bayesian" runs each seed
as a campaign through the loop (`orchestrator.recorded_campaign`: the table served by
`instruments.recorded.pool_instrument.RecordedPoolInstrument`, a store per seed): the policy
(`policies.BayesianPolicy`) is offered the available conditions as spots before each ask, with
costs that make a new library infinitely expensive (a finite cost such as 1e12 s can still win
against a spot whose log-acquisition has fallen below -28, late in a run), so it always names one of
the candidates (`target_spot`). Its first `n_sobol` proposals are Sobol points of the design space
(it has no model yet): the instrument serves the available condition nearest to each (coordinates
scaled by the table's range). The design space comes from the inputs:

- a simplex when every row's inputs are >= -1e-3 and sum to 1 within 1e-3 (after dividing by 100
  when any value exceeds 1.5: percentages), with bounds [min, max] of each input over the table;
  rows are clipped at 0 and rescaled to sum to exactly 1 for the model;
- otherwise a box: the inputs become process parameters over [min, max] of a `DesignSpace` whose
  composition part is a placeholder binary fixed at 0.5/0.5 on every row. `DesignSpace` has no
  pure box; the placeholder is one constant model coordinate, which carries no information and
  does not change which row is chosen.

Mixed inputs (some a simplex, others not) are modelled as a box. An input constant over the table
is refused (it has no range to model).

Metrics (seeds 0 .. seeds-1 for the policy and for random; conditions scored by their mean):

- one objective: `n_to_best`, the measurement (1-based) at which a best condition is first measured,
  budget + 1 when it never is (censored); the top 5 % are the ceil(5 % x conditions) best conditions
  (ties at the boundary included); the curve is the best mean value among the conditions measured so
  far, in the objective's units (non-decreasing to maximise, non-increasing to minimise);
- several objectives: every objective maximised after a sign flip; the curve is the hypervolume of the
  measured conditions' means against a reference at the worst mean of each objective over the table;
  `n_to_best` is the measurement at which it first reaches the whole table's hypervolume; the top 5 %
  are the first Pareto fronts (non-dominated sorting) holding at least ceil(5 % x conditions).

`top5_fraction_curve` is the median share of the top 5 % measured after each measurement (the EF of any
smaller budget). AF = median n_to_best of random / median of the policy (a bound when a median is
censored); EF (Rohr et al. 2020) = median fraction of the top 5 % the policy measured within the budget /
random's (None when random's median fraction is 0). Seeds run in spawned processes (at most 2), one torch
thread each.
"""

import math
import multiprocessing
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.campaign_scores import (
    acceleration_factor,
    enhancement_factor,
    found_curve,
    found_fraction,
    pareto_ranks,
    progress,
    top_set,
)
from simulators import hypervolume

POLICIES = ("bayesian", "random")
GOALS = {
    "max": "maximize",
    "maximize": "maximize",
    "maximise": "maximize",
    "min": "minimize",
    "minimize": "minimize",
    "minimise": "minimize",
}
MAX_WORKERS = 2  # the machine has 2 cores
SIMPLEX_TOLERANCE = 1e-3
PERCENT_ABOVE = 1.5  # inputs with any value above this are percentages
TABLE_VARIANCE_FRACTION = 0.01
VARIANCE_FLOOR_FRACTION = 1e-6
OPTIMISER = {"num_restarts": 2, "raw_samples": 64, "mc_samples": 64}
PLACEHOLDER = ("_pool_placeholder_a", "_pool_placeholder_b")


@dataclass(frozen=True)
class Pool:
    """A fully measured table grouped into conditions (identical inputs), in order of first row."""

    name: str
    inputs: tuple[str, ...]
    objectives: tuple[str, ...]
    goals: tuple[str, ...]  # "maximize" or "minimize", per objective
    conditions: np.ndarray  # (n_conditions, n_inputs), as read
    replicates: tuple[np.ndarray, ...]  # per condition: (n_rows, n_objectives), in table order
    rows: tuple[tuple[int, ...], ...]  # per condition: its rows (0-based data rows)
    variances: np.ndarray  # (n_conditions, n_objectives): the variance reported with each served row
    noise: Mapping[str, Mapping[str, Any]]  # per objective: how the variances were estimated

    @property
    def means(self) -> np.ndarray:
        return np.array([r.mean(axis=0) for r in self.replicates])

    @property
    def signs(self) -> np.ndarray:
        return np.array([1.0 if g == "maximize" else -1.0 for g in self.goals])

    @property
    def counts(self) -> np.ndarray:
        return np.array([len(r) for r in self.replicates])

    @property
    def n_rows(self) -> int:
        return int(self.counts.sum())

    def __len__(self) -> int:
        return len(self.replicates)


class ReplicateServer:
    """Serves each condition's rows in turn; a condition is available while it has unserved rows."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.served = np.zeros(len(pool), dtype=int)

    def available(self) -> np.ndarray:
        return np.flatnonzero(self.served < self.pool.counts)

    def serve(self, condition: int) -> tuple[dict[str, float], dict[str, float]]:
        """The next row of a condition: values and variances by objective name."""
        k = int(self.served[condition])
        if k >= self.pool.counts[condition]:
            raise ValueError(f"condition {condition} has no unserved row left ({k} served)")
        self.served[condition] += 1
        row = self.pool.replicates[condition][k]
        return (
            {n: float(v) for n, v in zip(self.pool.objectives, row, strict=True)},
            {n: float(v) for n, v in zip(self.pool.objectives, self.pool.variances[condition], strict=True)},
        )


@dataclass(frozen=True)
class _Measured:
    condition: dict[str, float]
    values: dict[str, float]
    variances: dict[str, float]


# -- loading --------------------------------------------------------------------------------------
EVERY_CELL_A_NUMBER = (
    "every input and objective needs a finite number in every row: remove or fill the rows without one "
    "(a condition without a result cannot be replayed)"
)


def load_pool(data: Path | str, inputs: Sequence[str], objectives: Sequence[tuple[str, str]]) -> Pool:
    """Read a CSV or zarr table and group its rows into conditions (see the module docstring)."""
    data = Path(data)
    inputs = list(inputs)
    names = [name for name, _ in objectives]
    goals = []
    for name, goal in objectives:
        if goal not in GOALS:
            raise ValueError(f"objective {name!r} has goal {goal!r}; valid: {sorted(GOALS)}")
        goals.append(GOALS[goal])
    if not inputs or not names:
        raise ValueError(f"give at least one input and one objective (got {inputs} and {names})")
    every = [*inputs, *names]
    if len(set(every)) != len(every):
        raise ValueError(f"inputs and objectives repeat a name: {inputs} and {names}")
    if data.is_dir() or data.suffix == ".zarr":
        columns, where = _zarr_columns(data, every)
    else:
        columns, where = _csv_columns(data, inputs, names)
    x = np.column_stack([columns[n] for n in inputs])
    y = np.column_stack([columns[n] for n in names])
    for i in range(len(x)):
        bad = [n for n, v in zip(every, [*x[i], *y[i]], strict=True) if not math.isfinite(v)]
        if bad:
            shown = {n: float(columns[n][i]) for n in bad}
            raise ValueError(
                f"{data}: {where(i)} has a non-finite value (NaN or inf) in {shown}; {EVERY_CELL_A_NUMBER}"
            )
    _, first, inverse = np.unique(x, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first)  # conditions in order of their first row
    rows = tuple(tuple(np.flatnonzero(inverse == group).tolist()) for group in order)
    replicates = tuple(y[list(r)] for r in rows)
    variances, noise = _replicate_variances(replicates, names)
    return Pool(
        name=data.stem,
        inputs=tuple(inputs),
        objectives=tuple(names),
        goals=tuple(goals),
        conditions=x[first[order]],
        replicates=replicates,
        rows=rows,
        variances=variances,
        noise=noise,
    )


def _csv_columns(path: Path, inputs: list[str], outputs: list[str]) -> tuple[dict[str, np.ndarray], Any]:
    from instruments.recorded.pool import load_table  # bluesky and ophyd-async: imported when needed

    try:
        table = load_table(path, inputs, outputs)
    except ValueError as exc:
        located = _unparsable_cell(path, [*inputs, *outputs])
        raise ValueError(f"{exc}{located}; {EVERY_CELL_A_NUMBER}" if located else str(exc)) from None
    columns = {**table.conditions, **table.results}
    return {n: np.asarray(columns[n], dtype=float) for n in [*inputs, *outputs]}, (
        lambda i: f"data row {i + 1} (line {i + 2})"
    )


def _unparsable_cell(path: Path, columns: list[str]) -> str:
    """Where the first cell that is not a number is (for load_table's message), or ''."""
    import csv

    try:
        with path.open(newline="") as handle:
            for i, row in enumerate(csv.DictReader(handle)):
                for name in columns:
                    if row.get(name) is None:  # a missing column or a short row: load_table's message says so
                        continue
                    try:
                        float(row.get(name) or "")
                    except ValueError:
                        return f" (data row {i + 1}, line {i + 2}: {name} = {row.get(name)!r})"
    except OSError:
        pass
    return ""


def _zarr_columns(path: Path, names: list[str]) -> tuple[dict[str, np.ndarray], Any]:
    import xarray as xr

    try:
        dataset = xr.open_zarr(path)
    except Exception as exc:  # zarr raises several kinds for "not a zarr store"
        raise ValueError(f"cannot read zarr store {path}: {exc}") from None
    available = sorted(str(v) for v in dataset.variables)
    missing = [n for n in names if n not in dataset.variables]
    if missing:
        raise ValueError(f"dataset {path} lacks variable(s) or coordinate(s) {missing}; it has {available}")
    dims = {n: dataset[n].dims for n in names}
    if any(len(d) != 1 for d in dims.values()) or len(set(dims.values())) != 1:
        raise ValueError(f"dataset {path}: {names} must lie along one and the same dimension; found {dims}")
    (dim,) = next(iter(dims.values()))
    columns = {}
    for n in names:
        try:
            columns[n] = np.asarray(dataset[n].values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"dataset {path}, {n!r} is not numeric: {exc}") from None
    if len(columns[names[0]]) == 0:
        raise ValueError(f"dataset {path} has no rows along {dim!r}")
    return columns, lambda i: f"index {i} along dimension {dim!r}"


def _replicate_variances(
    replicates: Sequence[np.ndarray], names: Sequence[str]
) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    means = np.array([r.mean(axis=0) for r in replicates])
    table_variance = means.var(axis=0)
    replicated = [r for r in replicates if len(r) >= 2]
    variances = np.zeros_like(means)
    noise: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(names):
        if replicated:
            squares = sum(float(((r[:, j] - r[:, j].mean()) ** 2).sum()) for r in replicated)
            pooled: float | None = squares / sum(len(r) - 1 for r in replicated)
            single, source = pooled, "pooled variance of the replicated conditions"
        else:
            pooled = None
            single = TABLE_VARIANCE_FRACTION * float(table_variance[j])
            source = f"{TABLE_VARIANCE_FRACTION:g} x variance of the conditions' means (no replicates)"
        floor = VARIANCE_FLOOR_FRACTION * float(table_variance[j])
        for i, r in enumerate(replicates):
            own = float(r[:, j].var(ddof=1)) if len(r) >= 2 else single
            variances[i, j] = max(own, floor)
        noise[name] = {
            "replicated_conditions": len(replicated),
            "pooled_variance": pooled,
            "single_row_variance": max(single, floor),
            "single_row_variance_from": source,
        }
    return variances, noise


# -- design space -----------------------------------------------------------------------------------
def design_space(pool: Pool) -> tuple[Any, np.ndarray, str]:
    """The policy's `DesignSpace`, every condition as a point of it (rows in `space.names` order), and
    which kind it is ("simplex" or "box")."""
    from policies import DesignSpace

    x = pool.conditions.astype(float)
    constant = [n for n, lo, hi in zip(pool.inputs, x.min(axis=0), x.max(axis=0), strict=True) if lo == hi]
    if constant:
        raise ValueError(f"input(s) {constant} are constant over the table; leave them out of the inputs")
    fractions = x / 100.0 if np.any(x > PERCENT_ABOVE) else x
    sums = fractions.sum(axis=1)
    on_simplex = np.all(fractions >= -SIMPLEX_TOLERANCE) and np.all(np.abs(sums - 1.0) <= SIMPLEX_TOLERANCE)
    if len(pool.inputs) >= 2 and on_simplex:
        points = np.clip(fractions, 0.0, None)  # rounding error: 1 - a - b can be -5e-17
        points = points / points.sum(axis=1, keepdims=True)
        space = DesignSpace.from_bounds(
            {n: [float(points[:, j].min()), float(points[:, j].max())] for j, n in enumerate(pool.inputs)}
        )
        return space, points, "simplex"
    space = DesignSpace.from_bounds(
        {PLACEHOLDER[0]: [0.0, 1.0], PLACEHOLDER[1]: [0.0, 1.0]},
        process={n: [float(x[:, j].min()), float(x[:, j].max())] for j, n in enumerate(pool.inputs)},
    )
    return space, np.column_stack([np.full((len(x), 2), 0.5), x]), "box"


# -- one seed -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolTable:
    """Where a pool comes from: the table, its input columns and its objectives with their goals."""

    data: Path
    inputs: tuple[str, ...]
    objectives: tuple[tuple[str, str], ...]  # (name, "max" | "min" | "maximize" | ...)

    def load(self) -> Pool:
        return load_pool(self.data, self.inputs, self.objectives)


def replay_seed(
    table: PoolTable, policy: str, seed: int, budget: int, store: Path | None = None
) -> dict[str, Any]:
    """One run: which condition each measurement chose, and the value and variance it was served.
    The policy's run is a campaign through the loop (`orchestrator.recorded_campaign`), its store at
    `store` (a temporary directory, removed, when None); random's is a seeded permutation."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; valid: {list(POLICIES)}")
    pool = table.load()
    _check_budget(pool, budget)
    started = time.perf_counter()
    if policy == "random":
        server = ReplicateServer(pool)
        chosen: list[int] = []
        values: list[list[float]] = []
        variances: list[list[float]] = []
        for condition in _random_order(pool, seed, budget):
            value, variance = server.serve(condition)
            chosen.append(condition)
            values.append(list(value.values()))
            variances.append(list(variance.values()))
        mapped = 0
    elif store is None:
        with tempfile.TemporaryDirectory(prefix="junkan-pool-") as directory:
            run = replay_seed(table, policy, seed, budget, Path(directory) / f"seed-{seed}")
        return {**run, "store": None}  # removed with its directory
    else:
        observations, mapped = _campaign(pool, table, seed, budget, store)
        chosen = [int(o.sample["condition"]) for o in observations]
        values = [[o.values[n] for n in pool.objectives] for o in observations]
        variances = [[o.variances[n] for n in pool.objectives] for o in observations]
    return {
        "policy": policy,
        "seed": seed,
        "chosen": chosen,
        "values": values,
        "variances": variances,
        "mapped_to_nearest": mapped,
        "seconds": time.perf_counter() - started,
        "store": None if store is None else str(store),
    }


def _campaign(pool: Pool, table: PoolTable, seed: int, budget: int, store: Path) -> tuple[list[Any], int]:
    """Run one seed as a campaign over the table: its observations and how many proposals named no
    row (the space-filling start, served at the nearest available condition)."""
    from orchestrator.campaign import parse_campaign
    from orchestrator.local_executor import LocalExecutor
    from orchestrator.loop import CampaignLoop
    from orchestrator.recorded_campaign import pool_campaign_text
    from orchestrator.store import CAMPAIGN_FILE, CampaignStore
    from orchestrator.warning_tally import warnings_counted
    from orchestrator.wiring import build_instrument, build_policy, instrument_costs

    text = pool_campaign_text(pool, table.data, seed, budget, OPTIMISER)
    spec = parse_campaign(text, str(store / CAMPAIGN_FILE))
    campaign_store = CampaignStore.create(store, spec, text)
    instrument = build_instrument(spec, seed)
    policy = build_policy(spec, seed, instrument_costs(instrument))
    with warnings_counted(store):  # the model stack's numerical warnings to warnings.log, as `junkan run`
        state = CampaignLoop(campaign_store, policy, instrument, LocalExecutor(instrument), seed=seed).run()
    if state.status != "finished":
        raise RuntimeError(f"pool campaign {store} ended {state.status}: {state.finish_reason}")
    mapped = sum(1 for p in state.proposals.values() if p.proposal.target_spot is None)
    return list(state.observations), mapped


def _random_order(pool: Pool, seed: int, budget: int) -> list[int]:
    rng = np.random.default_rng(seed)
    order: list[int] = []
    passes = 0
    while len(order) < budget:
        order += rng.permutation(np.flatnonzero(pool.counts > passes)).tolist()
        passes += 1
    return order[:budget]


def _check_budget(pool: Pool, budget: int) -> None:
    if not 1 <= budget <= pool.n_rows:
        raise ValueError(f"budget must be 1 to {pool.n_rows} (the table's rows), got {budget}")


def _worker(job: tuple[PoolTable, str, int, int, Path | None]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    return replay_seed(*job)


# -- scoring (`orchestrator.campaign_scores`) ---------------------------------------------------------
@dataclass(frozen=True)
class _Targets:
    signed: np.ndarray  # (n_conditions, n_objectives), every objective maximised
    best: np.ndarray  # bool per condition (one objective)
    top: np.ndarray  # bool per condition
    reference: np.ndarray
    max_hypervolume: float


def _targets(pool: Pool) -> _Targets:
    signed = pool.means * pool.signs
    reference = signed.min(axis=0)
    top = top_set(signed)
    if signed.shape[1] == 1:
        return _Targets(signed, signed[:, 0] == signed[:, 0].max(), top, reference, math.nan)
    return _Targets(signed, pareto_ranks(signed) == 0, top, reference, hypervolume(signed, reference))


def _score(
    pool: Pool, targets: _Targets, chosen: Sequence[int], budget: int
) -> tuple[int, float, list[float]]:
    """n_to_best (budget + 1 if never), fraction of the top 5 % measured, and the curve (in the
    objective's units for one objective)."""
    chosen = list(chosen)
    if targets.signed.shape[1] == 1:
        curve = progress(targets.signed[chosen]) * pool.signs[0]
        hits = np.flatnonzero(targets.best[chosen])
    else:
        curve = progress(targets.signed[chosen], targets.reference)
        hits = np.flatnonzero(curve >= targets.max_hypervolume * (1 - 1e-9))
    n_to_best = int(hits[0]) + 1 if hits.size else budget + 1
    return n_to_best, found_fraction(chosen, targets.top), [float(v) for v in curve]


def _noise_report(pool: Pool) -> dict[str, dict[str, Any]]:
    """How each objective's noise reached the policy: replicate variances, or learned by the model."""
    report = {}
    for name, noise in pool.noise.items():
        report[name] = dict(noise)
        if noise["replicated_conditions"] == 0:
            report[name]["single_row_variance_from"] = (
                "learned by the model: no replicates, so each row reports only a negligible floor "
                f"({VARIANCE_FLOOR_FRACTION:g} x the variance of the conditions' means)"
            )
            report[name]["single_row_variance"] = None
    return report


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# -- the replay ------------------------------------------------------------------------------------
def pool_replay(
    data: Path,
    inputs: Sequence[str],
    objectives: Sequence[tuple[str, str]],  # (name, "max" | "min")
    policy: str = "bayesian",
    budget: int = 50,
    seeds: int = 5,
    workers: int = 2,
    stores: Path | None = None,
) -> dict:
    """Run `policy` and random over the conditions of a measured table, `seeds` times each, and compare
    them (see the module docstring). With `stores`, each seed's campaign store is kept at
    `stores/seed-N`. Returns a JSON-serialisable dict."""
    started = time.perf_counter()
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; valid: {list(POLICIES)}")
    if seeds < 1 or workers < 1:
        raise ValueError(f"seeds and workers must be >= 1, got seeds={seeds}, workers={workers}")
    table = PoolTable(Path(data), tuple(inputs), tuple((n, g) for n, g in objectives))
    pool = table.load()
    _check_budget(pool, budget)
    kept = [None if stores is None else Path(stores) / f"seed-{s}" for s in range(seeds)]
    taken = [str(k) for k in kept if k is not None and k.exists() and any(k.iterdir())]
    if taken and policy != "random":
        raise ValueError(f"store(s) {taken} already hold something; give a new or empty --store directory")
    space_kind = design_space(pool)[2] if policy == "bayesian" else None
    targets = _targets(pool)
    n_workers = min(workers, MAX_WORKERS, seeds)
    notes = []
    if workers > MAX_WORKERS:
        notes.append(f"{workers} workers asked for; at most {MAX_WORKERS} run (the machine has 2 cores)")
    random_runs = [replay_seed(table, "random", s, budget) for s in range(seeds)]
    if policy == "random":
        policy_runs = random_runs
    else:
        jobs = [(table, policy, s, budget, kept[s]) for s in range(seeds)]
        processes = multiprocessing.get_context("spawn").Pool(n_workers)
        try:
            policy_runs = processes.map(_worker, jobs, chunksize=1)
        except BaseException:
            processes.terminate()
            raise
        else:
            processes.close()  # the workers end on their own: terminated ones leaked a semaphore
        finally:
            processes.join()
    scored = {
        "policy": [_score(pool, targets, r["chosen"], budget) for r in policy_runs],
        "random": [_score(pool, targets, r["chosen"], budget) for r in random_runs],
    }
    n_best = {k: [s[0] for s in v] for k, v in scored.items()}
    top5 = {k: [s[1] for s in v] for k, v in scored.items()}
    curves = {k: np.array([s[2] for s in v]) for k, v in scored.items()}
    runs = {"policy": policy_runs, "random": random_runs}
    found = {k: np.array([found_curve(r["chosen"], targets.top) for r in v]) for k, v in runs.items()}
    median_n = {k: float(np.median(v)) for k, v in n_best.items()}
    median_top5 = {k: float(np.median(v)) for k, v in top5.items()}
    censored = {k: sum(n > budget for n in v) for k, v in n_best.items()}
    for who, name in (("policy", policy), ("random", "random")):
        if median_n[who] > budget:
            notes.append(
                f"{name}'s median n_to_best is censored (best not measured within the budget in "
                f"{censored[who]} of {seeds} seeds): the AF is a bound"
            )
    if median_top5["random"] == 0:
        notes.append("random's median top-5 % fraction is 0 at the budget: EF undefined (None)")
    several = len(pool.objectives) > 1
    result: dict[str, Any] = {
        "data": str(data),
        "inputs": list(pool.inputs),
        "objectives": [{"name": n, "goal": g} for n, g in zip(pool.objectives, pool.goals, strict=True)],
        "policy": policy,
        "budget": budget,
        "seeds": seeds,
        "workers": n_workers if policy != "random" else 0,
        "design_space": space_kind,
        "n_rows": pool.n_rows,
        "n_conditions": len(pool),
        "n_top5": int(targets.top.sum()),
        "noise": _noise_report(pool) if policy != "random" else {k: dict(v) for k, v in pool.noise.items()},
        "n_to_best_definition": (
            "measurements until the table's hypervolume is reached"
            if several
            else "measurements until a best condition is first measured"
        ),
        "n_to_best_median": median_n["policy"],
        "n_to_best_censored": censored["policy"],
        "n_to_best": n_best["policy"],
        "random_n_to_best_median": median_n["random"],
        "random_n_to_best_censored": censored["random"],
        "random_n_to_best": n_best["random"],
        "af_median": acceleration_factor(median_n["random"], median_n["policy"]),
        "top5_fraction_at_budget": median_top5["policy"],
        "random_top5_fraction_at_budget": median_top5["random"],
        "ef_at_budget": enhancement_factor(median_top5["policy"], median_top5["random"]),
        "top5_fraction": top5["policy"],
        "random_top5_fraction": top5["random"],
        "curve": "hypervolume" if several else "best_so_far",
        "median_curve": [float(v) for v in np.median(curves["policy"], axis=0)],
        "random_median_curve": [float(v) for v in np.median(curves["random"], axis=0)],
        # the median share of the top 5 % measured after each measurement: EF at any smaller budget
        "top5_fraction_curve": [float(v) for v in np.median(found["policy"], axis=0)],
        "random_top5_fraction_curve": [float(v) for v in np.median(found["random"], axis=0)],
        "mapped_to_nearest_per_seed": [r["mapped_to_nearest"] for r in policy_runs],
        "seconds_per_seed_median": float(np.median([r["seconds"] for r in policy_runs])),
        "stores": [r.get("store") for r in policy_runs]
        if stores is not None and policy != "random"
        else None,
        "notes": notes,
    }
    if several:
        result["reference_point"] = [_finite(v) for v in pool.signs * targets.reference]
        result["max_hypervolume"] = targets.max_hypervolume
    else:
        best = int(np.flatnonzero(targets.best)[0])
        result["best_value"] = float(pool.means[best, 0])
    result["runtime_s"] = time.perf_counter() - started
    return result
