"""What each panel of the dashboard shows, as JSON-ready data computed from a folded state.

Pure functions of (campaign file, state): the live view and the step slider use the same code."""

import math
import statistics
from typing import Any

import numpy as np

from orchestrator.best import CampaignBest
from orchestrator.campaign import CampaignSpec
from orchestrator.campaign_scores import progress
from orchestrator.events import Event, Faulted
from orchestrator.state import CampaignState, shown_status
from orchestrator.store import CampaignStore
from simulators import pareto_mask

SPECTRA_SHOWN = 8  # the waterfall shows the latest patterns and spectra


def header(
    spec: CampaignSpec, state: CampaignState, best: CampaignBest, live: bool, n_steps: int, step: int | None
) -> dict:
    """Campaign, state, budget used, time left, duty cycle, decision latency, faults, and the best
    condition by the model beside the best single reading (`campaign_best`, as `junkan status`)."""
    n = len(state.observations)
    decisions = state.decision_seconds
    return {
        "campaign": state.campaign or spec.name,
        "description": spec.description,
        # now: 'interrupted' if no process runs an unfinished campaign; a past step: as it was then
        "status": shown_status(state.status, live) if step is None else state.status,
        "live": live,
        "step": n if step is not None else None,
        "n_steps": n_steps,
        "n_observations": n,
        "budget": state.budget or spec.budget,
        "eta_seconds": _time_left(state, spec.budget),
        "duty_cycle": state.duty_cycle,
        "real_time": spec.instrument.real_time,  # false: the page says "simulated time" instead
        "spectra": list(spec.instrument.spectra),  # the page shows only the spectra panels it can fill
        "decision_seconds_last": decisions[-1] if decisions else None,
        "decision_seconds_median": statistics.median(decisions) if decisions else None,
        "n_faults": len(state.faults),
        "faults_by_kind": _count(f.kind for f in state.faults),
        "model_id": state.model_id,
        "surrogates": dict(state.surrogates),
        "best_by_model": best.as_dict(),
        "best_reading": best.reading.model_dump() if best.reading else None,
        "pause_reason": state.pause_reason if state.status == "paused" else "",
        "finish_reason": state.finish_reason,
        "started_at": state.started_at,
        "finished_at": state.finished_at,
        "elements": list(spec.elements),
        "objectives": [
            {"name": o.name, "goal": o.goal, "units": state.units.get(o.name, "")} for o in spec.objectives
        ],
        "space": {e: list(b) for e, b in spec.space.composition.items()},
        "pending": [
            {
                "proposal_id": pid,
                "condition": dict(state.proposals[pid].proposal.condition),
                "reason": state.proposals[pid].proposal.reason,
                "awaiting_approval": spec.approve_before_submit
                and pid not in state.approved
                and pid not in state.submitted
                and state.proposals[pid].proposal.generator != "manual",
            }
            for pid in state.pending
        ],
    }


def _time_left(state: CampaignState, budget: int) -> float | None:
    """Remaining measurements times the mean wall time per measurement so far."""
    n = len(state.observations)
    if state.status in ("finished", "failed", "stopped"):
        return 0.0
    if n == 0 or state.started_at is None:
        return None
    elapsed = state.observations[-1].finished_at - state.started_at
    return max(0.0, (budget - n) * elapsed / n)


