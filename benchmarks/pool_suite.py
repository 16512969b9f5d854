"""Pool replay over a suite of generated tables: how well junkan chooses among the rows of a fully
measured table, beside a plain BoTorch agent and random, on tables of varied kind, so that a change to
junkan's pool decisions is judged in general and not on one table (`pool_replay_fe_ga_pd.py` has one).

    .venv/bin/python benchmarks/pool_suite.py [--seeds 10] [--budget 60] [--tables NAME,...]
        [--table-seed 0] [--keep-tables DIR] [--json]

Tables: standard test functions (BoTorch's definitions) and two hand-written smooth functions, rescaled
onto boxes of lab-like inputs (a temperature, a time, a ratio, ...), sampled at random rows
(Latin-hypercube or uniform), or a composition grid; written as CSV with a header row, as
`junkan replay --pool` reads them. Every table is a deterministic function of --table-seed and its
name. Their parameters were chosen once, by reasoning (see `TABLES`), not tuned to any agent's result.
"spread" below is the standard deviation of the table's noise-free values over its rows:

- `branin-2d`: Branin, 2 inputs, 200 uniform rows, noiseless, minimised (three equal minima);
- `hartmann3-5pct`: -Hartmann-3, 3 inputs, 300 Latin-hypercube rows, noise sd 5 % of the spread;
- `hartmann6-slice-20pct`: -Hartmann-6 with x6 fixed at its argmax coordinate (0.6573), 5 inputs,
  600 Latin-hypercube rows, noise sd 20 % of the spread;
- `styblinski-tang-3d-hetero`: Styblinski-Tang, 3 inputs, 400 uniform rows, minimised; the noise sd
  grows 6x along the temperature, from 5 % to 30 % of the spread, and the global minimum lies at the
  noisy end (where heteroscedastic noise matters; at the quiet end it would test nothing);
- `two-bumps-2d`: a product-of-Gaussians peak (sd 0.06 of each range, height 1) and a broad local
  bump (sd 0.25, height 0.6) far from it, 2 inputs, 300 uniform rows, noiseless;
- `skewed-3decades`: 10 ** (3 s) for a smooth s rescaled onto [0, 1] over the rows (values span 3
  decades, heavy upper tail), 3 inputs, 250 Latin-hypercube rows, multiplicative log-normal noise
  (sd 0.1 in ln: about 10 %);
- `ackley-4d-replicates`: Ackley on [-2, 3]^4 (minimum off-centre), 4 inputs, minimised; 200
  Latin-hypercube conditions, 50 of them measured twice and 25 three times (300 rows, rows shuffled),
  each row with independent noise of sd 10 % of the spread;
- `simplex-4-grid`: 4 fractions on the grid of step 0.1 (286 compositions, the corners and edges
  included), a narrow bump near a ternary edge, a broad one, and a linear trend; noise sd 5 %.

Agents, each over seeds 0 .. S-1 with the same budget B (measurements):

- junkan: `orchestrator.pool_replay.pool_replay(..., policy="bayesian", workers=1)`, which also runs
  random (a seeded permutation of the conditions) and scores both;
- botorch: the agent a user would write with plain BoTorch: inputs scaled to [0, 1] by the table's
  min/max (a simplex: its first d - 1 fractions), the observed values standardised (sign flipped to
  minimise), `SingleTaskGP` with its defaults (learned homoscedastic noise, default priors and outcome
  transform) fitted by `fit_gpytorch_mll`, `LogExpectedImprovement` at the best observed standardised
  value evaluated on every available condition, the argmax measured; its first 2 measurements are
  chosen uniformly at random among the conditions (seeded). Conditions and replicates as in pool
  replay (`ReplicateServer`): a condition stays available while it has unserved rows, served in table
  order. One torch thread, float64, seeds run in turn in this process.

Scores are pool replay's own (`load_pool`, `_targets`, `_score`): n_to_best is the measurement (1-based)
at which a condition with the best mean is first measured, B + 1 when never (censored); the top 5 % are
the ceil(5 % x conditions) best conditions by mean (ties at the boundary included), and the fraction of
them measured within the budget. Per table: median n_to_best (censored seeds in brackets), median top-5 %
fraction by the budget and by a third of it (the peers' EF at 20 of 60), junkan against botorch seed by
seed on n_to_best (wins / losses / ties; a win is a smaller n_to_best, two censored seeds tie), and
runtimes. --json prints one JSON document on stdout (the markdown table then goes to stderr, with
progress).
"""

