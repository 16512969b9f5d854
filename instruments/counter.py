"""A counting detector as an ophyd-async device, backed by a simulated world."""

from bluesky.protocols import Triggerable
from ophyd_async.core import (
    AsyncStatus,
    StandardReadable,
    StandardReadableFormat,
    soft_signal_r_and_setter,
    soft_signal_rw,
)

from instruments.simulated_bench import SimulatedBench


class SimulatedCounter(StandardReadable, Triggerable):
    """Counts for `count_time_s` on the current sample; calibration goes out as configuration."""

    def __init__(self, bench: SimulatedBench, quantity: str, name: str = "") -> None:
        self._bench = bench
        self._quantity = quantity
        units = bench.world.quantities[quantity].units
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.count_time_s = soft_signal_rw(float, 1.0, units="s")
            self.quantity, _ = soft_signal_r_and_setter(str, quantity)
            self.counts_per_unit_s, self._set_gain = soft_signal_r_and_setter(
                float, 1.0, units=f"counts/({units}*s)"
            )
        with self.add_children_as_readables(StandardReadableFormat.HINTED_UNCACHED_SIGNAL):
            self.counts, self._set_counts = soft_signal_r_and_setter(int, 0, units="counts")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.background_counts, self._set_background = soft_signal_r_and_setter(
                float, 0.0, units="counts"
            )
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        count_time_s = await self.count_time_s.get_value()
        readout = self._bench.world.measure_counts(self._bench.sample, self._quantity, count_time_s)
        self._set_gain(readout.counts_per_unit_s)
        self._set_background(readout.background_counts)
        self._set_counts(readout.counts)
