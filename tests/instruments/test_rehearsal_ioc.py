"""The rehearsal IOC over real Channel Access: the EPICS devices, connected to it, read what the
simulated devices of the same world and seed read; its motors honour limits."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instruments.simulated.rehearsal_ioc import client_environment
from orchestrator.campaign import load_campaign
from orchestrator.wiring import build_instrument
from tests.instruments.rehearsal_exercise import exercise, rehearsal_ioc
from tests.orchestrator.dashboard_server import free_port

pytestmark = pytest.mark.integration

THIN_FILM = Path(__file__).resolve().parents[2] / "examples" / "thin-film.yaml"
PREFIX = "REHEARSE:"


@pytest.fixture(scope="module")
def ioc(tmp_path_factory):
    """`junkan ioc` for the thin-film example, 10,000 instrument seconds per second."""
    campaign = tmp_path_factory.mktemp("ioc") / "thin-film.yaml"
    campaign.write_text(THIN_FILM.read_text())
    port = free_port()
    with rehearsal_ioc(campaign, port, "--prefix", PREFIX):
        yield campaign, port


def epics_client(port: int, *args: str) -> subprocess.CompletedProcess:
    """A client process of its own: libca reads the search port once per process."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        env={**os.environ, **client_environment(port)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_epics_devices_read_over_channel_access_what_the_simulated_ones_read(ioc):
    campaign, port = ioc
    spec, _ = load_campaign(campaign)
    simulated = build_instrument(spec, spec.seed)
    elements, objectives = simulated.settings.elements, list(simulated.counters)
    expected = asyncio.run(exercise(simulated.hardware, simulated.counters))

    result = epics_client(
        port, "tests.instruments.rehearsal_exercise", PREFIX, ",".join(elements), ",".join(objectives)
    )
    assert result.returncode == 0, result.stderr
    over_ca = json.loads(result.stdout)
    assert over_ca == expected  # every count, fraction and thickness, exactly
    assert len(over_ca["xrd_counts"]) > 2048  # beyond Channel Access's default 16 kB arrays
    assert over_ca["library"] == "L001" and sum(over_ca["xafs"]) > 0


def test_a_stage_motor_refuses_a_target_beyond_its_travel_and_stays_where_it_was(ioc):
    _, port = ioc
    result = epics_client(port, "tests.instruments.rehearsal_exercise", "--limits", PREFIX)
    assert result.returncode == 0, result.stderr
    moved = json.loads(result.stdout)
    assert moved["error"].startswith("MotorLimitsError") and "55.0" in moved["error"]
    assert moved["readback"] == 5.0  # a put to a motor completes when it has arrived


def test_a_count_with_no_film_under_the_beam_is_an_invalid_alarm_and_a_typed_fault(ioc):
    """The IOC puts a detector's results in INVALID alarm when it could not count (the beam between
    two spots) and drops BUSY, as a detector IOC does; the client refuses the reading, naming the
    PV and the alarm, at once rather than after a timeout. The next good count clears the alarm."""
    campaign, port = ioc
    spec, _ = load_campaign(campaign)
    elements, objectives = ",".join(spec.space.composition), ",".join(o.name for o in spec.objectives)
    result = epics_client(
        port, "tests.instruments.rehearsal_exercise", "--between-spots", PREFIX, elements, objectives
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["xrd_error"] == (
        f"InvalidReading: invalid reading on xrd: {PREFIX}XRD:COUNTS is in INVALID alarm: "
        "the IOC does not vouch for it"
    )
    assert read["magnetization_error"].startswith(
        "InvalidReading: invalid reading on counter_magnetization: "
        f"{PREFIX}PROBE:MAGNETIZATION:COUNTS is in INVALID alarm"
    )
    assert read["xrd_after"] > 0
