"""junkan's policy beside the tools a lab would pick instead: Ax's default generation strategy, BayBE's
default recommender, a single-GP UCB agent as in bluesky-adaptive's BoTorch example, random and a grid
(`benchmarks/peer_agents.py`), on the same problems with the same budgets, seeds and noise.

Problems: the simulated worlds `ternary-magnet` (one objective) and `fe-co-ni-oxide` (two), measured
with Poisson counting noise (each seed is one world seed, so every agent meets the same noise stream),
and `fe-ga-pd-pool`, the 278 measured Fe-Ga-Pd compositions (../shared/data/fe-ga-pd), where every
agent measures only unmeasured rows: a condition asked off the rows is moved to the nearest
unmeasured row. Agents are scored by the truth at what they measured (the table's value on the pool):
the hypervolume, or the best value, divided by the best possible. Each (problem, agent, seed) runs in
a fresh spawned process (at most 2 at a time, one torch thread each), so its peak memory is its own;
the grid is deterministic and runs once, in this process. The JSON holds every per-seed curve, for
`benchmarks/plot_peers.py`, and the definitions of every figure.

    .venv/bin/python benchmarks/peers.py [--quick] [--seeds 20] [--budgets 20,50,100]
        [--problems ternary-magnet,fe-co-ni-oxide,fe-ga-pd-pool] [--agents junkan,ax,baybe,ucb,random,grid]
        [--workers 2] [--json] > result.json

--json prints one JSON document on stdout (the markdown table then goes to stderr, with progress).
"""

import argparse
import json
import logging
import math
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from peer_agents import SEEDED_AGENTS, GridAgent, Problem, finest_lattice, lattice
from pool_replay_fe_ga_pd import DATA, write_fe_ga_pd_csv

PROBLEMS = ("ternary-magnet", "fe-co-ni-oxide", "fe-ga-pd-pool")
AGENTS = ("junkan", "ax", "baybe", "ucb", "random", "grid")
FULL = {"seeds": 20, "budgets": (20, 50, 100)}
QUICK = {"seeds": 3, "budgets": (10, 20)}
MAX_WORKERS = 2  # the machine has 2 cores
COST_ORDER = ("ax", "baybe", "junkan", "ucb", "random")  # slowest first, so the pool ends evenly
TOP_FRACTION = 0.05
# 0.99 on a world: its fine structure (the ternary-magnet bump); 1.0 on the pool: the best row itself
AF_LEVELS = {"world": (0.9, 0.99), "pool": (0.9, 1.0)}
CELL_DIVISIONS = 100  # the 0.01 lattice whose cells define a world's top 5 %
BEST_DIVISIONS = 200  # the 0.005 lattice giving a world's best value or hypervolume
MOVED = 1e-6  # a measurement this far from what was asked was moved to a pool row
PERCENTILES = (10, 90)


# -- one campaign (in a worker process) -------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    problem: Problem
    agent: str
    seed: int
    budget: int
    world: str | None = None  # a simulated world's name, or
    pool: Any = None  # the measured pool (`orchestrator.pool_replay.Pool`)


@dataclass(frozen=True)
class Measurement:
    condition: dict[str, float]
    values: dict[str, float]
    variances: dict[str, float]
    row: int | None  # the pool row measured
    moved: float  # how far the condition is from what was asked


@dataclass(frozen=True)
class Trace:
    """What one campaign did: the measured compositions (and pool rows), and what deciding cost."""

    points: list[list[float]]
    rows: list[int] | None
    step_seconds: list[float]  # ask + tell wall time of each measurement
    setup_seconds: float  # building the agent, its library imports included
    moved: int  # measurements moved to a pool row other than the one asked
    peak_rss_mb: float | None  # the worker process's peak resident memory (None: run in this process)
    seconds: float


