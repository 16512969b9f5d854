"""The simulated backend of the thin-film devices: a world, its libraries, the wafer under the beam."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from instruments.faults import NoSampleFault
from simulators import CompositionSpreadWorld, Library
from simulators.elements import density_g_cm3, molar_mass_g

SPOT_TOLERANCE_MM = 1.0


@dataclass(frozen=True)
class Spot:
    library_id: str
    index: int
    composition: dict[str, float]  # true: what the world measures
    measured_composition: dict[str, float]  # what WDS/XRF reported: what the lab knows
    thickness_nm: float
    position_mm: tuple[float, float]


@dataclass
class SimulatedLab:
    """Libraries deposited so far, which one is loaded, and where the stage stands."""

    world: CompositionSpreadWorld
    libraries: dict[str, Library] = field(default_factory=dict)
    loaded: str | None = None
    stage_mm: tuple[float, float] = (0.0, 0.0)
    _xafs_cache: dict[tuple[str, int, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def add_library(self, library: Library) -> str:
        library_id = f"L{len(self.libraries) + 1:03d}"
        self.libraries[library_id] = library
        self.loaded = library_id
        return library_id

    def load(self, library_id: str) -> None:
        if library_id not in self.libraries:
            raise NoSampleFault(
                "wafer_stage", f"no library {library_id!r}; deposited: {sorted(self.libraries)}"
            )
        self.loaded = library_id

    def spot_under_beam(self, device: str) -> Spot:
        if self.loaded is None:
            raise NoSampleFault(device, "no wafer is loaded: deposit a library first")
        library = self.libraries[self.loaded]
        distance = np.hypot(*(library.positions_mm - np.array(self.stage_mm)).T)
        index = int(np.argmin(distance))
        if distance[index] > SPOT_TOLERANCE_MM:
            raise NoSampleFault(
                device,
                f"no spot of {self.loaded} within {SPOT_TOLERANCE_MM} mm of the stage at {self.stage_mm} mm",
            )
        return Spot(
            library_id=self.loaded,
            index=index,
            composition=dict(zip(library.elements, library.compositions[index], strict=True)),
            measured_composition=dict(
                zip(library.elements, library.measured_compositions[index], strict=True)
            ),
            thickness_nm=float(library.thickness_nm[index]),
            position_mm=tuple(float(v) for v in library.positions_mm[index]),  # type: ignore[arg-type]
        )

    def xafs_mu(self, spot: Spot, element: str) -> tuple[np.ndarray, np.ndarray]:
        """Noise-free energies and mu*x of a spot, computed once per spot and absorber."""
        key = (spot.library_id, spot.index, element)
        if key not in self._xafs_cache:
            self._xafs_cache[key] = self.world.xafs_mu(spot.composition, element)
        return self._xafs_cache[key]

    def composition_of(self, library_id: str, index: int) -> Mapping[str, float]:
        library = self.libraries[library_id]
        return dict(zip(library.elements, library.measured_compositions[index], strict=True))

    def centre_atom_rates(self) -> dict[str, float]:
        """Atoms per second per watt (arbitrary common unit) each gun lays at the wafer centre:
        the calibration a lab measures once, here taken from the simulated guns."""
        centre = np.zeros((1, 2))
        return {
            gun.element: float(gun.flux_nm_s(1.0, centre)[0])
            * density_g_cm3(gun.element)
            / molar_mass_g(gun.element)
            for gun in self.world.guns
        }