import argparse
import csv
import json
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.campaign_scores import found_curve, paired_outcomes
from orchestrator.pool_replay import (
    Pool,
    ReplicateServer,
    _score,
    _targets,
    design_space,
    load_pool,
    pool_replay,
)

N_RANDOM_START = 2  # the botorch agent's random picks before its first model (junkan's: d + 1, its default)


# -- tables ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A generated table: input columns (in their units), one objective column, and what it is."""

    name: str
    description: str
    inputs: tuple[str, ...]
    objective: str
    goal: str  # "max" | "min"
    x: np.ndarray  # (n_rows, n_inputs)
    y: np.ndarray  # (n_rows,)

    def write(self, path: Path) -> Path:
        """The CSV `pool_replay` reads; floats written exactly (repr), so replicates stay identical."""
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*self.inputs, self.objective])
            for row, value in zip(self.x, self.y, strict=True):
                writer.writerow([repr(float(v)) for v in row] + [repr(float(value))])
        return path


def _latin_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n points of [0, 1]^d, one in each of n equal slices of every coordinate."""
    return np.column_stack([(rng.permutation(n) + rng.random(n)) / n for _ in range(d)])


def _scale(u: np.ndarray, ranges: Sequence[tuple[float, float]]) -> np.ndarray:
    """Unit-box points onto the inputs' ranges (the CSV's units)."""
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    return lo + u * (hi - lo)


def _botorch_function(name: str, z: np.ndarray, **kwargs: Any) -> np.ndarray:
    """A BoTorch test function's noise-free value (its own definition, not negated) at points z."""
    import torch
    from botorch import test_functions

    function = getattr(test_functions, name)(**kwargs)
    with torch.no_grad():
        return function.evaluate_true(torch.as_tensor(z, dtype=torch.float64)).numpy()


def _gaussian(u: np.ndarray, centre: Sequence[float], sd: float) -> np.ndarray:
    """A product of one-dimensional Gaussians (an isotropic bump), 1 at its centre."""
    return np.exp(-(((u - np.asarray(centre)) / sd) ** 2).sum(axis=1) / 2)


def branin_2d(rng: np.random.Generator) -> Table:
    ranges = [(100.0, 400.0), (1.0, 60.0)]
    u = rng.random((200, 2))
    z = np.column_stack([-5 + 15 * u[:, 0], 15 * u[:, 1]])  # Branin's box [-5, 10] x [0, 15]
    y = _botorch_function("Branin", z)
    return Table(
        "branin-2d",
        "Branin; 200 uniform rows; noiseless; minimise",
        ("anneal_temperature_C", "anneal_time_min"),
        "sheet_resistance_ohm",
        "min",
        _scale(u, ranges),
        y,
    )


def hartmann3_5pct(rng: np.random.Generator) -> Table:
    ranges = [(150.0, 450.0), (0.5, 20.0), (0.0, 1.0)]
    u = _latin_hypercube(rng, 300, 3)
    f = -_botorch_function("Hartmann", u, dim=3)
    y = f + rng.normal(0.0, 0.05 * f.std(), len(f))
    return Table(
        "hartmann3-5pct",
        "-Hartmann-3; 300 LHS rows; noise sd 5 % of spread; maximise",
        ("substrate_temperature_C", "pressure_mbar", "ar_o2_ratio"),
        "figure_of_merit",
        "max",
        _scale(u, ranges),
        y,
    )


