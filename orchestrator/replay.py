"""Replaying a recorded campaign's decisions: the policy, rebuilt from the campaign file and seed,
is told what the log says was observed and offered, and must propose what the log says it did."""

import math
from collections.abc import Sequence

import numpy as np

from orchestrator.campaign import CampaignSpec
from orchestrator.events import (
    CampaignStarted,
    CandidatesOffered,
    Controlled,
    Event,
    Faulted,
    Observed,
    Proposed,
)
from orchestrator.wiring import build_instrument, build_policy, instrument_costs
from policies import CandidateSet, TakesCandidates

RELATIVE_TOLERANCE = 1e-9  # floating-point noise only: any real change of decision is far larger


def first_difference(spec: CampaignSpec, events: Sequence[Event]) -> str | None:
    """None when every recorded proposal is re-decided identically; else the first difference."""
    started = next((e for e in events if isinstance(e, CampaignStarted)), None)
    if started is None:
        return "the log has no CampaignStarted event"
    policy = build_policy(spec, started.seed, instrument_costs(build_instrument(spec, started.seed)))
    candidates: dict[str, list[float]] = {}
    conditions: dict[str, dict[str, float]] = {}
    in_flight: dict[str, dict[str, float]] = {}  # proposed, not yet observed, skipped or rejected
    rejected: list[dict[str, float]] = []  # a person's rejections: pending for every later ask

    def pending() -> list[dict[str, float]]:  # what the loop passed to each ask
        return list(in_flight.values()) + rejected

    for event in events:
        if isinstance(event, Controlled) and event.command == "reject" and event.outcome == "done":
            rejected.append(conditions[str(event.proposal_id)])
            in_flight.pop(str(event.proposal_id), None)
            continue
        if isinstance(event, Faulted) and event.action == "skip" and event.proposal_id is not None:
            in_flight.pop(event.proposal_id, None)
            continue
        if isinstance(event, CandidatesOffered):
            for spot_id in event.removed:
                candidates.pop(spot_id, None)
            candidates.update(event.added)
            if isinstance(policy, TakesCandidates):
                policy.set_candidates(CandidateSet(tuple(candidates), np.array(list(candidates.values()))))
        elif isinstance(event, Observed):
            in_flight.pop(event.observation.proposal_id, None)
            policy.tell([event.observation])
        elif isinstance(event, Proposed) and event.proposal.generator == "manual":
            pass  # a person's condition, not the policy's
        elif isinstance(event, Proposed) and event.proposal.generator == "fallback-sobol":
            try:  # the campaign measured a fallback because the policy raised here: so must the replay
                policy.ask(1, pending=pending())
            except Exception:
                pass
            else:
                return f"event {event.seq}: the policy proposed where the log says it failed"
        elif isinstance(event, Proposed):
            (proposal,) = policy.ask(1, pending=pending())
            recorded = event.proposal.model_dump()
            replayed = {k: getattr(proposal, k) for k in recorded}
            for key, value in recorded.items():
                if not _same(value, replayed[key]):
                    return (
                        f"event {event.seq}, proposal {recorded['proposal_id']}: {key} was "
                        f"{value!r} in the log, the replay proposes {replayed[key]!r}"
                    )
        if isinstance(event, Proposed):
            conditions[event.proposal.proposal_id] = dict(event.proposal.condition)
            in_flight[event.proposal.proposal_id] = dict(event.proposal.condition)
    return None


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    return a == b
