"""The co-sputter system as ophyd-async devices: gun powers and shutters, substrate heater, deposition.

Both forms expose the same signals, so plans run on either: `EpicsSputterSystem` reads and writes
PVs under a prefix; `SimulatedSputterSystem` (`instruments.simulated.sputter`) deposits a library in a
simulated world on trigger.
After a deposition both report the new library's id and its spot table (positions, measured
compositions, thickness), as a composition-mapping system (XRF/WDS) would.
"""

from collections.abc import Sequence

import numpy as np
from bluesky.protocols import Triggerable
from ophyd_async.core import (
    Array1D,
    AsyncStatus,
    SignalR,
    SignalRW,
    StandardReadable,
    StandardReadableFormat,
    StrictEnum,
)
from ophyd_async.epics.core import (
    epics_signal_r,
    epics_signal_rw,
    epics_signal_rw_rbv,
    epics_triggerable_command,
)

from instruments.faults import start_and_wait

SAFE_HEATER_C = 25.0
DEPOSITION_TIMEOUT_S = 4 * 3600.0


class ShutterState(StrictEnum):
    OPEN = "Open"
    CLOSED = "Closed"


def gun_attribute(element: str) -> str:
    return f"gun_{element.lower()}"


class SputterGun(StandardReadable):
    """One magnetron: its power setpoint and its shutter."""

    def __init__(self, power_w: SignalRW[float], shutter: SignalRW[ShutterState], name: str = "") -> None:
        with self.add_children_as_readables():
            self.power_w = power_w
            self.shutter = shutter
        super().__init__(name=name)


class SputterSystem(StandardReadable, Triggerable):
    """What plans need of any sputter system; subclasses provide the signals and `trigger`."""

    elements: tuple[str, ...]
    heater_c: SignalRW[float]
    deposition_time_s: SignalRW[float]
    library_id: SignalR[str]

    def gun(self, element: str) -> SputterGun:
        return getattr(self, gun_attribute(element))


class EpicsSputterSystem(SputterSystem):
    """PVs: {prefix}GUN<i>:POWER and :SHUTTER, HEATER:TEMP(_RBV), DEP:TIME|START|BUSY, LIB:ID, MAP:*."""

    def __init__(self, prefix: str, elements: Sequence[str], name: str = "") -> None:
        self.elements = tuple(elements)
        with self.add_children_as_readables():
            for i, element in enumerate(self.elements, start=1):
                setattr(
                    self,
                    gun_attribute(element),
                    SputterGun(
                        epics_signal_rw(float, f"{prefix}GUN{i}:POWER"),
                        epics_signal_rw(ShutterState, f"{prefix}GUN{i}:SHUTTER"),
                    ),
                )
            self.heater_c = epics_signal_rw_rbv(float, f"{prefix}HEATER:TEMP")
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.deposition_time_s = epics_signal_rw(float, f"{prefix}DEP:TIME")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.library_id = epics_signal_r(str, f"{prefix}LIB:ID")
            self.spot_x_mm = epics_signal_r(Array1D[np.float64], f"{prefix}MAP:X")
            self.spot_y_mm = epics_signal_r(Array1D[np.float64], f"{prefix}MAP:Y")
            self.thickness_nm = epics_signal_r(Array1D[np.float64], f"{prefix}MAP:THICKNESS")
            for i, element in enumerate(self.elements, start=1):
                setattr(
                    self,
                    f"{element.lower()}_fraction",
                    epics_signal_r(Array1D[np.float64], f"{prefix}MAP:X{i}"),
                )
        self.start = epics_triggerable_command(f"{prefix}DEP:START")
        self.busy = epics_signal_r(bool, f"{prefix}DEP:BUSY")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        duration = await self.deposition_time_s.get_value()
        await start_and_wait(
            self.start, self.busy, min(duration * 1.5 + 60.0, DEPOSITION_TIMEOUT_S), self.name, "deposition"
        )
