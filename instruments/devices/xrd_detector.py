"""A diffractometer's detector as an ophyd-async device: count time in, 2-theta axis and counts out.

Both forms refuse a readout with NaN values or saturated channels (a typed fault naming the device).
"""

import numpy as np
from bluesky.protocols import Triggerable
from ophyd_async.core import (
    Array1D,
    AsyncStatus,
    SignalR,
    SignalRW,
    StandardReadable,
    StandardReadableFormat,
)
from ophyd_async.epics.core import epics_signal_r, epics_signal_rw, epics_triggerable_command

from instruments.faults import acquire_counts


class XrdDetector(StandardReadable, Triggerable):
    count_time_s: SignalRW[float]
    saturation_counts: SignalRW[float]
    wavelength_a: SignalR[float]
    two_theta_deg: SignalR[Array1D[np.float64]]
    counts: SignalR[Array1D[np.float64]]


class EpicsXrdDetector(XrdDetector):
    """PVs: {prefix}COUNT_TIME, SATURATION, WAVELENGTH, TTH (axis), COUNTS (pattern), ACQUIRE, BUSY."""

    def __init__(self, prefix: str, name: str = "") -> None:
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.count_time_s = epics_signal_rw(float, f"{prefix}COUNT_TIME")
            self.saturation_counts = epics_signal_rw(float, f"{prefix}SATURATION")
            self.wavelength_a = epics_signal_r(float, f"{prefix}WAVELENGTH")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.two_theta_deg = epics_signal_r(Array1D[np.float64], f"{prefix}TTH")
            self.counts = epics_signal_r(Array1D[np.float64], f"{prefix}COUNTS")
        self.acquire = epics_triggerable_command(f"{prefix}ACQUIRE")
        self.busy = epics_signal_r(bool, f"{prefix}BUSY")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        count_time_s = await self.count_time_s.get_value()
        await acquire_counts(
            self.name, self.acquire, self.busy, count_time_s * 2000 + 30, "acquisition", [self.counts],
            self.saturation_counts,
        )  # fmt: skip
