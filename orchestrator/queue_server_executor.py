"""Runs plans through bluesky-queueserver: an RE Manager (with Redis) whose worker holds the devices.

The worker loads `orchestrator.queue_server_profile`, which builds the campaign's instrument and
publishes every document to a 0MQ proxy (bluesky's `Publisher`). This executor subscribes to the
proxy's output, submits `junkan_plan(condition, measurement, md)` for immediate execution, hands
on the documents of the runs it opened as they arrive, and reads how the plan ended from the
manager's history. The documents are reduced in the orchestrator, as with `LocalExecutor`.

Documents travel pickled (the `Publisher` default): subscribe only to a proxy you trust.
"""

import pickle
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
import zmq
from bluesky_queueserver_api import BPlan
from bluesky_queueserver_api.zmq import REManagerAPI

from orchestrator.execution import DocumentCallback, PlanRequest, RunOutcome

# What the worker's profile reads from its environment (the RE Manager's, inherited by the worker).
CAMPAIGN_ENV = "JUNKAN_CAMPAIGN"
SEED_ENV = "JUNKAN_SEED"
DOCUMENTS_ENV = "JUNKAN_DOCUMENTS_ADDRESS"
PROFILE_MODULE = "orchestrator.queue_server_profile"
PLAN_NAME = "junkan_plan"
# The start-document key that ties a run to the request that opened it.
REQUEST_KEY = "junkan_request_uid"

# Every plan and device of the profile, for every user; names starting with '_' are private.
USER_GROUP_PERMISSIONS: dict[str, Any] = {
    "user_groups": {
        "root": {
            "allowed_plans": [None],
            "forbidden_plans": [":^_"],
            "allowed_devices": [None],
            "forbidden_devices": [":^_:?.*"],
            "allowed_functions": [None],
            "forbidden_functions": [":^_"],
        },
        "primary": {
            "allowed_plans": [":.*"],
            "forbidden_plans": [None],
            "allowed_devices": [":?.*:depth=5"],
            "forbidden_devices": [None],
            "allowed_functions": [None],
            "forbidden_functions": [None],
        },
    }
}

# The manager's plan states (history `result.exit_status`) as run exit statuses.
_EXIT_STATUS = {
    "completed": "success",
    "stopped": "success",
    "failed": "fail",
    "aborted": "abort",
    "halted": "abort",
}
_FAILED_PREFIX = "Plan failed: "  # how the worker words the message of a plan that raised


class QueueServerError(RuntimeError):
    """The queue server cannot run a plan (unreachable, no environment, documents lost): the
    campaign stops without a verdict on the plan and can be resumed."""


