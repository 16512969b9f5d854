"""The dashboard's JSON API over real HTTP: every endpoint, the step fold, metrics, and control that
only the holder of the campaign's token can use."""

import json
import stat
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.control import CONTROL_DIR
from orchestrator.control_token import TOKEN_FILE, read_token
from orchestrator.dashboard.server import exposure_warning, is_loopback
from orchestrator.events import ModelUpdated, Observed
from orchestrator.run_lock import is_running, run_lock
from orchestrator.state import fold
from simulators import hypervolume, pareto_mask
from tests.orchestrator.dashboard_server import dashboard_server, loop_of, new_store, quick_campaign

BUDGET = 6


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A finished campaign with two faults on record (a NaN count is a reducer fault, skipped)."""
    store = new_store(
        tmp_path_factory.mktemp("dashboard") / "store",
        quick_campaign(
            budget=BUDGET,
            instrument={"inject_faults": {"nan": 0.25}},
            faults={"reducer": {"action": "skip"}},
        ),
    )
    state = loop_of(store).run()
    assert state.status == "finished" and len(state.observations) == BUDGET
    return store.path


@pytest.fixture(scope="module")
def api(recorded):
    with dashboard_server(recorded) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_state_is_the_fold_of_the_log_now_and_after_any_measurement(api, recorded):
    state = fold(_events(recorded))
    now = api.get("/api/state").json()
    assert now["status"] == "finished" and now["n_observations"] == BUDGET == now["n_steps"]
    assert now["live"] is False  # no process holds the store
    assert now["eta_seconds"] == 0.0 and now["finish_reason"] == "budget reached"
    assert now["n_faults"] == len(state.faults) and now["faults_by_kind"] == {"reducer": len(state.faults)}
    assert now["duty_cycle"] == pytest.approx(state.duty_cycle)
    assert now["real_time"] is False  # a simulated instrument: the page shows "simulated time"
    assert now["spectra"] == []  # it keeps no patterns or spectra: the page shows no panels for them
    assert now["decision_seconds_last"] == pytest.approx(state.decision_seconds[-1])
    assert now["model_id"] == state.model_id
    # the model in use and why: the structure chosen by leave-one-out evidence, per outcome
    last_update = [e for e in _events(recorded) if e.type == "ModelUpdated"][-1]
    for name, structure in last_update.surrogates.items():
        assert now["surrogates"][name].startswith(structure) and "LOO" in now["surrogates"][name]
    assert now["surrogates"]

    third = api.get("/api/state", params={"step": 3}).json()
    assert third["n_observations"] == 3 and third["status"] == "running" and third["step"] == 3
    assert third["eta_seconds"] > 0  # three more to go, at the pace of the first three
    first = api.get("/api/state", params={"step": 0}).json()
    assert first["n_observations"] == 0 and first["status"] == "running"
    assert len(first["pending"]) == 1  # the first proposal, in flight

    beyond = api.get("/api/state", params={"step": BUDGET + 1})
    assert beyond.status_code == 422 and f"give 0..{BUDGET}" in beyond.json()["detail"]
    assert api.get("/api/state", params={"step": -1}).status_code == 422


def test_observations_carry_values_the_front_and_the_best_so_far(api, recorded):
    measured = fold(_events(recorded)).observations
    data = api.get("/api/observations").json()
    assert [o["values"] for o in data["observations"]] == [o.values for o in measured]
    assert [o["sd"]["magnetization"] ** 2 for o in data["observations"]] == pytest.approx(
        [o.variances["magnetization"] for o in measured]
    )
    values = [o.values["magnetization"] for o in measured]
    assert data["best_so_far"] == pytest.approx([max(values[: k + 1]) for k in range(len(values))])
    assert data["pareto"] == [values.index(max(values))]  # one objective: the front is the best
    assert data["hypervolume"] == []

    early = api.get("/api/observations", params={"step": 2}).json()
    assert [o["proposal_id"] for o in early["observations"]] == [o.proposal_id for o in measured[:2]]


def test_events_since_a_sequence_number_and_faults_summarised(api, recorded):
    events = _events(recorded)
    every = api.get("/api/events", params={"limit": 5000}).json()
    assert [e["seq"] for e in every["events"]] == [e.seq for e in events]
    assert every["last_seq"] == events[-1].seq
    since = events[-4].seq
    tail = api.get("/api/events", params={"since": since}).json()["events"]
    assert [e["seq"] for e in tail] == [e.seq for e in events[-3:]]
    faults = [e for e in every["events"] if e["type"] == "Faulted"]
    assert faults and all(e["summary"].startswith("reducer fault (skip") for e in faults)
    assert "policy_state" not in every["events"][1]  # internal checkpoints stay out of the page
    at_two = api.get("/api/events", params={"step": 2, "limit": 5000}).json()["events"]
    assert sum(e["type"] == "Observed" for e in at_two) == 2 and at_two[-1]["type"] == "Observed"


def test_the_model_at_each_step_is_the_one_the_loop_had(api, recorded):
    events = _events(recorded)
    observed = 0
    loop_models = {}
    for event in events:
        observed += isinstance(event, Observed)
        if isinstance(event, ModelUpdated):
            loop_models[observed] = event.model_id
    for step in (3, BUDGET):
        model = api.get("/api/model", params={"step": step}).json()
        assert model["available"] and model["model_id"] == loop_models[step]
    model = api.get("/api/model").json()
    grid = list(zip(model["grid"]["Fe"], model["grid"]["Ga"], model["grid"]["Pd"], strict=True))
    assert all(abs(sum(p) - 1) < 1e-9 and 0.4 - 1e-9 <= p[0] <= 0.95 + 1e-9 for p in grid)  # in the space
    outcome = model["outcomes"]["magnetization"]
    assert len(outcome["mean"]) == len(outcome["sd"]) == len(outcome["noise_sd"]) == len(grid)
    # the model is surest where it measured: sd at the grid point nearest each spot is below the median
    spots = [o.condition for o in fold(events).observations]
    nearest = [
        min(
            range(len(grid)),
            key=lambda i: sum((grid[i][j] - s[e]) ** 2 for j, e in enumerate(("Fe", "Ga", "Pd"))),
        )
        for s in spots
    ]
    median_sd = sorted(outcome["sd"])[len(grid) // 2]
    assert sum(outcome["sd"][i] < median_sd for i in nearest) >= len(spots) - 1
    # counting noise: the predicted noise sd is of the order of the measured ones
    measured_sd = [o.variances["magnetization"] ** 0.5 for o in fold(events).observations]
    assert min(measured_sd) / 3 < sorted(outcome["noise_sd"])[len(grid) // 2] < 3 * max(measured_sd)

    before = api.get("/api/model", params={"step": 1}).json()
    assert before["available"] is False and "after 3 measurements (1 so far)" in before["reason"]


def test_spectra_are_empty_for_a_campaign_without_raw_arrays(api):
    assert api.get("/api/spectra").json() == {}


def test_metrics_in_prometheus_text_format(api, recorded):
    state = fold(_events(recorded))
    response = api.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    campaign = (("campaign", "quickstart-fe-ga-pd"),)
    assert samples[("junkan_observations_total", campaign)] == BUDGET
    assert samples[("junkan_faults_total", (*campaign, ("kind", "reducer")))] == len(state.faults) > 0
    assert samples[("junkan_faults_total", (*campaign, ("kind", "device")))] == 0
    assert samples[("junkan_decision_seconds_count", campaign)] == len(state.proposals)
    assert samples[("junkan_decision_seconds_sum", campaign)] == pytest.approx(sum(state.decision_seconds))
    assert samples[("junkan_duty_cycle", campaign)] == pytest.approx(state.duty_cycle)
    assert samples[("junkan_campaign_status", (*campaign, ("status", "finished")))] == 1
    assert samples[("junkan_campaign_status", (*campaign, ("status", "running")))] == 0
    assert samples[("junkan_process_live", campaign)] == 0


def test_a_campaign_whose_process_died_reads_interrupted_until_a_process_runs_it(recorded, tmp_path):
    """A log with no end and no live process: the header and /metrics say 'interrupted' (not
    'running'); a past step still reads as it was; while a process holds the run lock, 'running'."""
    import shutil

    store = tmp_path / "killed"
    shutil.copytree(recorded, store)
    log = store / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    assert b"CampaignFinished" in lines[-1]
    log.write_bytes(b"".join(lines[:-1]))  # killed before the campaign could record its end

    def shown(client: httpx.Client) -> tuple[str, float, float]:
        samples = {
            (s.name, s.labels.get("status")): s.value
            for family in text_string_to_metric_families(client.get("/metrics").text)
            for s in family.samples
        }
        return (
            client.get("/api/state").json()["status"],
            samples[("junkan_campaign_status", "interrupted")],
            samples[("junkan_campaign_status", "running")],
        )

    with dashboard_server(store) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert shown(client) == ("interrupted", 1, 0)
        assert client.get("/api/state", params={"step": 2}).json()["status"] == "running"  # as it was then
    with run_lock(store), dashboard_server(store) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert shown(client) == ("running", 0, 1)
        assert client.get("/api/state").json()["live"] is True


def test_openapi_describes_every_endpoint_and_the_bearer_scheme(api):
    schema = api.get("/openapi.json").json()
    for path in ("/api/state", "/api/observations", "/api/events", "/api/model", "/api/spectra", "/metrics"):
        assert "get" in schema["paths"][path], path
    control = schema["paths"]["/api/control"]["post"]
    assert control["security"] == [{"HTTPBearer": []}]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"401", "409", "422"} <= set(control["responses"])


def test_the_page_and_plotly_are_served_from_the_package(api):
    page = api.get("/")
    assert page.status_code == 200 and '<script src="/vendor/plotly.min.js">' in page.text
    script = api.get("/vendor/plotly.min.js")
    assert (
        script.status_code == 200 and len(script.content) > 1_000_000 and b"plotly" in script.content[:2000]
    )
    assert api.get("/static/dashboard.js").status_code == 200


def test_control_without_the_token_is_refused_and_changes_nothing(api, recorded):
    before = (recorded / "events.jsonl").read_bytes()
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic abc"}):
        response = api.post("/api/control", json={"command": "stop"}, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["detail"]
    assert not (recorded / CONTROL_DIR).exists() or not list((recorded / CONTROL_DIR).iterdir())
    assert (recorded / "events.jsonl").read_bytes() == before
    # the right token on a finished campaign: understood, but there is nothing to control
    token = read_token(recorded)
    refused = api.post(
        "/api/control", json={"command": "pause"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 409 and "finished" in refused.json()["detail"]
    unknown = api.post(
        "/api/control", json={"command": "explode"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert unknown.status_code == 422


def test_a_token_file_readable_by_others_switches_control_off_and_says_why(api, recorded):
    token = read_token(recorded)
    (recorded / "control-token").chmod(0o644)
    try:
        response = api.post(
            "/api/control", json={"command": "pause"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 403
        assert "readable by others" in response.json()["detail"] and "chmod 600" in response.json()["detail"]
    finally:
        (recorded / "control-token").chmod(0o600)
    assert not (recorded / CONTROL_DIR).exists() or not list((recorded / CONTROL_DIR).iterdir())


def test_the_token_file_is_readable_by_its_owner_only(recorded):
    mode = stat.S_IMODE((recorded / TOKEN_FILE).stat().st_mode)
    assert mode == 0o600
    assert len(read_token(recorded)) >= 40


def test_a_person_with_the_token_approves_pauses_resumes_and_stops_a_live_campaign(tmp_path):
    store = new_store(
        tmp_path / "store",
        quick_campaign(
            budget=20, approve_before_submit=True, instrument={"realtime": True, "count_time_s": 0.2}
        ),
    )
    token = read_token(store.path)
    loop = loop_of(store, hold_when_paused=True)
    outcome: dict = {}

    def run() -> None:
        with run_lock(store.path):
            outcome["state"] = loop.run()

    runner = threading.Thread(target=run)
    runner.start()
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with dashboard_server(store.path) as url, httpx.Client(base_url=url, timeout=60) as api:
            _wait(lambda: api.get("/api/state").json()["live"])

            def approve_until(n: int) -> None:
                while (state := api.get("/api/state").json())["n_observations"] < n:
                    for pending in state["pending"]:
                        if pending["awaiting_approval"]:
                            body = {"command": "approve", "proposal_id": pending["proposal_id"]}
                            assert api.post("/api/control", json=body, headers=auth).status_code in (202, 422)
                    time.sleep(0.1)

            approve_until(2)
            wrong = api.post(
                "/api/control", json={"command": "approve", "proposal_id": "p9999"}, headers=auth
            )
            assert wrong.status_code == 422 and "not a pending proposal" in wrong.json()["detail"]
            outside = {"command": "inject", "condition": {"Fe": 0.1, "Ga": 0.8, "Pd": 0.1}}
            refused = api.post("/api/control", json=outside, headers=auth)
            assert refused.status_code == 422 and "not in the design space" in refused.json()["detail"]
            assert api.post("/api/control", json={"command": "resume"}, headers=auth).status_code == 409

            assert api.post("/api/control", json={"command": "pause"}, headers=auth).status_code == 202
            _wait(lambda: api.get("/api/state").json()["status"] == "paused")
            paused_at = api.get("/api/state").json()["n_observations"]
            time.sleep(1.0)
            assert api.get("/api/state").json()["n_observations"] == paused_at  # held, not measuring
            assert runner.is_alive()  # held by its process, not ended
            assert api.post("/api/control", json={"command": "resume"}, headers=auth).status_code == 202
            _wait(lambda: api.get("/api/state").json()["status"] == "running")
            approve_until(paused_at + 1)
            assert api.post("/api/control", json={"command": "stop"}, headers=auth).status_code == 202
            _wait(lambda: api.get("/api/state").json()["status"] == "stopped")
    finally:
        if runner.is_alive():  # a failed assertion must not leave the loop held
            from orchestrator.control import ControlRequest, send

            send(store.path, ControlRequest(command="stop"))
        runner.join(timeout=60)
    state = outcome["state"]
    assert state.status == "stopped" and paused_at + 1 <= len(state.observations) < 20
    taken = [(e.command, e.outcome) for e in _events(store.path) if e.type == "Controlled"]
    assert ("pause", "done") in taken and ("resume", "done") in taken and ("stop", "done") in taken
    assert sum(1 for c in taken if c == ("approve", "done")) >= paused_at + 1
    assert not is_running(store.path)


def test_the_stream_says_when_the_log_grows(api, recorded):
    n_events = len(_events(recorded))
    with api.stream("GET", "/api/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "event: log"
        news = json.loads(next(lines).removeprefix("data: "))
    assert news == {
        "n_events": n_events,
        "n_observations": BUDGET,
        "status": "finished",
        "last_seq": n_events - 1,
    }


def test_two_objectives_give_a_front_and_a_rising_hypervolume(tmp_path):
    campaign = quick_campaign(
        budget=7,
        space={"composition": {"Fe": [0.1, 0.9], "Co": [0.05, 0.6], "Ni": [0.05, 0.7]}},
        objectives=[
            {"name": "magnetization", "goal": "maximize", "threshold": 0.0},
            {"name": "band_gap", "goal": "minimize", "threshold": 4.0},
        ],
        instrument={"world": "fe-co-ni-oxide"},
        policy={"kind": "bayesian", "n_sobol": 4},
    )
    store = new_store(tmp_path / "store", campaign)
    measured = loop_of(store).run().observations
    with dashboard_server(store.path) as url, httpx.Client(base_url=url, timeout=60) as api:
        data = api.get("/api/observations").json()
        model = api.get("/api/model").json()
    signed = np.array([[o.values["magnetization"], -o.values["band_gap"]] for o in measured])
    assert data["reference_point"] == [0.0, 4.0]
    assert data["pareto"] == [int(i) for i in np.flatnonzero(pareto_mask(signed))]
    expected = [hypervolume(signed[: k + 1], np.array([0.0, -4.0])) for k in range(len(signed))]
    assert data["hypervolume"] == pytest.approx(expected)
    assert all(b >= a for a, b in zip(data["hypervolume"], data["hypervolume"][1:], strict=False))
    assert data["hypervolume"][-1] > 0
    assert set(model["outcomes"]) == {"magnetization", "band_gap"}  # one model per objective
    assert set(model["grid"]) == {"Fe", "Co", "Ni"}


def test_only_loopback_is_quiet():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert exposure_warning("127.0.0.1", 8765) is None
    warning = exposure_warning("0.0.0.0", 8765)
    assert warning is not None and "0.0.0.0:8765" in warning and "clear text" in warning


def _events(store: Path) -> list:
    from orchestrator.event_log import EventLog

    return list(EventLog(store / "events.jsonl").read())


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
