"""Scrambled Sobol points on the bounded composition simplex: space filling and reproducible."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch.quasirandom import SobolEngine

from policies.proposal import MeasuredCondition, ModelUpdate, Proposal
from policies.space import DesignSpace

MAX_DRAWS_PER_POINT = 10_000


class SobolSampler:
    """Draws Sobol points in the cube and keeps those the simplex map puts inside the bounds."""

    def __init__(self, space: DesignSpace, seed: int) -> None:
        self.space = space
        self.seed = seed
        self.n_drawn = 0
        self._engine = SobolEngine(space.dim, scramble=True, seed=seed)

    def draw(self, n: int) -> np.ndarray:
        kept: list[np.ndarray] = []
        n_kept = 0
        budget = n * MAX_DRAWS_PER_POINT
        while n_kept < n:
            if budget <= 0:
                raise RuntimeError(
                    f"Sobol sampling kept fewer than {n} points in {n * MAX_DRAWS_PER_POINT} draws: "
                    "the bounded simplex is too thin to sample"
                )
            u = self._engine.draw(1).double().numpy()
            self.n_drawn += 1
            budget -= 1
            x = self.space.uniform_from_cube(u)
            if self.space.contains(x)[0]:
                kept.append(self.space.project(x)[0])
                n_kept += 1
        return np.array(kept)

    def restore(self, n_drawn: int) -> None:
        self._engine = SobolEngine(self.space.dim, scramble=True, seed=self.seed)
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
