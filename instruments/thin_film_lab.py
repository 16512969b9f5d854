"""The thin-film lab's devices, assembled: simulated over a world, or EPICS under PV prefixes."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ophyd_async.core import Device

from instruments.simulated.fault_injection import FaultInjector
from instruments.simulated.lab import SimulatedLab
from instruments.sputter import EpicsSputterSystem, SimulatedSputterSystem, SputterSystem
from instruments.wafer_stage import (
    SampleChanger,
    WaferStage,
    epics_sample_changer,
    epics_wafer_stage,
    simulated_sample_changer,
    simulated_wafer_stage,
)
from instruments.xafs_setup import EpicsXafsSetup, SimulatedXafsSetup, XafsSetup
from instruments.xrd_detector import EpicsXrdDetector, SimulatedXrdDetector, XrdDetector
from simulators import CompositionSpreadWorld, load_world


@dataclass
class ThinFilmDevices:
    sputter: SputterSystem
    stage: WaferStage
    xrd: XrdDetector
    xafs: XafsSetup
    changer: SampleChanger
    lab: SimulatedLab | None = None  # the simulated backend, when there is one

    @property
    def all(self) -> list[Device]:
        return [self.sputter, self.stage, self.xrd, self.xafs, self.changer]


def simulated_thin_film_devices(
    world: str | CompositionSpreadWorld,
    seed: int = 0,
    fault_rates: Mapping[str, Mapping[str, float]] | None = None,
) -> ThinFilmDevices:
    """Devices over a seeded world. `fault_rates` maps 'sputter', 'xrd', 'xafs' to per-trigger rates."""
    loaded = load_world(world, seed=seed) if isinstance(world, str) else world
    if not isinstance(loaded, CompositionSpreadWorld):
        raise ValueError(f"world {world!r} has no sputter guns, diffractometer or beamline")
    lab = SimulatedLab(loaded)
    rates = dict(fault_rates or {})
    unknown = sorted(set(rates) - {"sputter", "xrd", "xafs"})
    if unknown:
        raise ValueError(f"fault rates for unknown device(s) {unknown}; valid: sputter, xrd, xafs")

    def injector(device: str, offset: int) -> FaultInjector:
        return FaultInjector(dict(rates.get(device, {})), seed=seed * 7919 + offset)

    def arrive(position: tuple[float, float]) -> None:
        lab.stage_mm = position

    return ThinFilmDevices(
        sputter=SimulatedSputterSystem(lab, injector("sputter", 1), name="sputter"),
        stage=simulated_wafer_stage(arrive, name="wafer_stage"),
        xrd=SimulatedXrdDetector(lab, injector("xrd", 2), name="xrd"),
        xafs=SimulatedXafsSetup(lab, injector("xafs", 3), name="xafs"),
        changer=simulated_sample_changer(lab.load, name="sample_changer"),
        lab=lab,
    )


def epics_thin_film_devices(prefix: str, elements: Sequence[str]) -> ThinFilmDevices:
    """The same devices on EPICS: {prefix}SPUTTER:, {prefix}STAGE:, {prefix}XRD:, {prefix}XAFS:, and
    the sample changer's {prefix}STAGE:WAFER."""
    return ThinFilmDevices(
        sputter=EpicsSputterSystem(f"{prefix}SPUTTER:", elements, name="sputter"),
        stage=epics_wafer_stage(f"{prefix}STAGE:", name="wafer_stage"),
        xrd=EpicsXrdDetector(f"{prefix}XRD:", name="xrd"),
        xafs=EpicsXafsSetup(f"{prefix}XAFS:", name="xafs"),
        changer=epics_sample_changer(f"{prefix}STAGE:", name="sample_changer"),
    )