def _count(kinds: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def observations(spec: CampaignSpec, state: CampaignState, reference_state: CampaignState) -> dict:
    """Every measurement, which are on the Pareto front, and the hypervolume (best value, for one
    objective) after each. The reference point comes from the campaign file's thresholds, else
    from the whole campaign's worst values (`reference_state`), so every step uses the same one."""
    names = [o.name for o in spec.objectives]
    rows = [
        {
            "index": o.index,
            "proposal_id": o.proposal_id,
            "condition": o.condition,
            "values": o.values,
            "sd": {k: math.sqrt(max(v, 0.0)) for k, v in o.variances.items()},
            "measurement": o.measurement,
            "sample": o.sample,
            "finished_at": o.finished_at,
            "reason": state.proposals[o.proposal_id].proposal.reason
            if o.proposal_id in state.proposals
            else "",
        }
        for o in state.observations
    ]
    signed = _signed(spec, state)
    reference = _reference(spec, reference_state)
    front = pareto_mask(signed) if len(signed) else np.zeros(0, dtype=bool)
    curve = [float(v) for v in progress(signed, reference)] if len(names) > 1 else []
    best = [float(v) * _sign(spec, 0) for v in progress(signed[:, :1])]
    return {
        "objectives": names,
        "observations": rows,
        "pareto": [int(i) for i in np.flatnonzero(front)],
        "hypervolume": curve,
        "best_so_far": best,
        "reference_point": [float(r) * _sign(spec, i) for i, r in enumerate(reference)],
    }


def _sign(spec: CampaignSpec, i: int) -> float:
    return 1.0 if spec.objectives[i].goal == "maximize" else -1.0


def _signed(spec: CampaignSpec, state: CampaignState) -> np.ndarray:
    """Objective values with every objective maximised."""
    names = [o.name for o in spec.objectives]
    values = np.array([[o.values[n] for n in names] for o in state.observations], dtype=float)
    return values.reshape(-1, len(names)) * np.array([_sign(spec, i) for i in range(len(names))])


def _reference(spec: CampaignSpec, state: CampaignState) -> np.ndarray:
    signed = _signed(spec, state)
    reference = []
    for i, objective in enumerate(spec.objectives):
        if objective.threshold is not None:
            reference.append(objective.threshold * _sign(spec, i))
        elif len(signed):
            column = signed[:, i]
            reference.append(float(column.min() - 0.1 * (column.max() - column.min() or 1.0)))
        else:
            reference.append(0.0)
    return np.array(reference)


def spectra(store: CampaignStore, state: CampaignState, last: int = SPECTRA_SHOWN) -> dict[str, list[dict]]:
    """The latest diffraction patterns and absorption spectra, oldest first, with their axes."""
    shown: dict[str, list[dict]] = {}
    for observation in reversed(state.observations):
        for name, relative in observation.raw.items():
            series = shown.setdefault(name, [])
            if len(series) >= last:
                continue
            array = store.raw(relative)[name]
            axis = array.dims[0]
            series.append(
                {
                    "proposal_id": observation.proposal_id,
                    "index": observation.index,
                    "condition": observation.condition,
                    "x": array[axis].values.tolist(),
                    "y": array.values.tolist(),
                    "x_label": f"{axis} ({array[axis].attrs.get('units', '')})",
                    "y_units": array.attrs.get("units", ""),
                }
            )
    return {name: series[::-1] for name, series in shown.items()}


def event_rows(events: tuple[Event, ...], since: int, limit: int) -> list[dict]:
    """Events with seq > since (at most `limit`, the latest), each with a one-line summary."""
    chosen = [e for e in events if e.seq > since][-limit:]
    return [{**e.model_dump(exclude={"policy_state"}), "summary": summary(e)} for e in chosen]


def summary(event: Event) -> str:
    """One line a person can read in the event log panel."""
    match event.type:
        case "Proposed":
            p = event.proposal  # type: ignore[union-attr]
            where = ", ".join(f"{k} {v:.3f}" for k, v in p.condition.items())
            return f"{p.proposal_id} ({p.reason}, {p.generator}) at {where}"
        case "Observed":
            o = event.observation  # type: ignore[union-attr]
            values = ", ".join(f"{k} = {v:.4g}" for k, v in o.values.items())
            return f"{o.proposal_id}: {values}"
        case "Faulted":
            f: Faulted = event  # type: ignore[assignment]
            return f"{f.kind} fault ({f.action}, attempt {f.attempt}): {f.message}"
        case "Controlled":
            c = event
            return f"{c.command} {c.outcome}{': ' + c.message if c.message else ''}"  # type: ignore[union-attr]
        case "LoopTiming":
            return f"duty cycle {event.duty_cycle:.2f}, decision {event.decision_seconds:.2f} s"  # type: ignore[union-attr]
        case "CampaignFinished" | "Paused":
            return f"{getattr(event, 'status', 'paused')}: {event.reason}"  # type: ignore[union-attr]
        case "ModelUpdated":
            return f"{event.model_id} on {event.n_train} observations"  # type: ignore[union-attr]
        case "CampaignStarted":
            return f"{event.campaign}, budget {event.budget}, seed {event.seed}"  # type: ignore[union-attr]
        case "Submitted" | "RunStarted" | "RunFinished":
            return str(getattr(event, "proposal_id", ""))
    return ""
