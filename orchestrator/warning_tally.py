"""Numerical warnings of the model stack (GPyTorch's jitter, BoTorch's optimiser) counted, not
printed: during `junkan run` and `resume` each one goes to `STORE/warnings.log`, and the counts
since the last step ride on that step's `LoopTiming` event (so the log and `/metrics` hold them).
A long campaign used to print hundreds of such lines over its progress bar."""

import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

WARNINGS_LOG = "warnings.log"

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def take_counts() -> dict[str, int]:
    """Warnings by category since the last call (empty outside `warnings_counted`)."""
    with _lock:
        taken = dict(_counts)
        _counts.clear()
    return taken


@contextmanager
def warnings_counted(store: Path) -> Iterator[None]:
    """Every warning raised meanwhile (each occurrence, not only the first per place) is counted
    and written to the store's warnings.log instead of stderr."""
    log = Path(store) / WARNINGS_LOG

    def record(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = warnings.formatwarning(message, category, filename, lineno, line)
        with _lock:
            _counts[category.__name__] += 1
            with log.open("a") as handle:
                handle.write(text)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = record
        take_counts()  # nothing from before this campaign's run
        try:
            yield
        finally:
            take_counts()
