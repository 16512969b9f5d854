"""QueueServerExecutor against a real Redis, 0MQ proxy and RE Manager running the junkan profile."""

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from bluesky_queueserver_api.zmq import REManagerAPI

from orchestrator.campaign import CampaignSpec, load_campaign
from orchestrator.execution import PlanRequest
from orchestrator.local_executor import LocalExecutor
from orchestrator.loop import CampaignLoop
from orchestrator.queue_server_executor import (
    CAMPAIGN_ENV,
    DOCUMENTS_ENV,
    SEED_ENV,
    QueueServerError,
    QueueServerExecutor,
    open_environment,
    queue_server_environment,
    re_manager_command,
)
from orchestrator.state import CampaignState
from orchestrator.store import CampaignStore
from orchestrator.wiring import build_instrument, build_policy, instrument_costs

pytestmark = pytest.mark.integration

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"
BIN = Path(sys.executable).parent
SEED = 0
PLAN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class QueueServer:
    control_address: str
    documents_address: str
    campaign_path: Path
    spec: CampaignSpec
    campaign_text: str
    api: REManagerAPI

    def executor(self) -> QueueServerExecutor:
        return QueueServerExecutor(self.control_address, self.documents_address, timeout_s=PLAN_TIMEOUT_S)


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_until(ready, what: str, process: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before it was ready")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready within {timeout_s:g} s")


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def manager_answers(api: REManagerAPI) -> bool:
    try:
        return api.status(reload=True)["manager_state"] == "idle"
    except api.RequestTimeoutError:
        return False


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process we started (the RE Manager's watchdog ends its manager and worker),
    then SIGKILL to its own process group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


LIGHT_POLICY = {"kind": "qlognei", "n_sobol": 3, "num_restarts": 2, "raw_samples": 32, "mc_samples": 64}


@pytest.fixture(scope="module")
def queue_server(request, tmp_path_factory) -> Iterator[QueueServer]:
    campaign = yaml.safe_load(QUICKSTART.read_text())
    campaign.update(budget=4, seed=SEED, policy=dict(LIGHT_POLICY))
    yield from serve(request, tmp_path_factory.mktemp("queue-server"), campaign)


def serve(
    request, root: Path, campaign: dict, environment: dict[str, str] | None = None
) -> Iterator[QueueServer]:
    """Redis, a 0MQ proxy and an RE Manager whose worker runs `campaign`, all on loopback; the
    manager and its worker get `environment` besides this process's."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server (as .ci/run does)")
    campaign_path = root / "campaign.yaml"
    campaign_path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    spec, text = load_campaign(campaign_path)

    redis_port, control_port, info_port, proxy_in, proxy_out = free_ports(5)
    control = f"tcp://127.0.0.1:{control_port}"
    logs: dict[str, Path] = {}
    processes: list[subprocess.Popen] = []

    def start(name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        logs[name] = root / f"{name}.log"
        with logs[name].open("w") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True
            )
        processes.append(process)
        return process

    failed_before = request.session.testsfailed
    api = REManagerAPI(zmq_control_addr=control)
    try:
        redis = start(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        wait_until(lambda: redis_answers(redis_port), "redis-server", redis)
        start(
            "proxy",
            [
                str(BIN / "bluesky-0MQ-proxy"),
                "--in-address",
                f"tcp://127.0.0.1:{proxy_in}",
                "--out-address",
                f"tcp://127.0.0.1:{proxy_out}",
            ],
        )
        env = {
            **os.environ,
            **(environment or {}),
            CAMPAIGN_ENV: str(campaign_path),
            SEED_ENV: str(SEED),
            DOCUMENTS_ENV: f"tcp://127.0.0.1:{proxy_in}",
        }
        command = re_manager_command(
            control_address=control,
            info_address=f"tcp://127.0.0.1:{info_port}",
            redis_address=f"127.0.0.1:{redis_port}",
            redis_name_prefix=f"junkan_test_{os.getpid()}_{control_port}",
            state_dir=root / "manager",
            executable=str(BIN / "start-re-manager"),
        )
        manager = start("re-manager", command, env)
        wait_until(lambda: manager_answers(api), "start-re-manager", manager)
        open_environment(api, timeout_s=120)
        yield QueueServer(control, f"tcp://127.0.0.1:{proxy_out}", campaign_path, spec, text, api)
    finally:
        try:
            if manager_answers(api) and api.status()["worker_environment_exists"]:
                api.environment_close()
                deadline = time.monotonic() + 20
                while api.status(reload=True)["worker_environment_exists"] and time.monotonic() < deadline:
                    time.sleep(0.1)
        except Exception:
            pass  # the processes are stopped below all the same
        api.close()
        for process in reversed(processes):
            stop(process)
        if request.session.testsfailed > failed_before or sys.exc_info()[0] is not None:
            capture = request.config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():
                for name, path in logs.items():
                    print(f"\n----- {name} log ({path}) -----\n{path.read_text()[-20000:]}")


def request_for(
    condition: dict[str, float], proposal_id: str, spec: CampaignSpec, **md: object
) -> PlanRequest:
    return PlanRequest(
        condition,
        {"count_time_s": spec.instrument.count_time_s},
        {"campaign": spec.name, "proposal_id": proposal_id, "junkan_seed": SEED, **md},
    )


def test_one_plan_comes_back_as_documents_that_reduce(queue_server: QueueServer) -> None:
    instrument = build_instrument(queue_server.spec, SEED)  # reduces only: the worker measures
    seen: list[tuple[str, dict]] = []
    with queue_server.executor() as executor:
        assert executor.name == "queue-server"
        request = request_for({"Fe": 0.8, "Ga": 0.1, "Pd": 0.1}, "p-one", queue_server.spec)
        outcome = executor.run(request, lambda name, doc: seen.append((name, doc)))
        other = executor.run(
            request_for({"Fe": 0.6, "Ga": 0.2, "Pd": 0.2}, "p-two", queue_server.spec), print
        )

    assert outcome.succeeded, outcome.reason
    assert outcome.exit_status == "success" and outcome.reason == ""
    assert seen == outcome.documents  # handed on as they came, nothing else
    names = [name for name, _ in outcome.documents]
    assert names[0] == "start" and names[-1] == "stop"
    assert names.count("start") == 1 and "descriptor" in names and "event" in names
    start = outcome.documents[0][1]
    stop_doc = outcome.documents[-1][1]
    assert start["proposal_id"] == "p-one" and start["campaign"] == queue_server.spec.name
    assert start["composition"] == {"Fe": 0.8, "Ga": 0.1, "Pd": 0.1}
    assert outcome.run_uids == [start["uid"]]
    assert stop_doc["exit_status"] == "success" and stop_doc["run_start"] == start["uid"]
    assert all(type(doc) is dict for _, doc in outcome.documents)

    reduction = instrument.reduce(outcome.documents)
    assert reduction.run_uid == start["uid"]
    assert reduction.values["magnetization"] > 0 and math.isfinite(reduction.values["magnetization"])
    assert math.isfinite(reduction.variances["magnetization"]) and reduction.variances["magnetization"] > 0

    # the next request collects its own run only
    assert other.succeeded and other.run_uids != outcome.run_uids
    assert {doc["uid"] for _, doc in other.documents}.isdisjoint(doc["uid"] for _, doc in outcome.documents)
    # the manager ran what came back
    history = queue_server.api.history_get()["items"]
    assert any(outcome.run_uids == item["result"]["run_uids"] for item in history)


def run_campaign(
    server: QueueServer, store_path: Path, through_queue_server: bool, spec: CampaignSpec | None = None
) -> CampaignState:
    """What `junkan run` does (cli._run_to_end), with the executor chosen here; locally, `spec`
    may stand in for the server's campaign."""
    spec = spec or server.spec
    store = CampaignStore.create(store_path, spec, server.campaign_text)
    instrument = build_instrument(spec, SEED)
    executor = server.executor() if through_queue_server else LocalExecutor(instrument)
    policy = build_policy(spec, SEED, instrument_costs(instrument))
    try:
        return CampaignLoop(store, policy, instrument, executor, seed=SEED).run()
    finally:
        if isinstance(executor, QueueServerExecutor):
            executor.close()


def reopen_worker(server: QueueServer) -> None:
    """A new worker: its instrument, and so its seeded world, starts afresh as a local run's does."""
    with queue_server_environment(server.control_address, reopen=True):
        return


def assert_same_campaign(remote: CampaignState, local: CampaignState, budget: int, *fields: str) -> None:
    """Both finished their budget with the same conditions, values and `fields` of each observation."""
    for state in (remote, local):
        assert state.status == "finished", state.faults
        assert len(state.observations) == budget
    for field in ("condition", "values", *fields):
        assert [getattr(o, field) for o in remote.observations] == [
            getattr(o, field) for o in local.observations
        ]


def test_a_campaign_through_the_queue_server_equals_the_local_one(
    queue_server: QueueServer, tmp_path
) -> None:
    reopen_worker(queue_server)
    started = time.perf_counter()
    remote = run_campaign(queue_server, tmp_path / "queue-server", through_queue_server=True)
    remote_s = time.perf_counter() - started
    started = time.perf_counter()
    local = run_campaign(queue_server, tmp_path / "local", through_queue_server=False)
    local_s = time.perf_counter() - started
    print(f"campaign of {queue_server.spec.budget}: queue server {remote_s:.1f} s, local {local_s:.1f} s")

    assert_same_campaign(remote, local, queue_server.spec.budget, "variances")
    assert len({o.values["magnetization"] for o in remote.observations}) == queue_server.spec.budget

    submitted = [
        e.executor
        for e in CampaignStore.open(tmp_path / "queue-server").log.read()
        if type(e).__name__ == "Submitted"
    ]
    assert submitted == ["queue-server"] * queue_server.spec.budget
    ran_remotely = {
        uid for item in queue_server.api.history_get()["items"] for uid in item["result"]["run_uids"]
    }
    assert {o.run_uid for o in remote.observations} <= ran_remotely
    assert not {o.run_uid for o in local.observations} & ran_remotely


def test_a_plan_that_fails_in_the_worker_comes_back_as_a_failed_outcome(queue_server: QueueServer) -> None:
    off_simplex = {"Fe": 0.9, "Ga": 0.2, "Pd": 0.1}  # sums to 1.2: refused before anything moves
    with queue_server.executor() as executor:
        failed = executor.run(request_for(off_simplex, "p-bad", queue_server.spec), lambda name, doc: None)
        wrong_seed = executor.run(
            request_for({"Fe": 0.8, "Ga": 0.1, "Pd": 0.1}, "p-seed", queue_server.spec, junkan_seed=SEED + 1),
            lambda name, doc: None,
        )
        after = executor.run(
            request_for({"Fe": 0.8, "Ga": 0.1, "Pd": 0.1}, "p-after", queue_server.spec), print
        )

    assert failed.exit_status == "fail" and not failed.succeeded
    assert "sums to 1.2; atomic fractions sum to 1" in failed.reason
    assert failed.documents == [] and failed.run_uids == []  # refused before a run opened
    local = LocalExecutor(build_instrument(queue_server.spec, SEED)).run(
        request_for(off_simplex, "p-bad", queue_server.spec), lambda name, doc: None
    )
    assert failed.reason == local.reason and local.documents == []

    # a request for another seed's world is refused before anything is made
    assert wrong_seed.exit_status == "fail" and wrong_seed.documents == []
    assert f"seed {SEED + 1}" in wrong_seed.reason and "JUNKAN_SEED" in wrong_seed.reason

    # the failed plans are not left in the queue: the next request runs, and runs alone
    assert after.succeeded, after.reason
    assert queue_server.api.queue_get()["items"] == []


def test_no_document_proxy_is_named_before_anything_is_submitted() -> None:
    (port,) = free_ports(1)
    with pytest.raises(QueueServerError, match=f"no 0MQ document proxy answered at tcp://127.0.0.1:{port}"):
        QueueServerExecutor("tcp://127.0.0.1:1", f"tcp://127.0.0.1:{port}", connect_timeout_s=0.5)


def test_the_command_line_needs_both_queue_server_addresses_and_a_proxy_that_answers(
    short_campaign, write_campaign, junkan, tmp_path
):
    path = write_campaign(short_campaign)
    result = junkan("run", path, "--store", tmp_path / "a", "--queue-server", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "--queue-server and --documents together" in result.output
    assert not (tmp_path / "a").exists()
    result = junkan(
        "run", path, "--store", tmp_path / "b", "--queue-server", "tcp://127.0.0.1:1",
        "--documents", f"tcp://127.0.0.1:{free_ports(1)[0]}",
    )  # fmt: skip
    assert result.exit_code == 2 and "no 0MQ document proxy answered" in result.output
    assert not (tmp_path / "b").exists()


THIN_FILM = Path(__file__).resolve().parents[2] / "examples" / "thin-film.yaml"


@pytest.fixture(scope="module")
def thin_film_queue_server(request, tmp_path_factory) -> Iterator[QueueServer]:
    campaign = yaml.safe_load(THIN_FILM.read_text())
    campaign.update(budget=6, seed=SEED)
    campaign["policy"].update({k: v for k, v in LIGHT_POLICY.items() if k != "kind"})
    campaign["instrument"]["library"]["spot_tolerance"] = 0.12  # spots of earlier libraries are reused
    campaign["instrument"]["xafs"]["count_time_s"] = 0.05
    yield from serve(request, tmp_path_factory.mktemp("thin-film-queue-server"), campaign)


def test_a_thin_film_campaign_through_the_queue_server_equals_the_local_one(
    thin_film_queue_server: QueueServer, tmp_path
) -> None:
    """The worker deposits and measures; the orchestrator's instrument learns the libraries from
    the documents it receives, so the cost-aware policy is offered the same spots as in a local run:
    the same observations, libraries and raw arrays for the same seed."""
    server = thin_film_queue_server
    reopen_worker(server)
    remote = run_campaign(server, tmp_path / "queue-server", through_queue_server=True)
    local = run_campaign(server, tmp_path / "local", through_queue_server=False)
    assert_same_campaign(remote, local, server.spec.budget, "variances", "sample")
    libraries = [o.sample["library_id"] for o in remote.observations]
    assert len(set(libraries)) >= 2 and any(o.sample["new_library"] is False for o in remote.observations)
    offered = [
        e
        for e in CampaignStore.open(tmp_path / "queue-server").log.read()
        if type(e).__name__ == "CandidatesOffered"
    ]
    assert offered, "the orchestrator knew the worker's libraries: their spots were offered"
    for row, (a, b) in enumerate(zip(remote.observations, local.observations, strict=True)):
        assert a.raw.keys() == b.raw.keys() == {"xrd_counts", "xafs_mu"}
        for name in a.raw:
            there = xr.open_zarr(tmp_path / "queue-server" / a.raw[name])[name].values
            here = xr.open_zarr(tmp_path / "local" / b.raw[name])[name].values
            np.testing.assert_array_equal(there, here, err_msg=f"{name} of observation {row}")
