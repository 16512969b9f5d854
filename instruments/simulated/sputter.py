"""The co-sputter system over a simulated lab: deposits a library in the lab's world on trigger and,
as the EPICS form does, reports the new library's id and its spot table."""

import asyncio

import numpy as np
from ophyd_async.core import (
    Array1D,
    AsyncStatus,
    StandardReadableFormat,
    soft_signal_r_and_setter,
    soft_signal_rw,
)

from instruments.devices.sputter import SAFE_HEATER_C, ShutterState, SputterGun, SputterSystem, gun_attribute
from instruments.faults import InstrumentFault
from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.lab import SimulatedLab


class SimulatedSputterSystem(SputterSystem):
    """Deposits a library in the lab's world with the guns whose shutters are open."""

    def __init__(self, lab: SimulatedLab, faults: FaultInjector | None = None, name: str = "") -> None:
        self._lab = lab
        self._faults = faults or FaultInjector()
        self.elements = tuple(lab.world.elements)
        with self.add_children_as_readables():
            for element in self.elements:
                setattr(
                    self,
                    gun_attribute(element),
                    SputterGun(
                        soft_signal_rw(float, 0.0, units="W"),
                        soft_signal_rw(ShutterState, ShutterState.CLOSED),
                    ),
                )
            self.heater_c = soft_signal_rw(float, SAFE_HEATER_C, units="degC")
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.deposition_time_s = soft_signal_rw(float, 3600.0, units="s")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.library_id, self._set_library_id = soft_signal_r_and_setter(str, "")
            self.spot_x_mm, self._set_x = soft_signal_r_and_setter(
                Array1D[np.float64], np.zeros(0), units="mm"
            )
            self.spot_y_mm, self._set_y = soft_signal_r_and_setter(
                Array1D[np.float64], np.zeros(0), units="mm"
            )
            self.thickness_nm, self._set_thickness = soft_signal_r_and_setter(
                Array1D[np.float64], np.zeros(0), units="nm"
            )
            self._set_fraction = {}
            for element in self.elements:
                signal, setter = soft_signal_r_and_setter(
                    Array1D[np.float64], np.zeros(0), units="at. fraction"
                )
                setattr(self, f"{element.lower()}_fraction", signal)
                self._set_fraction[element] = setter
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        powers = {}
        for element in self.elements:
            gun = self.gun(element)
            if await gun.shutter.get_value() == ShutterState.OPEN:
                powers[element] = await gun.power_w.get_value()
        if not powers:
            raise InstrumentFault(self.name, "every shutter is closed: nothing would be deposited")
        self._faults.raise_or_corrupt(self.name, np.zeros(1), np.inf)
        duration = await self.deposition_time_s.get_value()
        library = self._lab.world.deposit(powers, duration_s=duration)
        await asyncio.sleep(0)
        library_id = self._lab.add_library(library)
        self._set_x(library.positions_mm[:, 0].copy())
        self._set_y(library.positions_mm[:, 1].copy())
        self._set_thickness(library.thickness_nm.copy())
        for i, element in enumerate(self.elements):
            self._set_fraction[element](library.measured_compositions[:, i].copy())
        self._set_library_id(library_id)
