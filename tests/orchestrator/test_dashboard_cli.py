"""The CLI around the dashboard: the token printed once, one process per campaign, clear refusals."""

import os
import socket
import time

import pytest
import yaml

from orchestrator.control_token import read_token
from orchestrator.dashboard.server import port_is_free
from orchestrator.run_lock import is_running, run_lock
from tests.orchestrator.dashboard_server import quick_campaign, run_with_dashboard


def test_run_prints_the_control_token_once_and_status_never(tmp_path, write_campaign, junkan):
    campaign = write_campaign(quick_campaign(budget=3))
    result = junkan("run", campaign, "--store", tmp_path / "store")
    assert result.exit_code == 0, result.output
    token = read_token(tmp_path / "store")
    assert result.output.count(token) == 1 and "readable by you only" in result.output
    assert token not in junkan("status", tmp_path / "store").output
    assert token not in junkan("status", tmp_path / "store", "--json").output
    assert not is_running(tmp_path / "store")  # the lock went with the process's hold on it


def test_a_campaign_runs_in_one_process_at_a_time(tmp_path, write_campaign, junkan):
    campaign = yaml.safe_load(write_campaign(quick_campaign(budget=3)).read_text())
    campaign_file = write_campaign(campaign)
    store = tmp_path / "store"
    assert junkan("run", campaign_file, "--store", store).exit_code == 0
    events = (store / "events.jsonl").read_text().splitlines()
    (store / "events.jsonl").write_text("\n".join(events[:-3]) + "\n")  # as if it had died mid-way
    with run_lock(store):
        assert is_running(store)
        busy = junkan("resume", store)
        assert busy.exit_code == 2
        assert f"being run by another process (pid {os.getpid()})" in busy.output
    assert junkan("resume", store).exit_code == 0  # once the other process is gone


def test_dashboard_refusals_name_what_would_work(tmp_path, write_campaign, junkan):
    campaign = write_campaign(quick_campaign(budget=3))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = junkan("run", campaign, "--store", tmp_path / "store", "--dashboard", "--port", port)
        assert busy.exit_code == 2 and f"--port {port} on 127.0.0.1 is in use" in busy.output
        assert not (tmp_path / "store").exists()  # refused before anything was written
    not_a_store = junkan("dashboard", tmp_path)
    assert not_a_store.exit_code == 2 and "is not a junkan store" in not_a_store.output
    assert junkan("run", campaign, "--store", tmp_path / "store").exit_code == 0
    resume = junkan("control", tmp_path / "store", "resume")
    assert resume.exit_code == 2 and "finished" in resume.output


@pytest.mark.integration
def test_a_campaign_killed_with_minus_9_takes_its_dashboard_with_it(tmp_path, write_campaign):
    """The dashboard beside `run --dashboard` ends when its campaign's process is killed outright, so
    `junkan resume --dashboard` finds the port free (and no orphan holds the caller's stderr)."""
    campaign = write_campaign(quick_campaign(budget=50, instrument={"realtime": True, "count_time_s": 1.0}))
    with run_with_dashboard(campaign, tmp_path / "store") as (run, port):
        run.kill()
        run.communicate(timeout=30)  # returns once every holder of the pipes has gone
        deadline = time.monotonic() + 10
        while not port_is_free("127.0.0.1", port):
            assert time.monotonic() < deadline, "the dashboard outlived its campaign"
            time.sleep(0.2)
