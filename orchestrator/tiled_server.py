"""A Tiled server kept inside a campaign's store, for users without a facility server.

tiled's `SimpleTiledServer` (SQLite catalog, DuckDB tables, zarr arrays under `STORE/tiled/`),
bound to loopback, its API key kept owner-only in `STORE/tiled-api-key` so that a reader can come
back with the same key after the campaign. It runs in a process of its own (`junkan tiled STORE`):
its web server must not take the loop's interpreter, and the same command serves the store
for reading once the campaign has ended.
"""

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.child_process import parent_is_gone, stop_process
from orchestrator.secret_file import read_secret, write_secret
from orchestrator.tiled_sink import TiledError

TILED_DIR = "tiled"
API_KEY_FILE = "tiled-api-key"
SERVER_LOG = "tiled-server.log"
START_S = 60.0
ANNOUNCED = re.compile(r"^tiled of .*: (?P<uri>http://\S+)")


def api_key(store_path: Path) -> str:
    path = Path(store_path) / API_KEY_FILE
    if not path.exists():
        write_secret(path, secrets.token_hex(16))
    return read_secret(path)


def serve(store_path: Path, port: int, announce: Callable[[str], None], parent: int | None = None) -> None:
    """Serve the store's Tiled until SIGTERM or Ctrl-C, or until process `parent` is gone (a
    campaign killed with -9 must not leave its server holding the store's tables);
    `announce` gets the URI (no key in it)."""
    from tiled.server import SimpleTiledServer

    key = api_key(store_path)
    server = SimpleTiledServer(directory=Path(store_path) / TILED_DIR, api_key=key, port=port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        announce(f"http://127.0.0.1:{server.port}/api/v1")
        while not stopped.wait(0.5):
            if parent_is_gone(parent):
                break
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@contextmanager
def embedded(store_path: Path) -> Iterator[tuple[str, str]]:
    """`junkan tiled STORE` in its own process for as long as the block runs: (URI, API key).
    Its messages go to `STORE/tiled-server.log` (a pipe nobody reads would fill and stall it)."""
    command = [sys.executable, "-m", "orchestrator", "tiled", str(store_path), "--port", "0", "--create"]
    command += ["--parent", str(os.getpid())]
    key = api_key(store_path)  # before the child: both read the same key
    log = Path(store_path) / SERVER_LOG
    with log.open("a") as messages:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=messages, text=True)
    try:
        yield _announced(child, log), key
    finally:
        stop_process(child, timeout=20)


def _announced(child: subprocess.Popen[str], log: Path) -> str:
    """The URI the child prints once its server answers (SimpleTiledServer waits for that)."""
    assert child.stdout is not None
    stdout = child.stdout
    found: list[str] = []

    def read() -> None:
        for line in stdout:
            if match := ANNOUNCED.match(line):
                found.append(match["uri"])
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_S)
    if not found:
        child.kill()
        child.wait()
        last = log.read_text().strip().splitlines()[-1:] or [f"nothing announced within {START_S:.0f} s"]
        raise TiledError(f"the embedded Tiled server did not start: {last[0]} (see {log})")
    return found[0]
