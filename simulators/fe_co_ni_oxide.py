"""An (Fe,Co,Ni) oxide world with valence changes: rock salt (M2+), an Fe-rich inverse spinel and a
Co-rich spinel (mixed M2+/M3+, charge balanced at 8/3 per cation).

Objectives: optical band gap (eV; the film's gap is the smallest gap of the phases present) and
saturation magnetisation (tesla; ferrimagnetic spinels, antiferromagnetic rock salt). Together they
ask for a wide-gap ferrimagnetic insulator. Oxide lattice parameters are not in xraydb: the Vegard
end members below are literature values (NiO 4.177, CoO 4.260, FeO 4.332, Fe3O4 8.396,
Co3O4 8.084 Angstrom) and one model value (Ni end member of the spinel, 8.20, which puts NiFe2O4
at its measured 8.33).
"""

import numpy as np

from simulators.crystal import B1_ROCKSALT, spinel
from simulators.deposition import confocal_guns
from simulators.elements import TESLA_PER_BOHR_MAGNETON_PER_A3
from simulators.phase_diagram import PhaseEquilibrium, PhaseWell
from simulators.spread_world import CompositionSpreadWorld, CountingChannel
from simulators.world import Quantity
from simulators.xrd import CrystalPhase

ELEMENTS = ("Fe", "Co", "Ni")
FE, CO, NI = 0, 1, 2
SPINEL_VEGARD = {"Fe": 8.396, "Co": 8.084, "Ni": 8.20}

PHASES = (
    CrystalPhase(
        "rocksalt",
        B1_ROCKSALT,
        {"Fe": 4.332, "Co": 4.260, "Ni": 4.177},
        crystallite_nm=18.0,
        anion_sites={"O": "O"},
    ),
    CrystalPhase("spinel", spinel(), SPINEL_VEGARD, crystallite_nm=14.0, anion_sites={"O": "O"}),
    CrystalPhase("Co-spinel", spinel(), SPINEL_VEGARD, crystallite_nm=12.0, anion_sites={"O": "O"}),
)
WELLS = (
    PhaseWell("rocksalt", (0.08, 0.32, 0.60), depth_ev=-0.300, stiffness_ev=1.6),
    PhaseWell("spinel", (0.70, 0.12, 0.18), depth_ev=-0.305, stiffness_ev=2.2),
    PhaseWell("Co-spinel", (0.06, 0.90, 0.04), depth_ev=-0.300, stiffness_ev=6.0),
)
ANIONS = {"rocksalt": {"O": 1.0}, "spinel": {"O": 4 / 3}, "Co-spinel": {"O": 4 / 3}}


def valences(phase_name: str, x: np.ndarray) -> np.ndarray:
    """Average valence of each cation. Rock salt: all 2+. Spinel: 8/3 per cation on average, the
    extra charge (2/3 per cation) taken first by Fe (to 3+), then Co, then Ni."""
    v = np.full_like(x, 2.0)
    if phase_name == "rocksalt":
        return v
    need = np.full(len(x), 2.0 / 3.0)
    for index in (FE, CO, NI):
        take = np.minimum(need, x[:, index])  # each cation can rise by one step
        with np.errstate(invalid="ignore", divide="ignore"):
            v[:, index] += np.where(x[:, index] > 0, take / x[:, index], 0.0)
        need = need - take
    return v


def band_gap_ev(eq: PhaseEquilibrium, phases) -> np.ndarray:
    gaps = np.full(eq.fractions.shape, np.inf)
    for i, phase in enumerate(phases):
        present = eq.fractions[:, i] > 0.05
        x = eq.phase_compositions[present, i]
        if phase.name == "rocksalt":
            gap = x @ np.array([2.4, 2.6, 3.7]) - 0.6 * x[:, FE] * x[:, NI]
        else:
            divalent_not_fe = x[:, CO] + x[:, NI]
            gap = 0.1 + 1.5 * (1.0 - np.exp(-divalent_not_fe / 0.2))
        gaps[present, i] = gap
    smallest = gaps.min(axis=1)
    return np.where(np.isfinite(smallest), smallest, gaps[np.arange(len(gaps)), eq.fractions.argmax(axis=1)])


def magnetisation_t(eq: PhaseEquilibrium, phases) -> np.ndarray:
    total = np.zeros(len(eq.fractions))
    for i, phase in enumerate(phases):
        present = eq.fractions[:, i] > 0
        if phase.name == "rocksalt" or not np.any(present):
            continue  # antiferromagnetic
        x = eq.phase_compositions[present, i]
        # Neel ferrimagnet: moment per formula unit from the divalent cation, vanishing without Fe
        moment = (4.1 * x[:, FE] + 3.7 * x[:, CO] + 2.3 * x[:, NI]) * np.clip(x[:, FE] / 0.45, 0.0, 1.0)
        a = x @ np.array([SPINEL_VEGARD[e] for e in ELEMENTS])
        volume_per_formula_unit = a**3 / 8
        total[present] += (
            eq.fractions[present, i] * moment / volume_per_formula_unit * TESLA_PER_BOHR_MAGNETON_PER_A3
        )
    return total


def _shell(phase_name: str, lattice_a: float) -> float:
    """Metal-oxygen distance: a/2 in rock salt; about a*sqrt(3)/8 (tetrahedral) ~ a/4.2 in spinel."""
    return lattice_a / 2 if phase_name == "rocksalt" else lattice_a / 4.2


STATED_MAX_HYPERVOLUME = 0.9211  # eV*T above REFERENCE_POINT, from the 0.01-step grid
REFERENCE_POINT = {"band_gap": 0.0, "magnetization": 0.0}


def build(seed: int = 0) -> CompositionSpreadWorld:
    return CompositionSpreadWorld(
        name="fe-co-ni-oxide",
        elements=ELEMENTS,
        quantities={
            "band_gap": Quantity("band_gap", "eV", "optical band gap of the film (smallest gap present)"),
            "magnetization": Quantity("magnetization", "T", "saturation magnetisation mu0*Ms of the film"),
        },
        wells=WELLS,
        crystal_phases=PHASES,
        properties={"band_gap": band_gap_ev, "magnetization": magnetisation_t},
        channels={
            "band_gap": CountingChannel(
                counts_per_unit_s=800.0, background_counts_per_s=300.0, thickness_exponent=0.5
            ),
            "magnetization": CountingChannel(counts_per_unit_s=3000.0, background_counts_per_s=150.0),
        },
        guns=confocal_guns(ELEMENTS),
        reference_point=REFERENCE_POINT,
        stated_max_hypervolume=STATED_MAX_HYPERVOLUME,
        valence=valences,
        shell_distance_a=_shell,
        anions=ANIONS,
        seed=seed,
    )
