"""The agents `benchmarks/peers.py` runs side by side, behind one small interface.

Each agent is told the problem (elements, objectives, bounds and, for a measured pool, its rows) and
then alternates `ask` (one condition, q = 1) and `tell` (the condition actually measured, with its
values and their variances). The condition told can differ from the one asked: on a pool the harness
measures the unmeasured row nearest to what was asked. Every objective is maximised.

The peers' libraries are imported inside the constructors: they are heavy (Ax takes ~3 s) and each
run is a fresh process whose peak memory should be its own agent's.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

N_INITIAL = 6  # space-filling points before a model, for junkan and the UCB agent
UCB_BETA = 0.1  # bluesky-adaptive's SingleTaskGPAgentBase default: UpperConfidenceBound(gp, beta=0.1)
UCB_NUM_RESTARTS = 10  # bluesky-adaptive's defaults for optimize_acqf
UCB_RAW_SAMPLES = 20
CONSTRAINT_SLACK = 1e-9  # Ax's linear constraints, loosened so rows on the boundary are members
SAME_CONDITION = 1e-9  # a told condition this close to the asked one is the asked one


@dataclass(frozen=True)
class Problem:
    """What an agent is told: the composition space, the objectives and, on a pool, its rows."""

    name: str
    elements: tuple[str, ...]
    objectives: tuple[str, ...]  # every one maximised
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    reference_point: Mapping[str, float] = field(default_factory=dict)  # hypervolume reference
    ucb_weights: Mapping[str, float] = field(default_factory=dict)  # the UCB agent's scalarisation
    candidates: np.ndarray | None = None  # (n_rows, n_elements) on a pool; None: a continuous world

    def space(self) -> Any:
        """junkan's `DesignSpace` of this problem (the geometry every agent shares)."""
        from policies import DesignSpace

        return DesignSpace.from_bounds(
            {e: [lo, hi] for e, lo, hi in zip(self.elements, self.lower, self.upper, strict=True)}
        )

    def row_of(self, condition: Mapping[str, float]) -> int:
        """The pool row a measured condition is (the nearest one)."""
        assert self.candidates is not None
        x = np.array([condition[e] for e in self.elements])
        return int(np.argmin(((self.candidates - x) ** 2).sum(axis=1)))


class Agent(Protocol):
    name: str

    def ask(self) -> dict[str, float]: ...

    def tell(
        self, condition: Mapping[str, float], values: Mapping[str, float], variances: Mapping[str, float]
    ) -> None: ...


@dataclass(frozen=True)
class _Observation:
    condition: Mapping[str, float]
    values: Mapping[str, float]
    variances: Mapping[str, float]


class JunkanAgent:
    """junkan's `BayesianPolicy` at its default optimiser settings (qLogNEI, or qLogNEHVI for several
    objectives; the reported variances as known noise). On a pool it is given the unmeasured rows as a
    `CandidateSet` with a new library infinitely expensive, as `junkan replay --pool` does, so that its
    model-based choices are rows; its Sobol starts are snapped to rows by the harness."""

    name = "junkan"

    def __init__(self, problem: Problem, seed: int) -> None:
        from policies import BayesianPolicy, Costs, Objective

        self.problem = problem
        self.policy = BayesianPolicy(
            problem.space(),
            [Objective(n, "maximize") for n in problem.objectives],
            {"count_time_s": 1.0},
            seed=seed,
            reference_point=dict(problem.reference_point),
            costs=None if problem.candidates is None else Costs(spot_s=1.0, library_s=math.inf),
        )
        self.unmeasured = None if problem.candidates is None else np.ones(len(problem.candidates), bool)

    def ask(self) -> dict[str, float]:
        if self.unmeasured is not None:
            from policies import CandidateSet

            rows = np.flatnonzero(self.unmeasured)
            self.policy.set_candidates(CandidateSet(tuple(map(str, rows)), self.problem.candidates[rows]))
        (proposal,) = self.policy.ask(1)
        return dict(proposal.condition)

    def tell(
        self, condition: Mapping[str, float], values: Mapping[str, float], variances: Mapping[str, float]
    ) -> None:
        self.policy.tell([_Observation(dict(condition), dict(values), dict(variances))])
        if self.unmeasured is not None:
            self.unmeasured[self.problem.row_of(condition)] = False