class WorldBench:
    """A simulated world counted for 1 s per quantity: values and variances as the lab reduces them."""

    def __init__(self, problem: Problem, world: Any) -> None:
        self.problem = problem
        self.space = problem.space()
        self.world = world

    def measure(self, asked: Mapping[str, float]) -> Measurement:
        x = self.space.project(self.space.as_point(asked))[0]  # rounding error: -1e-17 fractions
        condition = self.space.as_dict(x)
        values, variances = {}, {}
        for name in self.problem.objectives:
            readout = self.world.measure_counts(condition, name, 1.0)
            scale = readout.counts_per_unit_s * readout.count_time_s
            values[name] = (readout.counts - readout.background_counts) / scale
            variances[name] = max(readout.counts, 1) / scale**2
        moved = float(np.abs(x - self.space.as_point(asked)).max())
        return Measurement(condition, values, variances, None, moved)


class PoolBench:
    """The measured pool: what is asked is measured at the nearest unmeasured row (in composition)."""

    def __init__(self, problem: Problem, pool: Any) -> None:
        from orchestrator.pool_replay import ReplicateServer

        self.problem = problem
        self.server = ReplicateServer(pool)

    def measure(self, asked: Mapping[str, float]) -> Measurement:
        assert self.problem.candidates is not None
        available = self.server.available()
        x = np.array([asked[e] for e in self.problem.elements])
        distances = np.sqrt(((self.problem.candidates[available] - x) ** 2).sum(axis=1))
        nearest = int(np.argmin(distances))
        row = int(available[nearest])
        values, variances = self.server.serve(row)
        condition = dict(zip(self.problem.elements, map(float, self.problem.candidates[row]), strict=True))
        return Measurement(condition, values, variances, row, float(distances[nearest]))


def run_agent(bench: WorldBench | PoolBench, make_agent: Callable[[], Any], budget: int) -> Trace:
    """The closed loop: ask, measure, tell, `budget` times; only ask and tell are timed."""
    started = time.perf_counter()
    agent = make_agent()
    setup = time.perf_counter() - started
    points, rows, steps, moved = [], [], [], 0
    for _ in range(budget):
        t0 = time.perf_counter()
        asked = agent.ask()
        asking = time.perf_counter() - t0
        measured = bench.measure(asked)
        t0 = time.perf_counter()
        agent.tell(measured.condition, measured.values, measured.variances)
        steps.append(asking + time.perf_counter() - t0)
        points.append([measured.condition[e] for e in bench.problem.elements])
        rows.append(measured.row)
        moved += measured.moved > MOVED
    return Trace(
        points=points,
        rows=None if rows[0] is None else rows,
        step_seconds=steps,
        setup_seconds=setup,
        moved=moved,
        peak_rss_mb=None,
        seconds=time.perf_counter() - started,
    )


def make_bench(problem: Problem, seed: int, world: str | None, pool: Any) -> WorldBench | PoolBench:
    if pool is not None:
        return PoolBench(problem, pool)
    from simulators import load_world

    return WorldBench(problem, load_world(world, seed=seed))


def run_job(job: Job) -> tuple[Job, Trace]:
    """A worker's one task (a fresh process each): one agent, one seed, one problem."""
    import torch

    torch.set_num_threads(1)
    # stderr is this benchmark's progress channel: the peers warn on every step (pandas, input scaling)
    # and Ax logs every trial at INFO
    warnings.simplefilter("ignore")
    logging.disable(logging.INFO)
    bench = make_bench(job.problem, job.seed, job.world, job.pool)
    trace = run_agent(bench, lambda: SEEDED_AGENTS[job.agent](job.problem, job.seed), job.budget)
    return job, replace(trace, peak_rss_mb=peak_rss_mb())


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's ru_maxrss survives exec, so a spawned worker would
    report its parent's peak if larger (it did: every worker showed the parent's 432 MB); VmHWM is the
    high-water mark of this process image alone. ru_maxrss where /proc is missing."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    (line,) = [s for s in status.splitlines() if s.startswith("VmHWM:")]
    return int(line.split()[1]) / 1024  # kB


