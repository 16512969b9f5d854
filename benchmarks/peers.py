"""junkan's policy beside the tools a lab would pick instead: Ax's default generation strategy, BayBE's
default recommender, a single-GP UCB agent as in bluesky-adaptive's BoTorch example, random and a grid
(`benchmarks/peer_agents.py`), on the same problems with the same budgets, seeds and noise.

Problems: the simulated worlds `ternary-magnet` (one objective) and `fe-co-ni-oxide` (two), measured
with Poisson counting noise (each seed is one world seed, so every agent meets the same noise stream);
`quaternary-hetero`, four elements whose counting noise grows 8x in sd toward the Co corner, with a
narrow global optimum beside a broad local one; `hartmann6`, BoTorch's Hartmann-6 with Gaussian noise
(10 % of its range), posed on a 7-component simplex whose bounds make it exactly the function's box
(`peer_functions.py`); and `fe-ga-pd-pool`, the 278 measured Fe-Ga-Pd compositions
(../shared/data/fe-ga-pd), where every agent measures only unmeasured rows: a condition asked off the
rows is moved to the nearest unmeasured row. Agents are scored by the truth at what they measured
(the table's value on the pool): the hypervolume, or the best value, divided by the best possible.
Each (problem, agent, seed) runs in a fresh process (at most 2 at a time, one torch thread each),
forked from a server that has imported torch and other libraries, so its peak memory is its own;
the grid is deterministic and runs once, in this process. The JSON holds every per-seed curve, for
`benchmarks/plot_peers.py`, and the definitions of every figure.

    .venv/bin/python benchmarks/peers.py [--quick] [--seeds 20] [--budgets 20,50,100]
        [--problems ternary-magnet,fe-co-ni-oxide,fe-ga-pd-pool,hartmann6,quaternary-hetero]
        [--agents junkan,ax,baybe,ucb,random,grid]
        [--workers 2] [--results DIR] [--stop-after SECONDS] [--json] > result.json

--json prints one JSON document on stdout (the markdown table then goes to stderr, with progress).
--results DIR keeps every finished campaign in DIR (`peer_results.py`) and reuses those run under the
same code: the full run (~9.5 h here) is continued by running the same command again. --stop-after
starts no campaign after that many seconds; a run left incomplete exits 3 and reports the seeds that
every agent has finished, marked partial. Campaigns run seed by seed, every agent on a seed before
the next seed, so a partial run is a smaller run of the same design.
"""

import argparse
import json
import math
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from peer_agents import GridAgent, Problem, finest_lattice, lattice
from peer_campaigns import Job, MeasuredPool, SimulatedWorld, Trace, run_agent, run_job
from peer_functions import (
    HARTMANN6_ARGMAX,
    HARTMANN6_MAX,
    HARTMANN6_NOISE_SD,
    NoisyFunction,
    box_problem,
    hartmann6,
    to_box,
)
from peer_results import ResultStore, fingerprint
from peer_shortfalls import shortfalls, shortfalls_markdown
from pool_replay_fe_ga_pd import DATA, write_fe_ga_pd_csv

from orchestrator.campaign_scores import (
    acceleration_factor,
    enhancement_factor,
    found_fraction,
    paired_outcomes,
    progress,
    top_set,
)

PROBLEMS = ("ternary-magnet", "fe-co-ni-oxide", "fe-ga-pd-pool", "hartmann6", "quaternary-hetero")
AGENTS = ("junkan", "ax", "baybe", "ucb", "random", "grid")
FULL = {"seeds": 20, "budgets": (20, 50, 100)}
QUICK = {"seeds": 3, "budgets": (10, 20)}
MAX_WORKERS = 2  # the machine has 2 cores
COST_ORDER = ("ax", "baybe", "junkan", "ucb", "random")  # slowest first within a seed
# 0.99 on a world: its fine structure (the ternary-magnet bump); 1.0 on the pool: the best row itself
AF_LEVELS = {"world": (0.9, 0.99), "function": (0.9, 0.99), "pool": (0.9, 1.0)}
CELL_DIVISIONS = 100  # the 0.01 lattice whose cells define a world's top 5 %
BEST_DIVISIONS = 200  # the 0.005 lattice giving a world's best value or hypervolume
BOX_CELL_DIVISIONS = 10  # a test function's cells: boxes of side 0.1 of its unit box
PERCENTILES = (10, 90)


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
        return progress(self.truth(trace), self.reference) / self.best

    def top_fraction(self, trace: Trace, budget: int) -> float:
        return found_fraction(self.cells(trace)[:budget].tolist(), self.top)

    def distinct_cells(self, trace: Trace, budget: int) -> int:
        """How many different cells the first `budget` measurements hold: an agent that measures one
        spot again and again learns its noise, not the space."""
        return len(set(self.cells(trace)[:budget].tolist()))


