"""What `junkan status` and the end of `junkan run` print: the campaign's state and its best.

The best condition is `campaign_best`'s (by the model, else by replicate readings); the single best
reading is printed beside it and labelled as one reading, since with noise it overstates."""

from pathlib import Path
from typing import Any

from orchestrator.best import CampaignBest, ConditionEstimate
from orchestrator.observation import Observation
from orchestrator.state import CampaignState, shown_status

LABEL_WIDTH = 15
PARETO_SHOWN = 10


def status_document(
    state: CampaignState, best: CampaignBest, live: bool = True, real_time: bool = True
) -> dict[str, Any]:
    """`status --json`: the state, the best condition (`best_by_model`) and the best reading.
    `live`: whether a process is running the campaign (else an unfinished one is 'interrupted')."""
    reading = best.reading.model_dump() if best.reading else None
    return {
        "campaign": state.campaign,
        "state": shown_status(state.status, live),
        "logged_state": state.status,
        "n_observations": len(state.observations),
        "budget": state.budget,
        "seed": state.seed,
        "objectives": state.objectives,
        "units": state.units,
        "best": reading,  # kept for readers of earlier versions: the same as best_reading
        "best_reading": reading,
        "best_by_model": best.as_dict(),
        "n_faults": len(state.faults),
        "duty_cycle": state.duty_cycle,
        "real_time": real_time,  # false: a simulation or a table, whose duty cycle measures no instrument
        "warnings": dict(state.warnings),  # numerical warnings counted; the store's warnings.log has them
        "skipped": state.skipped,
        "faults": [f.model_dump() for f in state.faults],
        "model_id": state.model_id,
        "pending": state.pending,
        "decision_seconds_median": _median(state.decision_seconds),
        "observations": [o.model_dump() for o in state.observations],
    }


def summary_lines(
    state: CampaignState, best: CampaignBest, store: Path, live: bool = True, real_time: bool = True
) -> list[str]:
    """The text summary, one line each."""
    lines: list[str] = []

    def line(label: str, text: str) -> None:
        lines.append(f"{label:<{LABEL_WIDTH}} {text}")

    line("campaign", f"{state.campaign}  ({store})")
    shown = shown_status(state.status, live)
    if shown == "interrupted":
        was = f", {state.status}" + (f": {state.pause_reason}" if state.pause_reason else "")
        line("state", f"interrupted (no process is running it; the log ends under way{was})")
        line("", f"continue it with: junkan resume {store}")
    else:
        line("state", shown)
    line("measured", f"{len(state.observations)} of {state.budget}")
    objectives = list(state.objectives)
    by = "model" if best.by == "model" else "readings"
    if len(objectives) == 1 and best.best is not None:
        line(f"best ({by})", _condition_text(best.best, objectives, state.units, state.elements))
    elif best.pareto:
        line(f"pareto ({by})", f"{len(best.pareto)} condition(s), none bettered in every objective")
        for estimate in best.pareto[:PARETO_SHOWN]:
            line("", _condition_text(estimate, objectives, state.units, state.elements))
    if best.by == "reading" and best.reason and best.pareto:
        line("", f"(by reading: {best.reason})")
    if best.reading is not None:
        line("best reading", _reading_text(best.reading, objectives[0], state.units, state.elements))
    if state.duty_cycle is not None:
        line(
            "duty cycle",
            f"{state.duty_cycle:.2f} (instrument busy / wall time)"
            if real_time
            else "simulated time (this instrument takes no real time to measure)",
        )
    line("faults", str(len(state.faults)))
    lines += [f"  - {f.kind} ({f.action}): {f.message}" for f in state.faults[-10:]]
    return lines


def _condition_text(
    estimate: ConditionEstimate, objectives: list[str], units: dict[str, str], elements: list[str]
) -> str:
    values = ", ".join(
        _value(n, estimate.mean[n], estimate.sd[n], units) for n in objectives if n in estimate.mean
    )
    times = "once" if estimate.n_measured == 1 else f"{estimate.n_measured}x"
    where = _composition(estimate.condition, elements)
    return f"{values} at {where} (measured {times}, first {estimate.proposal_ids[0]})"


def _reading_text(reading: Observation, objective: str, units: dict[str, str], elements: list[str]) -> str:
    sd = max(reading.variances.get(objective, 0.0), 0.0) ** 0.5
    value = _value(objective, reading.values[objective], sd, units)
    return f"{value} at {_composition(reading.condition, elements)} ({reading.proposal_id}, one reading)"


def _value(name: str, mean: float, sd: float, units: dict[str, str]) -> str:
    return f"{name} = {mean:.4g} ± {sd:.2g} {units.get(name, '')}".rstrip()


def _composition(condition: dict[str, float], elements: list[str]) -> str:
    """The campaign's elements as a formula (Fe0.800 Ga0.200), process parameters as name=value;
    coordinates whose names start with '_' are the design space's own (a box table's placeholder
    binary), not shown."""
    shown = {n: v for n, v in condition.items() if not n.startswith("_")}
    return " ".join(f"{n}{v:.3f}" if n in elements else f"{n}={v:.4g}" for n, v in shown.items())


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])
