"""The closed loop: propose, make and measure, reduce, record, learn; every step an event first."""

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Protocol

from bluesky.utils import MsgGenerator

from instruments import Document, Reduction, ReductionError
from orchestrator.events import (
    CampaignFinished,
    CampaignStarted,
    Event,
    Faulted,
    ModelUpdated,
    Observed,
    ProposalRecord,
    Proposed,
    RunFinished,
    RunStarted,
    Submitted,
)
from orchestrator.local_executor import DocumentCallback, RunOutcome
from orchestrator.observation import Observation
from orchestrator.state import CampaignState
from orchestrator.store import CampaignStore, text_sha256
from policies import CandidateSet, Policy, Proposal


class Instrument(Protocol):
    def plan(
        self,
        condition: Mapping[str, float],
        measurement: Mapping[str, float],
        md: Mapping[str, Any],
    ) -> MsgGenerator[None]: ...

    quantity_units: Mapping[str, str]

    def reduce(self, documents: list[Document]) -> Reduction: ...


class Executor(Protocol):
    name: str

    def run(self, plan: MsgGenerator[Any], on_document: DocumentCallback) -> RunOutcome: ...


@dataclass(frozen=True)
class Progress:
    """What a watcher is told after each observation."""

    state: CampaignState
    observation: Observation
    decision_seconds: float


class CampaignLoop:
    """Runs one campaign to its budget, sequentially (one measurement in flight)."""

    def __init__(
        self,
        store: CampaignStore,
        policy: Policy,
        instrument: Instrument,
        executor: Executor,
        seed: int,
    ) -> None:
        self.store = store
        self.spec = store.spec()
        self.policy = policy
        self.instrument = instrument
        self.executor = executor
        self.seed = seed
        self.state = store.state()

    def _record(self, event: Event) -> Event:
        stamped = self.store.append(event)
        self.state.apply(stamped)
        return stamped

    def run(self, on_progress: Callable[[Progress], None] | None = None) -> CampaignState:
        if self.state.status == "created":
            self._record(
                CampaignStarted(
                    campaign=self.spec.name,
                    campaign_sha256=text_sha256(self.store.campaign_text),
                    budget=self.spec.budget,
                    seed=self.seed,
                    elements=list(self.spec.elements),
                    objectives={o.name: o.goal for o in self.spec.objectives},
                    units=dict(self.instrument.quantity_units),
                    junkan_version=version("junkan"),
                )
            )
        while len(self.state.observations) < self.spec.budget:
            started = time.perf_counter()
            try:
                self._offer_candidates()
                (proposal,) = self.policy.ask(1, pending=[])
            except Exception as exc:
                return self._fail("policy", f"ask failed: {type(exc).__name__}: {exc}", None)
            decision_seconds = time.perf_counter() - started
            self._record(
                Proposed(
                    proposal=_record_of(proposal),
                    decision_seconds=decision_seconds,
                    policy_state=self.policy.state_dict(),
                )
            )
            observation = self._measure(proposal)
            if observation is None:
                return self.state
            self._record(Observed(observation=observation))
            self.store.write_observations(self.state)
            try:
                update = self.policy.tell([observation])
            except Exception as exc:
                return self._fail("policy", f"tell failed: {type(exc).__name__}: {exc}", None)
            if update is not None:
                self._record(
                    ModelUpdated(
                        model_id=update.model_id,
                        n_train=update.n_train,
                        fit_seconds=update.fit_seconds,
                        summary=dict(update.summary),
                    )
                )
            if on_progress is not None:
                on_progress(Progress(self.state, observation, decision_seconds))
        self._record(CampaignFinished(status="finished", reason="budget reached"))
        return self.state

    def _offer_candidates(self) -> None:
        """Tell a cost-aware policy which spots it can measure without making anything new."""
        spots = getattr(self.instrument, "unmeasured_spots", None)
        set_candidates = getattr(self.policy, "set_candidates", None)
        if spots is not None and set_candidates is not None:
            ids, compositions = spots()
            set_candidates(CandidateSet(ids, compositions))

    def _measure(self, proposal: Proposal) -> Observation | None:
        pid = proposal.proposal_id
        self._record(Submitted(proposal_id=pid, executor=self.executor.name))
        md = {
            "campaign": self.spec.name,
            "proposal_id": pid,
            "model_id": proposal.model_id,
            "reason": proposal.reason,
            "target_spot": proposal.target_spot,
            "junkan_seed": self.seed,
        }

        def on_document(name: str, doc: Mapping[str, Any]) -> None:
            if name == "start":
                self._record(RunStarted(proposal_id=pid, run_uid=doc["uid"]))

        started_at = time.time()
        outcome = self.executor.run(
            self.instrument.plan(proposal.condition, proposal.measurement, md), on_document
        )
        run_uid = outcome.run_uids[0] if outcome.run_uids else ""
        self._record(
            RunFinished(
                proposal_id=pid,
                run_uid=run_uid,
                exit_status=outcome.exit_status,
                reason=outcome.reason,
            )
        )
        if not outcome.succeeded:
            self._fail("device", f"run failed: {outcome.reason or outcome.exit_status}", pid)
            return None
        try:
            reduction = self.instrument.reduce(outcome.documents)
        except ReductionError as exc:
            self._fail("reducer", str(exc), pid)
            return None
        bad = {k: v for k, v in {**reduction.values, **reduction.variances}.items() if not math.isfinite(v)}
        if bad:
            self._fail("reducer", f"non-finite result {bad} from run {run_uid}", pid)
            return None
        measured_run = reduction.run_uid or run_uid
        return Observation(
            index=len(self.state.observations),
            proposal_id=pid,
            run_uid=measured_run,
            condition=dict(reduction.condition or proposal.condition),
            measurement=dict(proposal.measurement),
            values=dict(reduction.values),
            variances=dict(reduction.variances),
            started_at=started_at,
            finished_at=time.time(),
            sample=dict(reduction.sample),
            raw=self.store.write_raw(measured_run, reduction.raw) if reduction.raw else {},
        )

    def _fail(self, kind: str, message: str, proposal_id: str | None) -> CampaignState:
        self._record(Faulted(kind=kind, message=message, proposal_id=proposal_id))  # type: ignore[arg-type]
        self._record(CampaignFinished(status="failed", reason=f"{kind} fault: {message}"))
        return self.state


def _record_of(proposal: Proposal) -> ProposalRecord:
    return ProposalRecord(
        proposal_id=proposal.proposal_id,
        condition=dict(proposal.condition),
        measurement=dict(proposal.measurement),
        reason=proposal.reason,
        acquisition_value=proposal.acquisition_value,
        model_id=proposal.model_id,
        generator=proposal.generator,
        target_spot=proposal.target_spot,
        cost_s=proposal.cost_s,
    )
