"""Bayesian optimisation over the composition simplex: one GP per modelled outcome (objectives and
constrained outcomes) with per-observation noise from a noise model; qLogNEI for one objective,
qLogNEHVI for several; outcome constraints; batches with pending points. Sobol points start it."""

import hashlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from botorch.models.model import Model

from policies.acquisition import CompositionPrior, NoisyAcquisition
from policies.continuous_choice import ContinuousChoice
from policies.cost_aware import CostAwareChoice
from policies.count_time import CountTimeRule, count_time, rate_model
from policies.noise import KnownNoise, LogNormalVariance, NoiseModel
from policies.objective import Objective
from policies.posterior import marginals, posterior_mean
from policies.proposal import CandidateSet, Costs, MeasuredCondition, ModelUpdate, Proposal
from policies.sobol import SobolSampler
from policies.space import DesignSpace
from policies.stagnation import StagnationRules
from policies.surrogate import OutcomeSurrogates


@dataclass(frozen=True)
class OutcomePrediction:
    """One outcome over a set of points: posterior mean and sd of the function, predicted noise sd."""

    mean: np.ndarray
    sd: np.ndarray
    noise_sd: np.ndarray


class ObservationError(ValueError):
    """An observation a model must not be fitted to (NaN, infinite, or missing an outcome)."""


@dataclass(frozen=True)
class OutcomeConstraint:
    """A measured outcome that must satisfy `outcome sense bound`, e.g. fraction_bcc >= 0.9."""

    outcome: str
    sense: Literal[">=", "<="]
    bound: float


def initial_design_size(space: DesignSpace) -> int:
    """Space-filling points before the first model: one more than the free coordinates that can
    vary (d + 1, the fewest that span them), and at least 2 (a GP needs two points).

    Measured (BENCHMARKS.md, junkan's own policy, 6 seeds each): 2 first points were best on the
    ternary problems (median measurements to 90 % of the best with 2 / 3 / 6: ternary-magnet
    3.5 / 4.5 / 7, the Fe-Ga-Pd pool 5 / 6 / 7), but on Hartmann-6 (6 free coordinates) 2 left
    the first model extrapolating along unseen directions: it chased the 64 corners of the box,
    where its sd is largest and the function is flat, and scored 0.24-0.36 of the optimum at 100
    measurements in 3 of 6 seeds (random: 0.44-0.66); with 7 first points 0.95-0.99."""
    bounds = space.free_bounds()
    return max(2, int(((bounds[1] - bounds[0]) > 1e-9).sum()) + 1)


