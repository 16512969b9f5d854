"""Baseline: a grid scan of the bounded simplex, in order, as a lab does without a model."""

from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np

from policies.proposal import MeasuredCondition, ModelUpdate, Proposal
from policies.space import DesignSpace


def simplex_grid(space: DesignSpace, step: float) -> np.ndarray:
    """Every composition on a grid of `step` (free coordinates) inside the space, in scan order."""
    if not 0 < step <= 0.5:
        raise ValueError(f"grid step must be in (0, 0.5], got {step}")
    n = round(1 / step)
    axes = [np.arange(n + 1) / n] * space.composition_dim
    axes += [np.linspace(p.lower, p.upper, n + 1) for p in space.process]
    free = np.array(list(product(*axes)))
    points = space.from_free(free)
    return points[space.contains(points, tol=1e-9)]


class GridPolicy:
    name = "grid"

    def __init__(self, space: DesignSpace, measurement: Mapping[str, float], step: float = 0.05) -> None:
        self.space = space
        self.measurement = dict(measurement)
        self.points = simplex_grid(space, step)
        if len(self.points) == 0:
            raise ValueError(f"no grid point of step {step} lies in the space; use a finer step")
        self.n_asked = 0

    def tell(self, observations: Sequence[MeasuredCondition]) -> ModelUpdate | None:
        return None

    def ask(self, n: int, pending: Sequence[Mapping[str, float]] = ()) -> list[Proposal]:
        proposals = []
        for _ in range(n):
            x = self.points[self.n_asked % len(self.points)]  # a finished scan starts over
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
