"""Acquisition beyond BoTorch's: an expert's prior on it, and what to do when it has nothing left to say.

Why the stagnation rules: with a GP that is confident everywhere, qLogNEI collapses (log-EI of -25
to -44 on ternary-magnet) and its maximum sits on the incumbent, so a campaign measured the same
spot again and again (10 distinct cells in 100 measurements) and learned its noise, not the space.
Two rules, each named in the proposal's `why`:

- a repeat: a proposal within `REPEAT_RADIUS` of a measured condition where the posterior sd is
  already below the noise sd tells the model nothing a replicate would not; it is replaced unless
  the campaign asks for replicates;
- a collapse: when the best log-acquisition falls below `collapse_floor` (expected improvement
  under `COLLAPSE_FRACTION` of the objective's spread), the next proposal is, in turn, the point
  the model knows least among those that could still beat what is known (after an odd number of
  measurements) and a Thompson sample (after an even number, and in the continuous space whenever
  no point could), in the continuous space as among spots (`cost_aware`).

The repeat's replacement, and every other collapse's, is a Thompson sample (one joint posterior
draw over a space-filling pool and the neighbourhoods of the best measured points, argmax; for
several objectives "best" and the draw's score are one random augmented Chebyshev scalarisation),
with repeats and pending points removed from the pool: it explores where the model still allows
something better, instead of wherever the variance is largest. The least-known point is taken from
the same pool; a confident model's draws all peak next to the incumbent, and it does not.
"""

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.models.model import Model
from scipy.spatial import cKDTree

from policies.space import DesignSpace

CompositionPrior = Callable[[np.ndarray], np.ndarray]  # (n, n_elements) -> weights in [0, 1]
VETO_LOG_WEIGHT = -1e3  # log of a vetoed candidate's weight: far below any acquisition value
REPEAT_RADIUS = 0.01  # in normalised free coordinates: the 0.01 cell of a composition
COLLAPSE_FRACTION = 1e-3  # expected improvement below this share of the spread: nothing left to gain
THOMPSON_POOL = 768  # space-filling points of the Thompson draw
LOCAL_POINTS = 32  # points around each of the best measured conditions
LOCAL_SD = 0.05  # their spread, in normalised free coordinates
N_LOCAL_CENTRES = 4


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


def collapse_floor(objective_values: np.ndarray) -> float:
    """The log-acquisition below which the acquisition has collapsed: an expected improvement (or
    hypervolume improvement) under `COLLAPSE_FRACTION` of the objectives' spread (model units)."""
    spans = np.ptp(objective_values, axis=0)
    spans = np.where(spans > 0, spans, 1.0)
    return math.log(COLLAPSE_FRACTION) + float(np.sum(np.log(spans)))


def unit_free(space: DesignSpace, free: torch.Tensor) -> torch.Tensor:
    bounds = space.free_bounds()
    return (free - bounds[0]) / (bounds[1] - bounds[0]).clamp_min(1e-12)


def near(space: DesignSpace, free: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """For each point of `free`, whether one of `others` lies within `REPEAT_RADIUS` (max norm)."""
    if len(others) == 0:
        return torch.zeros(len(free), dtype=torch.bool)
    nearest, _ = cKDTree(unit_free(space, others).numpy()).query(unit_free(space, free).numpy(), p=np.inf)
    return torch.from_numpy(nearest < REPEAT_RADIUS)


def thompson_pool(
    space: DesignSpace, draw: Callable[[int], np.ndarray], centres: torch.Tensor, seed: int
) -> torch.Tensor:
    """Free coordinates of a space-filling pool plus Gaussian neighbourhoods of `centres`, all
    inside the space."""
    pool = torch.tensor(space.to_free(draw(THOMPSON_POOL)), dtype=torch.float64)
    if len(centres):
        generator = torch.Generator().manual_seed(seed)
        bounds = space.free_bounds()
        noise = torch.randn(
            len(centres), LOCAL_POINTS, centres.shape[-1], generator=generator, dtype=torch.float64
        )
        local = (centres.unsqueeze(1) + LOCAL_SD * (bounds[1] - bounds[0]) * noise).reshape(
            -1, centres.shape[-1]
        )
        local = torch.minimum(torch.maximum(local, bounds[0]), bounds[1])
        inside = space.contains(space.from_free(local.numpy()), tol=1e-9)
        local = torch.tensor(
            space.to_free(space.project(space.from_free(local.numpy()[inside]))), dtype=torch.float64
        )
        pool = torch.cat([pool, local])
    return pool


def acquisition_values(acqf: AcquisitionFunction, batches: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """The acquisition of each q-batch of `batches` (n x q x d), a chunk at a time and without
    gradients: thousands of MC evaluations in one call would hold every sample in memory."""
    with torch.no_grad():
        return torch.cat([acqf(block) for block in torch.split(batches, chunk)])


def chebyshev_weights(n_objectives: int, seed: int) -> torch.Tensor:
    """One step's random scalarisation weights (uniform on the simplex), drawn before its pool."""
    generator = torch.Generator().manual_seed(seed)
    e = -torch.log(torch.rand(n_objectives, generator=generator, dtype=torch.float64))
    return e / e.sum()


def chebyshev(y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Augmented Chebyshev scalarisation (ParEGO) of y scaled to its own range: larger is better."""
    low, high = y.amin(0), y.amax(0)
    scaled = (y - low) / (high - low).clamp_min(1e-12)
    return (weights * scaled).amin(-1) + 0.05 * (weights * scaled).sum(-1)


def thompson_choice(
    model: Model,
    pool: torch.Tensor,
    n_objectives: int,
    constraints: Sequence[Callable[[torch.Tensor], torch.Tensor]],
    seed: int,
    weights: torch.Tensor | None = None,
) -> int:
    """Index of the pool point that maximises one joint posterior draw (several objectives: a
    random augmented Chebyshev scalarisation of the draw, as ParEGO, by `weights` or else the
    step's `chebyshev_weights`; infeasible draws last)."""
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(seed)
        sample = model.posterior(pool).rsample(torch.Size([1]))[0]  # (N, outcomes)
        if n_objectives == 1:
            score = sample[:, 0]
        else:
            y = sample[:, :n_objectives]
            score = chebyshev(y, chebyshev_weights(n_objectives, seed) if weights is None else weights)
        if constraints:
            feasible = torch.stack([c(sample) <= 0 for c in constraints]).all(0)
            if bool(feasible.any()):
                score = torch.where(feasible, score, torch.full_like(score, -math.inf))
    return int(torch.argmax(score))
