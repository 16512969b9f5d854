"""A person's hand on a running campaign: requests dropped into the store's `control/` folder.

`junkan control DIR pause|resume|stop|inject|approve|reject` and the dashboard each writes one JSON
file per request, atomically; the loop takes them between steps, records each as a `Controlled`
event before acting on it, and only then deletes the file (a request seen twice after a crash is
recognised by its id and not applied again).
"""

import json
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONTROL_DIR = "control"
Command = Literal["pause", "resume", "stop", "inject", "approve", "reject"]
COMMANDS: tuple[str, ...] = ("pause", "resume", "stop", "inject", "approve", "reject")


class ControlError(ValueError):
    """A control request that cannot be taken; the message says what would be valid."""


class ControlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    command: Command
    condition: dict[str, float] | None = None  # inject
    proposal_id: str | None = None  # approve, reject
    note: str = ""
    time: float = Field(default_factory=time.time)


def send(store_path: Path, request: ControlRequest) -> Path:
    """Drop a request into the store (write to a hidden name, then rename: never half-read)."""
    if request.command == "inject" and not request.condition:
        raise ControlError("inject needs a condition, e.g. Fe=0.5,Ga=0.3,Pd=0.2")
    if request.command in ("approve", "reject") and not request.proposal_id:
        raise ControlError(f"{request.command} needs the proposal id it answers, e.g. p0007")
    directory = Path(store_path) / CONTROL_DIR
    directory.mkdir(exist_ok=True)
    final = directory / f"{time.time_ns():020d}-{request.request_id}.json"
    staging = directory / f".{final.name}.writing"
    staging.write_text(request.model_dump_json())
    with staging.open("rb") as handle:
        os.fsync(handle.fileno())
    staging.rename(final)
    return final


def pending_requests(store_path: Path) -> list[tuple[Path, ControlRequest | str]]:
    """Requests waiting in the store, oldest first; an unreadable one comes as its error text."""
    directory = Path(store_path) / CONTROL_DIR
    if not directory.is_dir():
        return []
    found: list[tuple[Path, ControlRequest | str]] = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append((path, ControlRequest.model_validate(json.loads(path.read_text()))))
        except (ValueError, ValidationError) as exc:
            found.append((path, f"{path.name}: {exc}"))
    return found


def parse_condition(text: str, names: Mapping[str, object]) -> dict[str, float]:
    """'Fe=0.5,Ga=0.3,Pd=0.2' as a condition over exactly `names`."""
    condition: dict[str, float] = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            condition[name.strip()] = float(value)
        except ValueError:
            raise ControlError(f"{item!r} is not NAME=VALUE; give e.g. Fe=0.5,Ga=0.3,Pd=0.2") from None
    if set(condition) != set(names):
        raise ControlError(f"condition names {sorted(condition)} must be exactly {sorted(names)}")
    return condition
