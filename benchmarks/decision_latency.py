"""Time per decision of the qLogNEI policy as observations accumulate.

Runs the quickstart's optimiser settings (4 restarts / 128 raw samples) side by side with the
BoTorch tutorials' usual ones (10 / 512) on the same data, and prints a markdown table of medians.

    .venv/bin/python benchmarks/decision_latency.py [--sizes 20,50,100,200] [--repeats 3]
"""

import argparse
import platform
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from policies import BayesianPolicy, CompositionSimplex, Objective, SobolSampler
from simulators import load_world

BOUNDS = {"Fe": [0.40, 0.95], "Ga": [0.0, 0.45], "Pd": [0.0, 0.30]}
SETTINGS = {"quickstart (4/128)": (4, 128), "tutorial (10/512)": (10, 512)}


@dataclass(frozen=True)
class Measured:
    condition: dict
    values: dict
    variances: dict


def observations(n: int, seed: int) -> list[Measured]:
    space = CompositionSimplex.from_bounds(BOUNDS)
    world = load_world("ternary-magnet", seed=seed)
    out = []
    for x in SobolSampler(space, seed).draw(n):
        readout = world.measure_counts(space.as_dict(x), "magnetization", 1.0)
        scale = readout.counts_per_unit_s * readout.count_time_s
        value = (readout.counts - readout.background_counts) / scale
        out.append(
            Measured(space.as_dict(x), {"magnetization": value}, {"magnetization": readout.counts / scale**2})
        )
    return out


def time_one(n: int, restarts: int, raw: int, seed: int) -> tuple[float, float]:
    space = CompositionSimplex.from_bounds(BOUNDS)
    policy = BayesianPolicy(
        space,
        [Objective("magnetization")],
        {"count_time_s": 1.0},
        seed=seed,
        n_sobol=5,
        num_restarts=restarts,
        raw_samples=raw,
    )
    data = observations(n, seed)
    started = time.perf_counter()
    policy.tell(data)
    fit = time.perf_counter() - started
    started = time.perf_counter()
    policy.ask(1)
    return fit, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,50,100,200")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    )
    print(f"repeats: {args.repeats} (seeds 0..{args.repeats - 1}), medians in seconds\n")
    print("| n | settings | fit (s) | ask (s) | decision (s) | ratio to quickstart |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        medians = {}
        for label, (restarts, raw) in SETTINGS.items():
            runs = [time_one(n, restarts, raw, seed) for seed in range(args.repeats)]
            fit = statistics.median(r[0] for r in runs)
            ask = statistics.median(r[1] for r in runs)
            medians[label] = fit + ask
            base = medians[next(iter(SETTINGS))]
            print(f"| {n} | {label} | {fit:.2f} | {ask:.2f} | {fit + ask:.2f} | {(fit + ask) / base:.2f} |")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
