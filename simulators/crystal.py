"""Cubic crystal structures: allowed reflections, structure factors and Bragg angles.

Structure factors use xraydb's f0(q) for each site's average occupant, so superlattice
reflections of ordered phases and the extinctions of centred lattices come out of the sum.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import product

import numpy as np

from simulators.elements import scattering_factor

FCC_TRANSLATIONS = ((0.0, 0.0, 0.0), (0.0, 0.5, 0.5), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0))
STRUCTURE_FACTOR_FLOOR = 1e-6  # |F|^2 below this (relative to the strongest) is an extinction


def centred(positions: tuple[tuple[float, float, float], ...], translations=FCC_TRANSLATIONS) -> np.ndarray:
    """Every position plus every lattice translation, folded into the unit cell."""
    out = {
        tuple(np.round(np.mod(np.add(p, t), 1.0), 6))
        for p in positions
        for t in translations  # type: ignore[arg-type]
    }
    return np.array(sorted(out))


@dataclass(frozen=True)
class CubicStructure:
    """A cubic structure: named sites, each a set of fractional positions in the conventional cell."""

    name: str
    sites: Mapping[str, np.ndarray]

    @cached_property
    def atoms_per_cell(self) -> dict[str, int]:
        return {label: len(positions) for label, positions in self.sites.items()}


def bragg_two_theta_deg(d_a: np.ndarray, wavelength_a: float) -> np.ndarray:
    """2-theta (degrees) from lambda = 2 d sin(theta); NaN where the reflection is out of reach."""
    ratio = wavelength_a / (2.0 * np.asarray(d_a, dtype=float))
    with np.errstate(invalid="ignore"):
        return np.degrees(2.0 * np.arcsin(np.where(ratio <= 1.0, ratio, np.nan)))


def lorentz_polarisation(two_theta_deg: np.ndarray) -> np.ndarray:
    """(1 + cos^2 2theta) / (sin^2 theta cos theta), unpolarised beam, no monochromator."""
    tt = np.radians(two_theta_deg)
    return (1 + np.cos(tt) ** 2) / (np.sin(tt / 2) ** 2 * np.cos(tt / 2))


@dataclass(frozen=True)
class Reflection:
    """All {hkl} with the same h^2+k^2+l^2 (one peak in a cubic powder pattern)."""

    hkl: tuple[int, int, int]
    d_a: float
    two_theta_deg: float
    intensity: float  # |F|^2 summed over the family (multiplicity included) * LP / V^2


def reflections(
    structure: CubicStructure,
    occupancy: Mapping[str, Mapping[str, float]],
    lattice_a: float,
    wavelength_a: float,
    two_theta_max_deg: float = 150.0,
) -> list[Reflection]:
    """Powder reflections of a cubic phase up to `two_theta_max_deg`, strongest family first."""
    d_min = wavelength_a / (2 * np.sin(np.radians(two_theta_max_deg) / 2))
    h_max = int(np.floor(lattice_a / d_min))
    rng = range(-h_max, h_max + 1)
    hkl = np.array([v for v in product(rng, rng, rng) if v[0] ** 2 + v[1] ** 2 + v[2] ** 2 > 0])
    s = (hkl**2).sum(axis=1)
    keep = lattice_a / np.sqrt(s) >= d_min
    hkl, s = hkl[keep], s[keep]
    d = lattice_a / np.sqrt(s)
    q = 1.0 / (2.0 * d)  # sin(theta)/lambda
    amplitude = np.zeros(len(hkl), dtype=complex)
    for label, positions in structure.sites.items():
        occupants = occupancy.get(label, {})
        f_site = sum(frac * scattering_factor(el, q) for el, frac in occupants.items() if frac > 0)
        if np.isscalar(f_site):
            continue
        phases = np.exp(2j * np.pi * hkl @ positions.T).sum(axis=1)
        amplitude += f_site * phases
    f2 = np.abs(amplitude) ** 2
    families: dict[int, float] = {}
    for s_value, value in zip(s, f2, strict=True):
        families[int(s_value)] = families.get(int(s_value), 0.0) + float(value)
    strongest = max(families.values(), default=0.0)
    volume = lattice_a**3
    out = []
    for s_value, total in families.items():
        if total <= STRUCTURE_FACTOR_FLOOR * strongest:
            continue
        d_value = lattice_a / np.sqrt(s_value)
        two_theta = float(bragg_two_theta_deg(d_value, wavelength_a))
        representative = _representative_hkl(s_value)
        out.append(
            Reflection(
                hkl=representative,
                d_a=float(d_value),
                two_theta_deg=two_theta,
                intensity=total * float(lorentz_polarisation(two_theta)) / volume**2,
            )
        )
    return sorted(out, key=lambda r: r.two_theta_deg)


def _representative_hkl(s_value: int) -> tuple[int, int, int]:
    """The conventional label h >= k >= l >= 0 of a family with h^2+k^2+l^2 = s."""
    h_max = int(np.ceil(np.sqrt(s_value)))
    for h in range(h_max, -1, -1):
        for k in range(h, -1, -1):
            for l_ in range(k, -1, -1):
                if h * h + k * k + l_ * l_ == s_value:
                    return (h, k, l_)
    raise ValueError(f"no hkl with h^2+k^2+l^2 = {s_value}")


# The structures the shipped worlds use (conventional cubic cells).
A2_BCC = CubicStructure("A2 (bcc)", {"M": np.array([[0, 0, 0], [0.5, 0.5, 0.5]])})
A1_FCC = CubicStructure("A1 (fcc)", {"M": centred(((0.0, 0.0, 0.0),))})
B2 = CubicStructure("B2 (CsCl)", {"A": np.array([[0.0, 0, 0]]), "B": np.array([[0.5, 0.5, 0.5]])})
L1_2 = CubicStructure(
    "L1_2 (Cu3Au)",
    {"B": np.array([[0.0, 0, 0]]), "A": np.array([[0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])},
)
B1_ROCKSALT = CubicStructure(
    "B1 (rock salt)", {"M": centred(((0.0, 0.0, 0.0),)), "O": centred(((0.5, 0.0, 0.0),))}
)


def spinel(u: float = 0.3875) -> CubicStructure:
    """Spinel AB2O4, Fd-3m origin choice 1: 8a tetrahedral, 16d octahedral, 32e oxygen at (u,u,u)."""
    tetrahedral = centred(((0.0, 0.0, 0.0), (0.25, 0.25, 0.25)))
    octahedral = centred(
        ((0.625, 0.625, 0.625), (0.625, 0.875, 0.875), (0.875, 0.625, 0.875), (0.875, 0.875, 0.625))
    )
    x = u
    oxygen = centred(
        (
            (x, x, x),
            (x, -x, -x),
            (-x, x, -x),
            (-x, -x, x),
            (0.25 - x, 0.25 - x, 0.25 - x),
            (0.25 - x, 0.25 + x, 0.25 + x),
            (0.25 + x, 0.25 - x, 0.25 + x),
            (0.25 + x, 0.25 + x, 0.25 - x),
        )
    )
    return CubicStructure("spinel (MgAl2O4)", {"T": tetrahedral, "Oc": octahedral, "O": oxygen})
