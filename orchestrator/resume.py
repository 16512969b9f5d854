"""Continuing a campaign whose process ended at any point (crash, kill -9, Ctrl-C).

The event log says what was proposed, submitted and observed; the document journal says how far
each plan in flight got; an instrument that makes things (libraries) rebuilds them from the
documents. Mixed into `CampaignLoop`.
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

from instruments import ReductionError
from instruments.protocols import RestoresFromDocuments, RestoresFromRecord
from orchestrator.document_journal import journal_history, read_journal
from orchestrator.events import Event, Faulted, ProposalRecord, Resumed
from orchestrator.observation import Observation
from orchestrator.state import CampaignState
from orchestrator.step_outcome import SKIPPED, STOPPED, StepOutcome
from orchestrator.store import CampaignStore
from policies import Policy, Proposal


class ResumeError(RuntimeError):
    """A campaign that cannot be continued from its store; the message says why."""


class Resumes:
    store: CampaignStore
    state: CampaignState
    policy: Policy
    instrument: Any
    _record: Callable[[Event], Event]
    _approval: Callable[[Proposal], "StepOutcome | None"]
    _measure_by_the_rules: Callable[[Proposal], "Observation | StepOutcome"]
    _observation: Callable[..., "Observation | tuple[str, str]"]
    _learn: Callable[[Observation], Observation | None]

    def _resume(self) -> CampaignState | None:
        """Continue after the process ended at any point: the policy is told every observation
        again and restored to its state at the last proposal; a proposal in flight is recorded
        from its documents when its plan finished, and submitted again otherwise (nothing it
        started was observed). Returns a state only when the campaign ended while resuming."""
        if isinstance(self.instrument, RestoresFromDocuments):  # what it made lives in the documents
            try:
                self.instrument.restore_documents(
                    journal_history(self.store.path, list(self.state.proposals))
                )
            except (ValueError, KeyError) as exc:
                raise ResumeError(
                    f"what the instrument made cannot be rebuilt from its documents: {exc}"
                ) from None
        if isinstance(self.instrument, RestoresFromRecord):
            self.instrument.restore(self.state.observations)
        if self.state.observations:
            self.policy.tell(self.state.observations)
        if self.state.proposals:
            last = list(self.state.proposals.values())[-1]
            self.policy.load_state_dict(last.policy_state)
        in_flight = [_proposal_of(self.state.proposals[pid].proposal) for pid in self.state.pending]
        finished = {p.proposal_id: self._finished_documents(p.proposal_id) for p in in_flight}
        self._record(
            Resumed(
                reconciled={
                    pid: "re-submitted" if documents is None else "observed from its documents"
                    for pid, documents in finished.items()
                }
            )
        )
        for proposal in in_flight:
            documents = finished[proposal.proposal_id]
            ruined = (
                self.instrument.interrupted(proposal.proposal_id)
                if documents is None and isinstance(self.instrument, RestoresFromDocuments)
                else None
            )
            if ruined is not None:  # not run again as it was: the policy chooses anew
                self._record(
                    Faulted(kind="device", message=ruined, proposal_id=proposal.proposal_id, action="skip")
                )
                continue
            if documents is None and proposal.proposal_id not in self.state.submitted:
                verdict = self._approval(proposal)  # it may never have been approved
                if verdict is STOPPED:
                    return self.state
                if verdict is SKIPPED:
                    continue
            if documents is None:
                observation = self._measure_by_the_rules(proposal)
            else:
                observation = self._observation(proposal, documents, documents_started_at(documents))
                if not isinstance(observation, Observation):  # reduced before it was judged finished
                    observation = self._measure_by_the_rules(proposal)
            if observation is STOPPED:
                return self.state
            if observation is not SKIPPED and self._learn(observation) is None:  # type: ignore[arg-type]
                return self.state
        return None

    def _finished_documents(self, proposal_id: str) -> list[tuple[str, Mapping[str, Any]]] | None:
        """The documents of a proposal's plan if it finished measuring, else None.

        Finished: the plan returned with success, or the process died after every run it opened
        had closed with success and the documents reduce (a plan of several runs cut between two
        runs does not)."""
        documents, exit_status = read_journal(self.store.path, proposal_id)
        if exit_status is not None:
            return documents if exit_status == "success" else None
        starts = {doc["uid"] for name, doc in documents if name == "start"}
        stopped = {
            doc["run_start"] for name, doc in documents if name == "stop" and doc["exit_status"] == "success"
        }
        if not starts or starts != stopped:
            return None
        try:
            self.instrument.reduce(documents)
        except ReductionError:
            return None
        return documents


def documents_started_at(documents: list[tuple[str, Mapping[str, Any]]]) -> float:
    return min((doc["time"] for name, doc in documents if name == "start"), default=time.time())


def _proposal_of(record: ProposalRecord) -> Proposal:
    return Proposal(**record.model_dump())  # type: ignore[arg-type]
