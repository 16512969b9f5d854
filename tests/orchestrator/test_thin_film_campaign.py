"""A thin-film campaign end to end: libraries deposited, spots measured by XRD and XAFS, raw data kept."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from orchestrator.document_journal import read_journal
from orchestrator.event_log import EventLog

THIN_FILM = Path(__file__).resolve().parents[2] / "examples" / "thin-film.yaml"


@pytest.fixture
def thin_film() -> dict:
    campaign = yaml.safe_load(THIN_FILM.read_text())
    campaign.update(budget=6)
    campaign["policy"].update(n_sobol=3, num_restarts=2, raw_samples=32, mc_samples=64)
    campaign["instrument"]["library"]["spot_tolerance"] = 0.12  # so that some spots are reused
    return campaign


@pytest.mark.integration
def test_a_thin_film_campaign_deposits_libraries_measures_spots_and_keeps_raw_data(
    thin_film, write_campaign, junkan, tmp_path
):
    store = tmp_path / "store"
    result = junkan("run", write_campaign(thin_film), "--store", store)
    assert result.exit_code == 0, result.output
    status = json.loads(junkan("status", store, "--json").stdout)
    assert status["state"] == "finished" and status["n_observations"] == 6

    ds = xr.open_zarr(store / "observations.zarr")
    assert ds["xrd_counts"].dims == ("obs", "two_theta_deg")
    assert ds["xafs_mu"].dims == ("obs", "energy_ev")
    assert ds["two_theta_deg"].values[0] == pytest.approx(30.0) and ds["two_theta_deg"].values[
        -1
    ] == pytest.approx(90.0)
    assert ds["energy_ev"].values.min() < 7112.0 < ds["energy_ev"].values.max()  # around the Fe K edge
    assert np.all(np.isfinite(ds["xrd_counts"].values)) and np.all(ds["xrd_counts"].values >= 0)
    step = ds["xafs_mu"].sel(energy_ev=slice(7150, 7250)).mean("energy_ev") - ds["xafs_mu"].sel(
        energy_ev=slice(7000, 7080)
    ).mean("energy_ev")
    assert np.all(step > 0.5)  # every spectrum shows the edge jump

    fractions = sum(ds[f"fraction_{p}"] for p in ("rocksalt", "spinel", "Co-spinel"))
    np.testing.assert_allclose(fractions.values, 1.0, atol=1e-9)
    assert np.all((ds["oxidation_state"] >= 2.0) & (ds["oxidation_state"] <= 3.0))
    assert np.all(ds["magnetization_var"] > 0) and np.all(ds["oxidation_state_var"] > 0)
    np.testing.assert_allclose(ds["Fe"] + ds["Co"] + ds["Ni"], 1.0, atol=1e-9)  # measured spot compositions

    new_library = ds["new_library"].values.astype(bool)
    assert new_library[0] and new_library.sum() < 6, "the first proposal deposits; later ones reuse spots"
    assert len(set(ds["spot_id"].values)) == 6, "no spot is measured twice"
    assert set(ds["library_id"].values) == {f"L{i:03d}" for i in range(1, new_library.sum() + 1)}

    observed = [
        e.observation for e in EventLog(store / "events.jsonl").read() if type(e).__name__ == "Observed"
    ]
    for observation, row in zip(observed, range(6), strict=True):
        kept = xr.open_zarr(store / observation.raw["xrd_counts"])
        np.testing.assert_array_equal(kept["xrd_counts"].values, ds["xrd_counts"].values[row])
        assert observation.condition == pytest.approx(
            {e: float(ds[e].values[row]) for e in ("Fe", "Co", "Ni")}
        )
    proposals = [
        e.proposal for e in EventLog(store / "events.jsonl").read() if type(e).__name__ == "Proposed"
    ]
    for proposal, row in zip(proposals, range(6), strict=True):
        if proposal.target_spot is not None:  # the policy chose this spot: it is the one measured
            assert ds["spot_id"].values[row] == proposal.target_spot and not new_library[row]
        if proposal.reason == "new library":
            assert new_library[row]
    assert any(p.target_spot for p in proposals[3:]), "the cost-aware policy measures existing spots"
    for observation in observed:  # the wafer under the beam was the spot's own library
        documents, _ = read_journal(store, observation.proposal_id)
        spot_events = [
            doc for name, doc in documents if name == "event" and "sample_changer-wafer" in doc["data"]
        ]
        assert spot_events and all(
            e["data"]["sample_changer-wafer"] == observation.sample["library_id"] for e in spot_events
        )
    runs = [e for e in EventLog(store / "events.jsonl").read() if type(e).__name__ == "RunStarted"]
    assert len(runs) == 6 * 2 + new_library.sum()  # spot run + XAFS run each; one deposit per new library


def test_thin_film_sections_need_kind_thin_film(thin_film, write_campaign, junkan):
    campaign = copy.deepcopy(thin_film)
    campaign["instrument"]["kind"] = "simulated"
    result = junkan("validate", write_campaign(campaign))
    assert result.exit_code == 2
    assert "sections ['xrd', 'xafs', 'library'] need kind 'thin-film'" in result.output


def test_a_thin_film_campaign_needs_a_composition_spread_world(quickstart, write_campaign, junkan):
    campaign = copy.deepcopy(quickstart)
    campaign["instrument"]["kind"] = "thin-film"
    result = junkan("validate", write_campaign(campaign))
    assert result.exit_code == 2 and "has no sputter guns, diffractometer or beamline" in result.output


def test_the_xafs_absorber_must_be_in_the_film(thin_film, write_campaign, junkan):
    campaign = copy.deepcopy(thin_film)
    campaign["instrument"]["xafs"]["element"] = "Cu"
    result = junkan("validate", write_campaign(campaign))
    assert result.exit_code == 2 and "instrument.xafs.element: 'Cu' is not in the film" in result.output
