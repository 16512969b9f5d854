"""Ctrl-C during a campaign: the process stops, and what was measured is all on record."""

import copy
import json
import signal
import subprocess
import sys
import time

import pytest
import xarray as xr
import yaml
from bluesky import preprocessors as bpp

from orchestrator.event_log import EventLog


@pytest.mark.integration
def test_ctrl_c_stops_the_campaign_and_loses_no_observation(short_campaign, tmp_path):
    campaign = copy.deepcopy(short_campaign)
    campaign.update(budget=5000)
    campaign["policy"]["kind"] = "sobol"
    campaign["instrument"]["count_time_s"] = 0.5
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    store = tmp_path / "store"
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", str(path), "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log = store / "events.jsonl"
        if log.exists() and log.read_text().count('"Observed"') >= 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    # one press, wherever it lands: between plans, or inside a run (bluesky's deferred pause,
    # which a plan with no checkpoint finishes past: the executor stops before the next plan)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr

    events = list(EventLog(store / "events.jsonl").read())
    observed = [e.observation for e in events if type(e).__name__ == "Observed"]
    assert 3 <= len(observed) < 5000
    finished_runs = {e.run_uid for e in events if type(e).__name__ == "RunFinished"}
    assert {o.run_uid for o in observed} <= finished_runs
    ds = xr.open_zarr(store / "observations.zarr")
    assert list(ds["run_uid"].values) == [o.run_uid for o in observed]
    status = subprocess.run(
        [sys.executable, "-m", "orchestrator", "status", str(store), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(status.stdout)["n_observations"] == len(observed)


class CtrlCInsideThePlan:
    """A plan with no checkpoint that receives Ctrl-C while it runs (as a person's press would)."""

    devices: tuple = ()

    def plan(self, condition, measurement, md):
        import os

        from bluesky import plan_stubs as bps

        @bpp.run_decorator(md=dict(md))
        def inner():
            yield from bps.null()
            os.kill(os.getpid(), signal.SIGINT)  # the RunEngine's handler: a deferred pause
            yield from bps.sleep(0.3)

        return (yield from inner())


def test_one_ctrl_c_inside_a_plan_without_checkpoints_stops_before_the_next_plan():
    from orchestrator.execution import PlanRequest
    from orchestrator.local_executor import LocalExecutor

    executor = LocalExecutor(CtrlCInsideThePlan())
    request = PlanRequest({"Fe": 1.0}, {}, {"proposal_id": "p0001"})
    outcome = executor.run(request, lambda name, doc: None)
    assert outcome.exit_status == "success"  # the plan finished past the deferred pause: kept
    with pytest.raises(KeyboardInterrupt):
        executor.run(request, lambda name, doc: None)  # and nothing more is started