# -- problems and scoring (in this process) --------------------------------------------------------
@dataclass(frozen=True)
class Scorer:
    """Scores a trace by the truth at what it measured: the hypervolume (several objectives) or the best
    value, divided by the best possible; and the fraction of the top 5 % cells it measured."""

    truth: Callable[[Trace], np.ndarray]  # (n, n_objectives) true values of the measured conditions
    cells: Callable[[Trace], np.ndarray]  # the cell (lattice point or pool row) of each measurement
    top: np.ndarray  # bool per cell: the top 5 %
    best: float  # the best hypervolume or value
    reference: np.ndarray | None  # hypervolume reference point; None for one objective

    def curve(self, trace: Trace) -> np.ndarray:
        from simulators import hypervolume

        values = self.truth(trace)
        if self.reference is None:
            return np.maximum.accumulate(values[:, 0]) / self.best
        return (
            np.array([hypervolume(values[: k + 1], self.reference) for k in range(len(values))]) / self.best
        )

    def top_fraction(self, trace: Trace, budget: int) -> float:
        found = set(self.cells(trace)[:budget].tolist()) & set(np.flatnonzero(self.top).tolist())
        return len(found) / int(self.top.sum())


@dataclass(frozen=True)
class Setup:
    problem: Problem
    scorer: Scorer
    world: str | None
    pool: Any
    description: dict[str, Any]


def top_cells(values: np.ndarray) -> np.ndarray:
    """The top 5 % (every objective maximised): by value for one objective (ties at the boundary in);
    for several, the first Pareto fronts holding at least 5 % (as `orchestrator.pool_replay`)."""
    from simulators import pareto_mask

    n_top = math.ceil(TOP_FRACTION * len(values))
    if values.shape[1] == 1:
        return values[:, 0] >= np.sort(values[:, 0])[::-1][n_top - 1]
    top = np.zeros(len(values), dtype=bool)
    remaining = np.arange(len(values))
    while top.sum() < n_top:
        front = pareto_mask(values[remaining])
        top[remaining[front]] = True
        remaining = remaining[~front]
    return top


def world_setup(name: str) -> Setup:
    from simulators import hypervolume, load_world

    world = load_world(name)  # the truth does not depend on the seed; the noise does
    quantities = tuple(world.quantities)
    if any(q.goal != "maximize" for q in world.quantities.values()):
        raise ValueError(f"{name}: this benchmark maximises every objective")
    reference_point = dict(getattr(world, "reference_point", {})) if len(quantities) > 1 else {}
    d = len(world.elements)
    outline = Problem(name, tuple(world.elements), quantities, (0.0,) * d, (1.0,) * d)

    def truth_at(points: np.ndarray) -> np.ndarray:
        truth = world.truth(points)
        return np.column_stack([truth[q] for q in quantities])

    fine = truth_at(lattice(outline, BEST_DIVISIONS))
    cells = lattice(outline, CELL_DIVISIONS)
    reference = np.array([reference_point[q] for q in quantities]) if reference_point else None
    best = float(fine.max()) if reference is None else hypervolume(fine, reference)
    weights = {q: 1.0 / float(fine[:, j].max()) for j, q in enumerate(quantities)}
    problem = Problem(
        name,
        outline.elements,
        quantities,
        outline.lower,
        outline.upper,
        reference_point=reference_point,
        ucb_weights=weights if len(quantities) > 1 else {quantities[0]: 1.0},
    )

    def nearest_cells(trace: Trace) -> np.ndarray:
        points = np.array(trace.points)
        return np.argmin(((points[:, None, :] - cells[None, :, :]) ** 2).sum(-1), axis=1)

    scorer = Scorer(
        lambda t: truth_at(np.array(t.points)), nearest_cells, top_cells(truth_at(cells)), best, reference
    )
    description = {
        "kind": "world",
        "elements": list(problem.elements),
        "objectives": [{"name": q, "goal": "maximize"} for q in quantities],
        "score": "hypervolume measured / best hypervolume"
        if reference is not None
        else "best value measured / best value",
        "best": best,
        "best_from": f"the true values on the simplex lattice of step 1/{BEST_DIVISIONS}",
        "reference_point": reference_point or None,
        "noise": "Poisson counting, 1 s per quantity; world seed = run seed (same noise stream per agent)",
        "top5": f"{int(scorer.top.sum())} of the {len(cells)} cells of the 1/{CELL_DIVISIONS} lattice",
        "ucb_weights": problem.ucb_weights,
    }
    return Setup(problem, scorer, name, None, description)


