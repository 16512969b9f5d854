"""A four-element landscape whose counting noise grows several-fold toward one corner: a test of how
a policy handles heteroscedastic noise and a narrow optimum beside a broad one.

The figure of merit is read from a diffraction peak's net counts with Cu K-alpha radiation. Co
fluoresces under Cu K-alpha (its K edge, 7.71 keV, lies below 8.05 keV; those of Ni, Cu and Zn lie
above), so the background under the peak grows linearly with the Co fraction, and with it the
Poisson noise of the net signal: about 8x in sd from the Ni corner to the Co corner. The landscape is
an analytic stand-in, as `ternary_magnet` is: a broad local optimum on the quiet Ni-Cu side (2.06,
noise sd 0.10 at 1 s), a narrow global optimum (peak sd 0.05 in composition; 2.78, noise sd 0.18)
halfway to the noisy side, and a floor rising toward Co (1.4 at the corner, noise sd 0.28), so that
lucky readings near the Co corner can look as good as the broad optimum.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from simulators.composition import composition_array, compositions_array
from simulators.errors import WorldInputError
from simulators.world import CountingReadout, Quantity

ELEMENTS = ("Ni", "Cu", "Zn", "Co")
CO = 3
FLOOR, FLOOR_PER_CO = 0.4, 1.0  # merit at Co = 0, its rise per unit Co fraction
BROAD = {"height": 1.6, "sd": 0.20, "centre": (0.50, 0.30, 0.15, 0.05)}
NARROW = {"height": 2.0, "sd": 0.05, "centre": (0.15, 0.10, 0.40, 0.35)}
# the best value and where it is: SLSQP on the simplex from the narrow peak's centre (the floor's slope
# and the broad peak's tail move it by less than 0.001); no point of a 1/60 lattice is higher
OPTIMUM = 2.781491
OPTIMUM_AT = (0.150028, 0.099882, 0.399445, 0.350645)


def _peak(x: np.ndarray, peak: Mapping) -> np.ndarray:
    squared = ((x - np.array(peak["centre"])) ** 2).sum(axis=1)
    return peak["height"] * np.exp(-squared / (2 * peak["sd"] ** 2))


@dataclass
class QuaternaryHeteroWorld:
    """Ni-Cu-Zn-Co figure of merit, counted over a background that grows with the Co fraction."""

    seed: int = 0
    counts_per_unit_s: float = 400.0
    background_counts_per_s: float = 40.0
    fluorescence_counts_per_s: float = 12000.0  # extra background per unit Co fraction
    name: str = "quaternary-hetero"
    elements: tuple[str, ...] = ELEMENTS
    quantities: Mapping[str, Quantity] = field(
        default_factory=lambda: {
            "merit": Quantity("merit", "arb.", "figure of merit from a diffraction peak's net counts")
        }
    )

    optimum: Mapping[str, float] = field(default_factory=lambda: {"merit": OPTIMUM})

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def truth(self, compositions: np.ndarray) -> dict[str, np.ndarray]:
        x = compositions_array(compositions, len(self.elements))
        floor = FLOOR + FLOOR_PER_CO * x[:, CO]
        return {"merit": floor + _peak(x, BROAD) + _peak(x, NARROW)}

    def background_counts_per_s_at(self, compositions: np.ndarray) -> np.ndarray:
        """Background rate under the peak: a constant part plus Co fluorescence."""
        x = compositions_array(compositions, len(self.elements))
        return self.background_counts_per_s + self.fluorescence_counts_per_s * x[:, CO]

    def measure_counts(
        self, composition: Mapping[str, float], quantity: str, count_time_s: float
    ) -> CountingReadout:
        if quantity not in self.quantities:
            raise WorldInputError(
                f"unknown quantity {quantity!r}; {self.name} measures {sorted(self.quantities)}"
            )
        if not np.isfinite(count_time_s) or count_time_s <= 0:
            raise WorldInputError(f"count_time_s must be a positive number, got {count_time_s!r}")
        x = composition_array(composition, self.elements)[None, :]
        value = float(self.truth(x)[quantity][0])
        background = float(self.background_counts_per_s_at(x)[0]) * count_time_s
        expected = max(value, 0.0) * self.counts_per_unit_s * count_time_s + background
        return CountingReadout(
            counts=int(self._rng.poisson(expected)),
            background_counts=background,
            count_time_s=float(count_time_s),
            counts_per_unit_s=self.counts_per_unit_s,
        )
