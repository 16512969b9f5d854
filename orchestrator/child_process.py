"""Servers junkan starts beside a campaign (dashboard, embedded Tiled) and stops with it."""

import os
import subprocess
import threading
import time
from collections.abc import Callable

PARENT_POLL_S = 0.5


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def parent_is_gone(parent: int | None) -> bool:
    """Has the process that started this one ended (this one was handed to init or a subreaper)?"""
    return parent is not None and os.getppid() != parent


def when_parent_is_gone(parent: int | None, stop: Callable[[], None]) -> None:
    """Call `stop` once `parent` has ended, even by SIGKILL: a server started beside a campaign must
    not outlive it, holding its port (and, before this, the stderr of whoever ran the campaign)."""
    if parent is None:
        return

    def watch() -> None:
        while not parent_is_gone(parent):
            time.sleep(PARENT_POLL_S)
        stop()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
