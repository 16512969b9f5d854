"""Powder diffraction patterns of thin films: Bragg peaks of each phase, pseudo-Voigt profiles with
Caglioti and Scherrer widths, background, and Poisson counting."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from simulators.crystal import CubicStructure, Reflection, reflections
from simulators.elements import emission_wavelength_a


@dataclass(frozen=True)
class CrystalPhase:
    """A phase's structure, its Vegard end members and how its cations order over its sites.

    `ordered_sites` maps a site to the cation that prefers it (B2: the cube centre to Ga);
    `anion_sites` maps anion sites to their element (rock salt: O). Other cation sites are random.
    """

    name: str
    structure: CubicStructure
    vegard_a: Mapping[str, float]
    crystallite_nm: float = 25.0
    ordered_sites: Mapping[str, str] = field(default_factory=dict)
    anion_sites: Mapping[str, str] = field(default_factory=dict)

    def lattice_a(self, composition: Mapping[str, float]) -> float:
        """Vegard's law: a = sum_i x_i a_i over the cations of the phase."""
        total = sum(composition.values())
        return float(sum(x * self.vegard_a[e] for e, x in composition.items()) / total)

    def occupancy(self, composition: Mapping[str, float]) -> dict[str, dict[str, float]]:
        """Site occupancies for a cation composition: preferred sites first, the rest at random."""
        counts = self.structure.atoms_per_cell
        cation_sites = [s for s in counts if s not in self.anion_sites]
        n_cations = sum(counts[s] for s in cation_sites)
        total = sum(composition.values())
        remaining = {e: x / total * n_cations for e, x in composition.items()}
        occupancy: dict[str, dict[str, float]] = {s: {} for s in cation_sites}
        free = {s: float(counts[s]) for s in cation_sites}
        for site, element in self.ordered_sites.items():
            placed = min(free[site], remaining.get(element, 0.0))
            if placed > 0:
                occupancy[site][element] = placed
                remaining[element] -= placed
                free[site] -= placed
        left = sum(remaining.values())
        for site in cation_sites:
            if free[site] > 1e-12 and left > 1e-12:
                for element, amount in remaining.items():
                    share = free[site] * amount / left
                    occupancy[site][element] = occupancy[site].get(element, 0.0) + share
        result = {s: {e: n / counts[s] for e, n in occ.items()} for s, occ in occupancy.items()}
        for site, element in self.anion_sites.items():
            result[site] = {element: 1.0}
        return result

    def reflections(self, composition: Mapping[str, float], wavelength_a: float, two_theta_max: float):
        return reflections(
            self.structure,
            self.occupancy(composition),
            self.lattice_a(composition),
            wavelength_a,
            two_theta_max,
        )


@dataclass(frozen=True)
class Diffractometer:
    """A Bragg-Brentano diffractometer: wavelength, 2-theta grid, instrument widths, flux, background."""

    wavelength_a: float = field(default_factory=lambda: emission_wavelength_a("Cu", "Ka1"))
    two_theta_start_deg: float = 30.0
    two_theta_stop_deg: float = 90.0
    two_theta_step_deg: float = 0.02
    caglioti_uvw_deg2: tuple[float, float, float] = (0.004, -0.002, 0.003)
    scherrer_k: float = 0.9
    lorentz_fraction: float = 0.5
    counts_per_s_per_unit: float = 2.0  # scale of |F|^2 LP / V^2 per 100 nm of film
    background_counts_per_s: float = 40.0

    @property
    def two_theta_deg(self) -> np.ndarray:
        n = round((self.two_theta_stop_deg - self.two_theta_start_deg) / self.two_theta_step_deg)
        return self.two_theta_start_deg + self.two_theta_step_deg * np.arange(n + 1)

    def fwhm_deg(self, two_theta_deg: float, crystallite_nm: float) -> float:
        """Instrument (Caglioti) and size (Scherrer) widths added in quadrature."""
        theta = np.radians(two_theta_deg / 2)
        u, v, w = self.caglioti_uvw_deg2
        instrument2 = max(u * np.tan(theta) ** 2 + v * np.tan(theta) + w, 1e-8)
        scherrer = np.degrees(self.scherrer_k * self.wavelength_a / (crystallite_nm * 10 * np.cos(theta)))
        return float(np.sqrt(instrument2 + scherrer**2))

    def background(self, two_theta_deg: np.ndarray) -> np.ndarray:
        """Counts per second: air and fluorescence falling with angle, plus a flat floor."""
        return self.background_counts_per_s * (0.6 + 0.4 * (30.0 / two_theta_deg) ** 2)


def pseudo_voigt(x: np.ndarray, centre: float, fwhm: float, eta: float) -> np.ndarray:
    """Unit-area pseudo-Voigt profile."""
    gamma = fwhm / 2
    lorentz = gamma / np.pi / ((x - centre) ** 2 + gamma**2)
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    gauss = np.exp(-0.5 * ((x - centre) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return eta * lorentz + (1 - eta) * gauss


@dataclass(frozen=True)
class XrdPattern:
    two_theta_deg: np.ndarray
    counts: np.ndarray
    count_time_s: float
    wavelength_a: float


def expected_rate(
    diffractometer: Diffractometer,
    phases: Sequence[CrystalPhase],
    fractions: Sequence[float],
    phase_compositions: Sequence[Mapping[str, float] | None],
    thickness_nm: float,
    include_background: bool = True,
) -> np.ndarray:
    """Noise-free counts per second over the 2-theta grid."""
    x = diffractometer.two_theta_deg
    rate = diffractometer.background(x) if include_background else np.zeros_like(x)
    for phase, fraction, composition in zip(phases, fractions, phase_compositions, strict=True):
        if fraction <= 0 or composition is None:
            continue
        rate = rate + fraction * (thickness_nm / 100.0) * phase_rate(diffractometer, phase, composition)
    return rate


def phase_rate(
    diffractometer: Diffractometer, phase: CrystalPhase, composition: Mapping[str, float]
) -> np.ndarray:
    """Counts per second of 100 nm of a pure phase (no background)."""
    x = diffractometer.two_theta_deg
    rate = np.zeros_like(x)
    peaks: list[Reflection] = phase.reflections(
        composition, diffractometer.wavelength_a, diffractometer.two_theta_stop_deg + 5
    )
    for peak in peaks:
        fwhm = diffractometer.fwhm_deg(peak.two_theta_deg, phase.crystallite_nm)
        rate += (
            diffractometer.counts_per_s_per_unit
            * peak.intensity
            * pseudo_voigt(x, peak.two_theta_deg, fwhm, diffractometer.lorentz_fraction)
        )
    return rate


def count_pattern(rate: np.ndarray, count_time_s: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson counts of a detector integrating `rate` for `count_time_s` per step."""
    return rng.poisson(rate * count_time_s)
