"""Decision latency, peak memory and decision quality at scale: naive BoTorch use beside junkan's
policy, in one run.

Problem: two objectives of the fe-co-ni-oxide world (band gap, magnetisation) over 3 composition
dimensions plus one process dimension (substrate temperature, 25-600 C: the magnetisation of a
film grown cold is lower, as its grains are smaller), known per-point noise, 5,000 unmeasured
spots as discrete candidates. A decision is `tell` of one new observation plus `ask` for q
proposals. Naive: every decision refits both GPs from scratch and scores the candidates with
qLogNEHVI at BoTorch's defaults (no baseline pruning) in one `optimize_acqf_discrete` call. junkan:
`BayesianPolicy` (hyperparameters refitted on a schedule, conditioning in between; pruned baseline
of 32; a posterior-bound screen keeping 64 spots for the MC acquisition; spot against new library
by value per second, the library valued on a pool first). Each configuration runs in its own
process so that its peak RSS is its own.

Decision quality (`--quality-steps`): from the same first observations and the same seeds, each
variant chooses `steps` spots one after another in a closed loop (measured with the same noise);
the hypervolume of the true values of everything measured is compared.

    .venv/bin/python benchmarks/decision_latency.py [--sizes 100,500,1000,2000] [--qs 1,4]
        [--variants naive,junkan] [--naive-max-n 500] [--repeats 3] [--quality-start 20]
        [--quality-steps 30] [--quality-seeds 5] [--json]
"""

import argparse
import json
import multiprocessing
import platform
import resource
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

N_CANDIDATES = 5000
SD = {"band_gap": 0.05, "magnetization": 0.02}
TEMPERATURE = (25.0, 600.0)


@dataclass(frozen=True)
class Measured:
    condition: dict
    values: dict
    variances: dict


def growth_factor(temperature: np.ndarray) -> np.ndarray:
    """Fraction of the bulk magnetisation a film grown at this temperature reaches."""
    return 0.6 + 0.4 * np.exp(-(((temperature - 450.0) / 200.0) ** 2))


def problem(n: int, seed: int):
    from policies import DesignSpace
    from simulators import load_world

    world = load_world("fe-co-ni-oxide", seed=seed)
    space = DesignSpace.from_bounds(
        {"Fe": [0.05, 0.9], "Co": [0.05, 0.9], "Ni": [0.05, 0.9]},
        process={"substrate_temperature_c": list(TEMPERATURE)},
    )
    rng = np.random.default_rng(seed)
    pool = []
    while len(pool) < n + N_CANDIDATES + 10:
        x = space.uniform_from_cube(rng.random((4096, space.dim)))
        pool.extend(x[space.contains(x)])
    pool = np.array(pool)
    truth = dict(world.truth(space.compositions(pool)))
    truth["magnetization"] = truth["magnetization"] * growth_factor(pool[:, 3])
    values = {k: truth[k] + rng.normal(0, SD[k], len(pool)) for k in SD}
    return space, pool, values, truth


def observation(space, pool, values, i) -> Measured:
    return Measured(
        space.as_dict(pool[i]), {k: float(v[i]) for k, v in values.items()}, {k: s**2 for k, s in SD.items()}
    )


def naive_decision(space, pool, values, measured: list[int], candidates: np.ndarray, q: int) -> list[int]:
    """Refit both GPs and score every candidate with qLogNEHVI at BoTorch's defaults."""
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf_discrete
    from gpytorch.mlls import ExactMarginalLogLikelihood

    x = torch.tensor(space.to_free(pool[measured]), dtype=torch.float64)
    models = []
    for k, s in SD.items():
        y = torch.tensor(values[k][measured], dtype=torch.float64).unsqueeze(-1)
        model = SingleTaskGP(
            x,
            y,
            train_Yvar=torch.full_like(y, s**2),
            input_transform=Normalize(space.dim, bounds=space.free_bounds()),
            outcome_transform=Standardize(1),
        )
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        models.append(model)
    y_all = torch.stack([torch.tensor(values[k][measured]) for k in SD], dim=-1)
    acqf = qLogNoisyExpectedHypervolumeImprovement(
        ModelListGP(*models), ref_point=(y_all.min(0).values - 0.1).tolist(), X_baseline=x
    )
    choices = torch.tensor(space.to_free(pool[candidates]), dtype=torch.float64)
    chosen, _ = optimize_acqf_discrete(acqf, q=q, choices=choices)
    return [int(candidates[int(torch.argmin((choices - c).abs().sum(-1)))]) for c in chosen]


def junkan_policy(space, pool, values, measured: list[int]):
    from policies import BayesianPolicy, Costs, Objective

    policy = BayesianPolicy(
        space,
        [Objective("band_gap"), Objective("magnetization")],
        {"count_time_s": 1.0},
        seed=0,
        n_sobol=5,
        costs=Costs(spot_s=60.0, library_s=7200.0),
    )
    policy.tell([observation(space, pool, values, i) for i in measured])
    return policy


