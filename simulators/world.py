"""What every simulated world offers, so campaigns and instruments can use any of them."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Quantity:
    """A measurable property of a world: its name, units, meaning and direction of merit."""

    name: str
    units: str
    description: str
    goal: Literal["maximize", "minimize"] = "maximize"


@dataclass(frozen=True)
class CountingReadout:
    """What a counting detector returns: raw counts and the calibration that turns them into a value.

    value = (counts - background_counts) / (counts_per_unit_s * count_time_s); counts are Poisson.
    """

    counts: int
    background_counts: float
    count_time_s: float
    counts_per_unit_s: float


@runtime_checkable
class World(Protocol):
    """Ground truth for a composition space, and noisy measurements of it."""

    name: str
    elements: tuple[str, ...]
    quantities: Mapping[str, Quantity]

    def truth(self, compositions: np.ndarray) -> dict[str, np.ndarray]:
        """Noise-free value of every quantity at each row of an (n, n_elements) array."""
        ...

    def measure_counts(
        self, composition: Mapping[str, float], quantity: str, count_time_s: float
    ) -> CountingReadout:
        """One noisy measurement of `quantity` at `composition`, counted for `count_time_s`."""
        ...
