"""Finished campaigns of a `benchmarks/peers.py` run, kept on disk so that a run longer than a working
session (the full run is ~9.5 h on 2 cores, Ax alone more than half of it) is continued where it
stopped instead of started again.

Each campaign is one JSON file, written atomically when its worker returns. It carries a fingerprint
of everything that decides what its agent measures (the harness's and the agents' code, the
simulators, the pool and world definitions, the versions of the numerical packages, and, for junkan,
its policies); a stored campaign is reused only under the same fingerprint, so a continued run is the
same run as one that never stopped. The fingerprint is per agent so that a change to junkan's
policies re-runs junkan's campaigns (~5 min a seed), not Ax's (~35 min a seed) as well. A stored
campaign longer than asked serves a shorter budget by its prefix (every agent is sequential, so its
first n measurements do not depend on the budget).
"""

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from peer_campaigns import Job, Trace

ROOT = Path(__file__).resolve().parents[1]
# the code every campaign's measurements depend on: the harness, the agents' adapters, the worlds, the
# pool (with the reduction that makes its table from the patterns), and junkan's design space, which
# is every agent's geometry (the aggregation in peers.py is not here: changing it keeps what was run)
HARNESS = (
    "benchmarks/peer_campaigns.py",
    "benchmarks/peer_agents.py",
    "benchmarks/pool_replay_fe_ga_pd.py",
    "orchestrator/pool_replay.py",
    "instruments/recorded_pool.py",
    "instruments/xrd_phase_mapping.py",
    "instruments/reduction.py",
    "policies/space.py",
    "simulators",
)
# what an agent's decisions depend on beyond the harness: junkan's whole policies package; the UCB
# agent's first points are junkan's Sobol sampler
AGENT_SOURCES: dict[str, tuple[str, ...]] = {
    "junkan": ("policies",),
    "ucb": ("policies/sobol.py", "policies/proposal.py"),
}
PACKAGES = ("torch", "botorch", "gpytorch", "ax-platform", "baybe", "numpy", "scipy", "pandas", "xraydb")


def fingerprint(problem_descriptions: dict[str, Any], sources: tuple[str, ...]) -> str:
    """sha256 over the sources, the package versions and the problems as set up."""
    digest = hashlib.sha256()
    for name in sources:
        path = ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    digest.update(json.dumps({p: metadata.version(p) for p in PACKAGES}, sort_keys=True).encode())
    digest.update(json.dumps(problem_descriptions, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def agent_fingerprints(problem_descriptions: dict[str, Any], agents: Iterable[str]) -> dict[str, str]:
    """Each agent's fingerprint: the harness and its own sources."""
    return {a: fingerprint(problem_descriptions, HARNESS + AGENT_SOURCES.get(a, ())) for a in agents}


class ResultStore:
    """`DIR/PROBLEM/AGENT/seed-NN.json`, one per finished campaign, and `DIR/invocations.jsonl`, one
    line per invocation of the run (when, where, how many campaigns it ran)."""

    def __init__(self, directory: Path, prints: Mapping[str, str]) -> None:
        self.directory = Path(directory)
        self.fingerprints = dict(prints)  # per agent
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
            stored["fingerprint"] != self.fingerprints[job.agent]
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

    def save(self, job: Job, trace: Trace) -> None:
        path = self.path(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "problem": job.problem.name,
            "agent": job.agent,
            "seed": job.seed,
            "budget": job.budget,
            "fingerprint": self.fingerprints[job.agent],
            "host": socket.gethostname(),
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
