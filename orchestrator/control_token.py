"""The bearer token that authorises control over a campaign from the dashboard.

Generated when the campaign starts, printed once, and kept in the store readable by its owner
only: whoever can read the store's token file may pause, stop or steer the campaign; anyone who
can only reach the dashboard may watch it."""

import secrets
from pathlib import Path

from orchestrator.secret_file import SecretFileError, read_secret, write_secret

TOKEN_FILE = "control-token"


class ControlTokenError(RuntimeError):
    """A token file that is missing or readable by others; the message says what to do."""


def create_token(store_path: Path) -> str:
    """A new random token, written owner-only."""
    token = secrets.token_urlsafe(32)
    write_secret(Path(store_path) / TOKEN_FILE, token)
    return token


def read_token(store_path: Path) -> str:
    path = Path(store_path) / TOKEN_FILE
    if not path.exists():
        raise ControlTokenError(
            f"{path} does not exist: this store was made before control tokens; control it with "
            "`junkan control` instead"
        )
    try:
        return read_secret(path)
    except SecretFileError as exc:
        raise ControlTokenError(str(exc)) from None


def token_matches(store_path: Path, presented: str | None) -> bool:
    """Constant-time comparison with the store's token; False when none is presented. Raises
    ControlTokenError when the store's own token is missing or readable by others: then no token
    can be right, and the caller should say why."""
    expected = read_token(store_path)
    if not presented:
        return False
    return secrets.compare_digest(presented.encode(), expected.encode())
