"""One campaign of `benchmarks/peers.py`: an agent, a seed, a problem, run in a worker process.

Everything that decides what a campaign measures lives here and in `peer_agents.py`, so that the
fingerprint of a stored campaign (`peer_results.py`) covers it and the aggregation in `peers.py` can
change without invalidating what was run. A problem's measurements come from its source (a simulated
world, a measured pool, ...): each source is a class of its own that builds its bench, so adding a
kind of problem adds a class and leaves the code of the others, and their fingerprints, as they are.
"""

import ast
import hashlib
import importlib.util
import json
import logging
import os
import resource
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from peer_agents import SEEDED_AGENTS, Problem

MOVED = 1e-6  # a measurement this far from what was asked was moved to a pool row


@dataclass(frozen=True)
class Job:
    problem: Problem
    agent: str
    seed: int
    budget: int
    source: Any  # where measurements come from: `SimulatedWorld`, `MeasuredPool`, ... (has `bench`)


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
    started_unix: float = 0.0  # when the campaign started (a long run is continued over sessions)
    load_average: float | None = None  # the machine's 1-minute load when it started


class Bench(Protocol):
    """Where an agent's conditions are measured (one per problem source)."""

    problem: Problem

    def measure(self, asked: Mapping[str, float]) -> Measurement: ...


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


@dataclass(frozen=True)
class SimulatedWorld:
    """A shipped simulated world (`simulators.load_world`), seeded by the campaign's seed."""

    name: str
    packages: tuple[str, ...] = ("numpy", "scipy", "xraydb")

    def bench(self, problem: Problem, seed: int) -> WorldBench:
        from simulators import load_world

        return WorldBench(problem, load_world(self.name, seed=seed))

    def identity(self) -> dict[str, Any]:
        """The world's factory and every simulators module its module imports (transitively), by
        content: the registry and the other worlds are not among them."""
        from simulators.registry import WORLDS

        factory = WORLDS[self.name]
        return {
            "factory": f"{factory.__module__}:{factory.__qualname__}",
            "modules": module_closure(factory.__module__, "simulators"),
        }

    def code_roots(self) -> tuple[Any, ...]:
        return ()


@dataclass(frozen=True)
class MeasuredPool:
    """A measured table (`orchestrator.pool_replay.Pool`): rows served as recorded."""

    pool: Any
    packages: tuple[str, ...] = ("numpy",)

    def bench(self, problem: Problem, seed: int) -> PoolBench:
        return PoolBench(problem, self.pool)

    def identity(self) -> dict[str, Any]:
        """Everything the pool serves: conditions, every replicate row and the variances reported."""
        digest = hashlib.sha256()
        pool = self.pool
        digest.update(json.dumps([pool.objectives, pool.goals, pool.rows]).encode())
        for array in (pool.conditions, *pool.replicates, pool.variances):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        return {"served_sha256": digest.hexdigest(), "noise": {k: dict(v) for k, v in pool.noise.items()}}

    def code_roots(self) -> tuple[Any, ...]:
        """The code that loads, places and serves rows (by source: not the rest of the file)."""
        from orchestrator.pool_replay import ReplicateServer, design_space, load_pool

        return (ReplicateServer, load_pool, design_space)


def module_closure(module: str, package: str) -> dict[str, str]:
    """sha256 of `module` and of every module of `package` it imports, transitively (its package's
    `__init__` aside: a package's face, not the code)."""
    found: dict[str, str] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        source = Path(spec.origin).read_bytes()
        found[name] = hashlib.sha256(source).hexdigest()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith(package + ".")]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
                if node.module.startswith(package + "."):
                    todo.append(node.module)
                elif node.module == package:  # `from package import submodule` or a re-exported name
                    for alias in node.names:
                        submodule = f"{package}.{alias.name}"
                        if importlib.util.find_spec(submodule) is not None:
                            todo.append(submodule)
                        else:
                            todo.append(getattr(importlib.import_module(package), alias.name).__module__)
    return dict(sorted(found.items()))


def run_agent(bench: Bench, make_agent: Callable[[], Any], budget: int) -> Trace:
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


def run_job(job: Job) -> tuple[Job, Trace]:
    """A worker's one task (a fresh process each): one agent, one seed, one problem."""
    import torch

    torch.set_num_threads(1)
    # stderr is this benchmark's progress channel: the peers warn on every step (pandas, input scaling)
    # and Ax logs every trial at INFO
    warnings.simplefilter("ignore")
    logging.disable(logging.INFO)
    started, load = time.time(), os.getloadavg()[0]
    bench = job.source.bench(job.problem, job.seed)
    trace = run_agent(bench, lambda: SEEDED_AGENTS[job.agent](job.problem, job.seed), job.budget)
    return job, replace(trace, peak_rss_mb=peak_rss_mb(), started_unix=started, load_average=load)


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
