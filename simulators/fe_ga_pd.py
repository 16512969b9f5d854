"""An Fe-Ga-Pd-like alloy world: bcc (Galfenol), fcc (gamma Fe-Pd), B2 and L1_2 phases.

Objectives: saturation magnetisation mu0*Ms (tesla, from moments per atom and the Vegard volume)
and polycrystalline magnetostriction lambda_s (ppm, Galfenol's two peaks near 19 and 27 at.% Ga in
bcc, the Fe70Pd30 peak in fcc). The free-energy wells are a model, not an assessed CALPHAD database.
"""

import numpy as np

from simulators.crystal import A1_FCC, A2_BCC, B2, L1_2
from simulators.deposition import confocal_guns
from simulators.elements import TESLA_PER_BOHR_MAGNETON_PER_A3, cubic_lattice_parameter_a
from simulators.phase_diagram import PhaseEquilibrium, PhaseWell
from simulators.spread_world import CompositionSpreadWorld, CountingChannel, phase_sum
from simulators.world import Quantity
from simulators.xrd import CrystalPhase

ELEMENTS = ("Fe", "Ga", "Pd")
FE, GA, PD = 0, 1, 2


def _vegard(atoms_per_cell: int) -> dict[str, float]:
    """End-member lattice parameters from each element's atomic volume (xraydb mass and density)."""
    return {e: cubic_lattice_parameter_a(e, atoms_per_cell) for e in ELEMENTS}


PHASES = (
    CrystalPhase("bcc", A2_BCC, _vegard(2), crystallite_nm=25.0),
    CrystalPhase("fcc", A1_FCC, _vegard(4), crystallite_nm=20.0),
    CrystalPhase("B2", B2, _vegard(2), crystallite_nm=15.0, ordered_sites={"B": "Ga"}),
    CrystalPhase("L1_2", L1_2, _vegard(4), crystallite_nm=15.0, ordered_sites={"B": "Ga"}),
)
WELLS = (
    PhaseWell("bcc", (0.82, 0.16, 0.02), depth_ev=-0.300, stiffness_ev=2.5),
    PhaseWell("fcc", (0.55, 0.03, 0.42), depth_ev=-0.300, stiffness_ev=2.2),
    PhaseWell("B2", (0.40, 0.45, 0.15), depth_ev=-0.320, stiffness_ev=8.0),
    PhaseWell("L1_2", (0.72, 0.27, 0.01), depth_ev=-0.290, stiffness_ev=60.0),
)
ATOMS_PER_CELL = {"bcc": 2, "fcc": 4, "B2": 2, "L1_2": 4}


def _volume_per_atom(phase: CrystalPhase, x: np.ndarray) -> np.ndarray:
    a = x @ np.array([phase.vegard_a[e] for e in ELEMENTS])
    return a**3 / ATOMS_PER_CELL[phase.name]


def _magnetisation(moments) -> callable:
    def model(phase: CrystalPhase):
        def per_phase(x: np.ndarray) -> np.ndarray:
            m = moments(x)
            return np.clip(m, 0.0, None) / _volume_per_atom(phase, x) * TESLA_PER_BOHR_MAGNETON_PER_A3

        return per_phase

    return model


MOMENTS = {  # Bohr magnetons per atom of the phase
    "bcc": lambda x: x[:, FE] * 2.22 * (1.0 - 0.9 * x[:, GA]) * (1.0 + 0.6 * x[:, PD]) + 0.30 * x[:, PD],
    "fcc": lambda x: (
        x[:, FE] * 2.9 * (1.0 - 1.5 * x[:, GA]) * np.clip((x[:, FE] - 0.25) / 0.25, 0, 1) + 0.35 * x[:, PD]
    ),
    "B2": lambda x: 0.8 * x[:, FE],
    "L1_2": lambda x: 2.0 * x[:, FE] * (1.0 - x[:, GA]),
}


def magnetisation_t(eq: PhaseEquilibrium, phases) -> np.ndarray:
    return phase_sum(eq, [_magnetisation(MOMENTS[p.name])(p) for p in phases])


MAGNETOSTRICTION = {  # ppm, polycrystalline lambda_s
    "bcc": lambda x: (
        (
            280 * np.exp(-(((x[:, GA] - 0.19) / 0.045) ** 2))
            + 220 * np.exp(-(((x[:, GA] - 0.275) / 0.03) ** 2))
            + 20
        )
        * np.exp(-(((x[:, PD] - 0.04) / 0.07) ** 2))
    ),
    "fcc": lambda x: 120 * np.exp(-(((x[:, PD] - 0.30) / 0.05) ** 2)) * np.exp(-x[:, GA] / 0.05),
    "B2": lambda x: np.full(len(x), 5.0),
    "L1_2": lambda x: np.full(len(x), 10.0),
}


def magnetostriction_ppm(eq: PhaseEquilibrium, phases) -> np.ndarray:
    return phase_sum(eq, [MAGNETOSTRICTION[p.name] for p in phases])


def _metal_valence(phase_name: str, x: np.ndarray) -> np.ndarray:
    return np.zeros_like(x)


def _shell(phase_name: str, lattice_a: float) -> float:
    """Nearest-neighbour distance: a*sqrt(3)/2 in bcc-based cells, a/sqrt(2) in fcc-based ones."""
    return lattice_a * (np.sqrt(3) / 2 if ATOMS_PER_CELL[phase_name] == 2 else 1 / np.sqrt(2))


STATED_MAX_HYPERVOLUME = 334.68  # T*ppm above REFERENCE_POINT, from the 0.01-step grid
REFERENCE_POINT = {"magnetization": 0.0, "magnetostriction": 0.0}


def build(seed: int = 0) -> CompositionSpreadWorld:
    return CompositionSpreadWorld(
        name="fe-ga-pd",
        elements=ELEMENTS,
        quantities={
            "magnetization": Quantity("magnetization", "T", "saturation magnetisation mu0*Ms of the film"),
            "magnetostriction": Quantity(
                "magnetostriction", "ppm", "saturation magnetostriction lambda_s of the polycrystalline film"
            ),
        },
        wells=WELLS,
        crystal_phases=PHASES,
        properties={"magnetization": magnetisation_t, "magnetostriction": magnetostriction_ppm},
        channels={
            "magnetization": CountingChannel(counts_per_unit_s=2000.0, background_counts_per_s=200.0),
            "magnetostriction": CountingChannel(counts_per_unit_s=20.0, background_counts_per_s=500.0),
        },
        guns=confocal_guns(ELEMENTS),
        reference_point=REFERENCE_POINT,
        stated_max_hypervolume=STATED_MAX_HYPERVOLUME,
        valence=_metal_valence,
        shell_distance_a=_shell,
        seed=seed,
    )