@dataclass(frozen=True)
class Setup:
    problem: Problem
    scorer: Scorer
    source: Any  # where its measurements come from (`peer_campaigns.SimulatedWorld`, ...)
    description: dict[str, Any]


class NearestCell:
    """The nearest lattice cell of each measured point (the first of equals), remembered per trace and
    computed a few points at a time: on four elements the 0.01 lattice has 176,851 cells."""

    def __init__(self, cells: np.ndarray) -> None:
        self.cells = cells
        self.known: dict[bytes, np.ndarray] = {}

    def __call__(self, trace: Trace) -> np.ndarray:
        points = np.array(trace.points)
        key = points.tobytes()
        if key not in self.known:
            chunk = max(1, 2_000_000 // self.cells.size)
            parts = [points[i : i + chunk, None, :] for i in range(0, len(points), chunk)]
            self.known[key] = np.concatenate(
                [np.argmin(((part - self.cells[None, :, :]) ** 2).sum(-1), axis=1) for part in parts]
            )
        return self.known[key]


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

    cells = lattice(outline, CELL_DIVISIONS)
    reference = np.array([reference_point[q] for q in quantities]) if reference_point else None
    stated = getattr(world, "optimum", None)  # one objective's best, found by optimisation
    if reference is None and stated is not None:
        # four elements make the 1/200 lattice 1.4 million points, and a narrow peak falls between them
        best, best_from = float(stated[quantities[0]]), "the world's stated optimum (by optimisation)"
        weights: dict[str, float] = {}
    else:
        fine = truth_at(lattice(outline, BEST_DIVISIONS))
        best = float(fine.max()) if reference is None else hypervolume(fine, reference)
        best_from = f"the true values on the simplex lattice of step 1/{BEST_DIVISIONS}"
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
    scorer = Scorer(
        lambda t: truth_at(np.array(t.points)),
        NearestCell(cells),
        top_set(truth_at(cells)),
        best,
        reference,
    )
    description = {
        "kind": "world",
        "elements": list(problem.elements),
        "objectives": [{"name": q, "goal": "maximize"} for q in quantities],
        "score": "hypervolume measured / best hypervolume"
        if reference is not None
        else "best value measured / best value",
        "best": best,
        "best_from": best_from,
        "reference_point": reference_point or None,
        "noise": "Poisson counting, 1 s per quantity; world seed = run seed (same noise stream per agent)",
        "top5": f"{int(scorer.top.sum())} of the {len(cells)} cells of the 1/{CELL_DIVISIONS} lattice",
        "ucb_weights": problem.ucb_weights,
    }
    return Setup(problem, scorer, SimulatedWorld(name), description)


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
        lambda t: means[t.rows], lambda t: np.array(t.rows), top_set(means), float(means.max()), None
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
            "junkan: a CandidateSet of the unmeasured rows (its 2 Sobol starts snapped to the nearest "
            "unmeasured row); BayBE: its discrete search space of the rows, never recommending a measured "
            "one; random: a seeded permutation of the rows; Ax, UCB and grid: continuous suggestions in "
            "the rows' bounding region (bounds = each element's min and max over the rows), moved to "
            "the nearest unmeasured row (Euclidean in composition); Ax is then told the row measured"
        ),
        "ucb_weights": problem.ucb_weights,
    }
    return Setup(problem, scorer, MeasuredPool(pool), description)