class BayesianPolicy(NoisyAcquisition, ContinuousChoice, CostAwareChoice, StagnationRules):
    """The decision-maker of a campaign. Fits on `tell`, proposes on `ask`, checkpoints exactly."""

    name = "bayesian"

    def __init__(
        self,
        space: DesignSpace,
        objectives: Sequence[Objective],
        measurement: Mapping[str, float],
        seed: int = 0,
        n_sobol: int | None = None,
        num_restarts: int = 4,
        raw_samples: int = 128,
        mc_samples: int = 128,
        constraints: Sequence[OutcomeConstraint] = (),
        noise: Callable[[], NoiseModel] = KnownNoise,
        reference_point: Mapping[str, float] | None = None,
        prior: CompositionPrior | None = None,
        costs: Costs | None = None,
        count_time: "CountTimeRule | None" = None,
        select_surrogate: bool = True,
        outcome_warps: bool = False,
        allow_repeats: bool = False,
    ) -> None:
        if n_sobol is None:
            n_sobol = initial_design_size(space)
        if n_sobol < 1:
            raise ValueError(f"n_sobol must be >= 1, got {n_sobol}")
        if not objectives:
            raise ValueError("give at least one objective")
        self.space = space
        self.objectives = list(objectives)
        self.constraints = list(constraints)
        self.outcomes = [o.name for o in self.objectives]
        self.outcomes += [c.outcome for c in self.constraints if c.outcome not in self.outcomes]
        self.measurement = dict(measurement)
        self.seed = seed
        self.n_sobol = n_sobol
        self.num_restarts = num_restarts
        self.raw_samples = raw_samples
        self.mc_samples = mc_samples
        self.noise = {name: noise() for name in self.outcomes}  # one noise model per outcome
        self.reference_point = dict(reference_point or {})
        self.prior = prior
        self.costs = costs  # with costs, each ask weighs measuring a spot against a new library
        self.candidates = CandidateSet((), np.zeros((0, len(space.names))))
        self.count_time = count_time
        self._count_times: list[float] = []
        self._rate_model: LogNormalVariance | None = None
        self.sampler = SobolSampler(space, seed)
        self.n_asked = 0
        one_objective = len(self.objectives) == 1
        constrained = {c.outcome for c in self.constraints}
        self.surrogates = OutcomeSurrogates(
            self.outcomes,
            self._signs(),
            # a warp changes which front maximises a hypervolume, and moves a constraint's bound:
            # only a lone, unconstrained objective is warped
            {
                n: outcome_warps and one_objective and n == self.outcomes[0] and n not in constrained
                for n in self.outcomes
            },
            self.noise,
            space.free_bounds(),
            seed,
            select=select_surrogate,
        )
        self._model_values = np.zeros((0, len(self.outcomes)))
        self.allow_repeats = allow_repeats  # replicates are what the campaign asks for
        self._conditions: list[np.ndarray] = []
        self._values: list[list[float]] = []
        self._variances: list[list[float]] = []
        self.model: Model | None = None
        self.model_id: str | None = None
        self._baseline_cache: tuple[str | None, torch.Tensor] = (None, torch.zeros(0))
        self._measured_mean_cache: tuple[str | None, torch.Tensor] = (None, torch.zeros(0))

    # -- learning ---------------------------------------------------------------------------
    def tell(self, observations: Sequence[MeasuredCondition]) -> ModelUpdate | None:
        for obs in observations:
            row, var = [], []
            for name in self.outcomes:
                if name not in obs.values or name not in obs.variances:
                    raise ObservationError(f"observation at {dict(obs.condition)} lacks outcome {name!r}")
                value, variance = float(obs.values[name]), float(obs.variances[name])
                if not (math.isfinite(value) and math.isfinite(variance)) or variance < 0:
                    raise ObservationError(
                        f"observation at {dict(obs.condition)} has {name} = {value} with variance "
                        f"{variance}; values must be finite and variances finite and >= 0"
                    )
                row.append(value)
                var.append(variance)
            measured = getattr(obs, "measurement", None) or {}
            self._count_times.append(
                float(measured.get("count_time_s", self.measurement.get("count_time_s", 1.0)))
            )
            self._conditions.append(self.space.as_point(obs.condition))
            self._values.append(row)
            self._variances.append(var)
        if len(self._values) < max(2, self.n_sobol):
            return None
        return self._fit()

    def _signs(self) -> np.ndarray:
        goal = {o.name: o.sign for o in self.objectives}
        return np.array([goal.get(name, 1.0) for name in self.outcomes])

    def _training_x(self) -> torch.Tensor:
        return torch.tensor(self.space.to_free(np.array(self._conditions)), dtype=torch.float64)

    def _fit(self) -> ModelUpdate:
        """Refit every outcome's surrogate (`policies.surrogate`: structure chosen by LOO-PLL,
        hyperparameters on a schedule, conditioning in between; all a function of the data)."""
        started = time.perf_counter()
        x = self._training_x()
        values, reported = np.array(self._values), np.array(self._variances)
        fitted = self.surrogates.fit(x, values, reported)
        self.model = fitted.model
        self._model_values = self.surrogates.model_values(values, reported)
        self._rate_model = None  # refitted when a count time is next chosen
        y = torch.tensor(values * self._signs(), dtype=torch.float64)
        digest = hashlib.sha256(
            b"".join(t.numpy().tobytes() for t in (x, y, torch.tensor(reported))) + str(self.seed).encode()
        ).hexdigest()[:8]
        self.model_id = f"gp-{len(values):04d}-{digest}"
        return ModelUpdate(
            self.model_id, len(values), time.perf_counter() - started, fitted.summary, fitted.structures
        )

    # -- deciding ---------------------------------------------------------------------------
    def ask(self, n: int, pending: Sequence[Mapping[str, float]] = ()) -> list[Proposal]:
        if n < 1:
            raise ValueError(f"ask for at least one proposal, got n={n}")
        n_space_filling = (
            n if self.model is None else max(0, min(n, self.n_sobol - len(self._values) - len(pending)))
        )
        proposals = [self._proposal(x, "explore", None) for x in self.sampler.draw(n_space_filling)]
        if n - n_space_filling:
            pending_x = [self.space.as_point(p) for p in pending]
            pending_x += [self.space.as_point(p.condition) for p in proposals]
            if self.costs is None:
                for proposal in self._optimise(n - n_space_filling, pending_x):
                    proposal = self._unstick(proposal, pending_x)
                    proposals.append(proposal)
                    pending_x.append(self.space.as_point(proposal.condition))
            else:
                spots, pool, fresh = self._shortlists(n - n_space_filling)  # screened once per ask
                for _ in range(n - n_space_filling):  # greedy: each choice is pending for the next
                    taken = {p.target_spot for p in proposals}
                    spots = np.array([i for i in spots if self.candidates.ids[i] not in taken], dtype=int)
                    fresh = np.array([i for i in fresh if self.candidates.ids[i] not in taken], dtype=int)
                    chosen = self._cost_aware_choice(pending_x, spots, pool, fresh)
                    proposals.append(chosen)
                    pending_x.append(self.space.as_point(chosen.condition))
        return proposals

    def _posterior_mean(self, x: torch.Tensor) -> torch.Tensor:
        assert self.model is not None
        return posterior_mean(self.model, x)

    def _measured_mean(self) -> torch.Tensor:
        """The posterior mean (model space) at the measured conditions, once per model: one ask
        uses it to screen spots, to judge what is plausible and to give reasons."""
        if self._measured_mean_cache[0] != self.model_id:
            self._measured_mean_cache = (self.model_id, self._posterior_mean(self._training_x()))
        return self._measured_mean_cache[1]

    def predict(self, points: np.ndarray) -> dict[str, OutcomePrediction]:
        """The model's view at `points` (rows in `space.names` order), in each outcome's own units
        and sign: what a person watching the campaign wants to see (mean, its sd, the noise sd)."""
        if self.model is None:
            raise RuntimeError(f"no model yet: it is fitted after {max(2, self.n_sobol)} observations")
        free = torch.tensor(self.space.to_free(points), dtype=torch.float64)
        mean, variance = marginals(self.model, free)
        predictions = {}
        for i, name in enumerate(self.outcomes):
            raw_mean, raw_sd = self.surrogates.to_raw(
                name, mean[:, i].numpy(), variance[:, i].clamp_min(0).sqrt().numpy()
            )
            noise_var = self.noise[name].predict(free).squeeze(-1).numpy()
            noise_var = noise_var + self.surrogates.floor_raw_variance(name, raw_mean)
            predictions[name] = OutcomePrediction(mean=raw_mean, sd=raw_sd, noise_sd=np.sqrt(noise_var))
        return predictions

    def _reasons(self, candidates: torch.Tensor) -> list[str]:
        """exploit: the model expects the point to be at least as good as the best it knows
        (non-dominated among the training means, for several objectives); explore otherwise."""
        assert self.model is not None
        m = len(self.objectives)
        known = self._measured_mean()[..., :m]
        new = self._posterior_mean(candidates)[..., :m]
        reasons = []
        for row in new:
            dominated = bool(torch.any(torch.all(known >= row, dim=-1) & torch.any(known > row, dim=-1)))
            reasons.append("explore" if dominated else "exploit")
        return reasons

    def choose_count_time(self, x: np.ndarray) -> float:
        """Count time that brings the first objective's noise sd to the rule's target at x
        (`policies.count_time`)."""
        assert self.count_time is not None
        if self._rate_model is None:
            self._rate_model = rate_model(
                self._training_x(),
                np.array(self._variances)[:, 0],
                np.array(self._count_times),
                self.space.free_bounds(),
            )
        free = torch.tensor(self.space.to_free(x[None, :]), dtype=torch.float64)
        return count_time(self.count_time, self._rate_model, free, self.noise[self.outcomes[0]])

    def _proposal(self, x: np.ndarray, reason: str, value: float | None) -> Proposal:
        self.n_asked += 1
        measurement = dict(self.measurement)
        if self.count_time is not None and value is not None:  # model-chosen: the model sets the time
            measurement["count_time_s"] = self.choose_count_time(x)
        return Proposal(
            proposal_id=f"p{self.n_asked:04d}",
            condition=self.space.as_dict(x),
            measurement=measurement,
            reason=reason,  # type: ignore[arg-type]
            acquisition_value=value,
            model_id=self.model_id if value is not None else None,
            generator=("qlognehvi" if len(self.objectives) > 1 else "qlognei")
            if value is not None
            else "sobol",
        )

    def _step_seed(self, what: str) -> int:
        """A seed for this step alone, so that a resumed policy draws what the original drew."""
        key = f"{self.seed}:{what}:{self.n_asked}:{len(self._values)}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"n_asked": self.n_asked, "sobol_drawn": self.sampler.n_drawn}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.n_asked = int(state["n_asked"])
        self.sampler.restore(int(state["sobol_drawn"]))
