"""A world whose counting noise grows twenty-fold toward the Pd-rich corner, for best-condition tests.

The magnetisation is a bowl peaking at Fe0.70 Ga0.20 Pd0.10 (3.2 T, quiet); toward Pd 0.25 a large
background makes one reading's sd about 0.7 T, so a single lucky reading there can beat the peak."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from simulators.world import CountingReadout, Quantity

PEAK = np.array([0.70, 0.20, 0.10])
PEAK_T = 3.2
GAIN = 4000.0  # counts per tesla per second
BOWL = 10.0  # T per unit squared distance from the peak


@dataclass
class LuckyCornerWorld:
    seed: int = 0
    name: str = "lucky-corner"
    elements: tuple[str, ...] = ("Fe", "Ga", "Pd")
    quantities: Mapping[str, Quantity] = field(
        default_factory=lambda: {
            "magnetization": Quantity("magnetization", "T", "a bowl with a noisy corner")
        }
    )

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def truth(self, compositions: np.ndarray) -> dict[str, np.ndarray]:
        x = np.atleast_2d(np.asarray(compositions, dtype=float))
        return {"magnetization": PEAK_T - BOWL * np.sum((x - PEAK) ** 2, axis=1)}

    def noise_sd(self, composition: Mapping[str, float]) -> float:
        """One reading's sd (T) at a count time of 1 s."""
        return 0.03 + 0.7 * max(0.0, (composition["Pd"] - 0.15) / 0.1) ** 2

    def measure_counts(
        self, composition: Mapping[str, float], quantity: str, count_time_s: float
    ) -> CountingReadout:
        x = np.array([composition[e] for e in self.elements])
        value = float(self.truth(x)[quantity][0])
        signal = value * GAIN * count_time_s
        # Var(value) = counts / (g t)^2: a background of this size gives noise_sd at 1 s
        background = max(0.0, (self.noise_sd(composition) * GAIN) ** 2 - signal)
        counts = int(self._rng.poisson(signal + background))
        return CountingReadout(
            counts=counts, background_counts=background, count_time_s=count_time_s, counts_per_unit_s=GAIN
        )


def build(seed: int = 0) -> LuckyCornerWorld:
    return LuckyCornerWorld(seed=seed)