def re_manager_command(
    *,
    control_address: str,
    info_address: str,
    redis_address: str,
    redis_name_prefix: str,
    state_dir: Path,
    executable: str = "start-re-manager",
) -> list[str]:
    """The `start-re-manager` command line for the junkan profile (start it with CAMPAIGN_ENV,
    SEED_ENV and DOCUMENTS_ENV set). Writes the user group permissions into `state_dir`, where the
    manager also keeps its list of existing plans and devices."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    permissions = state_dir / "user_group_permissions.yaml"
    permissions.write_text(yaml.safe_dump(USER_GROUP_PERMISSIONS, sort_keys=False))
    return [
        executable,
        "--startup-module",
        PROFILE_MODULE,
        "--existing-plans-devices",
        str(state_dir / "existing_plans_and_devices.yaml"),
        "--user-group-permissions",
        str(permissions),
        "--redis-addr",
        redis_address,
        "--redis-name-prefix",
        redis_name_prefix,
        "--zmq-control-addr",
        control_address,
        "--zmq-info-addr",
        info_address,
        "--zmq-publish-console",
        "OFF",
    ]


def close_environment(api: REManagerAPI, timeout_s: float = 120.0) -> None:
    """Close the RE worker environment and wait until it is gone."""
    api.environment_close()
    _wait_for(
        api,
        lambda s: s["manager_state"] == "idle" and not s["worker_environment_exists"],
        timeout_s,
        "the RE worker environment to close",
    )


def open_environment(api: REManagerAPI, *, reopen: bool = False, timeout_s: float = 120.0) -> None:
    """Open the RE worker environment if it is closed. `reopen` closes an open one first: a new
    worker process, whose instrument is built anew (a simulated world starts from its seed again)."""
    status = _wait_for(api, lambda s: s["manager_state"] == "idle", timeout_s, "the RE Manager to be idle")
    if status["worker_environment_exists"] and reopen:
        close_environment(api, timeout_s)
        status = api.status(reload=True)
    if not status["worker_environment_exists"]:
        api.environment_open()
        status = _wait_for(api, lambda s: s["manager_state"] == "idle", timeout_s, "the environment to open")
        if not status["worker_environment_exists"]:
            raise QueueServerError(
                "the RE worker environment failed to open; the RE Manager's log says why (is "
                f"{CAMPAIGN_ENV} a valid campaign file and {DOCUMENTS_ENV} set?)"
            )


@contextmanager
def queue_server_environment(
    control_address: str, *, reopen: bool = False, close: bool = False, timeout_s: float = 120.0
) -> Iterator[REManagerAPI]:
    """A client of the RE Manager at `control_address` with the worker environment open (opened
    here if closed; see `open_environment`); closed again on exit when `close`."""
    api = REManagerAPI(zmq_control_addr=control_address)
    try:
        open_environment(api, reopen=reopen, timeout_s=timeout_s)
        yield api
        if close:
            close_environment(api, timeout_s)
    finally:
        api.close()


class QueueServerExecutor:
    """Runs each requested plan in the queue server's worker and collects its documents.

    `control_address` is the RE Manager's 0MQ control address, `documents_address` the output of
    the 0MQ proxy the worker publishes to. `timeout_s` bounds one plan (None: no bound)."""

    name = "queue-server"
    in_process = False

    def __init__(
        self,
        control_address: str,
        documents_address: str,
        *,
        timeout_s: float | None = None,
        connect_timeout_s: float = 10.0,
        poll_interval_s: float = 0.05,
        documents_grace_s: float = 10.0,
    ) -> None:
        self.control_address = control_address
        self.documents_address = documents_address
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s
        self.documents_grace_s = documents_grace_s
        self._context = zmq.Context()
        self._socket = self._subscribe(connect_timeout_s)
        self.api = REManagerAPI(zmq_control_addr=control_address)

    def _subscribe(self, timeout_s: float) -> zmq.Socket:
        """A SUB socket on the proxy's output, connected before any plan is submitted (a late
        subscriber misses what was published before it joined)."""
        socket = self._context.socket(zmq.SUB)
        socket.setsockopt(zmq.RCVHWM, 0)  # never drop a document while the loop is busy elsewhere
        socket.setsockopt(zmq.LINGER, 0)
        monitor = socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        socket.setsockopt(zmq.SUBSCRIBE, b"")
        socket.connect(self.documents_address)
        connected = bool(monitor.poll(timeout_s * 1000))
        socket.disable_monitor()
        monitor.close()
        if not connected:
            socket.close()
            self._context.term()
            raise QueueServerError(
                f"no 0MQ document proxy answered at {self.documents_address} within {timeout_s:g} s"
            )
        time.sleep(0.1)  # the subscription reaches the proxy just after the handshake
        return socket

    def close(self) -> None:
        self._socket.close()
        self._context.term()
        self.api.close()

    def __enter__(self) -> "QueueServerExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, request: PlanRequest, on_document: DocumentCallback) -> RunOutcome:
        self._discard_pending_documents()
        status = self._status()
        if not status["worker_environment_exists"]:
            raise QueueServerError(
                f"the RE Manager at {self.control_address} has no worker environment; open it "
                "(queue_server_environment or `qserver environment open`)"
            )
        if status["manager_state"] != "idle":
            status = _wait_for(
                self.api, lambda s: s["manager_state"] == "idle", self.timeout_s, "the RE Manager to be idle"
            )
        token = uuid.uuid4().hex
        md = {**request.md, REQUEST_KEY: token}
        plan = BPlan(
            PLAN_NAME,
            condition={k: float(v) for k, v in request.condition.items()},
            measurement={k: float(v) for k, v in request.measurement.items()},
            md=md,
            **({} if request.record is None else {"record": dict(request.record)}),
        )
        collector = _RunDocuments(token, request.md.get("proposal_id"), on_document)
        history_uid = status["plan_history_uid"]
        try:
            response = self.api.item_execute(plan)
        except self.api.RequestFailedError as exc:
            raise QueueServerError(f"the RE Manager refused {PLAN_NAME}: {exc}") from exc
        item_uid = response["item"]["item_uid"]
        try:
            result = self._wait_for_result(item_uid, history_uid, collector)
        except KeyboardInterrupt:
            self._abort_running_plan()
            raise
        return self._outcome(result, collector)

    def _status(self) -> dict[str, Any]:
        try:
            return self.api.status(reload=True)
        except self.api.RequestTimeoutError as exc:
            raise QueueServerError(f"no RE Manager answers at {self.control_address}") from exc

    def _discard_pending_documents(self) -> None:
        """Documents published between two plans belong to no request of ours."""
        while self._socket.poll(0):
            self._socket.recv()

    def _receive(self, collector: "_RunDocuments", wait_s: float) -> None:
        """Hand on every document of ours that arrives within `wait_s`."""
        deadline = time.monotonic() + wait_s
        while True:
            remaining = deadline - time.monotonic()
            if not self._socket.poll(max(remaining, 0.0) * 1000):
                return
            message = self._socket.recv()
            try:
                _prefix, name, payload = message.split(b" ", 2)
                collector.offer(name.decode(), pickle.loads(payload))
            except (ValueError, UnicodeDecodeError, pickle.UnpicklingError):
                continue  # not a bluesky document

    def _wait_for_result(self, item_uid: str, history_uid: str, collector: "_RunDocuments") -> dict[str, Any]:
        """The manager's result for the item once it is in the history and the manager is idle."""
        started = time.monotonic()
        while True:
            self._receive(collector, self.poll_interval_s)
            status = self._status()
            if status["plan_history_uid"] != history_uid:
                history_uid = status["plan_history_uid"]
                finished = next(
                    (item for item in self.api.history_get()["items"] if item.get("item_uid") == item_uid),
                    None,
                )
                if finished is not None:
                    _wait_for(
                        self.api, lambda s: s["manager_state"] == "idle", 30.0, "the RE Manager to be idle"
                    )
                    return dict(finished.get("result", {}))
            if self.timeout_s is not None and time.monotonic() - started > self.timeout_s:
                raise QueueServerError(
                    f"{PLAN_NAME} (item {item_uid}) did not finish within {self.timeout_s:g} s; it may "
                    f"still be running on the RE Manager at {self.control_address}"
                )

    def _outcome(self, result: Mapping[str, Any], collector: "_RunDocuments") -> RunOutcome:
        run_uids = [str(uid) for uid in result.get("run_uids", [])]
        # the history can come before the last documents: wait (a little) for every run to close
        deadline = time.monotonic() + self.documents_grace_s
        while not collector.complete(run_uids) and time.monotonic() < deadline:
            self._receive(collector, self.poll_interval_s)
        plan_state = str(result.get("exit_status", ""))
        exit_status = _EXIT_STATUS.get(plan_state, plan_state or "fail")
        reason = str(result.get("msg") or "")
        reason = reason.removeprefix(_FAILED_PREFIX)
        uids = collector.start_uids or run_uids
        if not collector.complete(run_uids):
            missing = sorted((set(run_uids) | set(collector.start_uids)) - collector.closed_uids())
            if exit_status == "success":
                raise QueueServerError(
                    f"the documents of run(s) {missing} did not arrive from {self.documents_address}"
                )
            return RunOutcome(
                uids, exit_status, reason or f"no stop document for run(s) {missing}", collector.documents
            )
        stops = collector.stops()
        if exit_status == "success" and any(stop.get("exit_status") != "success" for stop in stops):
            failed = next(stop for stop in stops if stop.get("exit_status") != "success")
            exit_status, reason = str(failed.get("exit_status")), str(failed.get("reason") or "")
        return RunOutcome(uids, exit_status, reason, collector.documents)

    def _abort_running_plan(self) -> None:
        """Ctrl-C: close the remote run (exit_status 'abort'), as the local executor does."""
        try:
            self.api.re_pause(option="immediate")
            _wait_for(self.api, lambda s: s["manager_state"] in ("paused", "idle"), 10.0, "the plan to pause")
            if self.api.status(reload=True)["manager_state"] == "paused":
                self.api.re_abort()
        except Exception:  # nothing running any more, or the manager is gone: nothing to abort
            pass


