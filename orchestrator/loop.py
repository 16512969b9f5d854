"""The closed loop: propose, make and measure, reduce, record, learn; every step an event first."""

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from instruments import ReductionError
from instruments.protocols import HasCandidateSpots, Instrument, RestoresFromDocuments, SharesRecord
from orchestrator.control import TakesControl
from orchestrator.document_journal import DocumentJournal
from orchestrator.events import (
    CampaignFinished,
    CampaignStarted,
    CandidatesOffered,
    Event,
    Faulted,
    LoopTiming,
    ModelUpdated,
    Observed,
    Paused,
    ProposalRecord,
    Proposed,
    RunFinished,
    RunStarted,
    Submitted,
)
from orchestrator.execution import Executor, Interruptible, PlanRequest
from orchestrator.observation import Observation
from orchestrator.resume import Resumes, documents_started_at
from orchestrator.state import CampaignState
from orchestrator.step_outcome import SKIPPED, STOPPED, StepOutcome
from orchestrator.store import CampaignStore, text_sha256
from orchestrator.warning_tally import take_counts
from policies import CandidateSet, Policy, Proposal, SobolSampler, TakesCandidates


def _fallback_seed(seed: int, n: int) -> int:
    return (seed * 1_000_003 + n) % 2**31


@dataclass(frozen=True)
class Progress:
    """What a watcher is told after each observation."""

    state: CampaignState
    observation: Observation
    decision_seconds: float