def pool_setup() -> Setup:
    from orchestrator.pool_replay import design_space, load_pool

    with tempfile.TemporaryDirectory() as directory:
        path = write_fe_ga_pd_csv(Path(directory) / "fe-ga-pd.csv")
        pool = load_pool(path, ["Fe", "Ga", "Pd"], [("magnetization_signal", "max")])
    space, points, _ = design_space(pool)
    objective = pool.objectives[0]
    problem = Problem(
        "fe-ga-pd-pool",
        space.elements,
        (objective,),
        space.lower,
        space.upper,
        ucb_weights={objective: 1.0},
        candidates=points,
    )
    means = pool.means
    scorer = Scorer(
        lambda t: means[t.rows], lambda t: np.array(t.rows), top_cells(means), float(means.max()), None
    )
    description = {
        "kind": "pool",
        "data": str(DATA),
        "elements": list(problem.elements),
        "objectives": [{"name": objective, "goal": "maximize"}],
        "score": "best row measured / best row",
        "best": float(means.max()),
        "rows": len(pool),
        "bounds": {e: [lo, hi] for e, lo, hi in zip(space.elements, space.lower, space.upper, strict=True)},
        "noise": {k: dict(v) for k, v in pool.noise.items()},
        "top5": f"{int(scorer.top.sum())} of the {len(pool)} rows",
        "how_agents_choose_rows": (
            "junkan: a CandidateSet of the unmeasured rows (its 6 Sobol starts snapped to the nearest "
            "unmeasured row); BayBE: its discrete search space of the rows, never recommending a measured "
            "one; random: a seeded permutation of the rows; Ax, UCB and grid: continuous suggestions in "
            "the rows' bounding region (bounds = each element's min and max over the rows), moved to "
            "the nearest unmeasured row (Euclidean in composition); Ax is then told the row measured"
        ),
        "ucb_weights": problem.ucb_weights,
    }
    return Setup(problem, scorer, None, pool, description)


def build_setup(name: str) -> Setup:
    return pool_setup() if name == "fe-ga-pd-pool" else world_setup(name)


