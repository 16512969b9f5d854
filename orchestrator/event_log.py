"""The append-only event log: one JSON object a line, each fsynced before anything acts on it."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

from orchestrator.events import EVENT_ADAPTER, Event


class EventLogError(ValueError):
    """A log record that is damaged somewhere other than a torn last line."""


class EventLog:
    """Appends events durably; reading drops a torn last record (a crash mid-write)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._drop_torn_tail()
        self._next_seq = sum(1 for _ in self.read())

    def _drop_torn_tail(self) -> None:
        """Cut a last record that lacks its newline, so the next append starts a clean line."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())

    def append(self, event: Event) -> Event:
        stamped = event.model_copy(update={"seq": self._next_seq})
        line = stamped.model_dump_json() + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._next_seq += 1
        return stamped

    def read(self) -> Iterator[Event]:
        if not self.path.exists():
            return
        lines = self.path.read_text(encoding="utf-8").split("\n")
        complete, tail = lines[:-1], lines[-1]
        for number, line in enumerate(complete, start=1):
            try:
                yield EVENT_ADAPTER.validate_python(json.loads(line))
            except ValueError as exc:
                raise EventLogError(f"{self.path}, line {number}: damaged record: {exc}") from exc
        # `tail` is what follows the last newline: empty, or a record torn by a crash; dropped.
        del tail
