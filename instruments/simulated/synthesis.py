"""Sample synthesis as an ophyd-async device: set target fractions, trigger to make the sample."""

from collections.abc import Sequence

from bluesky.protocols import Triggerable
from ophyd_async.core import AsyncStatus, SignalRW, StandardReadable, soft_signal_rw

from instruments.simulated.bench import SimulatedBench


def fraction_signal_name(element: str) -> str:
    """Attribute name of an element's target fraction (`Fe` -> `fe_fraction`)."""
    return f"{element.lower()}_fraction"


class SimulatedSynthesis(StandardReadable, Triggerable):
    """Makes a film of the target composition in a simulated world; reads the composition made."""

    def __init__(self, bench: SimulatedBench, elements: Sequence[str], name: str = "") -> None:
        self._bench = bench
        self.elements = tuple(elements)
        with self.add_children_as_readables():
            for element in self.elements:
                setattr(
                    self,
                    fraction_signal_name(element),
                    soft_signal_rw(float, 0.0, units="at. fraction", precision=4),
                )
        super().__init__(name=name)

    def fraction(self, element: str) -> SignalRW[float]:
        return getattr(self, fraction_signal_name(element))

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        target = {e: await self.fraction(e).get_value() for e in self.elements}
        self._bench.make_sample(target)