def hartmann6_slice_20pct(rng: np.random.Generator) -> Table:
    ranges = [(100.0, 400.0), (1.0, 60.0), (0.0, 1.0), (20.0, 200.0), (5.0, 50.0)]
    u = _latin_hypercube(rng, 600, 5)
    z = np.column_stack([u, np.full(len(u), 0.6573)])  # x6 at its argmax coordinate: the max stays 3.32
    f = -_botorch_function("Hartmann", z, dim=6)
    y = f + rng.normal(0.0, 0.20 * f.std(), len(f))
    return Table(
        "hartmann6-slice-20pct",
        "-Hartmann-6, x6 fixed; 600 LHS rows; noise sd 20 % of spread; maximise",
        ("temperature_C", "time_min", "gas_ratio", "power_W", "flow_sccm"),
        "yield_pct",
        "max",
        _scale(u, ranges),
        y,
    )


def styblinski_tang_3d_hetero(rng: np.random.Generator) -> Table:
    ranges = [(300.0, 900.0), (1.0, 20.0), (0.2, 5.0)]
    u = rng.random((400, 3))
    # temperature runs against x1, so the global minimum (x = -2.9035) sits at the noisy hot end
    z = np.column_stack([5 - 10 * u[:, 0], -5 + 10 * u[:, 1:]])
    f = _botorch_function("StyblinskiTang", z, dim=3)
    sd = 0.05 * f.std() * (1 + 5 * u[:, 0])  # 5 % of the spread when cold, 30 % when hot
    y = f + rng.normal(0.0, 1.0, len(f)) * sd
    return Table(
        "styblinski-tang-3d-hetero",
        "Styblinski-Tang; 400 uniform rows; noise sd 5 -> 30 % of spread along temperature; minimise",
        ("calcination_temperature_C", "ramp_K_per_min", "precursor_ratio"),
        "impurity_pct",
        "min",
        _scale(u, ranges),
        y,
    )


def two_bumps_2d(rng: np.random.Generator) -> Table:
    ranges = [(20.0, 200.0), (100.0, 2000.0)]
    u = rng.random((300, 2))
    y = _gaussian(u, (0.8, 0.2), 0.06) + 0.6 * _gaussian(u, (0.3, 0.65), 0.25)
    return Table(
        "two-bumps-2d",
        "narrow peak (sd 0.06) + broad local bump (sd 0.25, 0.6 high); 300 uniform rows; noiseless; maximise",
        ("laser_power_W", "scan_speed_mm_per_s"),
        "density_pct",
        "max",
        _scale(u, ranges),
        y,
    )


def skewed_3decades(rng: np.random.Generator) -> Table:
    ranges = [(200.0, 600.0), (0.5, 12.0), (0.0, 0.2)]
    u = _latin_hypercube(rng, 250, 3)
    a, b, c = u[:, 0] - 0.72, u[:, 1] - 0.3, u[:, 2] - 0.55
    smooth = -(1.5 * a**2 + 0.8 * b**2 + 1.2 * a * b + 0.4 * c**2) + 0.15 * np.sin(5 * u[:, 2])
    s = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    y = 10 ** (3 * s) * np.exp(rng.normal(0.0, 0.1, len(s)))
    return Table(
        "skewed-3decades",
        "10^(3 s), s smooth on [0, 1]; 250 LHS rows; log-normal noise 10 %; maximise",
        ("anneal_temperature_C", "dwell_h", "dopant_fraction"),
        "conductivity_S_per_cm",
        "max",
        _scale(u, ranges),
        y,
    )


def ackley_4d_replicates(rng: np.random.Generator) -> Table:
    ranges = [(100.0, 400.0), (1.0, 60.0), (-100.0, 0.0), (0.0, 1.0)]
    u = _latin_hypercube(rng, 200, 4)
    f = _botorch_function("Ackley", -2 + 5 * u, dim=4)  # [-2, 3]^4: the minimum at u = 0.4
    repeats = np.ones(len(u), dtype=int)
    extra = rng.permutation(len(u))
    repeats[extra[:50]] = 2
    repeats[extra[50:75]] = 3
    index = rng.permutation(np.repeat(np.arange(len(u)), repeats))  # 300 rows, in a shuffled order
    y = f[index] + rng.normal(0.0, 0.10 * f.std(), len(index))
    return Table(
        "ackley-4d-replicates",
        "Ackley on [-2, 3]^4; 200 LHS conditions, 75 replicated (300 rows); noise sd 10 %; minimise",
        ("temperature_C", "time_min", "bias_V", "ratio"),
        "roughness_nm",
        "min",
        _scale(u, ranges)[index],
        y,
    )


