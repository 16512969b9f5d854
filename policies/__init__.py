"""Decisions: design spaces, surrogate and noise models, acquisition. Knows nothing of Bluesky."""

from policies.bayesian import QLogNEIPolicy
from policies.objective import Goal, Objective
from policies.policy import Policy
from policies.proposal import MeasuredCondition, ModelUpdate, Proposal, Reason
from policies.sobol import SobolPolicy, SobolSampler
from policies.space import CompositionSimplex, DesignSpaceError

__all__ = [
    "CompositionSimplex",
    "DesignSpaceError",
    "Goal",
    "MeasuredCondition",
    "ModelUpdate",
    "Objective",
    "Policy",
    "Proposal",
    "QLogNEIPolicy",
    "Reason",
    "SobolPolicy",
    "SobolSampler",
]
