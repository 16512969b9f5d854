"""The bearer token that authorises control over a campaign from the dashboard.

Generated when the campaign starts, printed once, and kept in the store readable by its owner
only: whoever can read the store's token file may pause, stop or steer the campaign; anyone who
can only reach the dashboard may watch it."""

import os
import secrets
from pathlib import Path

TOKEN_FILE = "control-token"
OWNER_ONLY = 0o600


class ControlTokenError(RuntimeError):
    """A token file that is missing or readable by others; the message says what to do."""


def create_token(store_path: Path) -> str:
    """A new random token, written owner-only (created with mode 0600, never wider)."""
    token = secrets.token_urlsafe(32)
    path = Path(store_path) / TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return token


def read_token(store_path: Path) -> str:
    path = Path(store_path) / TOKEN_FILE
    if not path.exists():
        raise ControlTokenError(
            f"{path} does not exist: this store was made before control tokens; control it with "
            "`junkan control` instead"
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ControlTokenError(f"{path} is readable by others (mode {mode:o}); `chmod 600 {path}`")
    return path.read_text().strip()


def token_matches(store_path: Path, presented: str | None) -> bool:
    """Constant-time comparison with the store's token; False when either is missing."""
    if not presented:
        return False
    try:
        expected = read_token(store_path)
    except ControlTokenError:
        return False
    return secrets.compare_digest(presented.encode(), expected.encode())
