"""The transmission XAFS set-up over a simulated lab: I0 and It at the monochromator energy."""

import numpy as np
from ophyd_async.core import AsyncStatus, StandardReadableFormat, soft_signal_r_and_setter, soft_signal_rw

from instruments.devices.xafs_setup import XafsSetup
from instruments.faults import check_counts
from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.lab import SimulatedLab

DEFAULT_SATURATION_COUNTS = 5.0e7


class SimulatedXafsSetup(XafsSetup):
    """Counts I0 and It at the monochromator energy on the spot under the beam (Poisson, independent)."""

    def __init__(self, lab: SimulatedLab, faults: FaultInjector | None = None, name: str = "") -> None:
        self._lab = lab
        self._faults = faults or FaultInjector()
        with self.add_children_as_readables(StandardReadableFormat.HINTED_SIGNAL):
            self.energy_ev = soft_signal_rw(float, 7000.0, units="eV", precision=2)
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.count_time_s = soft_signal_rw(float, 1.0, units="s")
            self.absorber = soft_signal_rw(str, lab.world.elements[0])
            self.saturation_counts = soft_signal_rw(float, DEFAULT_SATURATION_COUNTS, units="counts")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.i0, self._set_i0 = soft_signal_r_and_setter(float, 0.0, units="counts")
            self.it, self._set_it = soft_signal_r_and_setter(float, 0.0, units="counts")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        spot = self._lab.spot_under_beam(self.name)
        energies, mu_x = self._lab.xafs_mu(spot, await self.absorber.get_value())
        energy = await self.energy_ev.get_value()
        count_time_s = await self.count_time_s.get_value()
        rng = self._lab.world.rng
        expected_i0 = self._lab.world.beamline.i0_counts_per_s * count_time_s
        transmitted = expected_i0 * np.exp(-np.interp(energy, energies, mu_x))
        counts = np.array([rng.poisson(expected_i0), rng.poisson(transmitted)], dtype=float)
        saturation = await self.saturation_counts.get_value()
        counts = self._faults.raise_or_corrupt(self.name, counts, saturation)
        check_counts(self.name, counts, saturation)
        self._set_i0(float(counts[0]))
        self._set_it(float(counts[1]))
