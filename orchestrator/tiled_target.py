"""Which Tiled a campaign writes to, and the sink for as long as the campaign runs.

`junkan run --tiled` (or `tiled:` in the campaign file) names it; the choice is kept in
`STORE/tiled-target` (without any API key) so that `junkan resume` writes to the same place.
"""

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.document_journal import journal_history
from orchestrator.tiled_server import API_KEY_FILE, embedded
from orchestrator.tiled_sink import DRAIN_S, EMBEDDED, TiledError, TiledSink, connect, without_key

TARGET_FILE = "tiled-target"


def check_available() -> None:
    missing = [m for m in ("tiled", "bluesky_tiled_plugins") if importlib.util.find_spec(m) is None]
    if missing:
        raise TiledError(
            f"writing to Tiled needs {', '.join(missing)}: install junkan's tiled extra "
            "(`pip install -e '.[tiled]'`)"
        )


def chosen(store_path: Path, given: str | None, in_campaign: str | None) -> str | None:
    """--tiled, else what the campaign's first run recorded, else the campaign file's `tiled:`."""
    recorded = Path(store_path) / TARGET_FILE
    if given is not None:
        return given
    if recorded.exists():
        return recorded.read_text().strip()
    return in_campaign


def check(target: str) -> None:
    """Before anything is written: the extra is installed, and a named server answers."""
    check_available()
    if target != EMBEDDED:
        connect(target)


@contextmanager
def sink_for(
    store_path: Path,
    target: str | None,
    proposal_ids: list[str],
    notify: Callable[[str], None],
    announce: Callable[[str], None],
) -> Iterator[TiledSink | None]:
    """The sink the loop publishes to (None without a target). Runs journalled before this
    process started and missing from Tiled are written first; at the end the queue drains."""
    if target is None:
        yield None
        return
    store_path = Path(store_path)
    (store_path / TARGET_FILE).write_text(without_key(target)[0] + "\n")
    with _client(store_path, target, announce) as client:
        sink = TiledSink(client, store_path, notify)
        try:
            documents = [d for _, attempt in journal_history(store_path, proposal_ids) for d in attempt]
            if written := sink.backfill(documents):
                announce(f"tiled: {written} run(s) journalled earlier are being written")
            yield sink
        finally:
            if not sink.close():
                notify(f"tiled: documents still queued after {DRAIN_S:.0f} s; the store has them all")
            elif sink.failures:
                notify(f"tiled: {sink.failures} document(s) did not reach {sink.uri}; the store has them all")


@contextmanager
def _client(store_path: Path, target: str, announce: Callable[[str], None]) -> Iterator[object]:
    if target != EMBEDDED:
        client = connect(target)
        announce(f"tiled: writing every run to {without_key(target)[0]}")
        yield client
        return
    with embedded(store_path) as (uri, key):
        announce(
            f"tiled: writing every run to {uri} (API key in {store_path / API_KEY_FILE}; "
            f"serve it again later with `junkan tiled {store_path}`)"
        )
        yield connect(uri, key)
