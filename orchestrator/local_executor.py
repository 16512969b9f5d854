"""Runs plans in an in-process Bluesky RunEngine: the embedded default executor."""

import threading
from collections.abc import Mapping
from typing import Any

from bluesky import RunEngine
from bluesky.utils import RunEngineInterrupted
from ophyd_async.plan_stubs import ensure_connected

from instruments import instrument_fault_in
from orchestrator.execution import DocumentCallback, PlanningInstrument, PlanRequest, RunOutcome


class LocalExecutor:
    """Connects the instrument's devices once, then runs each requested plan to completion,
    collecting its documents."""

    name = "local"
    in_process = True

    def __init__(self, instrument: PlanningInstrument) -> None:
        self.instrument = instrument
        self.run_engine = RunEngine({}, call_returns_result=True)
        self._ctrl_c_during_last_plan = False
        self.run_engine(ensure_connected(*instrument.devices))

    def run(self, request: PlanRequest, on_document: DocumentCallback) -> RunOutcome:
        if self._ctrl_c_during_last_plan:  # its outcome is on record by now: stop before the next
            self._ctrl_c_during_last_plan = False
            raise KeyboardInterrupt
        plan = self.instrument.plan(request.condition, request.measurement, request.md)
        if threading.current_thread() is not threading.main_thread():
            # signal handlers belong to the main thread, which turns Ctrl-C into `interrupt()`
            self.run_engine.context_managers = []
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
        # One Ctrl-C inside a run is a deferred pause to bluesky, and a plan with no checkpoint
        # after it finishes without pausing: the press would be lost and the campaign go on.
        self._ctrl_c_during_last_plan = self.run_engine.deferred_pause_requested
        return RunOutcome(list(result.run_start_uids), result.exit_status, result.reason or "", documents)

    def interrupt(self) -> None:
        """Pause a plan running in another thread now; its `run` then aborts it (Ctrl-C)."""
        if self.run_engine.state == "running":
            self.run_engine.request_pause(defer=False)
