"""Runs plans in an in-process Bluesky RunEngine: the embedded default executor."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bluesky import RunEngine
from bluesky.utils import MsgGenerator, RunEngineInterrupted
from ophyd_async.core import Device
from ophyd_async.plan_stubs import ensure_connected

from instruments import instrument_fault_in

DocumentCallback = Callable[[str, Mapping[str, Any]], None]


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


class LocalExecutor:
    """Connects the devices once, then runs each plan to completion, collecting its documents."""

    name = "local"

    def __init__(self, devices: list[Device]) -> None:
        self.run_engine = RunEngine({}, call_returns_result=True)
        self.run_engine(ensure_connected(*devices))

    def run(self, plan: MsgGenerator[Any], on_document: DocumentCallback) -> RunOutcome:
        documents: list[tuple[str, Mapping[str, Any]]] = []

        def collect(name: str, doc: Mapping[str, Any]) -> None:
            documents.append((name, doc))
            on_document(name, doc)

        try:
            result = self.run_engine(plan, collect)
        except RunEngineInterrupted:
            # Ctrl-C paused the run: close it (stop document, exit_status 'abort'), then stop.
            self.run_engine.abort("interrupted by the user")
            raise KeyboardInterrupt from None
        except Exception as exc:  # the plan failed; its stop document says so too
            uids = [doc["uid"] for name, doc in documents if name == "start"]
            fault = instrument_fault_in(exc)  # a typed device fault says what and where
            reason = str(fault) if fault is not None else f"{type(exc).__name__}: {exc}"
            return RunOutcome(uids, "fail", reason, documents)
        return RunOutcome(list(result.run_start_uids), result.exit_status, result.reason or "", documents)
