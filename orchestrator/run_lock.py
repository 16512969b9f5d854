"""One process runs a campaign at a time: `junkan run` and `junkan resume` hold an exclusive
lock on the store, which the kernel drops when the process ends, however it ends. Others (the
dashboard) can ask whether a live process is running the campaign."""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "run.lock"


class CampaignBusyError(RuntimeError):
    """Another live process is running this campaign."""


@contextmanager
def run_lock(store_path: Path) -> Iterator[None]:
    path = Path(store_path) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise CampaignBusyError(
                f"{store_path} is being run by another process (pid {holder}); wait for it or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def is_running(store_path: Path) -> bool:
    """True while a live process holds the store's run lock."""
    path = Path(store_path) / LOCK_FILE
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
