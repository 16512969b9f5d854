"""Decisions: design spaces, surrogate and noise models, acquisition. Knows nothing of Bluesky."""

from policies.acquisition import CompositionPrior
from policies.bayesian import BayesianPolicy, ObservationError, OutcomeConstraint, OutcomePrediction
from policies.count_time import CountTimeRule
from policies.grid_policy import GridPolicy, simplex_grid
from policies.noise import CountingNoise, KnownNoise, MostLikelyNoise, NoiseModel, noise_model
from policies.objective import Goal, Objective
from policies.policy import Policy, TakesCandidates
from policies.proposal import CandidateSet, Costs, MeasuredCondition, ModelUpdate, Proposal, Reason
from policies.random_policy import RandomPolicy
from policies.sobol import SobolPolicy, SobolSampler
from policies.space import DesignSpace, DesignSpaceError, LinearConstraint, ProcessParameter

__all__ = [
    "BayesianPolicy",
    "CandidateSet",
    "CompositionPrior",
    "Costs",
    "CountTimeRule",
    "CountingNoise",
    "DesignSpace",
    "DesignSpaceError",
    "Goal",
    "GridPolicy",
    "KnownNoise",
    "LinearConstraint",
    "MeasuredCondition",
    "ModelUpdate",
    "MostLikelyNoise",
    "NoiseModel",
    "Objective",
    "ObservationError",
    "OutcomeConstraint",
    "OutcomePrediction",
    "Policy",
    "ProcessParameter",
    "Proposal",
    "RandomPolicy",
    "Reason",
    "SobolPolicy",
    "SobolSampler",
    "TakesCandidates",
    "noise_model",
    "simplex_grid",
]
