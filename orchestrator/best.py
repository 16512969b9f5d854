"""The campaign's best condition by the model, not by its luckiest reading.

A single noisy reading can beat a condition that is better on average (a noisy corner read once,
high by two sd); ranking measured conditions by the model's posterior mean, which weighs each
reading by its noise and its neighbours, does not fall for it. Without a model (random, Sobol or grid
policies, too few measurements) the replicate readings of each condition are averaged instead, and
the answer says so. `junkan status`, the run's summary and the dashboard all report this."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from orchestrator.campaign import CampaignSpec
from orchestrator.model_rebuild import RebuiltModel, rebuild_model
from orchestrator.observation import Observation
from orchestrator.state import CampaignState
from simulators import pareto_mask

SAME_CONDITION_TOLERANCE = 0.005  # largest |difference| of any parameter (atomic fraction) of a replicate


@dataclass(frozen=True)
class ConditionEstimate:
    """One condition (replicates merged) and what is known of it, in each outcome's units and sense."""

    condition: dict[str, float]  # as first measured
    proposal_ids: tuple[str, ...]  # every measurement of it, in order
    mean: dict[str, float]  # by the model: posterior mean; by reading: mean of its readings
    sd: dict[str, float]  # sd of that mean
    noise_sd: dict[str, float] | None  # the model's noise sd of one reading (None without a model)
    reading_mean: dict[str, float]  # mean of its readings
    meets_constraints: bool  # by `mean`, against the policy's outcome constraints

    @property
    def n_measured(self) -> int:
        return len(self.proposal_ids)

    def as_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "mean": self.mean,
            "sd": self.sd,
            "noise_sd": self.noise_sd,
            "n_measured": self.n_measured,
            "proposal_ids": list(self.proposal_ids),
            "reading_mean": self.reading_mean,
            "meets_constraints": self.meets_constraints,
        }


@dataclass(frozen=True)
class CampaignBest:
    """The best measured condition (several objectives: the Pareto set) and the best single reading."""

    by: Literal["model", "reading"]
    reason: str  # why by reading
    model_id: str | None
    pareto: tuple[ConditionEstimate, ...]  # best first by the first objective; one objective: the best
    reading: Observation | None  # the single best reading of the first objective, as such
    so_far: tuple[float | None, ...]  # one objective: value of the best condition among the first j measured

    @property
    def best(self) -> ConditionEstimate | None:
        return self.pareto[0] if self.pareto else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "reason": self.reason,
            "model_id": self.model_id,
            "best": self.best.as_dict() if self.best else None,
            "pareto": [c.as_dict() for c in self.pareto],
            "so_far": list(self.so_far),
        }


def campaign_best(
    spec: CampaignSpec, state: CampaignState, model: RebuiltModel | None = None
) -> CampaignBest:
    """The state's measured conditions ranked by the model rebuilt from its observations (pass one
    already rebuilt to save the fit), else by the mean of their readings."""
    observations = state.observations
    if model is None:
        model = rebuild_model(spec, state.seed, observations)
    if model.n_train != len(observations):
        raise ValueError(
            f"the model was rebuilt from {model.n_train} observations; the state has {len(observations)}"
        )
    objectives = [o.name for o in spec.objectives]
    signs = np.array([1.0 if o.goal == "maximize" else -1.0 for o in spec.objectives])
    outcomes = objectives + [c.outcome for c in spec.policy.constraints if c.outcome not in objectives]
    groups = _replicate_groups(observations)
    readings = [_reading_mean_and_sd(observations, g, outcomes) for g in groups]
    if model.policy is not None and groups:
        space = spec.space.simplex()
        points = np.array([space.as_point(observations[g[0]].condition) for g in groups])
        predicted = model.policy.predict(points)
        estimates = [
            (
                {n: float(p.mean[i]) for n, p in predicted.items()},
                {n: float(p.sd[i]) for n, p in predicted.items()},
                {n: float(p.noise_sd[i]) for n, p in predicted.items()},
            )
            for i in range(len(groups))
        ]
    else:
        estimates = [(mean, sd, None) for mean, sd in readings]
    measured = [
        ConditionEstimate(
            condition=dict(observations[g[0]].condition),
            proposal_ids=tuple(observations[i].proposal_id for i in g),
            mean=mean,
            sd=sd,
            noise_sd=noise_sd,
            reading_mean=reading_mean,
            meets_constraints=_meets(spec, mean),
        )
        for g, (mean, sd, noise_sd), (reading_mean, _) in zip(groups, estimates, readings, strict=True)
    ]
    pareto, so_far = _ranked(measured, groups, objectives, signs, len(observations))
    return CampaignBest(
        by="model" if model.policy is not None else "reading",
        reason=model.reason,
        model_id=model.policy.model_id if model.policy is not None else None,
        pareto=pareto,
        reading=state.best_reading(objectives[0]),
        so_far=so_far,
    )


def _replicate_groups(observations: Sequence[Observation]) -> list[list[int]]:
    """Indices of the observations of each condition (within the tolerance of its first measurement)."""
    groups: list[list[int]] = []
    firsts: list[dict[str, float]] = []
    for i, o in enumerate(observations):
        for group, first in zip(groups, firsts, strict=True):
            if first.keys() == o.condition.keys() and all(
                abs(first[k] - v) <= SAME_CONDITION_TOLERANCE for k, v in o.condition.items()
            ):
                group.append(i)
                break
        else:
            groups.append([i])
            firsts.append(o.condition)
    return groups


def _reading_mean_and_sd(
    observations: Sequence[Observation], group: list[int], outcomes: list[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean of a condition's readings and its sd from their reported variances."""
    mean, sd = {}, {}
    for name in outcomes:
        read = [observations[i] for i in group if math.isfinite(observations[i].values.get(name, math.nan))]
        if read:
            mean[name] = sum(o.values[name] for o in read) / len(read)
            sd[name] = math.sqrt(sum(max(o.variances.get(name, 0.0), 0.0) for o in read)) / len(read)
    return mean, sd


def _meets(spec: CampaignSpec, mean: dict[str, float]) -> bool:
    for c in spec.policy.constraints:
        value = mean.get(c.outcome)
        if value is not None and not (value >= c.bound if c.sense == ">=" else value <= c.bound):
            return False
    return True


def _ranked(
    measured: list[ConditionEstimate],
    groups: list[list[int]],
    objectives: list[str],
    signs: np.ndarray,
    n_observations: int,
) -> tuple[tuple[ConditionEstimate, ...], tuple[float | None, ...]]:
    """The Pareto set (one objective: the best) among conditions meeting the constraints (all, if
    none does), best first by the first objective; and, for one objective, the best-so-far curve."""
    if not measured:
        return (), ()
    signed = np.array([[m.mean.get(n, math.nan) for n in objectives] for m in measured]) * signs
    eligible = np.array([m.meets_constraints for m in measured]) & np.all(np.isfinite(signed), axis=1)
    if not eligible.any():
        eligible = np.all(np.isfinite(signed), axis=1)
    indices = np.flatnonzero(eligible)
    if len(indices) == 0:
        return (), ()
    front = indices[pareto_mask(signed[indices])]
    order = front[np.argsort(-signed[front, 0], kind="stable")]
    pareto = tuple(measured[i] for i in (order if len(objectives) > 1 else order[:1]))
    so_far: list[float | None] = []
    if len(objectives) == 1:
        first_measured = np.array([g[0] for g in groups])
        for j in range(1, n_observations + 1):
            seen = indices[first_measured[indices] < j]
            so_far.append(float(signed[seen, 0].max() * signs[0]) if len(seen) else None)
    return pareto, tuple(so_far)
