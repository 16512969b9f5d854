"""Finished campaigns of a `benchmarks/peers.py` run, kept on disk so that a run longer than a working
session (the full run is ~9.5 h on 2 cores, Ax alone more than half of it) is continued where it
stopped instead of started again.

Each campaign is one JSON file, written atomically when its worker returns. It carries a fingerprint
of what decides what that agent measures on that problem, and a stored campaign is reused only under
the same fingerprint, so a continued run is the same run as one that never stopped. The fingerprint
is per (agent, problem) and covers only that campaign's own code, by source: the harness's loop and
the geometry every agent shares, the problem as told to the agents, its source of measurements (a
world's module and the simulators modules it imports; a pool's served rows and the code that serves
them), the agent's adapter class (with the constants and helpers of its module it uses) and the
versions of the packages either uses; for junkan also its whole `policies` package. So adding a
problem, a world module or an agent, or editing junkan, re-runs nothing of the peers (an Ax campaign
is ~10 min). A stored campaign longer than asked serves a shorter budget by its prefix (every agent
is sequential, so its first n measurements do not depend on the budget).
"""

import ast
import hashlib
import inspect
import json
import os
import socket
import sys
import textwrap
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from peer_agents import SEEDED_AGENTS, Problem
from peer_campaigns import Job, Trace, run_agent, run_job

from policies import DesignSpace, SobolSampler

ROOT = Path(__file__).resolve().parents[1]
# what every campaign runs: the loop, the problem as told, and junkan's design space, which is every
# agent's geometry and the bench's projection (only this class of policies: the rest is junkan's own)
HARNESS: tuple[Any, ...] = (run_agent, run_job, Problem, DesignSpace)
HARNESS_PACKAGES = ("numpy", "scipy", "torch")
# each agent's own code beyond its adapter class (`SEEDED_AGENTS`): what of junkan it executes (the UCB
# agent's first points are junkan's Sobol points); for junkan its whole policies package, as files
AGENT_CODE: dict[str, tuple[Any, ...]] = {"ucb": (SobolSampler,)}
AGENT_FILES: dict[str, tuple[str, ...]] = {"junkan": ("policies",)}
AGENT_PACKAGES: dict[str, tuple[str, ...]] = {
    "junkan": ("botorch", "gpytorch"),
    "ax": ("ax-platform", "botorch", "gpytorch", "pandas"),
    "baybe": ("baybe", "botorch", "gpytorch", "pandas"),
    "ucb": ("botorch", "gpytorch"),
    "random": (),
}
PLAIN = (int, float, str, bool, bytes, type(None))


def code_digest(roots: Iterable[Any]) -> dict[str, str]:
    """sha256 of each function's or class's source and of what of its own module it uses: functions and
    classes of that module by source (transitively), constants by value. Names from other modules are
    not followed (a library: its version; junkan or the harness: a root of its own)."""
    digests: dict[str, str] = {}
    todo = list(roots)
    while todo:
        obj = todo.pop()
        key = f"{obj.__module__}:{obj.__qualname__}"
        if key in digests:
            continue
        source = inspect.getsource(obj)
        digests[key] = hashlib.sha256(source.encode()).hexdigest()
        namespace = vars(sys.modules[obj.__module__])
        used = {
            node.id for node in ast.walk(ast.parse(textwrap.dedent(source))) if isinstance(node, ast.Name)
        }
        for name in sorted(used & set(namespace)):
            value = namespace[name]
            if inspect.isfunction(value) or inspect.isclass(value):
                if value.__module__ == obj.__module__:
                    todo.append(value)
            elif not inspect.ismodule(value):
                digests[f"{obj.__module__}:{name}"] = _constant(value, f"{obj.__module__}.{name}")
    return dict(sorted(digests.items()))


def _constant(value: Any, where: str) -> str:
    """A module-level value as text that is the same in every process. A table of classes or functions
    (`SEEDED_AGENTS`) is a dispatch: each campaign's entry is fingerprinted as its own code, so that
    adding an entry changes nothing stored."""
    if isinstance(value, Mapping) and all(
        inspect.isclass(v) or inspect.isfunction(v) for v in value.values()
    ):
        return "dispatch table"
    text = repr(value)
    if " at 0x" in text:
        raise TypeError(f"{where} = {text}: its repr holds an address; fingerprint it as code or data")
    return text


