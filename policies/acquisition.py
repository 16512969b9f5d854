"""Acquisition beyond BoTorch's: an expert's prior on it, and values of many candidates at once.
What to do when the acquisition has nothing left to say is `policies.stagnation`."""

from collections.abc import Callable

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction

from policies.space import DesignSpace

CompositionPrior = Callable[[np.ndarray], np.ndarray]  # (n, n_elements) -> weights in [0, 1]
VETO_LOG_WEIGHT = -1e3  # log of a vetoed candidate's weight: far below any acquisition value


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
