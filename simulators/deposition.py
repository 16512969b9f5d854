"""Co-sputtered composition-spread libraries: gun geometry, flux, per-spot composition and thickness.

Flux (thickness rate) of gun i at a wafer point p:
    J_i = rate_i * P_i * cos^n(theta_i) * cos(phi_i) * (d_i / r_i)^2
with theta the emission angle off the gun axis, phi the incidence angle on the wafer, r the
gun-to-spot distance and d the gun-to-aim-point distance (where rate_i * P_i is reached at
normal emission). Atoms per area follow n_i = J_i * rho_i / M_i; c_i = n_i / sum n_j;
thickness = sum J_i * t (densities and molar masses from xraydb).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from simulators.elements import density_g_cm3, molar_mass_g
from simulators.errors import WorldInputError


@dataclass(frozen=True)
class SputterGun:
    """A magnetron above the wafer plane (z > 0), tilted to aim at a point of the wafer."""

    element: str
    position_mm: tuple[float, float, float]
    aim_mm: tuple[float, float] = (0.0, 0.0)
    rate_nm_s_per_w: float = 0.0005
    cosine_exponent: float = 1.0
    max_power_w: float = 300.0

    def flux_nm_s(self, power_w: float, spots_mm: np.ndarray) -> np.ndarray:
        gun = np.array(self.position_mm, dtype=float)
        aim = np.array([*self.aim_mm, 0.0])
        axis = (aim - gun) / np.linalg.norm(aim - gun)
        spots = np.column_stack([spots_mm, np.zeros(len(spots_mm))])
        to_spot = spots - gun
        r = np.linalg.norm(to_spot, axis=1)
        cos_theta = np.clip(to_spot @ axis / r, 0.0, 1.0)
        cos_phi = np.clip(gun[2] / r, 0.0, 1.0)  # wafer normal is +z
        reference = np.linalg.norm(aim - gun)
        return (
            self.rate_nm_s_per_w * power_w * cos_theta**self.cosine_exponent * cos_phi * (reference / r) ** 2
        )


@dataclass(frozen=True)
class SpotLayout:
    """Measurement spots on a wafer, in millimetres from its centre."""

    positions_mm: np.ndarray
    wafer_diameter_mm: float

    @classmethod
    def square_grid(
        cls, wafer_diameter_mm: float = 76.2, pitch_mm: float = 4.65, edge_exclusion_mm: float = 3.0
    ) -> "SpotLayout":
        """A square grid clipped to the wafer (the defaults give 177 spots on a 3-inch wafer)."""
        if pitch_mm <= 0 or wafer_diameter_mm <= 0 or edge_exclusion_mm < 0:
            raise WorldInputError(
                f"layout needs pitch_mm > 0, wafer_diameter_mm > 0, edge_exclusion_mm >= 0; got "
                f"{pitch_mm}, {wafer_diameter_mm}, {edge_exclusion_mm}"
            )
        radius = wafer_diameter_mm / 2 - edge_exclusion_mm
        n = int(np.floor(radius / pitch_mm))
        axis = pitch_mm * np.arange(-n, n + 1)
        xx, yy = np.meshgrid(axis, axis)
        points = np.column_stack([xx.ravel(), yy.ravel()])
        inside = np.hypot(points[:, 0], points[:, 1]) <= radius + 1e-9
        return cls(points[inside], wafer_diameter_mm)


@dataclass(frozen=True)
class Library:
    """One deposited wafer: where each spot is, what it is made of, and how thick it is."""

    elements: tuple[str, ...]
    positions_mm: np.ndarray
    compositions: np.ndarray  # true atomic fractions (n_spots, n_elements)
    measured_compositions: np.ndarray  # as WDS/XRF would report them
    thickness_nm: np.ndarray
    powers_w: Mapping[str, float]
    duration_s: float

    def __len__(self) -> int:
        return len(self.positions_mm)


def deposit_library(
    guns: Sequence[SputterGun],
    powers_w: Mapping[str, float],
    duration_s: float,
    layout: SpotLayout,
    rng: np.random.Generator,
    composition_error: float = 0.01,
) -> Library:
    """Co-sputter all guns at once for `duration_s`; compositions measured with `composition_error`."""
    elements = tuple(g.element for g in guns)
    unknown = sorted(set(powers_w) - set(elements))
    if unknown:
        raise WorldInputError(f"no gun for {unknown}; guns are {list(elements)}")
    for gun in guns:
        power = powers_w.get(gun.element, 0.0)
        if not np.isfinite(power) or not 0.0 <= power <= gun.max_power_w:
            raise WorldInputError(
                f"power of the {gun.element} gun is {power!r} W; valid: 0 to {gun.max_power_w} W"
            )
    if not np.isfinite(duration_s) or duration_s <= 0:
        raise WorldInputError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
    if sum(powers_w.get(e, 0.0) for e in elements) <= 0:
        raise WorldInputError("every gun is at 0 W: nothing would be deposited")
    flux = np.column_stack([g.flux_nm_s(powers_w.get(g.element, 0.0), layout.positions_mm) for g in guns])
    atoms = flux * np.array([density_g_cm3(e) / molar_mass_g(e) for e in elements])
    compositions = atoms / atoms.sum(axis=1, keepdims=True)
    noisy = np.clip(compositions + rng.normal(0.0, composition_error, compositions.shape), 0.0, None)
    measured = noisy / noisy.sum(axis=1, keepdims=True)
    return Library(
        elements=elements,
        positions_mm=layout.positions_mm,
        compositions=compositions,
        measured_compositions=measured,
        thickness_nm=flux.sum(axis=1) * duration_s,
        powers_w={e: float(powers_w.get(e, 0.0)) for e in elements},
        duration_s=float(duration_s),
    )


def confocal_guns(
    elements: Sequence[str], radius_mm: float = 70.0, height_mm: float = 90.0, cosine_exponent: float = 1.5
) -> tuple[SputterGun, ...]:
    """2-4 guns evenly around the wafer, each aimed at the wafer centre."""
    if not 2 <= len(elements) <= 4:
        raise WorldInputError(f"a sputter system here has 2 to 4 guns, got {len(elements)}: {list(elements)}")
    guns = []
    for i, element in enumerate(elements):
        angle = 2 * np.pi * i / len(elements) + np.pi / 2
        position = (radius_mm * np.cos(angle), radius_mm * np.sin(angle), height_mm)
        guns.append(SputterGun(element, position, cosine_exponent=cosine_exponent))
    return tuple(guns)
