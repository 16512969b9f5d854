"""X-ray absorption spectra across an element's K edge, measured in transmission.

The edge sits at xraydb's energy, shifted by the absorber's valence; its step is broadened by the
core-hole width (xraydb) and the monochromator; a white line, a pre-edge peak and a first-shell
EXAFS wave follow. The background below and above the edge comes from xraydb's cross-sections of
the sample's elements. Counting: N0 and N are Poisson; mu = ln(N0/N), var = 1/N0 + 1/N.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from simulators.elements import core_hole_width_ev, edge_energy_ev, mass_attenuation_cm2_g, molar_mass_g

K_PER_SQRT_EV = 0.2624682917  # k^2 (1/A^2) per eV of photoelectron energy: 2 m_e / hbar^2


@dataclass(frozen=True)
class AbsorberSite:
    """One environment of the absorber: how much of it, its valence and first-shell distance."""

    weight: float
    valence: float
    shell_distance_a: float
    coordination: float = 8.0


@dataclass(frozen=True)
class XafsBeamline:
    """A transmission XAFS set-up: energy grid around the edge, flux, resolution, sample edge jump."""

    below_edge_ev: float = 150.0
    above_edge_ev: float = 400.0
    step_ev: float = 0.5
    i0_counts_per_s: float = 2.0e5
    mono_fwhm_ev: float = 1.2
    edge_jump: float = 1.0  # mu*x step of the absorber
    shift_ev_per_valence: float = 1.8
    white_line_per_valence: float = 0.35
    pre_edge_per_valence: float = 0.04
    debye_waller_a2: float = 0.006

    def energies(self, element: str) -> np.ndarray:
        e0 = edge_energy_ev(element)
        n = round((self.below_edge_ev + self.above_edge_ev) / self.step_ev)
        return e0 - self.below_edge_ev + self.step_ev * np.arange(n + 1)

    def edge_energy(self, element: str, valence: float) -> float:
        """The model's E0: xraydb's K edge plus the chemical shift of the valence."""
        return edge_energy_ev(element) + self.shift_ev_per_valence * valence


@dataclass(frozen=True)
class XafsSpectrum:
    energy_ev: np.ndarray
    mu: np.ndarray
    i0_counts: np.ndarray
    it_counts: np.ndarray
    count_time_s: float
    element: str


def normalised_mu(
    beamline: XafsBeamline, element: str, energy: np.ndarray, sites: Sequence[AbsorberSite]
) -> np.ndarray:
    """mu(E) normalised to a unit edge step, summed over the absorber's environments."""
    gamma = core_hole_width_ev(element)
    total = sum(site.weight for site in sites)
    mu = np.zeros_like(energy)
    for site in sites:
        e0 = beamline.edge_energy(element, site.valence)
        step = 0.5 + np.arctan((energy - e0) / (gamma / 2)) / np.pi
        white_width = gamma + 4.0
        white = (
            beamline.white_line_per_valence
            * site.valence
            * _lorentzian(energy, e0 + 0.8 * white_width, white_width)
        )
        pre = (
            beamline.pre_edge_per_valence * site.valence * np.exp(-0.5 * ((energy - (e0 - 10.0)) / 1.0) ** 2)
        )
        above = np.clip(energy - e0, 0.0, None)
        k = np.sqrt(K_PER_SQRT_EV * above)
        with np.errstate(divide="ignore", invalid="ignore"):
            chi = np.where(
                k > 0.5,
                site.coordination
                / (k * site.shell_distance_a**2)
                * 0.1
                * np.exp(-2 * beamline.debye_waller_a2 * k**2)
                * np.sin(2 * k * site.shell_distance_a),
                0.0,
            )
        mu += site.weight / total * (step * (1 + chi * _onset(above)) + white + pre)
    return _gaussian_blur(mu, beamline.mono_fwhm_ev / beamline.step_ev)


def absorbance(
    beamline: XafsBeamline,
    element: str,
    composition: Mapping[str, float],
    sites: Sequence[AbsorberSite],
) -> tuple[np.ndarray, np.ndarray]:
    """Energies and mu*x of the sample: background from xraydb cross-sections, the edge from the model."""
    energy = beamline.energies(element)
    e0_table = edge_energy_ev(element)
    mass = {e: x * molar_mass_g(e) for e, x in composition.items()}
    total_mass = sum(mass.values())
    below, above = e0_table - 30.0, e0_table + 30.0
    mu_abs_below = mass_attenuation_cm2_g(element, np.array([below]))[0]
    jump_per_mass = (
        (mass_attenuation_cm2_g(element, np.array([above]))[0] - mu_abs_below) * mass[element] / total_mass
    )
    background = mass[element] / total_mass * mu_abs_below * (below / energy) ** 2.8
    for other, m in mass.items():
        if other != element and m > 0:
            background = background + m / total_mass * mass_attenuation_cm2_g(other, energy)
    decay = np.where(energy > e0_table, (e0_table / energy) ** 2.8, 1.0)
    mu_x = beamline.edge_jump * (
        background / jump_per_mass + normalised_mu(beamline, element, energy, sites) * decay
    )
    return energy, mu_x


def count_spectrum(
    beamline: XafsBeamline,
    energy: np.ndarray,
    mu_x: np.ndarray,
    count_time_s: float,
    element: str,
    rng: np.random.Generator,
) -> XafsSpectrum:
    # I0 and It are separate detectors counting independent samples of the beam.
    expected_n0 = beamline.i0_counts_per_s * count_time_s
    n0 = rng.poisson(expected_n0, size=energy.shape)
    n = rng.poisson(expected_n0 * np.exp(-mu_x))
    safe_n0, safe_n = np.maximum(n0, 1), np.maximum(n, 1)
    return XafsSpectrum(energy, np.log(safe_n0 / safe_n), n0, n, float(count_time_s), element)


def _lorentzian(x: np.ndarray, centre: float, fwhm: float) -> np.ndarray:
    """Lorentzian of unit height."""
    return 1.0 / (1.0 + ((x - centre) / (fwhm / 2)) ** 2)


def _onset(above_ev: np.ndarray, width_ev: float = 15.0) -> np.ndarray:
    """Switch the EXAFS on smoothly past the edge, where the single-scattering picture holds."""
    return 1.0 - np.exp(-((above_ev / width_ev) ** 2))


def _gaussian_blur(values: np.ndarray, fwhm_points: float) -> np.ndarray:
    sigma = fwhm_points / (2 * np.sqrt(2 * np.log(2)))
    half = int(np.ceil(4 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, half, mode="edge")
    return np.convolve(padded, kernel, mode="valid")
