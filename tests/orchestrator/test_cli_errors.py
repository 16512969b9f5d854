"""Every expected failure is one clear message and exit 2 (bad input, refused state); only junkan's
own bugs reach the top, and those are one line plus a traceback file. Nothing refused is written."""

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from orchestrator import cli
from orchestrator.crash_report import INTERNAL_ERROR
from orchestrator.dashboard.app import create_app
from orchestrator.store import CampaignStore
from tests.orchestrator.conftest import QUICKSTART
from tests.orchestrator.dashboard_server import loop_of, new_store, quick_campaign

HERE = "tests.orchestrator.test_cli_errors"
WARNING_WORLD = "tests.orchestrator.warning_world:build"


def world_that_raises(seed: int = 0):
    raise RuntimeError("calibration file missing")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    store = new_store(tmp_path_factory.mktemp("errors") / "store", quick_campaign(budget=3))
    assert loop_of(store).run().status == "finished"
    return store.path


@pytest.fixture
def copy_of(finished, tmp_path):
    def copy(name: str = "store") -> Path:
        return Path(shutil.copytree(finished, tmp_path / name))

    return copy


def refused(result, *fragments: str) -> str:
    """Exit 2 and one message (no traceback) holding every fragment."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)
    return result.output


@pytest.mark.parametrize(
    ("world", "said"),
    [("os:getcwd", "getcwd() takes no keyword arguments"), (f"{HERE}:world_that_raises", "calibration file")],
)
def test_a_world_factory_that_fails_is_bad_input_for_validate_and_run(
    world, said, quickstart, write_campaign, junkan, tmp_path
):
    campaign = write_campaign({**quickstart, "instrument": {**quickstart["instrument"], "world": world}})
    refused(junkan("validate", campaign), f"instrument.world: world {world!r} failed", said, "seed=")
    refused(junkan("run", campaign, "--store", tmp_path / "store"), said)
    assert not (tmp_path / "store").exists()


def test_a_campaign_file_that_is_not_utf8_is_named_as_such(junkan, tmp_path):
    path = tmp_path / "campaign.yaml"
    path.write_bytes(b"name: x\n\xff\xfe budget: 3\n")
    refused(junkan("validate", path), "not UTF-8 text: byte 0xff at offset 8")


def test_a_nan_bound_is_shown_with_its_value(quickstart, write_campaign, junkan):
    text = write_campaign(quickstart).read_text().replace("- 0.4\n", "- .nan\n", 1)
    path = write_campaign(text)
    assert ".nan" in path.read_text()
    refused(junkan("validate", path), "bounds of Fe are [nan, 0.95]")


def test_a_budget_past_the_bound_is_refused_naming_it(quickstart, write_campaign, junkan, tmp_path):
    campaign = write_campaign({**quickstart, "budget": 1_000_000_000})
    refused(junkan("run", campaign, "--store", tmp_path / "store"), "budget", "10000", "1000000000")
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("command", ["status", "resume", "dashboard", "control"])
def test_a_damaged_line_in_the_middle_of_the_log_is_refused_by_every_command(command, copy_of, junkan):
    store = copy_of()
    lines = (store / "events.jsonl").read_bytes().splitlines(keepends=True)
    lines[len(lines) // 2] = b'{"garbage\n'
    damaged = b"".join(lines)
    (store / "events.jsonl").write_bytes(damaged)
    args = [command, store] + (["pause", "--queue"] if command == "control" else [])
    refused(junkan(*args), "events.jsonl, line", "damaged record", "restore events.jsonl from a backup")
    assert (store / "events.jsonl").read_bytes() == damaged
    assert not (store / "control").exists()


def test_an_empty_log_beside_kept_observations_is_not_a_new_campaign(copy_of, junkan):
    store = copy_of()
    (store / "events.jsonl").write_bytes(b"")
    refused(junkan("status", store), "events.jsonl is empty", "holds 3 observation(s)")
    refused(junkan("resume", store), "lost or truncated")
    assert (store / "events.jsonl").read_bytes() == b""


def test_a_store_under_a_file_is_refused_and_nothing_is_left(quickstart, write_campaign, junkan, tmp_path):
    campaign = write_campaign({**quickstart, "budget": 2})
    (tmp_path / "plain").write_text("not a directory")
    refused(junkan("run", campaign, "--store", tmp_path / "plain" / "store"), "cannot create store")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign.yaml", "plain"]


def test_a_store_that_takes_no_writes_is_refused_by_resume_and_control(copy_of, junkan, monkeypatch):
    store = copy_of()
    lines = (store / "events.jsonl").read_bytes().splitlines(keepends=True)
    unfinished = b"".join(lines[:-1])  # without CampaignFinished: a campaign to resume
    (store / "events.jsonl").write_bytes(unfinished)
    # a read-only disk (tests run as root, for whom a mode bit does not stop a write)
    real_open = os.open

    def read_only_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(store)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)
    refused(junkan("resume", store), "cannot write to the store: Read-only file system", "junkan resume")
    monkeypatch.undo()
    (store / "control").write_text("a file where the requests' folder goes")
    refused(junkan("control", store, "pause", "--queue"), "cannot write the request into")
    assert (store / "events.jsonl").read_bytes() == unfinished


def test_a_ragged_csv_row_is_named(junkan, tmp_path):
    table = tmp_path / "pool.csv"
    table.write_text("a,b,c,y\n0.1,0.2,0.7,1\n0.2,0.3\n0.3,0.3,0.4,2\n")
    output = refused(
        junkan("replay", "--pool", table, "--inputs", "a,b,c", "--objectives", "y:max", "--seeds", "1"),
        "data row 2 (line 3): 2 field(s) where the header has 4",
    )
    assert output.count("line 3") == 1


def test_junkans_own_bug_is_one_line_and_a_traceback_file(finished, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "status_document", broken)
    with pytest.raises(SystemExit) as exited:
        cli.main(["status", str(finished), "--json"])
    assert exited.value.code == INTERNAL_ERROR
    stderr = capsys.readouterr().err
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("internal error: KeyError: 'a bug'")
    report = Path(stderr.split("traceback in ")[1].split(",")[0])
    try:
        text = report.read_text()
        assert "Traceback (most recent call last)" in text and "broken" in text and "status" in text
    finally:
        report.unlink()


def test_warnings_are_counted_into_the_log_and_metrics_not_printed(quickstart, write_campaign, tmp_path):
    campaign = {**quickstart, "budget": 4, "instrument": {**quickstart["instrument"], "world": WARNING_WORLD}}
    campaign["policy"] = {**quickstart["policy"], "n_sobol": 2, "num_restarts": 2, "raw_samples": 32}
    store = tmp_path / "store"
    result = CliRunner().invoke(cli.app, ["run", str(write_campaign(campaign)), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr and "warnings.warn" not in result.stderr
    counted = CampaignStore.open(store).state().warnings
    status = CliRunner().invoke(cli.app, ["status", str(store), "--json"])
    assert json.loads(status.stdout)["warnings"] == counted
    assert counted["RuntimeWarning"] >= 4  # one per count at least; the model stack may add its own
    assert (store / "warnings.log").read_text().count("RuntimeWarning: detector gain drifting") == 4
    with TestClient(create_app(store)) as client:
        families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    samples = {s.labels["category"]: s.value for s in families["junkan_warnings"].samples}
    assert samples["RuntimeWarning"] == counted["RuntimeWarning"]


@pytest.mark.integration
def test_the_quickstart_prints_no_warning_and_records_its_counts(tmp_path):
    """The quickstart as `make demo` runs it, in its own process: its stderr holds nothing."""
    store = tmp_path / "store"
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", str(QUICKSTART), "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    state = CampaignStore.open(store).state()
    assert state.status == "finished" and len(state.observations) == state.budget
    logged = (store / "warnings.log").read_text() if (store / "warnings.log").exists() else ""
    assert sum(state.warnings.values()) == sum(logged.count(f": {c}: ") for c in state.warnings)
