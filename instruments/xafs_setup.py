"""A transmission XAFS set-up as an ophyd-async device: monochromator energy, I0 and It counters.

A spectrum is a step scan: the plan moves `energy_ev` and triggers; each trigger counts I0 and It.
"""

import numpy as np
from bluesky.protocols import Triggerable
from ophyd_async.core import (
    AsyncStatus,
    SignalR,
    SignalRW,
    StandardReadable,
    StandardReadableFormat,
    soft_signal_r_and_setter,
    soft_signal_rw,
)
from ophyd_async.epics.core import (
    epics_signal_r,
    epics_signal_rw,
    epics_signal_rw_rbv,
    epics_triggerable_command,
)

from instruments.faults import check_counts, start_and_wait
from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.lab import SimulatedLab

DEFAULT_SATURATION_COUNTS = 5.0e7


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
        await start_and_wait(self.acquire, self.busy, count_time_s * 10 + 10, self.name, "counters")
        saturation = await self.saturation_counts.get_value()
        check_counts(self.name, np.array([await self.i0.get_value(), await self.it.get_value()]), saturation)


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
