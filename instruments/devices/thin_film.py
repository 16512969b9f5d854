"""The thin-film lab's devices, assembled: EPICS under PV prefixes here; simulated over a world in
`instruments.simulated.thin_film`."""

from collections.abc import Sequence
from dataclasses import dataclass

from ophyd_async.core import Device

from instruments.devices.sputter import EpicsSputterSystem, SputterSystem
from instruments.devices.wafer_stage import (
    SampleChanger,
    WaferStage,
    epics_sample_changer,
    epics_wafer_stage,
)
from instruments.devices.xafs_setup import EpicsXafsSetup, XafsSetup
from instruments.devices.xrd_detector import EpicsXrdDetector, XrdDetector
from instruments.protocols import RestoresFilms


@dataclass
class ThinFilmDevices:
    sputter: SputterSystem
    stage: WaferStage
    xrd: XrdDetector
    xafs: XafsSetup
    changer: SampleChanger
    lab: RestoresFilms | None = None  # the simulated backend, when there is one

    @property
    def all(self) -> list[Device]:
        return [self.sputter, self.stage, self.xrd, self.xafs, self.changer]


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