def grid_curves(setup: Setup, max_budget: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid's score and top-5 % fraction at each budget 1..max_budget: those of the finest lattice
    with at most that many points, fully measured (NaN below the smallest lattice)."""
    score = np.full(max_budget, np.nan)
    top = np.full(max_budget, np.nan)
    done: dict[int, tuple[float, float]] = {}
    for budget in range(1, max_budget + 1):
        points = finest_lattice(setup.problem, budget)
        if points is None:
            continue
        if len(points) not in done:
            bench = make_bench(setup.problem, 0, setup.world, setup.pool)
            trace = run_agent(bench, lambda p=points: GridAgent(setup.problem, p), len(points))
            done[len(points)] = (
                float(setup.scorer.curve(trace)[-1]),
                setup.scorer.top_fraction(trace, len(points)),
            )
        score[budget - 1], top[budget - 1] = done[len(points)]
    return score, top


# -- statistics ---------------------------------------------------------------------------------------
def spread(values: Sequence[float]) -> dict[str, float]:
    """Median and p10-p90 across seeds."""
    v = np.asarray(values, dtype=float)
    low, high = np.percentile(v, PERCENTILES)
    return {"median": float(np.median(v)), "p10": float(low), "p90": float(high)}


def n_to_reach(curve: np.ndarray, level: float) -> int:
    """Measurements until the score first reaches `level` (budget + 1 when it never does: censored)."""
    hit = np.flatnonzero(curve >= level - 1e-12)
    return int(hit[0]) + 1 if hit.size else len(curve) + 1


def acceleration(n_random: float, n_agent: float, budget: int) -> dict[str, Any]:
    """AF = random's median n / the agent's; a bound when a median is censored (beyond the budget)."""
    agent_censored, random_censored = n_agent > budget, n_random > budget
    if agent_censored and random_censored:
        return {"value": None, "kind": "undefined: neither reached it within the budget"}
    kind = "upper bound" if agent_censored else "lower bound" if random_censored else "exact"
    return {"value": n_random / n_agent, "kind": kind}


@dataclass
class AgentRuns:
    """One agent's results on one problem: a row per seed (the grid: the same row for every seed)."""

    curves: np.ndarray  # (seeds, max_budget) normalised score after each measurement
    top: np.ndarray  # (seeds, len(budgets)) fraction of the top 5 % measured by each budget
    traces: list[Trace] | None  # None for the grid


def summarise_agent(
    name: str,
    runs: AgentRuns,
    everyone: Mapping[str, AgentRuns],
    budgets: Sequence[int],
    levels: Sequence[float],
) -> dict[str, Any]:
    max_budget = budgets[-1]
    result: dict[str, Any] = {
        "score_at_budget": {str(b): spread(runs.curves[:, b - 1]) for b in budgets},
        "top5_fraction_at_budget": {str(b): spread(runs.top[:, i]) for i, b in enumerate(budgets)},
    }
    n_reach = {level: [n_to_reach(c, level) for c in runs.curves] for level in levels}
    result["n_to_reach"] = {
        str(level): {"median": float(np.median(n)), "censored": sum(k > max_budget for k in n), "per_seed": n}
        for level, n in n_reach.items()
    }
    if "junkan" in everyone and name != "junkan":
        junkan = everyone["junkan"].curves
        with np.errstate(divide="ignore", invalid="ignore"):  # a peer at 0: an infinite ratio (null)
            result["ratio_junkan_over_peer"] = {
                str(b): spread(junkan[:, b - 1] / runs.curves[:, b - 1]) for b in budgets
            }
    if "random" in everyone and name != "random":
        random = everyone["random"]
        result["af_vs_random"] = {
            str(level): acceleration(
                float(np.median([n_to_reach(c, level) for c in random.curves])),
                float(np.median(n)),
                max_budget,
            )
            for level, n in n_reach.items()
        }
        random_top = np.median(random.top, axis=0)
        agent_top = np.median(runs.top, axis=0)
        result["ef_vs_random"] = {
            str(b): float(agent_top[i] / random_top[i]) if random_top[i] > 0 else None
            for i, b in enumerate(budgets)
        }
    if runs.traces is None:
        result.update(deterministic=True, curves=[runs.curves[0].tolist()])
        return result
    steps = np.concatenate([t.step_seconds for t in runs.traces])
    result.update(
        deterministic=False,
        curves=runs.curves.tolist(),
        latency_s={
            "median": float(np.median(steps)),
            "p95": float(np.percentile(steps, 95)),
            "steps": len(steps),
        },
        peak_rss_mb={
            "median": float(np.median([t.peak_rss_mb for t in runs.traces])),
            "max": float(max(t.peak_rss_mb for t in runs.traces)),
        },
        setup_s_median=float(np.median([t.setup_seconds for t in runs.traces])),
        seconds_per_seed=[t.seconds for t in runs.traces],
        moved_to_row_per_seed=[t.moved for t in runs.traces],
        step_seconds=[t.step_seconds for t in runs.traces],
    )
    return result


# -- the run ----------------------------------------------------------------------------------------
def jobs_for(setups: Mapping[str, Setup], agents: Sequence[str], seeds: int, budget: int) -> list[Job]:
    seeded = [a for a in COST_ORDER if a in agents]
    return [
        Job(setups[p].problem, a, s, budget, setups[p].world, setups[p].pool)
        for a in seeded
        for p in sorted(setups, key=lambda name: name != "fe-co-ni-oxide")  # the slowest problem first
        for s in range(seeds)
    ]


def run_jobs(jobs: list[Job], workers: int) -> dict[tuple[str, str, int], Trace]:
    traces: dict[tuple[str, str, int], Trace] = {}
    if not jobs:
        return traces
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers, maxtasksperchild=1) as processes:
        for i, (job, trace) in enumerate(processes.imap_unordered(run_job, jobs, chunksize=1), start=1):
            traces[(job.problem.name, job.agent, job.seed)] = trace
            print(
                f"[{i}/{len(jobs)} {time.perf_counter() - started:6.0f} s] {job.problem.name} {job.agent} "
                f"seed {job.seed}: {trace.seconds:.1f} s, median step {np.median(trace.step_seconds):.3f} s, "
                f"peak RSS {trace.peak_rss_mb:.0f} MB",
                file=sys.stderr,
                flush=True,
            )
    return traces


