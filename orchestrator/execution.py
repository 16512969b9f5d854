"""What the loop asks an executor to run, and what comes back: the same for the in-process
RunEngine and for a queue server on another host."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

DocumentCallback = Callable[[str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class PlanRequest:
    """Make and measure one condition: the instrument turns it into a Bluesky plan where it runs."""

    condition: Mapping[str, float]
    measurement: Mapping[str, float]
    md: Mapping[str, Any]
    # what the orchestrator's instrument has made and measured (`SharesRecord`): for an instrument
    # that is not this process's own; the in-process one has it already
    record: Mapping[str, Any] | None = None


@dataclass
class RunOutcome:
    """How a plan ended and every document it emitted."""

    run_uids: list[str]
    exit_status: str
    reason: str = ""
    documents: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.exit_status == "success" and bool(self.run_uids)


class Executor(Protocol):
    name: str
    in_process: bool  # runs plans on this process's own instrument (which then knows what it made)

    def run(self, request: PlanRequest, on_document: DocumentCallback) -> RunOutcome: ...


@runtime_checkable
class Interruptible(Protocol):
    """An executor that can stop the plan it is running when the campaign's process is interrupted
    (Ctrl-C), so the instrument is left safe before the loop records the interruption."""

    def interrupt(self) -> None: ...