def function_setup(name: str) -> Setup:
    """Hartmann-6 posed on a 7-component simplex (`peer_functions`): scored by the noise-free function
    against its known maximum; its cells are the 10^6 boxes of side 0.1 of the function's box (a 0.01
    lattice of 7 components has 10^12 points)."""
    objective = "y"
    problem = box_problem(name, 6, objective)
    axes = (np.arange(BOX_CELL_DIVISIONS) + 0.5) / BOX_CELL_DIVISIONS
    centres = np.stack(np.meshgrid(*[axes] * 6, indexing="ij"), axis=-1).reshape(-1, 6)
    values = hartmann6(centres)[:, None]

    def box_cells(trace: Trace) -> np.ndarray:
        index = np.minimum((to_box(np.array(trace.points)) * BOX_CELL_DIVISIONS).astype(int), 9)
        return np.ravel_multi_index(tuple(index.T), (BOX_CELL_DIVISIONS,) * 6)

    scorer = Scorer(
        lambda t: hartmann6(to_box(np.array(t.points)))[:, None],
        box_cells,
        top_set(values),
        HARTMANN6_MAX,
        None,
    )
    description = {
        "kind": "function",
        "function": "-Hartmann-6 (botorch.test_functions.Hartmann(dim=6, negate=True)) on [0, 1]^6",
        "elements": list(problem.elements),
        "embedding": "x1..x6 in [0, 1/6] and balance = 1 - their sum: the bounds make the region the box "
        "[0, 1/6]^6 exactly; the function is evaluated at z = 6 x",
        "objectives": [{"name": objective, "goal": "maximize"}],
        "score": "best value measured / best value",
        "best": HARTMANN6_MAX,
        "best_from": "the known maximum of -Hartmann-6 on its box, at z = " + str(list(HARTMANN6_ARGMAX)),
        "noise": f"Gaussian, sd {HARTMANN6_NOISE_SD:.4f} (10 % of the range [0, {HARTMANN6_MAX}]), its "
        "variance reported; seed = run seed (same noise stream per agent)",
        "top5": f"{int(scorer.top.sum())} of the {len(values)} cells of side 1/{BOX_CELL_DIVISIONS} of the "
        "box (by the value at their centre)",
        "ucb_weights": problem.ucb_weights,
    }
    return Setup(problem, scorer, NoisyFunction(name, HARTMANN6_NOISE_SD), description)


def build_setup(name: str) -> Setup:
    if name == "fe-ga-pd-pool":
        return pool_setup()
    if name == "hartmann6":
        return function_setup(name)
    return world_setup(name)


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
            bench = setup.source.bench(setup.problem, 0)
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
    return {"value": acceleration_factor(n_random, n_agent), "kind": kind}


