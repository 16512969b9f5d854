"""A transmission XAFS set-up as an ophyd-async device: monochromator energy, I0 and It counters.

A spectrum is a step scan: the plan moves `energy_ev` and triggers; each trigger counts I0 and It.
"""

from bluesky.protocols import Triggerable
from ophyd_async.core import (
    AsyncStatus,
    SignalR,
    SignalRW,
    StandardReadable,
    StandardReadableFormat,
)
from ophyd_async.epics.core import (
    epics_signal_r,
    epics_signal_rw,
    epics_signal_rw_rbv,
    epics_triggerable_command,
)

from instruments.faults import acquire_counts


class XafsSetup(StandardReadable, Triggerable):
    energy_ev: SignalRW[float]
    count_time_s: SignalRW[float]
    absorber: SignalRW[str]
    saturation_counts: SignalRW[float]
    i0: SignalR[float]
    it: SignalR[float]


class EpicsXafsSetup(XafsSetup):
    """PVs: {prefix}MONO:ENERGY(_RBV), COUNT_TIME, ABSORBER, SATURATION, I0, IT, ACQUIRE, BUSY."""

    def __init__(self, prefix: str, name: str = "") -> None:
        with self.add_children_as_readables(StandardReadableFormat.HINTED_SIGNAL):
            self.energy_ev = epics_signal_rw_rbv(float, f"{prefix}MONO:ENERGY")
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.count_time_s = epics_signal_rw(float, f"{prefix}COUNT_TIME")
            self.absorber = epics_signal_rw(str, f"{prefix}ABSORBER")
            self.saturation_counts = epics_signal_rw(float, f"{prefix}SATURATION")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.i0 = epics_signal_r(float, f"{prefix}I0")
            self.it = epics_signal_r(float, f"{prefix}IT")
        self.acquire = epics_triggerable_command(f"{prefix}ACQUIRE")
        self.busy = epics_signal_r(bool, f"{prefix}BUSY")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        count_time_s = await self.count_time_s.get_value()
        await acquire_counts(
            self.name, self.acquire, self.busy, count_time_s * 10 + 10, "counters", [self.i0, self.it],
            self.saturation_counts,
        )  # fmt: skip
