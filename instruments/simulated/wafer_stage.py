"""The wafer stage and sample changer over simulated motors and signals; the lab hears of each arrival
and load."""

from collections.abc import Callable

from ophyd_async.core import soft_signal_rw
from ophyd_async.sim import SimMotor

from instruments.devices.wafer_stage import SampleChanger, WaferStage


def simulated_wafer_stage(on_arrival: Callable[[tuple[float, float]], None], name: str = "") -> WaferStage:
    return WaferStage(SimMotor(instant=True), SimMotor(instant=True), on_arrival=on_arrival, name=name)


def simulated_sample_changer(on_load: Callable[[str], None], name: str = "") -> SampleChanger:
    return SampleChanger(soft_signal_rw(str, ""), on_load=on_load, name=name)