def _is_code(value: Any) -> bool:
    return inspect.isclass(value) or inspect.isfunction(value)


def file_digest(paths: Iterable[str]) -> dict[str, str]:
    """sha256 of each file (a folder: its Python files), by path from the repository's root."""
    digests = {}
    for name in paths:
        path = ROOT / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digests[str(file.relative_to(ROOT))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return digests


def problem_identity(problem: Problem) -> dict[str, Any]:
    """The problem as every agent is told it (a pool's rows by content)."""
    told: dict[str, Any] = {}
    for f in fields(problem):
        value = getattr(problem, f.name)
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value, dtype=np.float64)
            value = {"shape": list(array.shape), "sha256": hashlib.sha256(array.tobytes()).hexdigest()}
        elif isinstance(value, Mapping):
            value = dict(value)
        told[f.name] = value
    return told


def campaign_identity(problem: Problem, source: Any, agent: str) -> dict[str, Any]:
    """Everything the fingerprint of one (agent, problem) covers, as plain data."""
    packages = sorted({*HARNESS_PACKAGES, *AGENT_PACKAGES[agent], *source.packages})
    return {
        "harness": code_digest(HARNESS),
        "problem": problem_identity(problem),
        "source": {
            "kind": type(source).__qualname__,
            "identity": source.identity(),
            "code": code_digest((type(source), *source.code_roots())),
        },
        "agent": {
            "name": agent,
            "code": code_digest((SEEDED_AGENTS[agent], *AGENT_CODE.get(agent, ()))),
            "files": file_digest(AGENT_FILES.get(agent, ())),
        },
        "packages": {p: metadata.version(p) for p in packages},
    }


def fingerprint(problem: Problem, source: Any, agent: str) -> str:
    """sha256 of `campaign_identity`, 16 hex digits."""
    identity = json.dumps(campaign_identity(problem, source, agent), sort_keys=True, default=str)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


class ResultStore:
    """`DIR/PROBLEM/AGENT/seed-NN.json`, one per finished campaign, and `DIR/invocations.jsonl`, one
    line per invocation of the run (when, where, how many campaigns it ran)."""

    def __init__(self, directory: Path, prints: Mapping[tuple[str, str], str]) -> None:
        self.directory = Path(directory)
        self.fingerprints = dict(prints)  # per (problem, agent)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, job: Job) -> Path:
        return self.directory / job.problem.name / job.agent / f"seed-{job.seed:02d}.json"

    def load(self, job: Job) -> Trace | None:
        """The stored campaign for this job, cut to its budget; None when absent, run under another
        fingerprint, or shorter than the budget."""
        path = self.path(job)
        if not path.exists():
            return None
        stored = json.loads(path.read_text())
        if (
            stored["fingerprint"] != self.fingerprints[(job.problem.name, job.agent)]
            or len(stored["trace"]["points"]) < job.budget
        ):
            return None
        trace = stored["trace"]
        n = job.budget
        trace.update(
            points=trace["points"][:n],
            rows=None if trace["rows"] is None else trace["rows"][:n],
            step_seconds=trace["step_seconds"][:n],
        )
        return Trace(**trace)

    def save(self, job: Job, trace: Trace, worker_start: str) -> None:
        """`worker_start`: how the campaign's process was started, which its peak memory depends on."""
        path = self.path(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "problem": job.problem.name,
            "agent": job.agent,
            "seed": job.seed,
            "budget": job.budget,
            "fingerprint": self.fingerprints[(job.problem.name, job.agent)],
            "host": socket.gethostname(),
            "worker_start": worker_start,
            "trace": asdict(trace),
        }
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(record))
        os.replace(partial, path)  # a campaign is there whole or not at all

    def log_invocation(self, **fields: Any) -> None:
        line = json.dumps({"finished_unix": time.time(), "host": socket.gethostname(), **fields})
        with (self.directory / "invocations.jsonl").open("a") as handle:
            handle.write(line + "\n")

    def invocations(self) -> list[dict[str, Any]]:
        log = self.directory / "invocations.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