def problem_result(
    setup: Setup, agents: Sequence[str], seeds: int, budgets: Sequence[int], traces: Mapping[tuple, Trace]
) -> dict[str, Any]:
    everyone: dict[str, AgentRuns] = {}
    name = setup.problem.name
    for agent in agents:
        if agent == "grid":
            score, top = grid_curves(setup, budgets[-1])
            at_budgets = top[[b - 1 for b in budgets]]
            everyone[agent] = AgentRuns(np.tile(score, (seeds, 1)), np.tile(at_budgets, (seeds, 1)), None)
            continue
        runs = [traces[(name, agent, s)] for s in range(seeds)]
        everyone[agent] = AgentRuns(
            np.array([setup.scorer.curve(t) for t in runs]),
            np.array([[setup.scorer.top_fraction(t, b) for b in budgets] for t in runs]),
            runs,
        )
    levels = AF_LEVELS[setup.description["kind"]]
    return {
        **setup.description,
        "agents": {a: summarise_agent(a, everyone[a], everyone, budgets, levels) for a in agents},
    }


def table_rows(problems: Mapping[str, dict], budgets: Sequence[int]) -> list[dict[str, Any]]:
    """One row per (problem, agent, budget): what the markdown table shows."""
    rows = []
    for problem, result in problems.items():
        for agent, r in result["agents"].items():
            af = r.get("af_vs_random", {}).get("0.9", {})
            for b in budgets:
                score = r["score_at_budget"][str(b)]
                ratio = r.get("ratio_junkan_over_peer", {}).get(str(b))
                rows.append(
                    {
                        "problem": problem,
                        "agent": agent,
                        "budget": b,
                        "score_median": score["median"],
                        "score_p10": score["p10"],
                        "score_p90": score["p90"],
                        "ratio_junkan_over_peer_median": ratio["median"] if ratio else None,
                        "ef_vs_random": r.get("ef_vs_random", {}).get(str(b)),
                        "af90_vs_random": af.get("value"),
                        "af90_kind": af.get("kind"),
                        "latency_median_s": r["latency_s"]["median"] if "latency_s" in r else None,
                        "latency_p95_s": r["latency_s"]["p95"] if "latency_s" in r else None,
                        "peak_rss_mb_median": r["peak_rss_mb"]["median"] if "peak_rss_mb" in r else None,
                    }
                )
    return rows


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "| problem | agent | n | score median (p10-p90) | junkan / peer | EF vs random | AF90 vs random "
        "| latency median / p95 (s) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    bound = {"exact": "", "lower bound": " (>=)", "upper bound": " (<=)"}
    for r in rows:
        af = _fmt(r["af90_vs_random"], ".2f") + bound.get(r["af90_kind"] or "", "")
        lines.append(
            f"| {r['problem']} | {r['agent']} | {r['budget']} | {_fmt(r['score_median'])} "
            f"({_fmt(r['score_p10'])}-{_fmt(r['score_p90'])}) | {_fmt(r['ratio_junkan_over_peer_median'])} "
            f"| {_fmt(r['ef_vs_random'], '.2f')} | {af} | {_fmt(r['latency_median_s'])} / "
            f"{_fmt(r['latency_p95_s'])} | {_fmt(r['peak_rss_mb_median'], '.0f')} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    packages = ("torch", "botorch", "gpytorch", "ax-platform", "baybe", "numpy", "pandas")
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "versions": {p: metadata.version(p) for p in packages},
    }


