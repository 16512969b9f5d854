"""Hypervolume versus measurements on a simulated world: junkan's policy beside random sampling,
with the acceleration factor AF = n_random / n_policy to reach a fraction of the maximal
hypervolume (Rohr et al. 2020; MacLeod et al. 2022). Seeds run in parallel processes.

    .venv/bin/python benchmarks/sample_efficiency.py [--world NAME] [--seeds 20] [--budget 60] [--json]
"""

import argparse
import json
import multiprocessing
import time
from dataclasses import dataclass

import numpy as np

TARGETS = (0.8, 0.9, 0.95)


@dataclass(frozen=True)
class Measured:
    condition: dict
    values: dict
    variances: dict


def campaign(args: tuple[str, str, int, int]) -> list[float]:
    """Hypervolume of the measured truth after each measurement (noisy measurements drive the policy)."""
    import torch

    from policies import BayesianPolicy, DesignSpace, Objective, RandomPolicy
    from simulators import load_world

    torch.set_num_threads(1)
    world_name, policy_name, seed, budget = args
    world = load_world(world_name, seed=seed)
    space = DesignSpace.from_bounds({e: [0.0, 1.0] for e in world.elements})
    names = list(world.quantities)
    if policy_name == "random":
        policy = RandomPolicy(space, {"count_time_s": 1.0}, seed=seed)
    else:
        policy = BayesianPolicy(
            space,
            [Objective(n) for n in names],
            {"count_time_s": 1.0},
            seed=seed,
            n_sobol=6,
            reference_point=dict(world.reference_point),
        )
    measured, curve = [], []
    for _ in range(budget):
        (p,) = policy.ask(1)
        x = np.array([p.condition[e] for e in space.elements])
        values, variances = {}, {}
        for n in names:
            r = world.measure_counts(p.condition, n, 1.0)
            scale = r.counts_per_unit_s * r.count_time_s
            values[n] = (r.counts - r.background_counts) / scale
            variances[n] = max(r.counts, 1) / scale**2
        policy.tell([Measured(dict(p.condition), values, variances)])
        measured.append(x)
        truth = world.truth(np.array(measured))
        curve.append(world.hypervolume(truth))
    return curve


def first_reach(curve: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(curve >= level)
    return float(hit[0] + 1) if hit.size else float("inf")


def _ratio(n_random: float, n_policy: float) -> float | None:
    """AF = n_random / n_policy; None when the policy never reached the target (undefined)."""
    if not np.isfinite(n_policy):
        return None
    return n_random / n_policy  # inf when random never reached it within the budget


def _finite_or_none(value: object) -> object:
    return None if isinstance(value, float) and not np.isfinite(value) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="fe-co-ni-oxide")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    from simulators import load_world

    best = load_world(args.world).max_hypervolume()
    jobs = [(args.world, p, s, args.budget) for p in ("junkan", "random") for s in range(args.seeds)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        curves = pool.map(campaign, jobs)
    by_policy = {
        p: np.array([c for (_, q, _, _), c in zip(jobs, curves, strict=True) if q == p]) / best
        for p in ("junkan", "random")
    }
    rows = []
    for level in TARGETS:
        n_policy = [first_reach(c, level) for c in by_policy["junkan"]]
        n_random = [first_reach(c, level) for c in by_policy["random"]]
        rows.append(
            {
                "fraction_of_max_hypervolume": level,
                "n_to_reach_median_junkan": float(np.median(n_policy)),
                "n_to_reach_median_random": float(np.median(n_random)),
                "af_median": _ratio(float(np.median(n_random)), float(np.median(n_policy))),
                "reached_junkan": int(np.isfinite(n_policy).sum()),
                "reached_random": int(np.isfinite(n_random).sum()),
            }
        )
    runtime = time.perf_counter() - started
    print(
        f"world {args.world}, {args.seeds} seeds, budget {args.budget}, max hypervolume {best:.4g}; "
        f"runtime {runtime:.0f} s\n"
    )
    print("| measurements | junkan HV / max (median, p10-p90) | random HV / max (median, p10-p90) |")
    print("|---|---|---|")
    for k in sorted({10, 20, 40, args.budget}):
        if k <= args.budget:
            j, r = by_policy["junkan"][:, k - 1], by_policy["random"][:, k - 1]
            print(
                f"| {k} | {np.median(j):.3f} ({np.percentile(j, 10):.3f}-{np.percentile(j, 90):.3f}) | "
                f"{np.median(r):.3f} ({np.percentile(r, 10):.3f}-{np.percentile(r, 90):.3f}) |"
            )
    print("\n| target | n junkan (median) | n random (median) | AF | seeds reaching it (junkan / random) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['fraction_of_max_hypervolume']:.0%} | {row['n_to_reach_median_junkan']} | "
            f"{row['n_to_reach_median_random']} | "
            f"{'-' if row['af_median'] is None else format(row['af_median'], '.2f')} | "
            f"{row['reached_junkan']} / {row['reached_random']} |"
        )
    if args.json:
        print(
            json.dumps(
                {
                    "benchmark": "sample_efficiency",
                    "world": args.world,
                    "seeds": args.seeds,
                    "budget": args.budget,
                    "runtime_s": runtime,
                    "results": [{k: _finite_or_none(v) for k, v in row.items()} for row in rows],
                }
            )
        )


if __name__ == "__main__":
    main()
