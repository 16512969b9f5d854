"""The stagnation rules: what to measure when the acquisition has nothing left to say.

Why: with a GP that is confident everywhere, qLogNEI collapses (log-EI of -25 to -44 on
ternary-magnet) and its maximum sits on the incumbent, so a campaign measured the same
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
from dataclasses import replace

import numpy as np
import torch
from botorch.models.model import Model
from botorch.utils.multi_objective.box_decompositions.non_dominated import FastNondominatedPartitioning
from scipy.spatial import cKDTree

from policies.posterior import marginals
from policies.proposal import Proposal
from policies.sobol import SobolSampler
from policies.space import DesignSpace

REPEAT_RADIUS = 0.01  # in normalised free coordinates: the 0.01 cell of a composition
COLLAPSE_FRACTION = 1e-3  # expected improvement below this share of the spread: nothing left to gain
THOMPSON_POOL = 768  # space-filling points of the Thompson draw
LOCAL_POINTS = 32  # points around each of the best measured conditions
LOCAL_SD = 0.05  # their spread, in normalised free coordinates
N_LOCAL_CENTRES = 4
OPTIMISM_SD = 2.0  # an optimistic bound: the posterior mean plus this many sd


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


class StagnationRules:
    """The stagnation half of `BayesianPolicy` (mixed in; it needs the policy's model, data and
    acquisition): whether a choice should not be measured, and what to measure instead."""

    def _noise_sd(self, free: torch.Tensor) -> torch.Tensor:
        """Predicted noise sd of each objective (model units, floor included): (n, m)."""
        mean: np.ndarray | None = None  # for a warp's slope only
        columns = []
        for i, name in enumerate(self.outcomes[: len(self.objectives)]):
            fitted = self.surrogates.current[name]
            with torch.no_grad():
                raw = self.noise[name].predict(free).reshape(-1)
            if fitted.warp.kind != "identity":
                mean = self._posterior_mean(free).numpy() if mean is None else mean
                slope = fitted.warp.derivative(fitted.warp.inverse(fitted.sign * mean[:, i]))
                raw = raw * torch.tensor(slope**2)
            columns.append((raw + fitted.floor_variance()).sqrt())
        return torch.stack(columns, -1)

    def _repeats(self, free: torch.Tensor, variance: torch.Tensor | None = None) -> torch.Tensor:
        """Points within the repeat radius of a measured condition where the model already knows
        every objective better than one more reading would tell it. `variance`: the posterior's
        at `free`, when already computed."""
        assert self.model is not None
        repeats = near(self.space, free, self._training_x())
        if bool(repeats.any()):  # the posterior only where a measured condition is near
            close = free[repeats]
            close_variance = marginals(self.model, close)[1] if variance is None else variance[repeats]
            sd = close_variance[:, : len(self.objectives)].clamp_min(0).sqrt()
            repeats[repeats.clone()] = (sd < self._noise_sd(close)).all(-1)
        return repeats

    def _stagnation(self, free: torch.Tensor, value: float | None) -> str:
        """Why this model-based choice should not be measured ('' when it should)."""
        if self._collapsed(value):
            return f"acquisition collapsed (log value {value:.1f} below the floor)"
        if not self.allow_repeats and bool(self._repeats(free.view(1, -1))[0]):
            return "a measured condition the model already knows to within its noise"
        return ""

    def _unstick(self, proposal: Proposal, pending: list[np.ndarray]) -> Proposal:
        """Instead of a proposal the stagnation rules refuse: a Thompson sample, or, when the
        acquisition collapsed after an odd number of measurements, the point of the pool the model
        knows least among those that could still beat what is known, as among spots
        (`_collapsed_spot`). Unlike among spots, when no point of the pool could, the draw: the pool
        stands for the whole space, so its least-known point would be one the model's own optimistic
        bound rules out (measured on ternary-magnet: the far corners, at every other measurement)."""
        free = torch.tensor(self.space.to_free(self.space.as_point(proposal.condition)[None, :]))
        why = self._stagnation(free[0], proposal.acquisition_value)
        if not why:
            return proposal
        seed = self._step_seed("thompson")
        x = self._training_x()
        m = len(self.objectives)
        # several objectives: the draw is judged by one random scalarisation, and the pool's
        # neighbourhoods surround the measured points best under it, not the best of the first
        # objective alone (measured on the oxide at 100: 7 / 3 seeds against that, BENCHMARKS.md)
        weights = chebyshev_weights(m, seed) if m > 1 else None
        mean = self._posterior_mean(x)[:, :m]
        best_first = mean[:, 0] if weights is None else chebyshev(mean, weights)
        centres = x[torch.argsort(best_first, descending=True)[:N_LOCAL_CENTRES]]
        pool = thompson_pool(self.space, SobolSampler(self.space, seed).draw, centres, seed)
        blocked = (
            near(self.space, pool, torch.tensor(self.space.to_free(np.array(pending)))) if pending else None
        )
        keep = ~self._repeats(pool) if not self.allow_repeats else torch.ones(len(pool), dtype=torch.bool)
        if blocked is not None:
            keep &= ~blocked
        if self.prior is not None:  # the expert's weight as an acceptance probability; 0 vetoes
            compositions = self.space.compositions(self.space.from_free(pool.numpy()))
            acceptance = np.asarray(np.clip(self.prior(compositions), 0, 1)).reshape(-1)
            accepted = np.random.default_rng(seed).random(len(pool)) < acceptance
            keep &= torch.as_tensor(accepted)
        if not bool(keep.any()):
            return proposal
        pool = pool[keep]
        least, could = 0, False
        if self._collapsed(proposal.acquisition_value) and self._least_knowns_turn():
            least, could = self._least_known(pool)
        if could:
            index, generator, said = least, "largest-sd", "the point the model knows least"
        else:
            index = thompson_choice(self.model, pool, m, self._constraint_callables(), seed, weights)
            generator, said = "thompson", "Thompson sample"
        with torch.no_grad():
            value = float(self.acquisition(None, seed)(pool[index].view(1, 1, -1)))
        self.n_asked -= 1  # the refused proposal's number is reused
        x_new = self.space.project(self.space.from_free(pool[index].view(1, -1).numpy()))[0]
        chosen = self._proposal(x_new, "explore", value)
        return replace(chosen, generator=generator, why=f"{said}: {why}")

    def _least_knowns_turn(self) -> bool:
        """Whose turn a collapse is, among spots and in the continuous space alike: the least-known
        point's after an odd number of measurements, a Thompson sample's after an even number."""
        return len(self._values) % 2 == 1

    def _least_known(self, free: torch.Tensor) -> tuple[int, bool]:
        """Index of the point of `free` (free coordinates) the model knows least among those that
        could still beat what is known (among all when none could), and whether any could."""
        m = len(self.objectives)
        spread = np.ptp(self._model_values[:, :m], axis=0)
        spread = torch.as_tensor(np.where(spread > 0, spread, 1.0), dtype=torch.float64)
        mean, variance = marginals(self.model, free)
        sd = variance[:, :m].clamp_min(0).sqrt()
        unknown = (sd / spread).sum(-1)
        plausible = self._plausible(mean[:, :m] + OPTIMISM_SD * sd)
        could = bool(plausible.any())
        if could:
            unknown = torch.where(plausible, unknown, torch.full_like(unknown, -torch.inf))
        return int(torch.argmax(unknown)), could

    def _collapsed(self, value: float | None) -> bool:
        """Whether a best log-acquisition says there is nothing left to gain (`collapse_floor`)."""
        return value is not None and value < collapse_floor(self._model_values[:, : len(self.objectives)])

    def _plausible(self, optimistic: torch.Tensor) -> torch.Tensor:
        """Points whose optimistic bound (model space, maximised) beats what is known: for one
        objective the best posterior mean of the measured conditions, for several the observed
        front (some hypervolume added)."""
        if optimistic.shape[-1] == 1:
            return optimistic[:, 0] > self._measured_mean()[:, 0].max()
        return self._improvement(optimistic) > 0

    def _improvement(self, points: torch.Tensor) -> torch.Tensor:
        """Hypervolume each point would add to the observed front (model space, maximised)."""
        m = len(self.objectives)
        observed = torch.tensor(self._model_values[:, :m], dtype=torch.float64)
        reference = torch.tensor(self.signed_reference_point(), dtype=torch.float64)
        cells = FastNondominatedPartitioning(ref_point=reference, Y=observed).get_hypercell_bounds()
        extent = (torch.minimum(points.unsqueeze(-2), cells[1]) - cells[0]).clamp_min(0)
        return extent.prod(-1).sum(-1)
