"""The diffractometer's detector over a simulated lab: counts the pattern of the spot under the beam."""

import numpy as np
from ophyd_async.core import (
    Array1D,
    AsyncStatus,
    StandardReadableFormat,
    soft_signal_r_and_setter,
    soft_signal_rw,
)

from instruments.devices.xrd_detector import XrdDetector
from instruments.faults import check_counts
from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.lab import SimulatedLab

DEFAULT_SATURATION_COUNTS = 1_000_000.0


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
