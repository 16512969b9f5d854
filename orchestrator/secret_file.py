"""Files that hold a secret (a control token, an API key): created owner-only, refused when wider."""

import os
from pathlib import Path

OWNER_ONLY = 0o600


class SecretFileError(RuntimeError):
    """A secret file readable by others; the message says how to close it."""


def write_secret(path: Path, secret: str) -> None:
    """Create `path` with mode 0600 (never wider, not even for a moment) holding `secret`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_secret(path: Path) -> str:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SecretFileError(f"{path} is readable by others (mode {mode:o}); `chmod 600 {path}`")
    return path.read_text().strip()
