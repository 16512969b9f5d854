"""Every Bluesky document of a proposal's plan, written as it arrives: what resume reconciles with.

One JSON line per document in `documents/<proposal id>.jsonl`; after the plan returns, a last line
`["plan_finished", {...}]` says the documents are complete. A crash leaves at most a torn last
line, which reading drops.
"""

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DOCUMENTS_DIR = "documents"
PLAN_FINISHED = "plan_finished"

Document = tuple[str, Mapping[str, Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} into the document journal")


class DocumentJournal:
    """Appends one plan's documents; fsyncs at each stop document and at the end of the plan."""

    def __init__(self, store_path: Path, proposal_id: str) -> None:
        directory = store_path / DOCUMENTS_DIR
        directory.mkdir(exist_ok=True)
        self.path = directory / f"{proposal_id}.jsonl"
        if self.path.exists():  # an earlier attempt (failed, or cut short by a crash): keep it beside
            attempt = 1
            while self.path.with_suffix(f".attempt-{attempt}.jsonl").exists():
                attempt += 1
            self.path.rename(self.path.with_suffix(f".attempt-{attempt}.jsonl"))
        self._handle = self.path.open("a", encoding="utf-8")

    def record(self, name: str, doc: Mapping[str, Any]) -> None:
        self._handle.write(json.dumps([name, doc], default=_plain) + "\n")
        self._handle.flush()
        if name == "stop":
            os.fsync(self._handle.fileno())

    def finish(self, exit_status: str) -> None:
        self.record(PLAN_FINISHED, {"exit_status": exit_status})
        os.fsync(self._handle.fileno())
        self._handle.close()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()


def read_journal(store_path: Path, proposal_id: str) -> tuple[list[Document], str | None]:
    """The documents of a proposal's plan, and the plan's exit status if it finished (else None)."""
    return _read(store_path / DOCUMENTS_DIR / f"{proposal_id}.jsonl")


def journal_history(store_path: Path, proposal_ids: Sequence[str]) -> list[tuple[str, list[Document]]]:
    """Every attempt of every proposal's plan, in the order they ran (earlier attempts first):
    what an instrument rebuilds its own record from (the libraries it deposited, the spots it
    measured), since an attempt that failed or was cut short may still have made something."""
    history = []
    for proposal_id in proposal_ids:
        current = store_path / DOCUMENTS_DIR / f"{proposal_id}.jsonl"
        attempt = 1
        while (earlier := current.with_suffix(f".attempt-{attempt}.jsonl")).exists():
            history.append((proposal_id, _read(earlier)[0]))
            attempt += 1
        if current.exists():
            history.append((proposal_id, _read(current)[0]))
    return history


def _read(path: Path) -> tuple[list[Document], str | None]:
    if not path.exists():
        return [], None
    documents: list[Document] = []
    finished: str | None = None
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:  # the rest is torn or empty
        name, doc = json.loads(line)
        if name == PLAN_FINISHED:
            finished = doc["exit_status"]
        else:
            documents.append((name, doc))
    return documents, finished
