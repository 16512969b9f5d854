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

    The weight is data, not part of the model's gradient: restarts, the final choice among them
    and the veto check see it; a proposal that still lands on a vetoed point is replaced by the
    best allowed candidate of a Sobol pool.
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

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        w = self.weights(X)
        log_w = torch.where(w > 0, torch.log(w.clamp_min(1e-300)), torch.full_like(w, VETO_LOG_WEIGHT))
        return self.base(X) + log_w.sum(dim=-1)


def acquisition_values(acqf: AcquisitionFunction, batches: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """The acquisition of each q-batch of `batches` (n x q x d), a chunk at a time and without
    gradients: thousands of MC evaluations in one call would hold every sample in memory."""
    with torch.no_grad():
        return torch.cat([acqf(block) for block in torch.split(batches, chunk)])