class AxAgent:
    """Ax's default generation strategy through its current API (`ax.api.Client`; center point,
    Sobol, then its modular BoTorch model), q = 1. The last element is a derived parameter (1 minus the
    others), the simplex a linear constraint. Ax is told each value's standard error. On a pool, a
    suggestion that was snapped to a different row is abandoned and the row measured is attached as a
    trial of its own, so Ax's data are what was measured."""

    name = "ax"

    def __init__(self, problem: Problem, seed: int) -> None:
        from ax.api.client import Client
        from ax.api.configs import DerivedParameterConfig, RangeParameterConfig

        self.problem = problem
        *free, last = problem.elements
        space = problem.space()
        lo, hi = space.effective_bounds()
        parameters: list[Any] = [
            RangeParameterConfig(name=e, parameter_type="float", bounds=(float(lo[i]), float(hi[i])))
            for i, e in enumerate(free)
        ]
        parameters.append(
            DerivedParameterConfig(
                name=last, parameter_type="float", expression_str="1.0 - " + " - ".join(free)
            )
        )
        total = " + ".join(free)
        constraints = [f"{total} <= {float(1.0 - lo[-1] + CONSTRAINT_SLACK)!r}"]
        if hi[-1] < 1.0:
            constraints.append(f"{total} >= {float(1.0 - hi[-1] - CONSTRAINT_SLACK)!r}")
        self.client = Client(random_seed=seed)
        self.client.configure_experiment(parameters=parameters, parameter_constraints=constraints)
        thresholds = [f"{n} >= {float(v)!r}" for n, v in problem.reference_point.items()]
        self.client.configure_optimization(
            objective=", ".join(problem.objectives), outcome_constraints=thresholds or None
        )
        self.pending: tuple[int, dict[str, float]] | None = None

    def ask(self) -> dict[str, float]:
        ((index, parameters),) = self.client.get_next_trials(max_trials=1).items()
        condition = {e: float(parameters[e]) for e in self.problem.elements}  # type: ignore[arg-type]
        self.pending = (index, condition)
        return condition

    def tell(
        self, condition: Mapping[str, float], values: Mapping[str, float], variances: Mapping[str, float]
    ) -> None:
        assert self.pending is not None
        index, asked = self.pending
        if max(abs(condition[e] - asked[e]) for e in self.problem.elements) > SAME_CONDITION:
            *free, last = self.problem.elements
            self.client.mark_trial_abandoned(trial_index=index)
            measured = {e: float(condition[e]) for e in free}
            measured[last] = 1.0 - sum(measured.values())
            index = self.client.attach_trial(parameters=measured)
        self.client.complete_trial(
            trial_index=index,
            raw_data={n: (float(values[n]), math.sqrt(float(variances[n]))) for n in self.problem.objectives},
        )
        self.pending = None


class BaybeAgent:
    """BayBE's default recommender (one random point, then its BoTorch recommender) on a Campaign with
    its default objective handling (one target, or a Pareto objective). BayBE is not told the noise
    (its API takes values only; its GP fits a noise level). On a world the space is continuous with
    the simplex as an equality constraint; on a pool it is BayBE's discrete search space of the rows,
    never recommending a row already measured, so it chooses rows natively."""

    name = "baybe"

    def __init__(self, problem: Problem, seed: int) -> None:
        import pandas as pd
        from baybe import Campaign, active_settings
        from baybe.constraints import ContinuousLinearConstraint
        from baybe.objectives import ParetoObjective, SingleTargetObjective
        from baybe.parameters import NumericalContinuousParameter, NumericalDiscreteParameter
        from baybe.searchspace import SearchSpace
        from baybe.targets import NumericalTarget

        active_settings.random_seed = seed
        active_settings.cache_directory = None
        self.problem = problem
        elements = list(problem.elements)
        targets = [NumericalTarget(n) for n in problem.objectives]
        objective = SingleTargetObjective(targets[0]) if len(targets) == 1 else ParetoObjective(targets)
        if problem.candidates is None:
            parameters = [
                NumericalContinuousParameter(e, bounds=(lo, hi))
                for e, lo, hi in zip(elements, problem.lower, problem.upper, strict=True)
            ]
            simplex = ContinuousLinearConstraint(
                parameters=elements, operator="=", coefficients=[1.0] * len(elements), rhs=1.0
            )
            searchspace = SearchSpace.from_product(parameters=parameters, constraints=[simplex])
            self.campaign = Campaign(searchspace=searchspace, objective=objective)
        else:
            rows = pd.DataFrame(problem.candidates, columns=elements)
            discrete = [NumericalDiscreteParameter(e, values=tuple(np.unique(rows[e]))) for e in elements]
            self.campaign = Campaign(
                searchspace=SearchSpace.from_dataframe(rows, parameters=discrete),
                objective=objective,
                allow_recommending_already_measured=False,
            )

    def ask(self) -> dict[str, float]:
        recommendation = self.campaign.recommend(batch_size=1)
        return {e: float(recommendation[e].iloc[0]) for e in self.problem.elements}

    def tell(
        self, condition: Mapping[str, float], values: Mapping[str, float], variances: Mapping[str, float]
    ) -> None:
        import pandas as pd

        row = {e: float(condition[e]) for e in self.problem.elements}
        row.update({n: float(values[n]) for n in self.problem.objectives})
        self.campaign.add_measurements(pd.DataFrame([row]))