DEFINITIONS = {
    "score": "the truth at the measured conditions (noise-free; the table's value on the pool): hypervolume "
    "above the world's reference point (two objectives) or best value, divided by the best possible; a "
    "world's best is taken on a 0.005 lattice, so a score can exceed 1 by a hair",
    "score_at_budget": "median and p10-p90 across seeds of the score after that many measurements",
    "ratio_junkan_over_peer": "per seed, junkan's score / the peer's score at the same budget (same seed, "
    "same world and noise stream), then median and p10-p90 across seeds; > 1: junkan ahead",
    "n_to_reach": "measurements until the score first reaches the level (budget + 1 when never: censored)",
    "af_vs_random": "acceleration factor: random's median n_to_reach / the agent's; 'upper bound' when the "
    "agent's median is censored, 'lower bound' when random's is",
    "top5_fraction_at_budget": "fraction of the top 5 % measured: pool rows, or for a world the cells of the "
    "0.01 lattice (top 5 % by true value, or the first Pareto fronts holding 5 %) holding a measurement",
    "ef_vs_random": "enhancement factor: the agent's median top-5 % fraction / random's at the same budget "
    "(None when random's median is 0)",
    "latency_s": "decision latency: wall time of ask + tell per measurement (model fitting included, "
    "library import and agent construction excluded), all steps of all seeds pooled; one torch thread",
    "peak_rss_mb": "peak resident memory (VmHWM; ru_maxrss survives exec and would show the parent's) of "
    "the worker process that ran the campaign (a fresh process per seed; it "
    "includes the harness: Python, numpy, torch and junkan's design space, ~random's figure)",
    "grid": "deterministic: at each budget, the finest simplex lattice with at most that many points, "
    "fully measured; one curve, the same for every seed; no latency or memory figures",
}

CAVEATS = [
    "noise: junkan is told each value's variance and Ax its standard error; BayBE's API and the UCB agent "
    "take values only and infer a homoskedastic noise",
    "initial designs are each tool's default: junkan and UCB 6 Sobol points (the same ones), Ax a center "
    "point and 4 Sobol points, BayBE 1 random point; early budgets reflect these choices",
    "on the pool, junkan (candidate set) and BayBE (discrete space) maximise their acquisition over the "
    "unmeasured rows exactly, while Ax and UCB optimise over the rows' bounding region and are moved to the "
    "nearest unmeasured row, which need not be the row their acquisition ranks best: a handicap for them",
    "the UCB agent is single-objective: on fe-co-ni-oxide it maximises a fixed weighted sum (ucb_weights, "
    "each objective divided by its true maximum, an oracle scale), not the hypervolume",
    "ternary-magnet: the Fe corner is worth 0.979 of the best value (the bump near Fe0.80 Ga0.06 Pd0.14 "
    "adds 2 %), so the 90 % level of AF is reached by finding the corner",
]

