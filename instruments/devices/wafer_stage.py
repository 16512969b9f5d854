"""An x-y wafer stage that refuses, before any motion, a move off the wafer or outside its soft limits,
and the sample changer that puts a deposited library (wafer) on it; their EPICS forms. The simulated
forms are in `instruments.simulated.wafer_stage`."""

import asyncio
from collections.abc import Callable

import numpy as np
from bluesky.protocols import Movable
from ophyd_async.core import AsyncStatus, SignalRW, StandardReadable
from ophyd_async.epics.core import epics_signal_rw
from ophyd_async.epics.motor import Motor
from ophyd_async.sim import SimMotor

from instruments.faults import StageLimitFault

THREE_INCH_WAFER_RADIUS_MM = 38.1


class WaferStage(StandardReadable, Movable[tuple[float, float]]):
    """Two motors under one soft limit: the point must lie on the wafer (radius in mm)."""

    def __init__(
        self,
        x: Motor | SimMotor,
        y: Motor | SimMotor,
        radius_mm: float = THREE_INCH_WAFER_RADIUS_MM,
        on_arrival: Callable[[tuple[float, float]], None] | None = None,
        name: str = "",
    ) -> None:
        with self.add_children_as_readables():
            self.x = x
            self.y = y
        self.radius_mm = radius_mm
        self._on_arrival = on_arrival
        super().__init__(name=name)

    def check(self, target: tuple[float, float]) -> None:
        x, y = (float(v) for v in target)
        if not (np.isfinite(x) and np.isfinite(y)):
            raise StageLimitFault(self.name, f"target ({x}, {y}) mm is not a finite position")
        r = float(np.hypot(x, y))
        if r > self.radius_mm:
            raise StageLimitFault(
                self.name,
                f"target ({x:.2f}, {y:.2f}) mm is {r:.2f} mm from the centre; "
                f"soft limit is {self.radius_mm} mm",
            )

    @AsyncStatus.wrap
    async def set(self, value: tuple[float, float]) -> None:
        self.check(value)  # before any motion
        x, y = (float(v) for v in value)
        await asyncio.gather(self.x.set(x), self.y.set(y))
        if self._on_arrival is not None:
            self._on_arrival((x, y))


def epics_wafer_stage(prefix: str, name: str = "") -> WaferStage:
    """Motor records {prefix}X and {prefix}Y (their own soft limits apply too)."""
    return WaferStage(Motor(f"{prefix}X"), Motor(f"{prefix}Y"), name=name)


class SampleChanger(StandardReadable, Movable[str]):
    """Loads a deposited library onto the stage by its id. A campaign goes back to older libraries'
    spots: without a load the stage would measure that position on whichever wafer came last."""

    def __init__(
        self, wafer: SignalRW[str], on_load: Callable[[str], None] | None = None, name: str = ""
    ) -> None:
        with self.add_children_as_readables():
            self.wafer = wafer
        self._on_load = on_load
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def set(self, value: str) -> None:
        if self._on_load is not None:
            self._on_load(str(value))  # refuses an unknown library before the signal says it is loaded
        await self.wafer.set(str(value))


def epics_sample_changer(prefix: str, name: str = "") -> SampleChanger:
    """The library id loaded, as a string PV {prefix}WAFER (put completes when the wafer is in place)."""
    return SampleChanger(epics_signal_rw(str, f"{prefix}WAFER"), name=name)
