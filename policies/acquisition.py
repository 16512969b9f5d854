"""The acquisition a campaign decides by: BoTorch's qLogNEI (one objective) or qLogNEHVI (several)
over the policy's model, with outcome constraints and pending points; an expert's prior on it; and
values of many candidates at once. Where it is maximised is `policies.continuous_choice` and
`policies.cost_aware`; what to do when it has nothing left to say, `policies.stagnation`."""

from collections.abc import Callable

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
from botorch.acquisition.objective import GenericMCObjective
from botorch.sampling import SobolQMCNormalSampler

from policies.space import DesignSpace

CompositionPrior = Callable[[np.ndarray], np.ndarray]  # (n, n_elements) -> weights in [0, 1]
VETO_LOG_WEIGHT = -1e3  # log of a vetoed candidate's weight: far below any acquisition value
MAX_BASELINE = 32  # observed points the noisy acquisitions integrate over


class PriorWeightedAcquisition(AcquisitionFunction):
    """An expert's prior on a log-acquisition: adds log(weight) per candidate; weight 0 is a veto.

    The prior is a plain function of compositions, so the gradient of its log weight is taken by
    central differences (`_LogWeight`): with the weight in the value but not in the gradient, the
    optimiser's line searches disagreed with its steps, and one ask took up to 67 s and 21,980
    evaluations; now at most 0.21 s and 62 (`benchmarks/prior_decisions.py`, BENCHMARKS.md). Across
    a veto's edge the difference is set to 0: a vetoed point is not a slope to climb. A proposal that
    still lands on a vetoed point is replaced by the best allowed candidate of a Sobol pool.
    """

    def __init__(self, base: AcquisitionFunction, prior: CompositionPrior, space: DesignSpace) -> None:
        super().__init__(model=base.model)
        self.base = base
        self.prior = prior
        self.space = space

    def weights(self, free: torch.Tensor) -> torch.Tensor:
        points = self.space.from_free(free.detach().reshape(-1, free.shape[-1]).cpu().numpy())
        compositions = self.space.compositions(points)
        w = np.clip(np.asarray(self.prior(compositions), dtype=float).reshape(-1), 0.0, 1.0)
        return torch.as_tensor(w, dtype=free.dtype).reshape(free.shape[:-1])

    def log_weights(self, free: torch.Tensor) -> torch.Tensor:
        w = self.weights(free)
        return torch.where(w > 0, torch.log(w.clamp_min(1e-300)), torch.full_like(w, VETO_LOG_WEIGHT))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.base(X) + _LogWeight.apply(X, self).sum(dim=-1)


PRIOR_STEP = 1e-6  # central-difference step of the log weight, in free coordinates


