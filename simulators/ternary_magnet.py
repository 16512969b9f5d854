"""A smooth ternary alloy landscape with Poisson counting noise: the walking skeleton's world.

The saturation magnetisation falls with dilution of Fe by Ga and Pd, with a local
enhancement near Fe0.77 Ga0.08 Pd0.15 (as magneto-volume effects give in Fe-Pd). It is an
analytic stand-in, not a phase diagram: the phase-based worlds come with the XRD/XAFS simulators.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from simulators.composition import composition_array, compositions_array
from simulators.errors import WorldInputError
from simulators.world import CountingReadout, Quantity

FE_SATURATION_T = 2.15  # mu0*Ms of bcc Fe, tesla


@dataclass
class TernaryMagnetWorld:
    """Fe-Ga-Pd-like magnetisation landscape measured by a counting magnetometer."""

    seed: int = 0
    counts_per_tesla_s: float = 2000.0
    background_counts_per_s: float = 200.0
    name: str = "ternary-magnet"
    elements: tuple[str, ...] = ("Fe", "Ga", "Pd")
    quantities: Mapping[str, Quantity] = field(
        default_factory=lambda: {
            "magnetization": Quantity("magnetization", "T", "saturation magnetisation mu0*Ms of the film")
        }
    )

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def truth(self, compositions: np.ndarray) -> dict[str, np.ndarray]:
        x = compositions_array(compositions, len(self.elements))
        fe, ga, pd = x[:, 0], x[:, 1], x[:, 2]
        diluted = FE_SATURATION_T * fe * (1.0 - 0.7 * ga)
        bump = 0.6 * np.exp(-((pd - 0.15) ** 2 + (ga - 0.08) ** 2) / (2 * 0.06**2))
        return {"magnetization": diluted + bump}

    def measure_counts(
        self, composition: Mapping[str, float], quantity: str, count_time_s: float
    ) -> CountingReadout:
        if quantity not in self.quantities:
            raise WorldInputError(
                f"unknown quantity {quantity!r}; {self.name} measures {sorted(self.quantities)}"
            )
        if not np.isfinite(count_time_s) or count_time_s <= 0:
            raise WorldInputError(f"count_time_s must be a positive number, got {count_time_s!r}")
        x = composition_array(composition, self.elements)
        value = float(self.truth(x[None, :])[quantity][0])
        background = self.background_counts_per_s * count_time_s
        expected = max(value, 0.0) * self.counts_per_tesla_s * count_time_s + background
        counts = int(self._rng.poisson(expected))
        return CountingReadout(
            counts=counts,
            background_counts=background,
            count_time_s=float(count_time_s),
            counts_per_unit_s=self.counts_per_tesla_s,
        )
