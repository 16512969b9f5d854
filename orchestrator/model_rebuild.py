"""The policy's model after the first k observations, rebuilt from the frozen campaign file and the log.

Not borrowed from a running loop: the policy is made from the campaign file and seed and told the
first k observations, which (the refit schedule depending on k only) gives the model the loop had
after its k-th measurement. The dashboard draws it and `campaign_best` ranks conditions by it."""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.campaign import CampaignSpec
from orchestrator.observation import Observation
from orchestrator.wiring import build_policy
from policies import BayesianPolicy


@dataclass(frozen=True)
class RebuiltModel:
    """A policy told the observations, or None with the reason there is no model."""

    policy: BayesianPolicy | None
    n_train: int
    reason: str = ""


def rebuild_model(spec: CampaignSpec, seed: int, observations: Sequence[Observation]) -> RebuiltModel:
    k = len(observations)
    try:
        policy = build_policy(spec, seed)
    except Exception as exc:  # e.g. a prior whose package is not installed here: report, do not fail
        return RebuiltModel(None, k, f"the policy could not be built here: {exc}")
    if not isinstance(policy, BayesianPolicy):
        return RebuiltModel(None, k, f"policy {spec.policy.kind!r} keeps no model")
    needed = max(2, policy.n_sobol)
    try:
        with warnings.catch_warnings():  # the loop's fits warned (and counted) the same when it ran
            warnings.simplefilter("ignore")
            update = policy.tell(list(observations))
    except Exception as exc:  # the loop's own fault rules dealt with it; a report falls back
        return RebuiltModel(None, k, f"the model could not be rebuilt from the log: {exc}")
    if update is None:
        return RebuiltModel(None, k, f"the model is fitted after {needed} measurements ({k} so far)")
    return RebuiltModel(policy, k)
