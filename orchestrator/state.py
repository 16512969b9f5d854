"""CampaignState: a pure fold of the event log."""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.events import (
    CampaignFinished,
    CampaignStarted,
    CandidatesOffered,
    Controlled,
    Event,
    Faulted,
    LoopTiming,
    ModelUpdated,
    Observed,
    Paused,
    Proposed,
    Resumed,
    Submitted,
)
from orchestrator.observation import Observation

Status = Literal["created", "running", "paused", "finished", "failed", "stopped"]
# what a reader is told: the log's status, or 'interrupted' when it is under way and no process runs it
ShownStatus = Literal["created", "running", "paused", "finished", "failed", "stopped", "interrupted"]
UNDER_WAY: tuple[Status, ...] = ("running", "paused")


def shown_status(status: Status, live: bool) -> ShownStatus:
    """'interrupted' for a campaign the log says is under way when no live process runs it: after a
    crash or kill -9 the log has no end, and 'running' would say a process is measuring."""
    return "interrupted" if status in UNDER_WAY and not live else status


@dataclass
class CampaignState:
    campaign: str = ""
    status: Status = "created"
    budget: int = 0
    seed: int = 0
    elements: list[str] = field(default_factory=list)
    objectives: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    proposals: dict[str, Proposed] = field(default_factory=dict)
    faults: list[Faulted] = field(default_factory=list)
    model_id: str | None = None
    # outcome -> the surrogate in use and its leave-one-out score, e.g. "matern52/reported/identity
    # (LOO 0.41 per point)": which model the loop believes and why
    surrogates: dict[str, str] = field(default_factory=dict)
    decision_seconds: list[float] = field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None
    finish_reason: str = ""
    n_events: int = 0
    candidates: dict[str, list[float]] = field(default_factory=dict)  # offered spots, by id
    skipped: list[str] = field(default_factory=list)  # proposals a fault rule gave up on
    rejected: dict[str, dict[str, float]] = field(default_factory=dict)  # by a person: id -> condition
    approved: set[str] = field(default_factory=set)
    submitted: set[str] = field(default_factory=set)
    control_ids: set[str] = field(default_factory=set)  # requests already taken
    duty_cycle: float | None = None
    pause_reason: str = ""
    warnings: dict[str, int] = field(default_factory=dict)  # numerical warnings counted, by category

    @property
    def pending(self) -> list[str]:
        """Proposals not yet observed."""
        done = {o.proposal_id for o in self.observations} | set(self.skipped) | set(self.rejected)
        return [pid for pid in self.proposals if pid not in done]

    def best_reading(self, objective: str | None = None) -> Observation | None:
        """The single best reading of `objective` (the first one by default): luck included, so it is
        reported as such; the best condition is `orchestrator.best.campaign_best`'s."""
        if not self.observations or not self.objectives:
            return None
        name = objective or next(iter(self.objectives))
        sign = 1.0 if self.objectives[name] == "maximize" else -1.0
        read = [o for o in self.observations if math.isfinite(o.values.get(name, math.nan))]
        return max(read, key=lambda o: sign * o.values[name]) if read else None

    def apply(self, event: Event) -> "CampaignState":
        self.n_events += 1
        match event:
            case CampaignStarted():
                self.campaign = event.campaign
                self.status = "running"
                self.budget = event.budget
                self.seed = event.seed
                self.elements = list(event.elements)
                self.objectives = dict(event.objectives)
                self.units = dict(event.units)
                self.started_at = event.time
            case Proposed():
                self.proposals[event.proposal.proposal_id] = event
                self.decision_seconds.append(event.decision_seconds)
            case Observed():
                self.observations.append(event.observation)
            case ModelUpdated():
                self.model_id = event.model_id
                self.surrogates = {
                    name: structure
                    + (
                        f" (LOO {event.summary[f'{name}_loo_pll']:.2f} per point)"
                        if f"{name}_loo_pll" in event.summary
                        else ""
                    )
                    for name, structure in event.surrogates.items()
                }
            case Faulted():
                self.faults.append(event)
                if event.action == "skip" and event.proposal_id is not None:
                    self.skipped.append(event.proposal_id)
            case Paused():
                self.status = "paused"
                self.pause_reason = event.reason
            case Resumed():
                self.status = "running"
            case Submitted():
                self.submitted.add(event.proposal_id)
            case Controlled():
                self.control_ids.add(event.request_id)
                if (
                    event.command == "reject"
                    and event.outcome == "done"
                    and event.proposal_id in self.proposals
                ):
                    self.rejected[event.proposal_id] = dict(
                        self.proposals[event.proposal_id].proposal.condition
                    )
                if event.command == "approve" and event.outcome == "done" and event.proposal_id is not None:
                    self.approved.add(event.proposal_id)
            case LoopTiming():
                self.duty_cycle = event.duty_cycle
                for category, n in event.warnings.items():
                    self.warnings[category] = self.warnings.get(category, 0) + n
            case CandidatesOffered():
                for spot_id in event.removed:
                    self.candidates.pop(spot_id, None)
                self.candidates.update(event.added)
            case CampaignFinished():
                self.status = event.status
                self.finished_at = event.time
                self.finish_reason = event.reason
        return self


def fold(events: Iterable[Event]) -> CampaignState:
    state = CampaignState()
    for event in events:
        state.apply(event)
    return state
