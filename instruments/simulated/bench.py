"""The simulated backend shared by the simulated devices: a world and the sample now under the beam."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from simulators import World


@dataclass
class SimulatedBench:
    """Holds the sample that the simulated synthesis made last, for the simulated detectors to measure."""

    world: World
    sample: dict[str, float] = field(default_factory=dict)

    def make_sample(self, composition: Mapping[str, float]) -> None:
        self.sample = dict(composition)
