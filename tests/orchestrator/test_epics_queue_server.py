"""A thin-film campaign with `kind: epics` through a real RE Manager whose worker drives the
rehearsal IOC over Channel Access: the same observations as the simulated instrument in-process;
invalid requests refused before any setpoint on the IOC moves."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import xarray as xr
import yaml
from bluesky_queueserver_api import BPlan
from bluesky_queueserver_api.comm_base import RequestFailedError

from instruments.simulated.rehearsal_ioc import client_environment
from orchestrator.campaign import CampaignSpec, load_campaign
from orchestrator.execution import PlanRequest
from tests.instruments.rehearsal_exercise import rehearsal_ioc
from tests.orchestrator.test_queue_server import (
    LIGHT_POLICY,
    SEED,
    THIN_FILM,
    QueueServer,
    assert_same_campaign,
    free_ports,
    run_campaign,
    serve,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class EpicsQueueServer:
    server: QueueServer
    simulated: CampaignSpec  # the same campaign on the simulated instrument
    ioc_port: int


@pytest.fixture(scope="module")
def epics_queue_server(request, tmp_path_factory) -> Iterator[EpicsQueueServer]:
    """The thin-film campaign with `kind: epics`: a rehearsal IOC on loopback serves its PVs, the
    worker (given the Channel Access environment) connects to it; and the same campaign on the
    simulated instrument, to compare with."""
    root = tmp_path_factory.mktemp("epics-queue-server")
    campaign = yaml.safe_load(THIN_FILM.read_text())
    campaign.update(budget=4, seed=SEED)
    campaign["policy"].update({k: v for k, v in LIGHT_POLICY.items() if k != "kind"})
    simulated = root / "simulated.yaml"
    simulated.write_text(yaml.safe_dump(campaign, sort_keys=False))
    campaign["instrument"].update(kind="epics", epics={"prefix": "QS:", "connect_timeout_s": 30})
    ioc_campaign = root / "ioc.yaml"
    ioc_campaign.write_text(yaml.safe_dump(campaign, sort_keys=False))
    (port,) = free_ports(1)
    with rehearsal_ioc(ioc_campaign, port):
        for server in serve(request, root, campaign, client_environment(port)):
            yield EpicsQueueServer(server, load_campaign(simulated)[0], port)


def test_an_epics_campaign_through_the_queue_server_observes_what_the_simulated_one_does(
    epics_queue_server: EpicsQueueServer, tmp_path
) -> None:
    """The worker drives the rehearsal IOC's PVs over Channel Access; the orchestrator reduces what
    it sends back: the same observations and raw arrays as the simulated instrument in-process."""
    server, simulated = epics_queue_server.server, epics_queue_server.simulated
    assert server.spec.instrument.kind == "epics"
    remote = run_campaign(server, tmp_path / "queue-server", through_queue_server=True)
    local = run_campaign(server, tmp_path / "local", through_queue_server=False, spec=simulated)
    assert_same_campaign(remote, local, server.spec.budget, "variances", "sample")
    assert "oxidation_state" in remote.observations[-1].values
    for a, b in zip(remote.observations, local.observations, strict=True):
        for name in a.raw:
            there = xr.open_zarr(tmp_path / "queue-server" / a.raw[name])[name].values
            np.testing.assert_array_equal(there, xr.open_zarr(tmp_path / "local" / b.raw[name])[name].values)


def ioc_setpoints(spec: CampaignSpec, port: int) -> dict[str, object]:
    """Every setpoint on the rehearsal IOC a plan could move, read over Channel Access."""
    command = [
        sys.executable, "-m", "tests.instruments.rehearsal_exercise", "--setpoints",
        spec.instrument.epics.prefix, ",".join(spec.space.composition),
        ",".join(o.name for o in spec.objectives),
    ]  # fmt: skip
    env = {**os.environ, **client_environment(port)}
    read = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(read.stdout)


INVALID_REQUESTS = [  # condition, count time, what the refusal says
    ({"Fe": 1.5, "Co": -0.5, "Ni": 0.0}, 1.0, "the fraction of Fe is 1.5; atomic fractions are in [0, 1]"),
    ({"Fe": 0.5, "Co": 0.3, "Xx": 0.2}, 1.0, "names 'Xx': not an element of this instrument (Fe, Co, Ni)"),
    ({"Fe": 0.5, "Co": 0.3, "Ni": 0.2}, 0.0, "count_time_s = 0 s; a count time is above 0"),
    ({"Fe": 0.5, "Co": 0.3, "Ni": 0.1}, 1.0, "sums to 0.9; atomic fractions sum to 1"),
    ({"Fe": "half", "Co": 0.3, "Ni": 0.2}, 1.0, "the fraction of Fe = 'half' is not a number"),
]


def test_invalid_requests_through_the_queue_server_are_refused_before_any_setpoint_moves(
    epics_queue_server: EpicsQueueServer,
) -> None:
    """Queued as `qserver queue execute plan '{"name": "junkan_plan", ...}'` would: each request is
    refused at entry with one clear message, before a run opens (a condition that is not a mapping
    already by the RE Manager: junkan_plan's signature says dict); afterwards every setpoint on the
    IOC (guns, shutters, heater, stage, wafer, count times, monochromator) reads as before."""
    server, port = epics_queue_server.server, epics_queue_server.ioc_port
    before = ioc_setpoints(server.spec, port)
    md = {"campaign": server.spec.name, "junkan_seed": SEED}
    formula = BPlan("junkan_plan", condition="Fe50Co30Ni20", measurement={"count_time_s": 1.0}, md=md)
    with pytest.raises(RequestFailedError, match=r"(?s)Plan validation failed.*condition.*valid dictionary"):
        server.api.item_execute(formula)
    for condition, count_time_s, message in INVALID_REQUESTS:
        plan = BPlan("junkan_plan", condition=condition, measurement={"count_time_s": count_time_s}, md=md)
        assert server.api.item_execute(plan)["success"]
        server.api.wait_for_idle(timeout=60)
        result = server.api.history_get()["items"][-1]["result"]
        assert result["exit_status"] == "failed" and result["run_uids"] == [], result
        assert "InvalidRequest: " in result["msg"] and message in result["msg"], result["msg"]
    with server.executor() as executor:  # the orchestrator's own client reports the same refusal
        refused = executor.run(
            PlanRequest({"Fe": 1.5, "Co": -0.5, "Ni": 0.0}, {"count_time_s": 1.0}, md), lambda n, d: None
        )
    assert refused.exit_status == "fail" and refused.documents == []
    assert (
        refused.reason.startswith("InvalidRequest: composition") and INVALID_REQUESTS[0][2] in refused.reason
    )
    assert ioc_setpoints(server.spec, port) == before