class CampaignLoop(TakesControl, Resumes):
    """Runs one campaign to its budget, sequentially (one measurement in flight)."""

    def __init__(
        self,
        store: CampaignStore,
        policy: Policy,
        instrument: Instrument,
        executor: Executor,
        seed: int,
        notify: Callable[[str], None] | None = None,
        hold_when_paused: bool = False,
        publish: Callable[[str, Mapping[str, Any]], None] | None = None,
    ) -> None:
        self.store = store
        self.spec = store.spec()
        self.policy = policy
        self.instrument = instrument
        self.executor = executor
        self.seed = seed
        self.state = store.state()
        self.policy_space = self.spec.space.simplex()
        self._fallbacks = sum(
            1 for p in self.state.proposals.values() if p.proposal.generator == "fallback-sobol"
        )
        self._busy_s = 0.0
        self._since = time.monotonic()
        self._injected: list[Proposal] = []
        self._lock = threading.Lock()
        self.notify = notify or (lambda message: None)
        # with a dashboard attached, a pause waits for a person's resume instead of ending the process
        self.hold_when_paused = hold_when_paused
        self.publish = publish  # every document also goes here once journalled (e.g. to Tiled)

    def _record(self, event: Event) -> Event:
        with self._lock:  # the instrument's thread records its runs while the policy decides
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
        elif self.state.status in ("running", "paused"):
            resumed = self._resume()
            if resumed is not None:
                return resumed
        if self.spec.queue_depth > 1:
            return self._run_pipelined(on_progress)
        while len(self.state.observations) < self.spec.budget:
            if self._take_control() is STOPPED:
                return self.state
            decided = self._decide()
            if decided is STOPPED:
                return self.state
            if decided is SKIPPED:
                continue
            proposal, decision_seconds = decided  # type: ignore[misc]
            if self._finish(self._measure_by_the_rules(proposal), decision_seconds, on_progress) is STOPPED:
                return self.state
        self._record(CampaignFinished(status="finished", reason="budget reached"))
        return self.state

    def _run_pipelined(self, on_progress: Callable[[Progress], None] | None) -> CampaignState:
        """Decide the next conditions while the instrument measures (up to `queue_depth` in flight,
        one measuring): the policy sees the in-flight conditions as pending points. A person's
        pause or stop is taken when the instrument is idle, so no measurement is cut short."""
        decided: deque[tuple[Proposal, float]] = deque()
        measuring: tuple[Future, float] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="junkan-instrument") as instrument_thread:
            try:
                while True:
                    if measuring is None and decided:
                        proposal, decision_seconds = decided.popleft()
                        future = instrument_thread.submit(self._measure_by_the_rules, proposal)
                        measuring = (future, decision_seconds)
                        continue
                    in_flight = len(decided) + (measuring is not None)
                    if len(self.state.observations) + in_flight < self.spec.budget and (
                        in_flight < self.spec.queue_depth
                    ):
                        if measuring is None and self._take_control() is STOPPED:
                            return self.state
                        step = self._decide()
                        if step is STOPPED:
                            break
                        if step is not SKIPPED:
                            decided.append(step)  # type: ignore[arg-type]
                        continue
                    if measuring is None:
                        self._record(CampaignFinished(status="finished", reason="budget reached"))
                        return self.state
                    future, decision_seconds = measuring
                    measuring = None
                    if self._finish(future.result(), decision_seconds, on_progress) is STOPPED:
                        return self.state
            except KeyboardInterrupt:
                if isinstance(self.executor, Interruptible):
                    self.executor.interrupt()
                raise
            if measuring is not None:  # stopped while measuring: keep what is being measured
                self._finish(measuring[0].result(), measuring[1], on_progress)
        return self.state

    def _decide(self) -> "tuple[Proposal, float] | StepOutcome":
        """The next condition (a person's, else the policy's), recorded, and approved if asked."""
        started = time.perf_counter()
        proposal = self._injected.pop(0) if self._injected else self._ask()
        if proposal is None:
            return STOPPED
        decision_seconds = time.perf_counter() - started
        self._record(
            Proposed(
                proposal=_record_of(proposal),
                decision_seconds=decision_seconds,
                policy_state=self.policy.state_dict(),
            )
        )
        verdict = self._approval(proposal)
        if verdict is not None:
            return verdict
        return proposal, decision_seconds

    def _finish(
        self,
        observation: "Observation | StepOutcome",
        decision_seconds: float,
        on_progress: Callable[[Progress], None] | None,
    ) -> "StepOutcome | None":
        """Learn from a measurement's outcome; STOPPED when the campaign cannot go on."""
        if observation is STOPPED:
            return STOPPED
        if observation is SKIPPED:
            return None
        assert isinstance(observation, Observation)
        if self._learn(observation) is None:
            return STOPPED
        wall = time.monotonic() - self._since
        self._record(
            LoopTiming(
                instrument_busy_s=self._busy_s,
                wall_s=wall,
                duty_cycle=self._busy_s / max(wall, 1e-9),
                decision_seconds=decision_seconds,
                warnings=take_counts(),
            )
        )
        if on_progress is not None:
            on_progress(Progress(self.state, observation, decision_seconds))
        return None

    def _ask(self) -> Proposal | None:
        """The policy's next proposal; on a policy fault, what the campaign file says (a retry, or a
        space-filling fallback for skip). None when the campaign stopped."""
        attempt = 1
        while True:
            try:
                self._offer_candidates()
                (proposal,) = self.policy.ask(1, pending=self._pending_conditions())
                return proposal
            except Exception as exc:
                action = self._on_fault("policy", f"ask failed: {type(exc).__name__}: {exc}", None, attempt)
            if action == "retry":
                attempt += 1
                continue
            if action == "skip":
                return self._fallback()
            return None

    def _pending_conditions(self) -> list[dict[str, float]]:
        """What the policy must not propose again: conditions in flight and a person's rejections."""
        in_flight = [dict(self.state.proposals[pid].proposal.condition) for pid in self.state.pending]
        return in_flight + list(self.state.rejected.values())

    def _fallback(self) -> Proposal:
        """A space-filling condition when the model cannot propose (numbered apart from the policy's)."""
        self._fallbacks += 1
        (point,) = SobolSampler(self.policy_space, _fallback_seed(self.seed, self._fallbacks)).draw(1)
        return Proposal(
            proposal_id=f"f{self._fallbacks:04d}-{len(self.state.proposals) + 1:04d}",
            condition=self.policy_space.as_dict(point),
            measurement={"count_time_s": self.spec.instrument.count_time_s},
            reason="explore",
            generator="fallback-sobol",
        )

    def _measure_by_the_rules(self, proposal: Proposal) -> "Observation | StepOutcome":
        """Measure and reduce; on a device or reducer fault, retry, skip, pause or fail as the
        campaign file says."""
        attempt = 1
        while True:
            started = time.monotonic()
            result = self._measure(proposal)
            self._busy_s += time.monotonic() - started
            if isinstance(result, Observation):
                return result
            kind, message = result
            action = self._on_fault(kind, message, proposal.proposal_id, attempt)
            if action == "retry":
                attempt += 1
                continue
            return SKIPPED if action == "skip" else STOPPED

    def _on_fault(
        self, kind: str, message: str, proposal_id: str | None, attempt: int, can_retry: bool = True
    ) -> str:
        """Record a fault with the action its rule gives, and carry out waits, pauses and failures."""
        rule = getattr(self.spec.faults, kind)
        action = rule.action
        if action == "retry" and (attempt >= rule.max_attempts or not can_retry):
            action = rule.then
        if len(self.state.faults) >= self.spec.faults.max_faults:
            action = "fail"
            message += f" (more than faults.max_faults = {self.spec.faults.max_faults} faults)"
        self._record(
            Faulted(kind=kind, message=message, proposal_id=proposal_id, action=action, attempt=attempt)  # type: ignore[arg-type]
        )
        if action == "retry":
            time.sleep(rule.backoff_s * 2 ** (attempt - 1))
        elif action == "pause":
            self._record(Paused(reason=f"{kind} fault: {message}; {self._how_to_continue()}"))
            if self.hold_when_paused:  # a person looked and resumed: try again; or stopped it
                return "retry" if self._hold() is None else "stop"
        elif action == "fail":
            self._record(CampaignFinished(status="failed", reason=f"{kind} fault: {message}"))
        return action

    def _learn(self, observation: Observation) -> Observation | None:
        """Record an observation, then tell the policy (None when the policy failed)."""
        self._record(Observed(observation=observation))
        self.store.write_observations(self.state)
        try:
            update = self.policy.tell([observation])
        except Exception as exc:
            # the observation is on record; a retry would tell it twice, so any rule but pause or
            # fail goes on (the next tell refits with everything)
            action = self._on_fault(
                "policy", f"tell failed: {type(exc).__name__}: {exc}", None, 1, can_retry=False
            )
            return observation if action in ("skip", "retry") else None
        if update is not None:
            self._record(
                ModelUpdated(
                    model_id=update.model_id,
                    n_train=update.n_train,
                    fit_seconds=update.fit_seconds,
                    summary=dict(update.summary),
                    surrogates=dict(update.surrogates),
                )
            )
        return observation

    def _offer_candidates(self) -> None:
        """Tell a cost-aware policy which spots it can measure without making anything new."""
        if isinstance(self.instrument, HasCandidateSpots) and isinstance(self.policy, TakesCandidates):
            ids, compositions = self.instrument.unmeasured_spots()
            offered = {i: [float(v) for v in row] for i, row in zip(ids, compositions, strict=True)}
            added = {i: row for i, row in offered.items() if self.state.candidates.get(i) != row}
            removed = [i for i in self.state.candidates if i not in offered]
            if added or removed:
                self._record(CandidatesOffered(added=added, removed=removed))
            self.policy.set_candidates(CandidateSet(ids, compositions))

    def _measure(self, proposal: Proposal) -> "Observation | tuple[str, str]":
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

        journal = DocumentJournal(self.store.path, pid)

        def on_document(name: str, doc: Mapping[str, Any]) -> None:
            journal.record(name, doc)  # on disk before anything acts on it
            if self.publish is not None:
                self.publish(name, doc)
            if name == "start":
                self._record(RunStarted(proposal_id=pid, run_uid=doc["uid"]))

        shares = isinstance(self.instrument, SharesRecord) and not self.executor.in_process
        record = self.instrument.record_summary() if shares else None  # for an instrument elsewhere
        try:
            outcome = self.executor.run(
                PlanRequest(proposal.condition, proposal.measurement, md, record), on_document
            )
            journal.finish(outcome.exit_status)
        finally:
            journal.close()
        if isinstance(self.instrument, RestoresFromDocuments):  # what the plan made, wherever it ran
            self.instrument.restore_documents([(pid, outcome.documents)])
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
            return "device", f"run failed: {outcome.reason or outcome.exit_status}"
        return self._observation(proposal, outcome.documents, documents_started_at(outcome.documents))

    def _observation(
        self, proposal: Proposal, documents: list[tuple[str, Mapping[str, Any]]], started_at: float
    ) -> "Observation | tuple[str, str]":
        """Reduce a finished plan's documents to an observation, or say what fault stopped it."""
        pid = proposal.proposal_id
        run_uid = next((doc["uid"] for name, doc in documents if name == "start"), "")
        try:
            reduction = self.instrument.reduce(documents)
        except ReductionError as exc:
            return "reducer", str(exc)
        bad = {k: v for k, v in {**reduction.values, **reduction.variances}.items() if not math.isfinite(v)}
        if bad:
            return "reducer", f"non-finite result {bad} from run {run_uid}"
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
            finished_at=max((doc["time"] for name, doc in documents if name == "stop"), default=time.time()),
            sample=dict(reduction.sample),
            raw=self.store.write_raw(measured_run, reduction.raw) if reduction.raw else {},
        )


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
        why=proposal.why,
    )
