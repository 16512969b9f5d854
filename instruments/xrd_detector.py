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
    soft_signal_r_and_setter,
    soft_signal_rw,
)
from ophyd_async.epics.core import epics_signal_r, epics_signal_rw, epics_triggerable_command

from instruments.faults import check_counts, start_and_wait
from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.lab import SimulatedLab

DEFAULT_SATURATION_COUNTS = 1_000_000.0


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
        await start_and_wait(self.acquire, self.busy, count_time_s * 2000 + 30, self.name, "acquisition")
        check_counts(self.name, await self.counts.get_value(), await self.saturation_counts.get_value())


class SimulatedXrdDetector(XrdDetector):
    """Counts the pattern of the spot under the beam in the lab's world."""

    def __init__(self, lab: SimulatedLab, faults: FaultInjector | None = None, name: str = "") -> None:
        self._lab = lab
        self._faults = faults or FaultInjector()
        d = lab.world.diffractometer
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.count_time_s = soft_signal_rw(float, 1.0, units="s")
            self.saturation_counts = soft_signal_rw(float, DEFAULT_SATURATION_COUNTS, units="counts")
            self.wavelength_a, _ = soft_signal_r_and_setter(float, d.wavelength_a, units="angstrom")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.two_theta_deg, _ = soft_signal_r_and_setter(
                Array1D[np.float64], d.two_theta_deg, units="deg"
            )
            self.counts, self._set_counts = soft_signal_r_and_setter(
                Array1D[np.float64], np.zeros_like(d.two_theta_deg), units="counts"
            )
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        spot = self._lab.spot_under_beam(self.name)
        pattern = self._lab.world.measure_xrd(
            spot.composition, await self.count_time_s.get_value(), thickness_nm=spot.thickness_nm
        )
        saturation = await self.saturation_counts.get_value()
        counts = self._faults.raise_or_corrupt(self.name, pattern.counts.astype(float), saturation)
        check_counts(self.name, counts, saturation)
        self._set_counts(counts)
