"""Calibration of the noise models: 90 % interval coverage and test NLL where the instrument is quiet
and where it is noisy, beside a homoscedastic GP, on a random split and on a held-out corner.

World fe-ga-pd, objective magnetisation counted for 1 s on films whose thickness falls from
200 nm (Fe-rich) to 5 nm (Fe-poor), so the noise sd varies about tenfold with the condition,
through the film and through the value. `known` trusts the counting variances; `learned` never
sees them; `counting` scales them by a fitted over-dispersion and floor. `policy/NAME` is junkan's
`BayesianPolicy` with that noise model, as the loop runs it: the surrogate it chose by leave-one-out
evidence (kernel, learned floor), its predictive sd = latent sd and predicted noise sd.

    .venv/bin/python benchmarks/calibration.py [--seeds 3] [--n-train 150] [--json]
"""

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood
from scipy.stats import norm

from policies import BayesianPolicy, DesignSpace, Objective, noise_model
from policies.noise import NOISE_MODELS
from simulators import load_world

Z90 = norm.ppf(0.95)
SPACE = DesignSpace.from_bounds({"Fe": [0.3, 0.95], "Ga": [0.0, 0.5], "Pd": [0.0, 0.5]})


def thickness_nm(x: np.ndarray) -> np.ndarray:
    return 5.0 + 195.0 * ((x[:, 0] - 0.3) / 0.65) ** 2


def measure(world, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, variances = [], []
    for row, t in zip(x, thickness_nm(x), strict=True):
        r = world.measure_counts(dict(zip(world.elements, row, strict=True)), "magnetization", 1.0, t)
        scale = r.counts_per_unit_s * r.count_time_s
        values.append((r.counts - r.background_counts) / scale)
        variances.append(max(r.counts, 1) / scale**2)
    return np.array(values), np.array(variances)


def true_sd(world, x: np.ndarray) -> np.ndarray:
    """Noise sd of one measurement at each condition, from the counting model."""
    channel = world.channels["magnetization"]
    gain = channel.counts_per_unit_s * thickness_nm(x) / 100.0
    expected = np.clip(world.truth(x)["magnetization"], 0, None) * gain + channel.background_counts_per_s
    return np.sqrt(expected) / gain


def sample(rng: np.random.Generator, n: int) -> np.ndarray:
    out = []
    while len(out) < n:
        x = SPACE.uniform_from_cube(rng.random((4 * n, SPACE.dim)))
        out.extend(x[SPACE.contains(x)])
    return np.array(out[:n])


@dataclass(frozen=True)
class Measured:
    condition: dict
    values: dict
    variances: dict


def policy_prediction(noise: str, x_train, y_train, v_train, x_test) -> tuple[np.ndarray, np.ndarray]:
    """`BayesianPolicy.predict` after it was told the training data: the mean and the predictive sd
    (latent sd and noise sd, the learned floor included) a person sees on the dashboard."""
    policy = BayesianPolicy(
        SPACE, [Objective("magnetization")], {"count_time_s": 1.0}, noise=NOISE_MODELS[noise]
    )
    policy.tell(
        [
            Measured(SPACE.as_dict(x), {"magnetization": float(y)}, {"magnetization": float(v)})
            for x, y, v in zip(x_train, y_train, v_train, strict=True)
        ]
    )
    prediction = policy.predict(x_test)["magnetization"]
    return prediction.mean, np.sqrt(prediction.sd**2 + prediction.noise_sd**2)


def evaluate(name: str, x_train, y_train, v_train, x_test, y_test):
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    xt, yt, vt = t(SPACE.to_free(x_train)), t(y_train)[:, None], t(v_train)[:, None]
    xs = t(SPACE.to_free(x_test))
    bounds = SPACE.free_bounds()
    transforms = {"input_transform": Normalize(2, bounds=bounds), "outcome_transform": Standardize(1)}
    if name.startswith("policy/"):  # junkan's policy as the loop runs it: the surrogate it chose
        mean, sd = policy_prediction(name.removeprefix("policy/"), x_train, y_train, v_train, x_test)
        inside = np.abs(y_test - mean) <= Z90 * sd
        return inside, -norm.logpdf(y_test, mean, sd)
    if name == "homoscedastic":
        model = SingleTaskGP(xt, yt, **transforms)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        with torch.no_grad():
            posterior = model.posterior(xs, observation_noise=True)
            mean, variance = posterior.mean, posterior.variance
    else:
        noise = noise_model(name)
        train_var = noise.fit(xt, yt, vt, bounds)
        model = SingleTaskGP(xt, yt, train_Yvar=train_var, **transforms)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        with torch.no_grad():
            posterior = model.posterior(xs)
            mean, variance = posterior.mean, posterior.variance + noise.predict(xs)
    mean, sd = mean.squeeze(-1).numpy(), variance.sqrt().squeeze(-1).numpy()
    inside = np.abs(y_test - mean) <= Z90 * sd
    nll = -norm.logpdf(y_test, mean, sd)
    return inside, nll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=150)
    parser.add_argument("--n-test", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    models = ["homoscedastic", "known", "learned", "counting", "policy/known", "policy/learned"]
    results = []
    for split in ("random", "held-out corner"):
        for name in models:
            quiet_cov, noisy_cov, nll = [], [], []
            for seed in range(args.seeds):
                world = load_world("fe-ga-pd", seed=seed)
                rng = np.random.default_rng(seed)
                pool = sample(rng, args.n_train + args.n_test)
                if split == "random":
                    x_train, x_test = pool[: args.n_train], pool[args.n_train :]
                else:  # train away from the Pd-rich corner, test inside it (extrapolation)
                    corner = pool[:, 2] > 0.3
                    x_train, x_test = pool[~corner][: args.n_train], pool[corner]
                y_train, v_train = measure(world, x_train)
                y_test, _ = measure(world, x_test)
                inside, losses = evaluate(name, x_train, y_train, v_train, x_test, y_test)
                sd = true_sd(world, x_test)
                noisy = sd > np.median(true_sd(world, pool))
                quiet_cov.append(inside[~noisy].mean() if (~noisy).any() else np.nan)
                noisy_cov.append(inside[noisy].mean() if noisy.any() else np.nan)
                nll.append(losses.mean())
            results.append(
                {
                    "split": split,
                    "model": name,
                    "coverage_quiet": float(np.nanmedian(quiet_cov)),
                    "coverage_noisy": float(np.nanmedian(noisy_cov)),
                    "test_nll": float(np.median(nll)),
                }
            )
    runtime = time.perf_counter() - started
    print(
        f"seeds {args.seeds}, {args.n_train} training points; medians over seeds; runtime {runtime:.0f} s\n"
    )
    print("| split | noise model | 90 % coverage, quiet half | 90 % coverage, noisy half | test NLL |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['split']} | {r['model']} | {r['coverage_quiet']:.2f} | {r['coverage_noisy']:.2f} | "
            f"{r['test_nll']:.2f} |"
        )
    if args.json:
        print(json.dumps({"benchmark": "calibration", "runtime_s": runtime, "results": results}))


if __name__ == "__main__":
    main()