class UcbAgent:
    """The decision rule of bluesky-adaptive's BoTorch example agent (`SingleTaskGPAgentBase`): one
    `SingleTaskGP` (BoTorch's default priors and inferred homoskedastic noise, not told the variances),
    refitted with `fit_gpytorch_mll` on every ask, `UpperConfidenceBound(beta=0.1)` optimised by
    `optimize_acqf` with 10 restarts from 20 raw samples, q = 1. Inputs are the free fractions,
    normalised to the space's box; outputs standardised. It starts from the same Sobol points as junkan.
    It is single-objective by design: several objectives are maximised as a weighted sum
    (`Problem.ucb_weights`). On a pool its continuous optimum is snapped to a row by the harness."""

    name = "ucb"

    def __init__(self, problem: Problem, seed: int) -> None:
        import torch

        from policies import SobolSampler

        self.problem = problem
        self.space = problem.space()
        self.initial = SobolSampler(self.space, seed).draw(N_INITIAL)
        self.seed = seed
        self.inputs: list[np.ndarray] = []
        self.targets: list[float] = []
        torch.manual_seed(seed)

    def ask(self) -> dict[str, float]:
        if len(self.targets) < N_INITIAL:
            return self.space.as_dict(self.initial[len(self.targets)])
        import torch
        from botorch.acquisition import UpperConfidenceBound
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Normalize, Standardize
        from botorch.optim import optimize_acqf
        from gpytorch.mlls import ExactMarginalLogLikelihood

        bounds = self.space.free_bounds()
        x = torch.tensor(self.space.to_free(np.array(self.inputs)), dtype=torch.float64)
        y = torch.tensor(self.targets, dtype=torch.float64).unsqueeze(-1)
        gp = SingleTaskGP(
            x, y, input_transform=Normalize(d=x.shape[-1], bounds=bounds), outcome_transform=Standardize(m=1)
        )
        fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
        candidate, _ = optimize_acqf(
            UpperConfidenceBound(gp, beta=UCB_BETA),
            bounds=bounds,
            q=1,
            num_restarts=UCB_NUM_RESTARTS,
            raw_samples=UCB_RAW_SAMPLES,
            inequality_constraints=self.space.inequality_constraints(),
        )
        return self.space.as_dict(self.space.project(self.space.from_free(candidate.detach().numpy()))[0])

    def tell(
        self, condition: Mapping[str, float], values: Mapping[str, float], variances: Mapping[str, float]
    ) -> None:
        self.inputs.append(self.space.as_point(condition))
        self.targets.append(sum(w * float(values[n]) for n, w in self.problem.ucb_weights.items()))


class RandomAgent:
    """Uniform on the simplex (Dirichlet(1, ..., 1), redrawn until inside the bounds); on a pool, the
    rows in a seeded permutation."""

    name = "random"

    def __init__(self, problem: Problem, seed: int) -> None:
        self.problem = problem
        self.space = problem.space()
        self.rng = np.random.default_rng(seed)
        self.order = None if problem.candidates is None else self.rng.permutation(len(problem.candidates))
        self.n_asked = 0

    def ask(self) -> dict[str, float]:
        self.n_asked += 1
        if self.order is not None:
            return self.space.as_dict(self.problem.candidates[self.order[self.n_asked - 1]])
        while True:
            x = self.rng.dirichlet(np.ones(len(self.problem.elements)))
            if self.space.contains(x[None, :])[0]:
                return self.space.as_dict(x)

    def tell(
        self, condition: Mapping[str, float], values: Mapping[str, float], variances: Mapping[str, float]
    ) -> None:
        return None


def lattice(problem: Problem, divisions: int) -> np.ndarray:
    """The simplex lattice of `divisions` steps spanning the region above the lower bounds, keeping
    the points within the upper bounds (on the full simplex: the (n+1)(n+2)/2 points of step 1/n)."""
    d = len(problem.elements)
    steps = np.array(_compositions(divisions, d)) / divisions
    lower = np.array(problem.lower)
    points = lower + (1.0 - lower.sum()) * steps
    return points[np.all(points <= np.array(problem.upper) + 1e-12, axis=1)]


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every way to write `total` as an ordered sum of `parts` non-negative integers."""
    if parts == 1:
        return [(total,)]
    return [(k, *rest) for k in range(total, -1, -1) for rest in _compositions(total - k, parts - 1)]


def finest_lattice(problem: Problem, budget: int) -> np.ndarray | None:
    """The lattice with the most divisions that has at most `budget` points (None if none fits).

    Upper bounds cut the lattice, so its size is not monotonic in the divisions: the search goes on
    until the size passes twice the budget, beyond which it only grows."""
    best, divisions = None, 1
    while True:
        points = lattice(problem, divisions)
        if len(points) > 2 * budget:
            return best
        if 0 < len(points) <= budget:
            best = points
        divisions += 1


class GridAgent:
    """A lattice scan in order, fully measured; no model, no seed (see `finest_lattice`)."""

    name = "grid"

    def __init__(self, problem: Problem, points: np.ndarray) -> None:
        self.problem = problem
        self.points = points
        self.n_asked = 0

    def ask(self) -> dict[str, float]:
        self.n_asked += 1
        return {
            e: float(v) for e, v in zip(self.problem.elements, self.points[self.n_asked - 1], strict=True)
        }

    def tell(
        self, condition: Mapping[str, float], values: Mapping[str, float], variances: Mapping[str, float]
    ) -> None:
        return None


SEEDED_AGENTS: dict[str, type] = {
    "junkan": JunkanAgent,
    "ax": AxAgent,
    "baybe": BaybeAgent,
    "ucb": UcbAgent,
    "random": RandomAgent,
}
