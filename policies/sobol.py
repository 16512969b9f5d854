"""Scrambled Sobol points on the bounded composition simplex: space filling and reproducible."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch.quasirandom import SobolEngine

from policies.proposal import MeasuredCondition, ModelUpdate, Proposal
from policies.space import DesignSpace

MAX_DRAWS_PER_POINT = 10_000
MIN_BLOCK, MAX_BLOCK = 16, 65_536  # points drawn at once


class SobolSampler:
    """Draws Sobol points in the cube and keeps those the simplex map puts inside the bounds.

    Points are drawn in blocks (one engine call and one bounds check for many points: a pool of
    512 took 512 of each) and kept in order; `n_drawn` counts the points used, and the rest of a
    block waits for the next draw, so the points and `n_drawn` are those of one-at-a-time draws."""

    def __init__(self, space: DesignSpace, seed: int) -> None:
        self.space = space
        self.seed = seed
        self.n_drawn = 0
        self._engine = SobolEngine(space.dim, scramble=True, seed=seed)
        self._ahead = np.empty((0, space.dim))  # drawn from the engine, not yet used

    def draw(self, n: int) -> np.ndarray:
        kept: list[np.ndarray] = []
        n_kept = 0
        budget = n * MAX_DRAWS_PER_POINT
        accepted = 1.0  # fraction of a block inside the bounds, to size the next block
        while n_kept < n:
            if budget <= 0:
                raise RuntimeError(
                    f"Sobol sampling kept fewer than {n} points in {n * MAX_DRAWS_PER_POINT} draws: "
                    "the bounded simplex is too thin to sample"
                )
            size = int(min(budget, MAX_BLOCK, max(MIN_BLOCK, 1.2 * (n - n_kept) / accepted)))
            u = self._next(size)
            x = self.space.uniform_from_cube(u)
            inside = np.flatnonzero(self.space.contains(x))
            accepted = max(len(inside) / size, 1.0 / MAX_BLOCK)
            inside = inside[: n - n_kept]
            used = size if len(inside) < n - n_kept else int(inside[-1]) + 1
            self._ahead = np.concatenate([u[used:], self._ahead])
            self.n_drawn += used
            budget -= used
            if len(inside):
                kept.append(self.space.project(x[inside]))
                n_kept += len(inside)
        return np.concatenate(kept) if kept else np.empty((0, len(self.space.names)))

    def _next(self, size: int) -> np.ndarray:
        """The next `size` points of the sequence: those drawn ahead first."""
        ahead, self._ahead = self._ahead[:size], self._ahead[size:]
        if len(ahead) == size:
            return ahead
        return np.concatenate([ahead, self._engine.draw(size - len(ahead)).double().numpy()])

    def restore(self, n_drawn: int) -> None:
        self._engine = SobolEngine(self.space.dim, scramble=True, seed=self.seed)
        self._ahead = np.empty((0, self.space.dim))
        if n_drawn:
            self._engine.fast_forward(n_drawn)
        self.n_drawn = n_drawn


class SobolPolicy:
    """Baseline: ignores what it is told and fills the space with Sobol points."""

    name = "sobol"

    def __init__(self, space: DesignSpace, measurement: Mapping[str, float], seed: int = 0) -> None:
        self.space = space
        self.measurement = dict(measurement)
        self.sampler = SobolSampler(space, seed)
        self.n_asked = 0

    def tell(self, observations: Sequence[MeasuredCondition]) -> ModelUpdate | None:
        return None

    def ask(self, n: int, pending: Sequence[Mapping[str, float]] = ()) -> list[Proposal]:
        proposals = []
        for x in self.sampler.draw(n):
            self.n_asked += 1
            proposals.append(
                Proposal(
                    proposal_id=f"p{self.n_asked:04d}",
                    condition=self.space.as_dict(x),
                    measurement=self.measurement,
                    reason="explore",
                    generator=self.name,
                )
            )
        return proposals

    def state_dict(self) -> dict[str, Any]:
        return {"n_asked": self.n_asked, "sobol_drawn": self.sampler.n_drawn}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.n_asked = int(state["n_asked"])
        self.sampler.restore(int(state["sobol_drawn"]))