def junkan_decision(policy, space, pool, values, new: int, candidates: np.ndarray, q: int) -> list[int]:
    from policies import CandidateSet

    policy.tell([observation(space, pool, values, new)])
    policy.set_candidates(CandidateSet(tuple(str(i) for i in candidates), pool[candidates]))
    return [int(p.target_spot) for p in policy.ask(q) if p.target_spot is not None]


def run_configuration(args: tuple[str, int, int, int]) -> dict:
    variant, n, q, repeats = args
    torch.set_num_threads(2)
    space, pool, values, _ = problem(n + repeats, seed=0)
    candidates = np.arange(n + 10, n + 10 + N_CANDIDATES)
    policy = junkan_policy(space, pool, values, list(range(n - 1))) if variant == "junkan" else None
    times = []
    for r in range(repeats):
        started = time.perf_counter()
        if policy is None:
            naive_decision(space, pool, values, list(range(n + r)), candidates, q)
        else:
            junkan_decision(policy, space, pool, values, n - 1 + r, candidates, q)
        times.append(time.perf_counter() - started)
    return {
        "variant": variant,
        "n_observations": n,
        "q": q,
        "n_candidates": N_CANDIDATES,
        "median_s": statistics.median(times),
        "p95_s": float(np.percentile(times, 95)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "repeats": repeats,
    }


def closed_loop(args: tuple[str, int, int, int]) -> dict:
    """Start from n0 observations, choose `steps` spots one at a time; hypervolume of the truth."""
    from simulators import hypervolume

    variant, n0, steps, seed = args
    torch.set_num_threads(1)
    space, pool, values, truth = problem(n0 + steps, seed=seed)
    measured = list(range(n0))
    candidates = list(range(n0 + 10, n0 + 10 + N_CANDIDATES))
    policy = junkan_policy(space, pool, values, measured[:-1]) if variant == "junkan" else None
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        if policy is None:
            (chosen,) = naive_decision(space, pool, values, measured, np.array(candidates), 1)
        else:
            (chosen,) = junkan_decision(policy, space, pool, values, measured[-1], np.array(candidates), 1)
        times.append(time.perf_counter() - started)
        measured.append(chosen)
        candidates.remove(chosen)
    true_y = np.column_stack([truth[k][measured] for k in SD])
    reference = np.column_stack([truth[k] for k in SD]).min(axis=0)
    return {
        "variant": variant,
        "n_observations": n0,
        "steps": steps,
        "seed": seed,
        "hypervolume": float(hypervolume(true_y, reference)),
        "hypervolume_at_start": float(hypervolume(true_y[:n0], reference)),
        "median_s": statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,1000,2000")
    parser.add_argument("--qs", default="1,4")
    parser.add_argument("--variants", default="naive,junkan")
    parser.add_argument("--naive-max-n", type=int, default=500, help="naive past this size takes hours")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-repeats", type=int, default=1)
    parser.add_argument("--quality-start", type=int, default=20, help="observations before the loop")
    parser.add_argument("--quality-steps", type=int, default=30)
    parser.add_argument("--quality-seeds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    variants = args.variants.split(",")
    configurations = []
    for n in (int(s) for s in args.sizes.split(",")):
        for q in (int(s) for s in args.qs.split(",")):
            if "naive" in variants and n <= args.naive_max_n:
                configurations.append(("naive", n, q, args.naive_repeats))
            if "junkan" in variants:
                configurations.append(("junkan", n, q, args.repeats))
    context = multiprocessing.get_context("spawn")
    results = []
    print("| variant | n observations | q | median decision (s) | p95 (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for configuration in configurations:
        with context.Pool(1) as pool:  # a fresh process: its peak RSS is this configuration's
            results.append(pool.apply(run_configuration, (configuration,)))
        r = results[-1]
        print(
            f"| {r['variant']} | {r['n_observations']} | {r['q']} | {r['median_s']:.2f} | {r['p95_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} |",
            flush=True,
        )
    quality = []
    if args.quality_steps:
        jobs = [
            (variant, args.quality_start, args.quality_steps, seed)
            for seed in range(args.quality_seeds)
            for variant in variants
        ]
        with context.Pool(2) as pool:
            quality = pool.map(closed_loop, jobs)
        print(
            f"\n| seed | variant | hypervolume at {args.quality_start} | after steps | median decision (s) |"
        )
        print("|---|---|---|---|---|")
        for r in quality:
            print(
                f"| {r['seed']} | {r['variant']} | {r['hypervolume_at_start']:.4f} | "
                f"{r['hypervolume']:.4f} | {r['median_s']:.2f} |"
            )
        by = {(r["seed"], r["variant"]): r["hypervolume"] for r in quality}
        if set(variants) == {"naive", "junkan"}:
            ratios = [by[(s, "junkan")] / by[(s, "naive")] for s in range(args.quality_seeds)]
            print(f"junkan / naive final hypervolume, per seed: {[round(x, 4) for x in ratios]}")
    runtime = time.perf_counter() - started
    print(f"\nmachine: {platform.machine()}, torch {torch.__version__}; runtime {runtime:.0f} s")
    if args.json:
        print(
            json.dumps(
                {
                    "benchmark": "decision_latency",
                    "runtime_s": runtime,
                    "results": results,
                    "quality": quality,
                }
            )
        )


if __name__ == "__main__":
    main()
