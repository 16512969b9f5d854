"""Runs plans in an in-process Bluesky RunEngine: the embedded default executor."""

import signal
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from bluesky import RunEngine
from bluesky.run_engine import call_in_bluesky_event_loop
from bluesky.utils import RunEngineInterrupted, SigintHandler
from ophyd_async.core import DEFAULT_TIMEOUT, wait_for_connection

from instruments import instrument_fault_in
from instruments.protocols import PlanningInstrument
from orchestrator.execution import DocumentCallback, PlanRequest, RunOutcome


class PressNotingSigintHandler(SigintHandler):
    """bluesky's Ctrl-C handler that also tells the executor of each press: bluesky passes its pause
    request through a thread, which drops it when the run ends first (seen under load in CI)."""

    def __init__(self, run_engine: RunEngine, on_press: Callable[[], None]) -> None:
        super().__init__(run_engine)
        self._on_press = on_press

    def __enter__(self) -> "PressNotingSigintHandler":
        super().__enter__()
        pause = signal.getsignal(signal.SIGINT)

        def handler(signum, frame) -> None:
            self._on_press()
            pause(signum, frame)

        signal.signal(signal.SIGINT, handler)
        return self


class LocalExecutor:
    """Connects the instrument's devices once, then runs each requested plan to completion,
    collecting its documents."""

    name = "local"
    in_process = True

    def __init__(self, instrument: PlanningInstrument, connect_timeout_s: float = DEFAULT_TIMEOUT) -> None:
        self.instrument = instrument
        self._ctrl_c_during_last_plan = False
        self._pressed = False
        self.run_engine = RunEngine(
            {},
            call_returns_result=True,
            context_managers=[partial(PressNotingSigintHandler, on_press=self._note_press)],
        )
        # in the RunEngine's loop, as ensure_connected would, minus the traceback bluesky logs when
        # a device does not connect: the caller reports which PVs did not answer
        connections = {d.name: d.connect(timeout=connect_timeout_s) for d in instrument.devices}
        call_in_bluesky_event_loop(wait_for_connection(**connections))

    def run(self, request: PlanRequest, on_document: DocumentCallback) -> RunOutcome:
        if self._ctrl_c_during_last_plan:  # its outcome is on record by now: stop before the next
            self._ctrl_c_during_last_plan = False
            raise KeyboardInterrupt
        self._pressed = False
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
        # after it finishes without pausing (or ends before the request is made): the press
        # would be lost and the campaign go on.
        self._ctrl_c_during_last_plan = self._pressed or self.run_engine.deferred_pause_requested
        return RunOutcome(list(result.run_start_uids), result.exit_status, result.reason or "", documents)

    def _note_press(self) -> None:
        self._pressed = True

    def interrupt(self) -> None:
        """Pause a plan running in another thread now; its `run` then aborts it (Ctrl-C)."""
        if self.run_engine.state == "running":
            self.run_engine.request_pause(defer=False)
