"""The simulated backend of the thin-film devices: a world, its libraries, the wafer under the beam."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from instruments.faults import NoSampleFault
from simulators import CompositionSpreadWorld, Library
from simulators.deposition import SpotLayout, deposit_library
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

    def restore_library(
        self,
        library_id: str,
        powers_w: Mapping[str, float],
        duration_s: float,
        positions_mm: np.ndarray,
        measured_compositions: np.ndarray,
        thickness_nm: np.ndarray,
    ) -> None:
        """A film a process before this one deposited, from its deposit run's documents: the
        world's film at those powers (deposition is deterministic; the world's noise stream is not
        touched), with the compositions measured then. Refuses documents this world cannot have made."""
        film = deposit_library(
            self.world.guns,
            powers_w,
            duration_s,
            SpotLayout(np.asarray(positions_mm, dtype=float), 2 * float(np.hypot(*positions_mm.T).max())),
            np.random.default_rng(0),
            composition_error=0.0,
        )
        if not np.allclose(film.thickness_nm, thickness_nm, rtol=1e-9, atol=1e-9):
            raise ValueError(
                f"library {library_id}: its recorded thicknesses are not what world {self.world.name!r} "
                f"deposits at {dict(powers_w)} W for {duration_s} s; was the campaign run on another world?"
            )
        self.libraries[library_id] = replace(
            film, measured_compositions=np.asarray(measured_compositions, dtype=float)
        )
        self.loaded = library_id

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