@dataclass
class AgentRuns:
    """One agent's results on one problem: a row per seed (the grid: the same row for every seed)."""

    curves: np.ndarray  # (seeds, max_budget) normalised score after each measurement
    top: np.ndarray  # (seeds, len(budgets)) fraction of the top 5 % measured by each budget
    traces: list[Trace] | None  # None for the grid
    distinct: np.ndarray | None = None  # (seeds, len(budgets)) different cells measured by each budget


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
        result["junkan_wins_losses_ties"] = {
            str(b): paired_outcomes(junkan[:, b - 1], runs.curves[:, b - 1]) for b in budgets
        }
        # the same seed by seed for EF's top 5 % found and AF's measurements to each level (fewer wins)
        junkan_top = everyone["junkan"].top
        result["junkan_top5_wins_losses_ties"] = {
            str(b): paired_outcomes(junkan_top[:, i], runs.top[:, i]) for i, b in enumerate(budgets)
        }
        result["junkan_n_to_reach_wins_losses_ties"] = {
            str(level): paired_outcomes(
                -np.array([n_to_reach(c, level) for c in junkan], dtype=float), -np.array(n, dtype=float)
            )
            for level, n in n_reach.items()
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
            str(b): enhancement_factor(float(agent_top[i]), float(random_top[i]))
            for i, b in enumerate(budgets)
        }
    if runs.distinct is not None:
        result["distinct_conditions_at_budget"] = {
            str(b): spread(runs.distinct[:, i]) for i, b in enumerate(budgets)
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
    """Seed by seed (every agent and problem on a seed before the next seed), so that a run stopped
    early holds whole seeds; within a seed the slowest agent and problem first."""
    seeded = [a for a in COST_ORDER if a in agents]
    return [
        Job(setups[p].problem, a, s, budget, setups[p].source)
        for s in range(seeds)
        for a in seeded
        for p in sorted(setups, key=lambda name: name != "fe-co-ni-oxide")  # the slowest problem first
    ]


Key = tuple[str, str, int]  # (problem, agent, seed)

# Each campaign runs in a fresh process forked from a server that has imported these once. Spawned
# workers imported them for every campaign: 4-5 s each, a sixth of `--quick`'s wall time (2026-12-06).
# Third-party packages only: Python 3.11's forkserver resolves names from its own working directory,
# not from this script's `sys.path`, so junkan's packages are imported by each worker as the
# fingerprints see them (a copy run with PYTHONPATH gets its own). Ax and BayBE are left to their
# workers. A name that fails to import is skipped by the server, and costs only time.
PRELOADED = ("torch", "botorch", "gpytorch", "ophyd_async.epics.core", "sklearn.cluster", "xraydb")


def key_of(job: Job) -> Key:
    return (job.problem.name, job.agent, job.seed)


def run_jobs(
    jobs: list[Job], workers: int, store: ResultStore | None = None, stop_after_s: float | None = None
) -> tuple[dict[Key, Trace], int]:
    """Each job in a fresh process, `workers` at a time; with a store, stored campaigns are
    reused and each finished one is stored at once; no job is started after `stop_after_s`. Returns
    every trace and how many campaigns ran here."""
    traces: dict[Key, Trace] = {}
    todo, stale = [], 0
    for job in jobs:
        stored = store.load(job) if store is not None else None
        if stored is not None:
            traces[key_of(job)] = stored
        else:
            todo.append(job)
            stale += store is not None and store.path(job).exists()
    if store is not None:
        print(
            f"{len(traces)} of {len(jobs)} campaigns stored in {store.directory} ({stale} stored under "
            "another fingerprint of their problem and agent, to be run again)",
            file=sys.stderr,
            flush=True,
        )
    started = time.perf_counter()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOADED))
    running: dict[Future, Job] = {}
    done = 0
    with ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as processes:
        while todo or running:
            in_time = stop_after_s is None or time.perf_counter() - started < stop_after_s
            while todo and in_time and len(running) < workers:
                job = todo.pop(0)
                running[processes.submit(run_job, job)] = job
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                del running[future]
                job, trace = future.result()
                traces[key_of(job)] = trace
                if store is not None:
                    store.save(job, trace, worker_start=context.get_start_method())
                done += 1
                print(
                    f"[{done}/{done + len(todo) + len(running)} {time.perf_counter() - started:6.0f} s] "
                    f"{job.problem.name} {job.agent} seed {job.seed}: {trace.seconds:.1f} s, median step "
                    f"{np.median(trace.step_seconds):.3f} s, peak RSS {trace.peak_rss_mb:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
    if todo:
        print(f"stopped after {stop_after_s} s: {len(todo)} campaigns not started", file=sys.stderr)
    return traces, done


def problem_result(
    setup: Setup,
    agents: Sequence[str],
    seeds: Sequence[int],
    budgets: Sequence[int],
    traces: Mapping[Key, Trace],
) -> dict[str, Any]:
    everyone: dict[str, AgentRuns] = {}
    name = setup.problem.name
    for agent in agents:
        if agent == "grid":
            score, top = grid_curves(setup, budgets[-1])
            at_budgets = top[[b - 1 for b in budgets]]
            everyone[agent] = AgentRuns(
                np.tile(score, (len(seeds), 1)), np.tile(at_budgets, (len(seeds), 1)), None
            )
            continue
        runs = [traces[(name, agent, s)] for s in seeds]
        everyone[agent] = AgentRuns(
            np.array([setup.scorer.curve(t) for t in runs]),
            np.array([[setup.scorer.top_fraction(t, b) for b in budgets] for t in runs]),
            runs,
            np.array([[setup.scorer.distinct_cells(t, b) for b in budgets] for t in runs]),
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
            top5_paired = r.get("junkan_top5_wins_losses_ties", {})
            reach_paired = r.get("junkan_n_to_reach_wins_losses_ties", {})
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
                        "junkan_wins_losses_ties": r.get("junkan_wins_losses_ties", {}).get(str(b)),
                        "junkan_top5_wins_losses_ties": top5_paired.get(str(b)),
                        "junkan_n_to_90_wins_losses_ties": reach_paired.get("0.9"),
                        "ef_vs_random": r.get("ef_vs_random", {}).get(str(b)),
                        "af90_vs_random": af.get("value"),
                        "af90_kind": af.get("kind"),
                        "distinct_conditions_median": (
                            r["distinct_conditions_at_budget"][str(b)]["median"]
                            if "distinct_conditions_at_budget" in r
                            else None
                        ),
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
        "| problem | agent | n | score median (p10-p90) | junkan / peer | junkan W / L / T | EF vs random "
        "| AF90 vs random | distinct conditions | latency median / p95 (s) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    bound = {"exact": "", "lower bound": " (>=)", "upper bound": " (<=)"}
    for r in rows:
        af = _fmt(r["af90_vs_random"], ".2f") + bound.get(r["af90_kind"] or "", "")
        paired = r["junkan_wins_losses_ties"]
        wlt = "-" if paired is None else " / ".join(map(str, paired))
        lines.append(
            f"| {r['problem']} | {r['agent']} | {r['budget']} | {_fmt(r['score_median'])} "
            f"({_fmt(r['score_p10'])}-{_fmt(r['score_p90'])}) | {_fmt(r['ratio_junkan_over_peer_median'])} "
            f"| {wlt} | {_fmt(r['ef_vs_random'], '.2f')} | {af} "
            f"| {_fmt(r['distinct_conditions_median'], '.0f')} "
            f"| {_fmt(r['latency_median_s'])} / "
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
        "versions": {p: metadata.version(p) for p in packages},
    }


DEFINITIONS = {
    "score": "the truth at the measured conditions (noise-free; the table's value on the pool): hypervolume "
    "above the world's reference point (two objectives) or best value, divided by the best possible; a "
    "world's best is taken on a 0.005 lattice, so a score can exceed 1 by a hair, unless the world states "
    "its optimum (quaternary-hetero: by optimisation); hartmann6's is its known maximum, 3.32237",
    "score_at_budget": "median and p10-p90 across seeds of the score after that many measurements",
    "ratio_junkan_over_peer": "per seed, junkan's score / the peer's score at the same budget (same seed, "
    "same world and noise stream), then median and p10-p90 across seeds; > 1: junkan ahead",
    "junkan_wins_losses_ties": "at each budget, the seeds where junkan's score is above / below / level with "
    "the peer's (level: equal to 1e-9 relative)",
    "n_to_reach": "measurements until the score first reaches the level (budget + 1 when never: censored)",
    "af_vs_random": "acceleration factor: random's median n_to_reach / the agent's; 'upper bound' when the "
    "agent's median is censored, 'lower bound' when random's is",
    "top5_fraction_at_budget": "fraction of the top 5 % measured: pool rows, or for a world the cells of the "
    "0.01 lattice (top 5 % by true value, or the first Pareto fronts holding 5 %) holding a measurement; "
    "for hartmann6 the boxes of side 0.1 of the function's box (by the value at their centre)",
    "ef_vs_random": "enhancement factor: the agent's median top-5 % fraction / random's at the same budget "
    "(None when random's median is 0)",
    "junkan_top5_wins_losses_ties": "at each budget, the seeds where junkan measured more / less / as much "
    "of the top 5 % as the peer",
    "junkan_n_to_reach_wins_losses_ties": "per level, the seeds where junkan reached it in fewer / more / "
    "as many measurements as the peer (never: budget + 1)",
    "shortfalls": "where junkan is below issue 20's bar (paired median score >= 1 and seeds won >= lost "
    "against every peer, AF90 and EF >= the best peer's), each with the one-sided sign test of junkan's "
    "seeds won and lost on that figure against that peer (`benchmarks/peer_shortfalls.py`)",
    "distinct_conditions_at_budget": "median and p10-p90 across seeds of how many different conditions "
    "(cells of the 0.01 lattice, hartmann6's boxes of side 0.1, or pool rows) the first n measurements "
    "hold; n minus this is how many "
    "measurements repeated a condition already measured",
    "latency_s": "decision latency: wall time of ask + tell per measurement (model fitting included, "
    "library import and agent construction excluded), all steps of all seeds pooled; one torch thread",
    "peak_rss_mb": "peak resident memory (VmHWM; ru_maxrss survives exec and would show the parent's) of "
    "the worker process that ran the campaign (a fresh process per seed; it "
    "includes the harness: Python, numpy, torch and junkan's design space, ~random's figure). A "
    "stored campaign's `worker_start` says how its process began: forked from a server that had "
    "imported torch and other libraries (forkserver; the harness alone 333-345 MB), or, before "
    "2026-12-07 (no `worker_start`), spawned and importing them itself (the harness alone 427-466 MB): "
    "compare memory across agents only between campaigns started alike",
    "grid": "deterministic: at each budget, the finest simplex lattice with at most that many points, "
    "fully measured; one curve, the same for every seed; no latency or memory figures",
}

CAVEATS = [
    "noise: junkan is told each value's variance and Ax its standard error; BayBE's API and the UCB agent "
    "take values only and infer a homoskedastic noise",
    "initial designs are each tool's default: junkan 2 Sobol points, UCB 6 (the first 2 the same), "
    "Ax a center point and 4 Sobol points, BayBE 1 random point; early budgets reflect these choices",
    "on the pool, junkan (candidate set) and BayBE (discrete space) maximise their acquisition over the "
    "unmeasured rows exactly, while Ax and UCB optimise over the rows' bounding region and are moved to the "
    "nearest unmeasured row, which need not be the row their acquisition ranks best: a handicap for them",
    "the UCB agent is single-objective: on fe-co-ni-oxide it maximises a fixed weighted sum (ucb_weights, "
    "each objective divided by its true maximum, an oracle scale), not the hypervolume",
    "ternary-magnet: the Fe corner is worth 0.979 of the best value (the bump near Fe0.80 Ga0.06 Pd0.14 "
    "adds 2 %), so the 90 % level of AF is reached by finding the corner",
    "hartmann6: its second local maximum (3.203 near z = (0.40, 0.88, 0.85, 0.57, 0.14, 0.04)) is 0.964 of "
    "the best, so the 90 % level is reached there; 0.99 needs the global well. Its grid is coarse: a "
    "7-component lattice within the bounds has 1 point below 64 (budgets under 64 measure only z = 0)",
    "quaternary-hetero: the broad local optimum is 0.74 of the best, the Co corner's floor 0.50; single "
    "readings near Co (sd 0.28) can match the broad optimum, so an agent that trusts a lucky reading "
    "stays there",
]

AGENT_SETUPS = {
    "junkan": "policies.BayesianPolicy, default optimiser settings (4 restarts, 128 raw samples, 128 MC "
    "samples), 2 Sobol points first, qLogNEI / qLogNEHVI, reported variances as known noise, each "
    "outcome's GP chosen by leave-one-out likelihood (kernel, learned noise floor), a Thompson sample "
    "when the acquisition collapses or would repeat a condition known to within its noise",
    "ax": "ax.api.Client, default generation strategy (center, Sobol, then MBM), q = 1, last element "
    "derived (1 - the others), told each value's standard error; two objectives: thresholds at the "
    "world's reference point",
    "baybe": "baybe.Campaign, default recommender (1 random point, then BotorchRecommender), default "
    "acquisition; Pareto objective for two; not told the noise; discrete search space on the pool",
    "ucb": "bluesky-adaptive BoTorch example's rule: SingleTaskGP (default priors, inferred noise), refitted "
    "each ask, UpperConfidenceBound(beta=0.1) (bluesky-adaptive's default), optimize_acqf with 10 restarts "
    "and 20 raw samples, q = 1, 6 Sobol points first; two objectives maximised as the sum of "
    "each divided by its true maximum over the simplex (ucb_weights)",
    "random": "uniform on the simplex (Dirichlet(1, ..., 1)) redrawn until within the bounds (uniform on "
    "hartmann6's box), seeded; on the pool a seeded permutation of the rows",
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
    parser.add_argument("--results", type=Path, help="keep finished campaigns here and reuse them")
    parser.add_argument("--stop-after", type=float, help="start no campaign after this many seconds")
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
    if args.stop_after is not None and args.stop_after <= 0:
        parser.error(f"--stop-after must be > 0 seconds, not {args.stop_after}")
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


def open_store(directory: Path, setups: Mapping[str, Setup], agents: Sequence[str]) -> ResultStore:
    """The store, with what a stored campaign must share with this run: a fingerprint per (problem,
    agent) of that campaign's own code, problem and packages (`peer_results.fingerprint`)."""
    seeded = [a for a in agents if a != "grid"]
    prints = {(p, a): fingerprint(s.problem, s.source, a) for p, s in setups.items() for a in seeded}
    return ResultStore(directory, prints)


def complete_seeds(traces: Mapping[Key, Trace], jobs: Sequence[Job], seeds: int) -> list[int]:
    """The seeds that every agent has finished on every problem."""
    missing = {j.seed for j in jobs if key_of(j) not in traces}
    return [s for s in range(seeds) if s not in missing]


def main() -> None:
    args = parse()
    started = time.perf_counter()
    workers = min(args.workers, MAX_WORKERS)
    setups = {p: build_setup(p) for p in args.problems}
    jobs = jobs_for(setups, args.agents, args.seeds, args.budgets[-1])
    store = open_store(args.results, setups, args.agents) if args.results else None
    print(f"{len(jobs)} campaigns on {workers} workers", file=sys.stderr, flush=True)
    load_at_start = os.getloadavg()
    traces, ran_here = run_jobs(jobs, workers, store, args.stop_after)
    seeds = complete_seeds(traces, jobs, args.seeds)
    runtime = time.perf_counter() - started
    if store is not None:
        store.log_invocation(
            command=sys.argv,
            runtime_s=runtime,
            campaigns_run=ran_here,
            campaigns_stored=len(traces),
            campaigns_total=len(jobs),
            load_average_at_start=load_at_start,
        )
    if not seeds:
        print(f"no seed complete yet ({len(traces)} of {len(jobs)} campaigns); run again", file=sys.stderr)
        sys.exit(3)
    partial = len(seeds) < args.seeds
    problems = {p: problem_result(setups[p], args.agents, seeds, args.budgets, traces) for p in args.problems}
    rows = table_rows(problems, args.budgets)
    notes = list(CAVEATS)
    if args.workers > MAX_WORKERS:
        notes.append(f"{args.workers} workers asked for; {MAX_WORKERS} ran")
    if partial:
        notes.append(
            f"partial: {len(traces)} of {len(jobs)} campaigns done; figures over the {len(seeds)} seeds "
            f"that every agent finished ({seeds}); run the same command again to continue"
        )
    used = [traces[key_of(j)] for j in jobs if j.seed in seeds]
    result = {
        "benchmark": "peers",
        "command": sys.argv,
        "quick": args.quick,
        "partial": partial,
        "seeds": seeds,
        "seeds_asked": args.seeds,
        "budgets": args.budgets,
        "agents": args.agents,
        "workers": workers,
        "runtime_s": runtime,
        "campaign_seconds_total": sum(t.seconds for t in used),
        "campaigns_run_in_this_invocation": ran_here,
        "store": None
        if store is None
        else {
            "directory": str(args.results),
            "fingerprints": {f"{p}/{a}": v for (p, a), v in store.fingerprints.items()},
            "invocations": store.invocations(),
            "first_campaign_started_unix": min(t.started_unix for t in used),
            "last_campaign_started_unix": max(t.started_unix for t in used),
        },
        "machine": {**machine(), "load_average_at_start": load_at_start},
        "definitions": DEFINITIONS,
        "agent_setups": {a: AGENT_SETUPS[a] for a in args.agents},
        "notes": notes,
        "problems": problems,
        "table": rows,
        # against the peers that ran: none (junkan alone) says nothing of the bar
        "shortfalls": shortfalls(rows) if "junkan" in args.agents and len(args.agents) > 1 else None,
    }
    table = markdown(rows)
    if result["shortfalls"] is not None:
        table += "\n\n" + shortfalls_markdown(result["shortfalls"])
    state = f"PARTIAL ({len(traces)} of {len(jobs)} campaigns)" if partial else "complete"
    print(f"{len(seeds)} seeds, budgets {args.budgets}, runtime {runtime:.0f} s, {state}", file=sys.stderr)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(jsonable(result)))
    else:
        print(table)
    if partial:
        sys.exit(3)


if __name__ == "__main__":
    main()
