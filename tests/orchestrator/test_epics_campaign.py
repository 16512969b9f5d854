"""A thin-film campaign on EPICS (`instrument: kind: epics`) against the rehearsal IOC: it runs to its
budget over real Channel Access and observes what the simulated instrument observes for the same
seed; with no IOC it refuses to start, naming the PVs, and writes nothing; `junkan ioc` refuses what
it cannot serve."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from instruments.simulated.rehearsal_ioc import client_environment
from orchestrator.store import CampaignStore
from tests.instruments.rehearsal_exercise import rehearsal_ioc
from tests.orchestrator.dashboard_server import free_port

pytestmark = pytest.mark.integration

THIN_FILM = Path(__file__).resolve().parents[2] / "examples" / "thin-film.yaml"


def campaign_file(directory: Path, epics: dict | None, **changes: object) -> Path:
    campaign = yaml.safe_load(THIN_FILM.read_text())
    campaign.update(budget=4, policy={"kind": "qlognei", "n_sobol": 3}, **changes)
    if epics is not None:
        campaign["instrument"].update(kind="epics", epics=epics)
    path = directory / ("epics.yaml" if epics else "simulated.yaml")
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    return path


def junkan_run(campaign: Path, store: Path, port: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(client_environment(port) if port else {})}
    command = [sys.executable, "-m", "orchestrator", "run", str(campaign), "--store", str(store)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def observed(store: Path) -> list[tuple]:
    state = CampaignStore.open(store).state()
    return [(o.condition, o.measurement, o.values, o.variances, o.sample) for o in state.observations]


def test_an_epics_campaign_against_the_rehearsal_ioc_observes_what_the_simulated_one_does(tmp_path):
    port = free_port()
    epics = campaign_file(tmp_path, {"prefix": "TF:", "connect_timeout_s": 20})
    with rehearsal_ioc(epics, port):  # the prefix from the campaign file
        over_ca = junkan_run(epics, tmp_path / "epics", port)
    assert over_ca.returncode == 0, over_ca.stderr
    simulated = junkan_run(campaign_file(tmp_path, None), tmp_path / "simulated")
    assert simulated.returncode == 0, simulated.stderr

    on_epics = observed(tmp_path / "epics")
    assert len(on_epics) == 4
    assert on_epics == observed(tmp_path / "simulated")  # every value, variance, library and spot
    store = CampaignStore.open(tmp_path / "epics")
    raw = store.raw(store.state().observations[-1].raw["xrd_counts"])
    assert raw["xrd_counts"].size > 2048 and float(raw["xrd_counts"].sum()) > 0  # beyond CA's 16 kB
    assert raw["xafs_mu"].size > 100 and "oxidation_state" in store.state().observations[-1].values


def test_an_ioc_that_dies_mid_campaign_is_a_disconnected_pv_and_the_fault_rule_decides(tmp_path):
    """The IOC is killed after the first observation: the next plan's first PV does not answer, the
    loop records a `Faulted` event naming that PV as disconnected, and the campaign file's rule for
    device faults (pause) decides what happens: paused, exit 3, the observation kept."""
    port = free_port()
    epics = campaign_file(
        tmp_path, {"prefix": "TF:", "connect_timeout_s": 20}, faults={"device": {"action": "pause"}}
    )
    store = tmp_path / "store"
    env = {**os.environ, **client_environment(port)}
    command = [sys.executable, "-m", "orchestrator", "run", str(epics), "--store", str(store)]
    with rehearsal_ioc(epics, port) as ioc:
        run = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while not observed_any(store) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        ioc.kill()
        ioc.wait(timeout=30)
        _, stderr = run.communicate(timeout=300)
    assert run.returncode == 3, stderr
    events = list(CampaignStore.open(store).log.read())
    faults = [e for e in events if type(e).__name__ == "Faulted"]
    assert len(faults) == 1 and faults[0].kind == "device" and faults[0].action == "pause", faults
    assert faults[0].message.startswith("run failed: disconnected on TF:"), faults[0].message
    assert "the PV is disconnected (its IOC does not answer)" in faults[0].message
    assert type(events[-1]).__name__ == "Paused" and "disconnected on TF:" in events[-1].reason
    assert len(CampaignStore.open(store).state().observations) >= 1
    assert "Traceback" not in stderr  # the RunEngine's account of the failed run is in the store:
    assert "TimeoutError: ca://TF:" in (store / "bluesky.log").read_text()


def observed_any(store: Path) -> bool:
    log = store / "events.jsonl"
    return log.exists() and '"Observed"' in log.read_text()


def test_with_no_ioc_the_campaign_refuses_to_start_naming_the_pvs_and_writes_nothing(tmp_path):
    epics = campaign_file(tmp_path, {"prefix": "NOBODY:", "connect_timeout_s": 2})
    started = time.monotonic()
    refused = junkan_run(epics, tmp_path / "store", free_port())
    assert refused.returncode == 2, refused.stderr
    assert time.monotonic() - started < 60
    assert "did not all connect within 2 s" in refused.stderr
    for pv in (
        "NOBODY:SPUTTER:GUN1:POWER",
        "NOBODY:STAGE:X",
        "NOBODY:XRD:COUNTS",
        "NOBODY:PROBE:MAGNETIZATION",
    ):
        assert pv in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("campaign", "option", "message"),
    [
        ("quickstart.yaml", [], "has no sputter system, stage or beamline"),
        ("thin-film.yaml", ["--prefix", "BAD PREFIX"], "'BAD PREFIX' is not a PV prefix"),
        ("thin-film.yaml", ["--speed", "0"], "--speed 0.0 must be a positive number"),
    ],
)
def test_junkan_ioc_refuses_what_it_cannot_serve(campaign, option, message, junkan):
    refused = junkan("ioc", THIN_FILM.parent / campaign, "--port", free_port(), *option)
    assert refused.exit_code == 2 and message in refused.output, refused.output
