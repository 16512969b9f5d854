"""Decision latency and peak memory at scale: naive BoTorch use beside junkan's policy, in one run.

Two objectives of the fe-co-ni-oxide world, 3-element simplex, known per-point noise, 5,000
unmeasured spots as discrete candidates. A decision is `tell` of one new observation plus `ask`
for q proposals. Naive: every decision refits both GPs from scratch and scores the candidates with
qLogNEHVI at BoTorch's defaults (no baseline pruning) in one `optimize_acqf_discrete` call. junkan:
`BayesianPolicy` (hyperparameters refitted on a schedule, conditioning in between; pruned baseline;
candidates scored in chunks, spot against new library by value per second). Each configuration runs
in its own process so that its peak RSS is its own.

    .venv/bin/python benchmarks/decision_latency.py [--sizes 100,500,1000] [--qs 1,4] [--repeats 3] [--json]
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


@dataclass(frozen=True)
class Measured:
    condition: dict
    values: dict
    variances: dict


def problem(n: int, seed: int):
    from policies import CompositionSimplex
    from simulators import load_world

    world = load_world("fe-co-ni-oxide", seed=seed)
    space = CompositionSimplex.from_bounds({"Fe": [0.05, 0.9], "Co": [0.05, 0.9], "Ni": [0.05, 0.9]})
    rng = np.random.default_rng(seed)
    pool = []
    while len(pool) < n + N_CANDIDATES + 10:
        x = space.uniform_from_cube(rng.random((4096, 2)))
        pool.extend(x[space.contains(x)])
    pool = np.array(pool)
    truth = world.truth(pool)
    sd = {"band_gap": 0.05, "magnetization": 0.02}
    values = {k: truth[k] + rng.normal(0, sd[k], len(pool)) for k in sd}
    return space, pool, values, sd


def observation(space, pool, values, sd, i) -> Measured:
    return Measured(
        space.as_dict(pool[i]), {k: float(v[i]) for k, v in values.items()}, {k: s**2 for k, s in sd.items()}
    )


def naive_decision(space, pool, values, sd, n: int, q: int) -> float:
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf_discrete
    from gpytorch.mlls import ExactMarginalLogLikelihood

    started = time.perf_counter()
    x = torch.tensor(space.to_free(pool[:n]), dtype=torch.float64)
    models = []
    for k, s in sd.items():
        y = torch.tensor(values[k][:n], dtype=torch.float64).unsqueeze(-1)
        model = SingleTaskGP(
            x,
            y,
            train_Yvar=torch.full_like(y, s**2),
            input_transform=Normalize(2),
            outcome_transform=Standardize(1),
        )
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        models.append(model)
    model = ModelListGP(*models)
    y_all = torch.stack([torch.tensor(values[k][:n]) for k in sd], dim=-1)
    acqf = qLogNoisyExpectedHypervolumeImprovement(
        model, ref_point=(y_all.min(0).values - 0.1).tolist(), X_baseline=x
    )
    choices = torch.tensor(space.to_free(pool[n + 10 : n + 10 + N_CANDIDATES]), dtype=torch.float64)
    optimize_acqf_discrete(acqf, q=q, choices=choices)
    return time.perf_counter() - started


def junkan_policy(space, pool, values, sd, n: int):
    from policies import BayesianPolicy, CandidateSet, Costs, Objective

    policy = BayesianPolicy(
        space,
        [Objective("band_gap"), Objective("magnetization")],
        {"count_time_s": 1.0},
        seed=0,
        n_sobol=5,
        costs=Costs(spot_s=60.0, library_s=7200.0),
    )
    policy.tell([observation(space, pool, values, sd, i) for i in range(n - 1)])
    ids = tuple(f"L001-{i:04d}" for i in range(N_CANDIDATES))
    policy.set_candidates(CandidateSet(ids, pool[n + 10 : n + 10 + N_CANDIDATES]))
    return policy


def run_configuration(args: tuple[str, int, int, int]) -> dict:
    variant, n, q, repeats = args
    torch.set_num_threads(2)
    space, pool, values, sd = problem(n + repeats, seed=0)
    times = []
    if variant == "naive":
        for r in range(repeats):
            times.append(naive_decision(space, pool, values, sd, n + r, q))
    else:
        policy = junkan_policy(space, pool, values, sd, n)
        for r in range(repeats):
            started = time.perf_counter()
            policy.tell([observation(space, pool, values, sd, n - 1 + r)])
            policy.ask(q)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--qs", default="1,4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-repeats", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    configurations = []
    for n in (int(s) for s in args.sizes.split(",")):
        for q in (int(s) for s in args.qs.split(",")):
            configurations += [("naive", n, q, args.naive_repeats), ("junkan", n, q, args.repeats)]
    context = multiprocessing.get_context("spawn")
    results = []
    for configuration in configurations:
        with context.Pool(1) as pool:  # a fresh process: its peak RSS is this configuration's
            results.append(pool.apply(run_configuration, (configuration,)))
        r = results[-1]
        print(
            f"| {r['variant']} | {r['n_observations']} | {r['q']} | {r['median_s']:.2f} | {r['p95_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} |",
            flush=True,
        )
    runtime = time.perf_counter() - started
    print(f"\nmachine: {platform.machine()}, torch {torch.__version__}; runtime {runtime:.0f} s")
    if args.json:
        print(json.dumps({"benchmark": "decision_latency", "runtime_s": runtime, "results": results}))


if __name__ == "__main__":
    print("| variant | n observations | q | median decision (s) | p95 (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    main()
