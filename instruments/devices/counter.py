"""A counting detector as an ophyd-async device on EPICS; its simulated form is
`instruments.simulated.counter.SimulatedCounter`."""

from bluesky.protocols import Triggerable
from ophyd_async.core import AsyncStatus, StandardReadable, StandardReadableFormat
from ophyd_async.epics.core import epics_signal_r, epics_signal_rw, epics_triggerable_command

from instruments.faults import acquire_counts

COUNTER_SATURATION = float(2**31 - 1)  # a 32-bit scaler


class EpicsCounter(StandardReadable, Triggerable):
    """The same counter on EPICS: {prefix}COUNT_TIME, QUANTITY, GAIN, COUNTS, BACKGROUND, SATURATION,
    ACQUIRE, BUSY. Readings carry the simulated counter's names, so the same reducer reads both."""

    def __init__(self, prefix: str, name: str = "") -> None:
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.count_time_s = epics_signal_rw(float, f"{prefix}COUNT_TIME")
            self.quantity = epics_signal_r(str, f"{prefix}QUANTITY")
            self.counts_per_unit_s = epics_signal_r(float, f"{prefix}GAIN")
        with self.add_children_as_readables(StandardReadableFormat.HINTED_UNCACHED_SIGNAL):
            self.counts = epics_signal_r(float, f"{prefix}COUNTS")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.background_counts = epics_signal_r(float, f"{prefix}BACKGROUND")
        self.saturation = epics_signal_r(float, f"{prefix}SATURATION")
        self.acquire = epics_triggerable_command(f"{prefix}ACQUIRE")
        self.busy = epics_signal_r(bool, f"{prefix}BUSY")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        count_time_s = await self.count_time_s.get_value()
        timeout_s = count_time_s * 10 + 10
        await acquire_counts(
            self.name, self.acquire, self.busy, timeout_s, "count", [self.counts], self.saturation
        )