class _RunDocuments:
    """The documents of the runs one request opened, in the order they arrived: runs whose start
    carries the request's token (and proposal id), and everything that points at those runs."""

    def __init__(self, token: str, proposal_id: object, on_document: DocumentCallback) -> None:
        self.token = token
        self.proposal_id = proposal_id
        self.on_document = on_document
        self.documents: list[tuple[str, Mapping[str, Any]]] = []
        self.start_uids: list[str] = []
        self._descriptors: set[str] = set()
        self._resources: set[str] = set()

    def offer(self, name: str, doc: Mapping[str, Any]) -> None:
        if self._belongs(name, doc):
            if name == "start":
                self.start_uids.append(doc["uid"])
            elif name == "descriptor":
                self._descriptors.add(doc["uid"])
            elif name == "resource":
                self._resources.add(doc["uid"])
            self.documents.append((name, doc))
            self.on_document(name, doc)

    def _belongs(self, name: str, doc: Mapping[str, Any]) -> bool:
        if name == "start":
            ours = doc.get(REQUEST_KEY) == self.token
            return ours and (self.proposal_id is None or doc.get("proposal_id") == self.proposal_id)
        if name in ("descriptor", "stop", "resource", "stream_resource"):
            return doc.get("run_start") in self.start_uids
        if name in ("event", "event_page", "stream_datum"):
            return doc.get("descriptor") in self._descriptors
        if name in ("datum", "datum_page"):
            return doc.get("resource") in self._resources
        return False

    def stops(self) -> list[Mapping[str, Any]]:
        return [doc for name, doc in self.documents if name == "stop"]

    def closed_uids(self) -> set[str]:
        return {doc["run_start"] for doc in self.stops()}

    def complete(self, run_uids: list[str]) -> bool:
        """Every run the manager reported, and every run that started, has its stop document."""
        return set(run_uids) | set(self.start_uids) <= self.closed_uids()


def _wait_for(api: REManagerAPI, condition, timeout_s: float | None, what: str) -> dict[str, Any]:
    """Poll the manager's status until `condition` holds; the status that satisfied it."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        try:
            status = api.status(reload=True)
        except api.RequestTimeoutError as exc:
            raise QueueServerError(f"the RE Manager stopped answering while waiting for {what}") from exc
        if condition(status):
            return status
        if deadline is not None and time.monotonic() > deadline:
            raise QueueServerError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)