def simplex_4_grid(rng: np.random.Generator) -> Table:
    steps = 10
    grid = np.array(
        [
            (i, j, k, steps - i - j - k)
            for i in range(steps + 1)
            for j in range(steps + 1 - i)
            for k in range(steps + 1 - i - j)
        ]
    )
    x = grid / steps
    f = (
        _gaussian(x, (0.45, 0.35, 0.17, 0.03), 0.10)
        + 0.5 * _gaussian(x, (0.1, 0.15, 0.2, 0.55), 0.3)
        + 0.3 * x @ np.array([0.2, -0.1, 0.0, 0.3])
    )
    y = f + rng.normal(0.0, 0.05 * f.std(), len(f))
    return Table(
        "simplex-4-grid",
        "4 fractions, grid step 0.1 (286 rows); narrow + broad bump + trend; noise sd 5 %; maximise",
        ("frac_a", "frac_b", "frac_c", "frac_d"),
        "activity",
        "max",
        x,
        y,
    )


TABLES: dict[str, Callable[[np.random.Generator], Table]] = {
    "branin-2d": branin_2d,
    "hartmann3-5pct": hartmann3_5pct,
    "hartmann6-slice-20pct": hartmann6_slice_20pct,
    "styblinski-tang-3d-hetero": styblinski_tang_3d_hetero,
    "two-bumps-2d": two_bumps_2d,
    "skewed-3decades": skewed_3decades,
    "ackley-4d-replicates": ackley_4d_replicates,
    "simplex-4-grid": simplex_4_grid,
}


def make_table(name: str, table_seed: int) -> Table:
    """The table `name`, the same for the same seed whichever other tables are asked for."""
    return TABLES[name](np.random.default_rng([table_seed, zlib.crc32(name.encode())]))


# -- the plain BoTorch agent -------------------------------------------------------------------------
def botorch_features(pool: Pool) -> np.ndarray:
    """Every condition as the agent's model sees it: [0, 1] by the table's min/max per input (a
    simplex: its first d - 1 fractions, the last being 1 minus their sum)."""
    x = pool.conditions.astype(float)
    if design_space(pool)[2] == "simplex":
        x = x[:, :-1]
    lo, hi = x.min(axis=0), x.max(axis=0)
    return (x - lo) / (hi - lo)


def botorch_seed(pool: Pool, features: np.ndarray, seed: int, budget: int) -> tuple[list[int], int]:
    """One seed of the plain BoTorch agent: the conditions it measured, in order, and how many of its
    model fits raised (the model then kept the hyperparameters it had)."""
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.exceptions.errors import ModelFittingError
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    sign = float(pool.signs[0])
    server = ReplicateServer(pool)
    chosen: list[int] = []
    values: list[float] = []
    failed_fits = 0
    for k in range(budget):
        available = server.available()
        if k < N_RANDOM_START:
            condition = int(rng.choice(available))
        else:
            signed = sign * np.array(values)
            scale = signed.std(ddof=1)
            standardised = (signed - signed.mean()) / (scale if scale > 0 else 1.0)
            train_x = torch.tensor(features[chosen], dtype=torch.float64)
            train_y = torch.tensor(standardised, dtype=torch.float64).unsqueeze(-1)
            model = SingleTaskGP(train_x, train_y)
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # optimiser and numerical warnings: the fit retries
                try:
                    fit_gpytorch_mll(mll)
                except ModelFittingError:
                    failed_fits += 1
            acquisition = LogExpectedImprovement(model, best_f=float(standardised.max()))
            candidates = torch.tensor(features[available], dtype=torch.float64).unsqueeze(1)
            with torch.no_grad():
                scores = acquisition(candidates)
            condition = int(available[int(torch.argmax(scores))])
        value, _ = server.serve(condition)
        chosen.append(condition)
        values.append(value[pool.objectives[0]])
    return chosen, failed_fits


