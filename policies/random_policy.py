"""Baseline: independent uniform draws on the bounded simplex (what campaigns are judged against)."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from policies.proposal import MeasuredCondition, ModelUpdate, Proposal
from policies.space import DesignSpace

MAX_DRAWS = 100_000


class RandomPolicy:
    name = "random"

    def __init__(self, space: DesignSpace, measurement: Mapping[str, float], seed: int = 0) -> None:
        self.space = space
        self.measurement = dict(measurement)
        self.seed = seed
        self.n_asked = 0

    def tell(self, observations: Sequence[MeasuredCondition]) -> ModelUpdate | None:
        return None

    def _draw(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.n_asked])  # a stream per step: exact resume
        for _ in range(MAX_DRAWS):
            x = self.space.uniform_from_cube(rng.random((1, self.space.dim)))
            if self.space.contains(x)[0]:
                return self.space.project(x)[0]
        raise RuntimeError("random sampling found no point inside the bounded simplex")

    def ask(self, n: int, pending: Sequence[Mapping[str, float]] = ()) -> list[Proposal]:
        proposals = []
        for _ in range(n):
            x = self._draw()
            self.n_asked += 1
            proposals.append(
                Proposal(
                    f"p{self.n_asked:04d}",
                    self.space.as_dict(x),
                    self.measurement,
                    "explore",
                    generator=self.name,
                )
            )
        return proposals

    def state_dict(self) -> dict[str, Any]:
        return {"n_asked": self.n_asked}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.n_asked = int(state["n_asked"])
