"""Decision time with an expert's prior on the acquisition, beside the same campaign without it.

A prior is a plain function of compositions (no gradient of its own). Each seed runs a short
campaign on a smooth quadratic over a bounded Fe-Ga-Pd simplex (optimum Fe0.35 Ga0.30 Pd0.35,
noise sd 0.01), 4 Sobol points then model-based asks, once with a prior that prefers low Ga
(weight exp(-Ga / 0.1)), once with one that vetoes Pd > 0.3, and once without. Printed per arm:
each ask's wall time (median and max over all model-based asks of all seeds), the acquisition
evaluations per ask (median, max), and the mean Ga and largest Pd of the model-chosen points
(where the prior moved the choices). One torch thread.

    .venv/bin/python benchmarks/prior_decisions.py [--seeds 8] [--steps 10] [--json]

Run it with `PYTHONPATH=OTHER_CHECKOUT` to time another version of `policies` side by side.
"""

import argparse
import json
import time
import warnings

import numpy as np
import torch
from peer_agents import _Observation

from policies import BayesianPolicy, DesignSpace, Objective
from policies.acquisition import PriorWeightedAcquisition

BOUNDS = {"Fe": [0.2, 0.9], "Ga": [0.0, 0.6], "Pd": [0.0, 0.6]}
OPTIMUM = np.array([0.35, 0.30, 0.35])
PRIORS = {
    "none": None,
    "prefer low Ga": lambda x: np.exp(-x[:, 1] / 0.1),
    "veto Pd > 0.3": lambda x: np.where(x[:, 2] > 0.3, 0.0, 1.0),
}


class _Counted(PriorWeightedAcquisition):
    calls = 0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        type(self).calls += 1
        return super().forward(X)


def campaign(prior_name: str, seed: int, steps: int) -> dict:
    space = DesignSpace.from_bounds(BOUNDS)
    policy = BayesianPolicy(
        space, [Objective("y")], {"count_time_s": 1.0}, seed=seed, n_sobol=4, prior=PRIORS[prior_name]
    )
    rng = np.random.default_rng(seed)
    seconds, calls, chosen = [], [], []
    for _ in range(steps):
        _Counted.calls = 0
        started = time.perf_counter()
        (proposal,) = policy.ask(1)
        elapsed = time.perf_counter() - started
        x = np.array([proposal.condition[e] for e in space.elements])
        if proposal.generator != "sobol":
            seconds.append(elapsed)
            calls.append(_Counted.calls)
            chosen.append(x)
        y = 1 - np.sum((x - OPTIMUM) ** 2) / 0.3 + rng.normal(0, 0.01)
        policy.tell([_Observation(dict(proposal.condition), {"y": float(y)}, {"y": 1e-4})])
    chosen_x = np.array(chosen)
    return {
        "seconds": seconds,
        "calls": calls,
        "mean_ga": float(chosen_x[:, 1].mean()),
        "max_pd": float(chosen_x[:, 2].max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    import policies.acquisition as acquisition

    acquisition.PriorWeightedAcquisition = _Counted  # count every evaluation the optimiser asks for
    result = {}
    for name in PRIORS:
        runs = [campaign(name, seed, args.steps) for seed in range(args.seeds)]
        seconds = np.concatenate([r["seconds"] for r in runs])
        calls = np.concatenate([r["calls"] for r in runs])
        result[name] = {
            "ask_seconds_median": float(np.median(seconds)),
            "ask_seconds_max": float(seconds.max()),
            "acquisition_calls_median": float(np.median(calls)),
            "acquisition_calls_max": int(calls.max()),
            "mean_ga_median": float(np.median([r["mean_ga"] for r in runs])),
            "max_pd": float(max(r["max_pd"] for r in runs)),
            "per_seed_total_seconds": [float(np.sum(r["seconds"])) for r in runs],
        }
    if args.json:
        print(json.dumps(result))
        return
    print("| prior | ask s median / max | acquisition evaluations median / max | mean Ga (median) | max Pd |")
    print("|---|---|---|---|---|")
    for name, r in result.items():
        evaluations = (
            "-" if name == "none" else f"{r['acquisition_calls_median']:.0f} / {r['acquisition_calls_max']}"
        )
        print(
            f"| {name} | {r['ask_seconds_median']:.2f} / {r['ask_seconds_max']:.2f} | {evaluations} "
            f"| {r['mean_ga_median']:.3f} | {r['max_pd']:.3f} |"
        )


if __name__ == "__main__":
    main()