class _LogWeight(torch.autograd.Function):
    """log weight of each point of X (... x d -> ...), its gradient by central differences."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, acqf: PriorWeightedAcquisition) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(X)
        ctx.acqf = acqf
        return acqf.log_weights(X)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (X,) = ctx.saved_tensors
        d = X.shape[-1]
        steps = PRIOR_STEP * torch.eye(d, dtype=X.dtype)  # (d, d)
        shifted = torch.cat([X.unsqueeze(-2) + steps, X.unsqueeze(-2) - steps], dim=-2)  # (..., 2d, d)
        log_w = ctx.acqf.log_weights(shifted)
        up, down = log_w[..., :d], log_w[..., d:]
        slope = (up - down) / (2 * PRIOR_STEP)
        vetoed = (up <= VETO_LOG_WEIGHT) | (down <= VETO_LOG_WEIGHT)
        slope = torch.where(vetoed, torch.zeros_like(slope), slope)
        return grad.unsqueeze(-1) * slope, None


def acquisition_values(acqf: AcquisitionFunction, batches: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """The acquisition of each q-batch of `batches` (n x q x d), a chunk at a time and without
    gradients: thousands of MC evaluations in one call would hold every sample in memory."""
    with torch.no_grad():
        return torch.cat([acqf(block) for block in torch.split(batches, chunk)])


class NoisyAcquisition:
    """The acquisition half of `BayesianPolicy` (mixed in; it needs the policy's model, data and
    objectives): the noisy log-acquisition of its model, built once per decision."""

    def _constraint_callables(self) -> list:
        callables = []
        for constraint in self.constraints:
            index = self.outcomes.index(constraint.outcome)
            sign = self._signs()[index]  # the model sees sign * value
            bound = sign * constraint.bound
            upper = (constraint.sense == "<=") == (sign > 0)
            if upper:
                callables.append(lambda z, i=index, b=bound: z[..., i] - b)
            else:
                callables.append(lambda z, i=index, b=bound: b - z[..., i])
        return callables

    def signed_reference_point(self) -> list[float]:
        """In model units (sign * warp): the thresholds where given (and the warp applies to
        them); otherwise just below the worst observed value of each objective."""
        y = self._model_values[:, : len(self.objectives)]
        reference = []
        for j, objective in enumerate(self.objectives):
            fitted = self.surrogates.current[objective.name]
            given = np.array([self.reference_point.get(objective.name, np.nan)])
            if np.isfinite(given).all() and fitted.warp.applies_to(given):
                reference.append(float(fitted.sign * fitted.warp.forward(given)[0]))
            else:
                span = float(np.ptp(y[:, j])) or 1.0
                reference.append(float(y[:, j].min() - 0.1 * span))
        return reference

    def acquisition(self, x_pending: torch.Tensor | None, seed: int) -> AcquisitionFunction:
        # Baseline pruning draws its samples from torch's global generator: seed it, so that a
        # resumed or replayed policy builds the same acquisition (measured: it did not, before).
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            base = self._base_acquisition(x_pending, seed)
        return base if self.prior is None else PriorWeightedAcquisition(base, self.prior, self.space)

    def _baseline(self) -> torch.Tensor:
        """The observed points the noisy acquisition integrates over: all of them up to
        `MAX_BASELINE`, else those the model thinks best (fewest others dominating their posterior
        mean). Building qLogNEHVI over 1,000 points took 12-25 s here; the incumbents are what matter."""
        x = self._training_x()
        if len(x) <= MAX_BASELINE:
            return x
        if self._baseline_cache[0] == self.model_id:
            return self._baseline_cache[1]
        assert self.model is not None
        m = len(self.objectives)
        mean = self._posterior_mean(x)[..., :m]
        dominated_by = (
            (mean.unsqueeze(0) >= mean.unsqueeze(1)).all(-1) & (mean.unsqueeze(0) > mean.unsqueeze(1)).any(-1)
        ).sum(dim=1)
        # fewest dominators first; among equals, the larger summed mean first
        order = np.lexsort((-mean.sum(-1).numpy(), dominated_by.numpy()))
        self._baseline_cache = (self.model_id, x[torch.as_tensor(order[:MAX_BASELINE])])
        return self._baseline_cache[1]

    def _base_acquisition(self, x_pending: torch.Tensor | None, seed: int) -> AcquisitionFunction:
        assert self.model is not None
        sampler = SobolQMCNormalSampler(torch.Size([self.mc_samples]), seed=seed)
        constraints = self._constraint_callables() or None
        if len(self.objectives) == 1:
            objective = GenericMCObjective(lambda z, X=None: z[..., 0]) if len(self.outcomes) > 1 else None
            return qLogNoisyExpectedImprovement(
                self.model,
                X_baseline=self._baseline(),
                sampler=sampler,
                objective=objective,
                X_pending=x_pending,
                constraints=constraints,
                prune_baseline=True,
            )
        return qLogNoisyExpectedHypervolumeImprovement(
            self.model,
            ref_point=self.signed_reference_point(),
            X_baseline=self._baseline(),
            sampler=sampler,
            objective=IdentityMCMultiOutputObjective(outcomes=list(range(len(self.objectives)))),
            constraints=constraints,
            X_pending=x_pending,
            prune_baseline=True,
        )
