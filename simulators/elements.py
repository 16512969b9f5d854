"""Element data from xraydb, so that no tabulated value is typed in by hand."""

from functools import cache

import numpy as np
import xraydb
from scipy import constants

from simulators.errors import WorldInputError

AVOGADRO = constants.Avogadro
HC_EV_ANGSTROM = constants.h * constants.c / constants.e * 1e10  # 12398.42 eV*Angstrom
# mu0 * mu_B per cubic angstrom, in tesla: magnetisation from moments per atom over atomic volume
TESLA_PER_BOHR_MAGNETON_PER_A3 = constants.mu_0 * constants.physical_constants["Bohr magneton"][0] / 1e-30


def check_element(symbol: str) -> str:
    try:
        xraydb.atomic_number(symbol)
    except (ValueError, KeyError, TypeError) as exc:
        raise WorldInputError(f"unknown element {symbol!r}; give a chemical symbol such as 'Fe'") from exc
    return symbol


@cache
def molar_mass_g(symbol: str) -> float:
    return float(xraydb.atomic_mass(check_element(symbol)))


@cache
def density_g_cm3(symbol: str) -> float:
    return float(xraydb.atomic_density(check_element(symbol)))


@cache
def atomic_volume_a3(symbol: str) -> float:
    """Volume per atom of the elemental solid (cubic angstrom), from molar mass and density."""
    return molar_mass_g(symbol) / density_g_cm3(symbol) / AVOGADRO * 1e24


def cubic_lattice_parameter_a(symbol: str, atoms_per_cell: int) -> float:
    """Lattice parameter a cubic cell of `atoms_per_cell` atoms would have at the element's atomic volume."""
    return float((atoms_per_cell * atomic_volume_a3(symbol)) ** (1.0 / 3.0))


@cache
def edge_energy_ev(symbol: str, edge: str = "K") -> float:
    return float(xraydb.xray_edge(check_element(symbol), edge).energy)


@cache
def core_hole_width_ev(symbol: str, edge: str = "K") -> float:
    return float(xraydb.core_width(check_element(symbol), edge))


def mass_attenuation_cm2_g(symbol: str, energy_ev: np.ndarray) -> np.ndarray:
    return np.asarray(xraydb.mu_elam(check_element(symbol), np.asarray(energy_ev, dtype=float)))


def scattering_factor(symbol: str, sin_theta_over_lambda: np.ndarray) -> np.ndarray:
    """Waasmaier-Kirfel f0(q) at q = sin(theta)/lambda in 1/Angstrom."""
    return np.asarray(xraydb.f0(check_element(symbol), np.asarray(sin_theta_over_lambda, dtype=float)))


@cache
def emission_wavelength_a(anode: str = "Cu", line: str = "Ka1") -> float:
    """Wavelength of an anode's emission line, e.g. Cu K-alpha1."""
    energy = xraydb.xray_lines(check_element(anode), "K")[line].energy
    return HC_EV_ANGSTROM / float(energy)