def run_botorch(pool: Pool, seeds: int, budget: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    features = botorch_features(pool)
    targets = _targets(pool)
    n_to_best: list[int] = []
    top5: list[float] = []
    found: list[np.ndarray] = []
    failed = 0
    for seed in range(seeds):
        chosen, failed_fits = botorch_seed(pool, features, seed, budget)
        n, fraction, _ = _score(pool, targets, chosen, budget)
        n_to_best.append(n)
        top5.append(fraction)
        found.append(found_curve(chosen, targets.top))
        failed += failed_fits
    return {
        "n_to_best": n_to_best,
        "top5_fraction": top5,
        "top5_fraction_curve": [float(v) for v in np.median(found, axis=0)],
        "failed_fits": failed,
        "runtime_s": time.perf_counter() - started,
    }


# -- the suite ----------------------------------------------------------------------------------------
def _median(values: Sequence[float]) -> float:
    return float(np.median(values))


def run_table(table: Table, directory: Path, seeds: int, budget: int) -> dict[str, Any]:
    path = table.write(directory / f"{table.name}.csv")
    objectives = [(table.objective, table.goal)]
    pool = load_pool(path, table.inputs, objectives)
    junkan = pool_replay(
        path, list(table.inputs), objectives, policy="bayesian", budget=budget, seeds=seeds, workers=1
    )
    reference = run_botorch(pool, seeds, budget)
    runs = {
        "junkan": (junkan["n_to_best"], junkan["top5_fraction"], junkan["top5_fraction_curve"]),
        "botorch": (reference["n_to_best"], reference["top5_fraction"], reference["top5_fraction_curve"]),
        "random": (
            junkan["random_n_to_best"],
            junkan["random_top5_fraction"],
            junkan["random_top5_fraction_curve"],
        ),
    }
    early = max(1, budget // 3)  # the share of the top 5 % found early, as the peers' EF at 20 of 60
    # fewer measurements to the best wins: compared as negated counts
    versus = paired_outcomes(-np.array(junkan["n_to_best"], float), -np.array(reference["n_to_best"], float))
    return {
        "table": table.name,
        "description": table.description,
        "inputs": list(table.inputs),
        "objective": table.objective,
        "goal": table.goal,
        "design_space": junkan["design_space"],
        "n_rows": pool.n_rows,
        "n_conditions": len(pool),
        "n_top5": junkan["n_top5"],
        "best_value": junkan["best_value"],
        "agents": {
            agent: {
                "n_to_best_median": _median(n),
                "n_to_best_censored": sum(v > budget for v in n),
                "n_to_best": n,
                "top5_fraction_median": _median(top),
                "top5_fraction": top,
                "early_budget": early,
                "top5_fraction_early_median": curve[early - 1],
            }
            for agent, (n, top, curve) in runs.items()
        },
        "junkan_vs_botorch": dict(zip(("wins", "losses", "ties"), versus, strict=True)),
        "junkan_runtime_s": junkan["runtime_s"],
        "junkan_seconds_per_seed_median": junkan["seconds_per_seed_median"],
        "junkan_mapped_to_nearest_per_seed": junkan["mapped_to_nearest_per_seed"],
        "junkan_noise": junkan["noise"],
        "junkan_notes": junkan["notes"],
        "botorch_runtime_s": reference["runtime_s"],
        "botorch_failed_fits": reference["failed_fits"],
    }


def _n(agent: dict[str, Any]) -> str:
    median = agent["n_to_best_median"]
    text = f"{median:g}"
    return f"{text} ({agent['n_to_best_censored']})" if agent["n_to_best_censored"] else text


def markdown(results: Sequence[dict[str, Any]], seeds: int, budget: int) -> str:
    lines = [
        f"Pool suite: {seeds} seeds, budget {budget}. n_to_best: median (censored seeds, of {seeds}, in "
        f"brackets; censored = {budget + 1}); top 5 %: median fraction measured by the budget, and by "
        f"a third of it ({budget // 3}).",
        "",
        "| table | space | cond. (rows) | goal | n_to_best junkan | botorch | random "
        "| top-5 % junkan | botorch | random | at a third of the budget: junkan | botorch | random "
        "| junkan vs botorch W/L/T | junkan s | botorch s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        a = r["agents"]
        versus = r["junkan_vs_botorch"]
        lines.append(
            f"| {r['table']} | {r['design_space']} | {r['n_conditions']} ({r['n_rows']}) | {r['goal']} "
            f"| {_n(a['junkan'])} | {_n(a['botorch'])} | {_n(a['random'])} "
            f"| {a['junkan']['top5_fraction_median']:.2f} | {a['botorch']['top5_fraction_median']:.2f} "
            f"| {a['random']['top5_fraction_median']:.2f} "
            f"| {a['junkan']['top5_fraction_early_median']:.2f} "
            f"| {a['botorch']['top5_fraction_early_median']:.2f} "
            f"| {a['random']['top5_fraction_early_median']:.2f} "
            f"| {versus['wins']}/{versus['losses']}/{versus['ties']} "
            f"| {r['junkan_runtime_s']:.0f} | {r['botorch_runtime_s']:.0f} |"
        )
    return "\n".join(lines)


def summary(results: Sequence[dict[str, Any]]) -> str:
    level = [
        r["table"]
        for r in results
        if r["agents"]["junkan"]["n_to_best_median"] <= r["agents"]["botorch"]["n_to_best_median"]
    ]
    wins = sum(r["junkan_vs_botorch"]["wins"] for r in results)
    losses = sum(r["junkan_vs_botorch"]["losses"] for r in results)
    ties = sum(r["junkan_vs_botorch"]["ties"] for r in results)
    return (
        f"junkan's median n_to_best <= botorch's on {len(level)} of {len(results)} tables "
        f"({', '.join(level) or 'none'}); seeds won/lost/tied {wins}/{losses}/{ties}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--tables", default=",".join(TABLES), help=f"comma-separated, of {list(TABLES)}")
    parser.add_argument("--table-seed", type=int, default=0, help="the seed the tables are generated from")
    parser.add_argument("--keep-tables", type=Path, default=None, help="write the CSVs here (kept)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args()
    names = [n.strip() for n in args.tables.split(",") if n.strip()]
    unknown = [n for n in names if n not in TABLES]
    if unknown or not names:
        parser.error(f"unknown table(s) {unknown}; valid: {list(TABLES)}")
    if args.seeds < 1 or args.budget < 1:
        parser.error("--seeds and --budget must be >= 1")
    report = sys.stderr if args.json else sys.stdout
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="junkan-pool-suite-") as temporary:
        directory = args.keep_tables or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        for name in names:
            table = make_table(name, args.table_seed)
            result = run_table(table, directory, args.seeds, args.budget)
            results.append(result)
            a = result["agents"]
            print(
                f"{name}: n_to_best junkan {_n(a['junkan'])}, botorch {_n(a['botorch'])}, "
                f"random {_n(a['random'])} ({result['junkan_runtime_s']:.0f} s + "
                f"{result['botorch_runtime_s']:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    runtime = time.perf_counter() - started
    print(markdown(results, args.seeds, args.budget), file=report)
    print("", file=report)
    print(summary(results), file=report)
    print(f"total runtime {runtime:.0f} s", file=report)
    if args.json:
        document = {
            "seeds": args.seeds,
            "budget": args.budget,
            "table_seed": args.table_seed,
            "botorch_random_start": N_RANDOM_START,
            "tables": results,
            "summary": summary(results),
            "runtime_s": runtime,
        }
        print(json.dumps(document))


if __name__ == "__main__":
    main()
