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
        self._next_seq: int | None = None  # known at the first append: readers never touch the file

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
        if self._next_seq is None:
            self._drop_torn_tail()
            self._next_seq = sum(1 for _ in self.read())
        stamped = event.model_copy(update={"seq": self._next_seq})
        line = stamped.model_dump_json() + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._next_seq += 1
        return stamped

    def read(self) -> Iterator[Event]:
        events, _ = self.read_from(0)
        yield from events

    def read_from(self, offset: int) -> tuple[list[Event], int]:
        """The complete records after byte `offset`, and the offset after the last of them: a
        reader that follows a live log reads each record once (a torn or growing last line waits)."""
        if not self.path.exists():
            return [], offset
        with self.path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        events = []
        for number, line in enumerate(data[:end].split(b"\n")[:-1], start=1):
            try:
                events.append(EVENT_ADAPTER.validate_python(json.loads(line)))
            except ValueError as exc:
                where = f"line {number}" if offset == 0 else f"record {number} after byte {offset}"
                raise EventLogError(f"{self.path}, {where}: damaged record: {exc}") from exc
        # what follows the last newline is empty, or a record torn by a crash (or being written)
        return events, offset + end
