"""Every run also in Tiled, read back with tiled's own client from a real server (no mocks):
the XRD patterns and XAFS spectra there equal the store's, after a plain run and after kill -9
and resume."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from tiled.client import from_uri
from tiled.server import SimpleTiledServer
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.document_journal import journal_history, read_journal
from orchestrator.store import CampaignStore
from orchestrator.tiled_server import API_KEY_FILE, embedded
from orchestrator.tiled_sink import TiledSink, run_of
from orchestrator.tiled_target import TARGET_FILE
from tests.orchestrator.test_resume import events_of, junkan_process, kill_after, typed

pytestmark = pytest.mark.integration

THIN_FILM = Path(__file__).resolve().parents[2] / "examples" / "thin-film.yaml"


def write_thin_film(directory: Path) -> Path:
    campaign = yaml.safe_load(THIN_FILM.read_text())
    campaign.update(budget=4, policy={"kind": "qlognei", "n_sobol": 3})
    path = directory / "thin-film.yaml"
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    return path


@pytest.fixture
def thin_film(tmp_path) -> Path:
    return write_thin_film(tmp_path)


@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory) -> tuple[Path, str]:
    """One campaign run with `--tiled embedded`: its store and what it printed."""
    directory = tmp_path_factory.mktemp("embedded")
    store = directory / "store"
    command = ["run", str(write_thin_film(directory)), "--store", str(store), "--tiled", "embedded"]
    result = CliRunner().invoke(app, command, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return store, result.output


def assert_tiled_holds_the_store(client, store_path: Path) -> None:
    """Every journalled run that finished is in Tiled, whole; each observation's pattern and
    spectrum there equal the store's raw arrays."""
    store = CampaignStore.open(store_path)
    state = store.state()
    documents = [d for _, attempt in journal_history(store_path, list(state.proposals)) for d in attempt]
    finished = {doc["run_start"] for name, doc in documents if name == "stop"}
    assert finished and finished <= set(client)
    for run in finished:
        assert client[run].metadata.get("stop") is not None
    assert len(state.observations) == store.spec().budget
    for observation in state.observations:
        runs = {
            doc["plan_name"]: doc["uid"]
            for name, doc in read_journal(store_path, observation.proposal_id)[0]
            if name == "start"
        }
        raw = store.raw(observation.raw["xrd_counts"])
        xrd = client[runs["measure_spot"]]
        assert xrd.metadata["start"]["proposal_id"] == observation.proposal_id
        assert xrd.metadata["stop"]["exit_status"] == "success"
        np.testing.assert_array_equal(xrd["primary"]["xrd-counts"].read()[-1], raw["xrd_counts"].values)
        np.testing.assert_array_equal(
            xrd["primary"]["xrd-two_theta_deg"].read()[-1], raw["two_theta_deg"].values
        )
        xafs = client[runs["measure_xafs"]]["primary"]
        energy = xafs["xafs-energy_ev"].read()
        order = np.argsort(energy, kind="stable")
        np.testing.assert_array_equal(energy[order], raw["energy_ev"].values)
        mu = np.log(xafs["xafs-i0"].read() / xafs["xafs-it"].read())[order]
        np.testing.assert_allclose(mu, raw["xafs_mu"].values, rtol=1e-12, atol=0)


def test_run_tiled_embedded_writes_every_run_and_serves_it_again_from_the_store(embedded_run):
    store, output = embedded_run
    assert "tiled: writing every run to http://127.0.0.1:" in output
    key_file = store / API_KEY_FILE
    assert key_file.stat().st_mode & 0o077 == 0
    assert (store / TARGET_FILE).read_text().strip() == "embedded"
    assert len(CampaignStore.open(store).state().observations) == 4

    with embedded(store) as (uri, key):  # `junkan tiled STORE`, as a reader would start it
        assert key == key_file.read_text().strip()
        with pytest.raises(Exception, match="API key"):
            from_uri(uri)  # a reader without the key sees nothing
        assert_tiled_holds_the_store(from_uri(uri, api_key=key), store)


def test_a_facility_tiled_gets_every_run_even_across_kill_and_resume(thin_film, tmp_path):
    with SimpleTiledServer(directory=tmp_path / "facility", api_key="facilitykey42") as server:
        client = from_uri(server.uri)
        store = tmp_path / "store"
        uri = f"http://127.0.0.1:{server.port}/api/v1?api_key=facilitykey42"
        process = junkan_process("run", thin_film, "--store", store, "--tiled", uri)
        assert kill_after(process, store / "events.jsonl", 30)
        assert "facilitykey42" not in (store / TARGET_FILE).read_text()  # the key is never kept

        env = {**os.environ, "TILED_API_KEY": "facilitykey42"}  # resume writes where run wrote
        finished = subprocess.run(
            [sys.executable, "-m", "orchestrator", "resume", str(store)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert finished.returncode == 0, finished.stderr
        assert typed(events_of(store), "Resumed")
        assert_tiled_holds_the_store(client, store)
    refused = subprocess.run(  # `junkan tiled` has nothing to serve: it wrote to the facility's
        [sys.executable, "-m", "orchestrator", "tiled", str(store)], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "keeps no Tiled of its own" in refused.stderr
    assert "it wrote to: http://127.0.0.1:" in refused.stderr and not (store / "tiled").exists()


def test_backfill_rewrites_a_run_tiled_holds_unfinished_and_skips_whole_ones(embedded_run, tmp_path):
    store, _ = embedded_run  # its journal, written into a second, empty server
    state = CampaignStore.open(store).state()
    documents = [d for _, attempt in journal_history(store, list(state.proposals)) for d in attempt]
    runs = list(dict.fromkeys(run for run, _ in run_of(documents)))
    cut, whole = runs[1], runs[0]
    with SimpleTiledServer(directory=tmp_path / "facility") as server:
        client = from_uri(server.uri)
        early = TiledSink(client, store)
        for run, (name, doc) in run_of(documents):
            if run == whole or (run == cut and name != "stop"):  # one whole, one cut before its stop
                early(name, doc)
        assert early.close()
        assert client[cut].metadata.get("stop") is None

        sink = TiledSink(client, store)
        written = sink.backfill(documents)
        assert sink.close() and sink.failures == 0
        assert written == len(runs) - 1  # all but the whole one
        assert_tiled_holds_the_store(client, store)


def test_an_embedded_tiled_goes_with_a_killed_campaign_and_comes_back_with_resume(thin_film, tmp_path):
    store = tmp_path / "store"
    process = junkan_process("run", thin_film, "--store", store, "--tiled", "embedded")
    assert kill_after(process, store / "events.jsonl", 30)
    server = [sys.executable, "-m", "orchestrator", "tiled", str(store)]

    def servers() -> list[str]:
        listed = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        return [line for line in listed.splitlines() if line.startswith(" ".join(server))]

    deadline = time.monotonic() + 20
    while servers() and time.monotonic() < deadline:  # it notices its parent is gone
        time.sleep(0.2)
    assert not servers()

    resumed = subprocess.run([*server[:3], "resume", str(store)], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "tiled: writing every run to http://127.0.0.1:" in resumed.stdout  # the same store's Tiled
    assert not servers()
    with embedded(store) as (uri, key):
        assert_tiled_holds_the_store(from_uri(uri, api_key=key), store)
