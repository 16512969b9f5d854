"""A four-element campaign with a process parameter: a Co-Cr-Fe-Ni library deposited at four
substrate temperatures, its hardness recorded on a 0.1 lattice (synthetic: a smooth hardening bump
that peaks near 500 C, plus measurement noise), served through `instrument: kind: recorded`."""

import csv
from itertools import product
from pathlib import Path

import numpy as np

ELEMENTS = ("Co", "Cr", "Fe", "Ni")
TEMPERATURES = (300.0, 400.0, 500.0, 600.0)
PEAK = np.array([0.2, 0.4, 0.2, 0.2])  # the hardest composition, at 500 C


def hardness(fractions: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """GPa: a base rising with Cr, and a precipitation bump around PEAK that is strongest at 500 C."""
    bump = np.exp(-np.sum((fractions - PEAK) ** 2, axis=-1) / (2 * 0.18**2))
    return 3.0 + 0.8 * fractions[..., 1] + 2.5 * bump * np.exp(-(((temperature - 500.0) / 150.0) ** 2))


def write_table(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    n = 10
    rows = []
    for i, j, k in product(range(n + 1), repeat=3):
        if i + j + k <= n:
            x = np.array([i, j, k, n - i - j - k]) / n
            for t in TEMPERATURES:
                rows.append([*x.round(3), t, float(hardness(x, np.array(t)) + rng.normal(0, 0.08))])
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*ELEMENTS, "T", "hardness"])
        writer.writerows(rows)
    return path


def campaign(table: Path, budget: int) -> dict:
    return {
        "name": "co-cr-fe-ni-hardness",
        "description": "Co-Cr-Fe-Ni at four substrate temperatures: the hardest film (recorded, synthetic)",
        "space": {
            "composition": {e: [0.0, 1.0] for e in ELEMENTS},
            "process": {"T": [TEMPERATURES[0], TEMPERATURES[-1]]},
        },
        "objectives": [{"name": "hardness", "goal": "maximize"}],
        "instrument": {"kind": "recorded", "table": str(table), "inputs": [*ELEMENTS, "T"]},
        "policy": {"kind": "bayesian", "n_sobol": 4, "num_restarts": 2, "raw_samples": 64, "mc_samples": 64},
        "budget": budget,
        "seed": 1,
    }