AGENT_SETUPS = {
    "junkan": "policies.BayesianPolicy, default optimiser settings (4 restarts, 128 raw samples, 128 MC "
    "samples), 6 Sobol points first, qLogNEI / qLogNEHVI, reported variances as known noise",
    "ax": "ax.api.Client, default generation strategy (center, Sobol, then MBM), q = 1, last element "
    "derived (1 - the others), told each value's standard error; two objectives: thresholds at the "
    "world's reference point",
    "baybe": "baybe.Campaign, default recommender (1 random point, then BotorchRecommender), default "
    "acquisition; Pareto objective for two; not told the noise; discrete search space on the pool",
    "ucb": "bluesky-adaptive BoTorch example's rule: SingleTaskGP (default priors, inferred noise), refitted "
    "each ask, UpperConfidenceBound(beta=0.1) (bluesky-adaptive's default), optimize_acqf with 10 restarts "
    "and 20 raw samples, q = 1, 6 Sobol points first (junkan's); two objectives maximised as the sum of "
    "each divided by its true maximum over the simplex (ucb_weights)",
    "random": "uniform on the simplex (Dirichlet(1,1,1)), seeded; on the pool a seeded permutation of the "
    "rows",
    "grid": "see definitions.grid",
}


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"defaults {QUICK} instead of {FULL}")
    parser.add_argument("--seeds", type=int, help="seeds 0..N-1")
    parser.add_argument("--budgets", help="checkpoints, comma-separated; the largest is the run length")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--agents", default=",".join(AGENTS))
    parser.add_argument("--workers", type=int, default=MAX_WORKERS)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document on stdout")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    args.seeds = preset["seeds"] if args.seeds is None else args.seeds
    args.budgets = (
        sorted({int(b) for b in args.budgets.split(",")}) if args.budgets else list(preset["budgets"])
    )
    args.problems = [p for p in args.problems.split(",") if p]
    args.agents = [a for a in args.agents.split(",") if a]
    unknown = sorted(set(args.problems) - set(PROBLEMS)) + sorted(set(args.agents) - set(AGENTS))
    if unknown:
        parser.error(f"unknown problem(s) or agent(s) {unknown}; problems: {PROBLEMS}, agents: {AGENTS}")
    if args.seeds < 1 or args.workers < 1 or args.budgets[0] < 1:
        parser.error("seeds, workers and budgets must be >= 1")
    return args


def jsonable(value: Any) -> Any:
    """NaN and infinities as null (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def main() -> None:
    args = parse()
    started = time.perf_counter()
    workers = min(args.workers, MAX_WORKERS)
    setups = {p: build_setup(p) for p in args.problems}
    jobs = jobs_for(setups, args.agents, args.seeds, args.budgets[-1])
    print(f"{len(jobs)} campaigns on {workers} workers", file=sys.stderr, flush=True)
    traces = run_jobs(jobs, workers)
    problems = {
        p: problem_result(setups[p], args.agents, args.seeds, args.budgets, traces) for p in args.problems
    }
    rows = table_rows(problems, args.budgets)
    runtime = time.perf_counter() - started
    notes = list(CAVEATS)
    if args.workers > MAX_WORKERS:
        notes.append(f"{args.workers} workers asked for; {MAX_WORKERS} ran")
    result = {
        "benchmark": "peers",
        "command": sys.argv,
        "quick": args.quick,
        "seeds": list(range(args.seeds)),
        "budgets": args.budgets,
        "agents": args.agents,
        "workers": workers,
        "runtime_s": runtime,
        "machine": machine(),
        "definitions": DEFINITIONS,
        "agent_setups": {a: AGENT_SETUPS[a] for a in args.agents},
        "notes": notes,
        "problems": problems,
        "table": rows,
    }
    table = markdown(rows)
    print(f"{args.seeds} seeds, budgets {args.budgets}, runtime {runtime:.0f} s", file=sys.stderr)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(jsonable(result)))
    else:
        print(table)


if __name__ == "__main__":
    main()
