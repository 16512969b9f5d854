"""Every run's documents also to Tiled, where a facility's own tools read them.

The store stays the loop's source of truth. Documents reach Tiled (bluesky-tiled-plugins'
`TiledWriter`, in small batches so that a run is readable as it happens) from a thread of their
own: a slow or absent Tiled server never holds the loop, and a failure is reported once, counted
and survived (TiledWriter then writes the run as JSONL into the store's `tiled-backup/`). On
resume the document journal fills in what Tiled missed: runs it never received, and runs it holds
without a stop document (the journal has at least as much of them).
"""

import os
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

os.environ.setdefault("TILED_RETRY_ATTEMPTS", "2")  # read when tiled is imported: fail in seconds, not 25 s

EMBEDDED = "embedded"
BACKUP_DIR = "tiled-backup"
DRAIN_S = 600.0  # at the end, how long the documents still queued may take to reach Tiled
# Events per write. One per write costs ~40 ms an event here: a 12-measurement simulated thin-film
# campaign's 3,400 XAFS points took 137 s to write, against 20 s to measure. With 50 the campaign
# ends 34 s after it starts instead of 20, and a 282-point spectrum still grows in Tiled in 6 steps.
BATCH_EVENTS = 50

Document = tuple[str, Mapping[str, Any]]


class TiledError(RuntimeError):
    """Tiled cannot be reached or used; the message names the server and what to do."""


def without_key(uri: str) -> tuple[str, str | None]:
    """The URI with any `api_key` query parameter removed (safe to print and keep), and the key."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    key = query.pop("api_key", [None])[0]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True))), key


def connect(uri: str, api_key: str | None = None) -> Any:
    """A tiled client of the server at `uri` (its key from the URI, `api_key` or TILED_API_KEY)."""
    from tiled.client import from_uri

    shown, in_uri = without_key(uri)
    if urlsplit(shown).scheme not in ("http", "https"):
        raise TiledError(f"tiled {shown!r} is not an http(s) URI nor {EMBEDDED!r}")
    try:
        return from_uri(shown, api_key=api_key or in_uri or os.environ.get("TILED_API_KEY"))
    except Exception as exc:  # httpx connection errors, 401s, a server that is not tiled
        raise TiledError(f"cannot use the Tiled server at {shown}: {exc}") from None


def run_of(documents: Iterable[Document]) -> list[tuple[str, Document]]:
    """Each document with the uid of the run it belongs to."""
    runs: dict[str, str] = {}  # descriptor uid -> run uid
    tagged = []
    for name, doc in documents:
        if name == "start":
            run = doc["uid"]
        elif name == "descriptor":
            run = runs[doc["uid"]] = doc["run_start"]
        elif name in ("event", "event_page"):
            run = runs[doc["descriptor"]]
        elif name == "stop":
            run = doc["run_start"]
        else:
            continue
        tagged.append((run, (name, doc)))
    return tagged


class TiledSink:
    """A `(name, doc)` callable for the loop, writing to Tiled from its own thread."""

    def __init__(
        self, client: Any, store_path: Path, notify: Callable[[str], None] = lambda message: None
    ) -> None:
        from bluesky_tiled_plugins import TiledWriter

        self.client = client
        self.uri = without_key(client.uri)[0]
        self.notify = notify
        self.failures = 0
        backup = Path(store_path) / BACKUP_DIR
        self._writer = TiledWriter(client, batch_size=BATCH_EVENTS, backup_directory=str(backup))
        self._queue: queue.Queue[Document | None] = queue.Queue()
        self._thread = threading.Thread(target=self._drain, name="tiled-writer", daemon=True)
        self._thread.start()

    def __call__(self, name: str, doc: Mapping[str, Any]) -> None:
        self._queue.put((name, doc))

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._writer(*item)
            except Exception as exc:  # the store has the document; Tiled is where others read
                self.failures += 1
                if self.failures == 1:
                    self.notify(
                        f"tiled: writing to {self.uri} failed ({type(exc).__name__}: {exc}); the store "
                        f"keeps every document, and `junkan resume` fills in what Tiled missed"
                    )

    def backfill(self, documents: Iterable[Document]) -> int:
        """Write the runs of journalled documents that Tiled lacks or holds unfinished; returns how
        many runs were written. Runs already whole in Tiled are left alone (rewriting is a 409)."""
        tagged = run_of(documents)
        whole, written = {}, set()
        for run, _ in tagged:
            if run in whole:
                continue
            try:
                held = self.client[run]
            except KeyError:
                whole[run] = False
                continue
            whole[run] = held.metadata.get("stop") is not None
            if not whole[run]:  # cut short while Tiled was writing it: the journal has more
                self.client.delete_contents([run], recursive=True, external_only=False)
        for run, document in tagged:
            if not whole[run]:
                self(*document)
                written.add(run)
        return len(written)

    def close(self, timeout: float = DRAIN_S) -> bool:
        """Let the queued documents reach Tiled (within `timeout`); False when some did not."""
        if queued := self._queue.qsize():
            self.notify(f"tiled: writing the last {queued} document(s) to {self.uri}")
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()
