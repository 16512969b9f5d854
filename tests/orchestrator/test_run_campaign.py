"""`junkan run` and `junkan status` end to end on the simulated instrument."""

import copy
import json

import numpy as np
import pytest
import xarray as xr

from orchestrator.event_log import EventLog
from policies import DesignSpace


def run_and_status(junkan, path, store, *extra):
    result = junkan("run", path, "--store", store, *extra)
    status = junkan("status", store, "--json")
    return result, json.loads(status.stdout)


def test_a_short_campaign_runs_end_to_end_and_status_reports_every_observation(
    short_campaign, write_campaign, junkan, tmp_path
):
    store = tmp_path / "store"
    result, status = run_and_status(junkan, write_campaign(short_campaign), store)
    assert result.exit_code == 0, result.output
    assert "finished" in result.output and "6 of 6" in result.output
    assert status["campaign"] == "quickstart-fe-ga-pd" and status["state"] == "finished"
    assert status["n_observations"] == status["budget"] == 6 == len(status["observations"])
    assert status["n_faults"] == 0 and status["pending"] == []
    values = [o["values"]["magnetization"] for o in status["observations"]]
    assert status["best"]["values"]["magnetization"] == max(values)
    assert status["best_reading"] == status["best"]
    # the summary and status rank conditions by the model (fitted after the 3 Sobol points)
    by_model = status["best_by_model"]
    assert by_model["by"] == "model" and by_model["model_id"] == status["model_id"]
    best = by_model["best"]
    assert best["condition"] in [o["condition"] for o in status["observations"]]
    assert "best (model)" in result.output and "one reading)" in result.output

    space = DesignSpace.from_bounds(short_campaign["space"]["composition"])
    compositions = np.array([[o["condition"][e] for e in space.elements] for o in status["observations"]])
    assert np.all(space.contains(compositions)), compositions
    assert len({o["run_uid"] for o in status["observations"]}) == 6

    ds = xr.open_zarr(store / "observations.zarr")
    assert ds.sizes["obs"] == 6
    np.testing.assert_allclose(ds["magnetization"].values, values)
    np.testing.assert_allclose(np.column_stack([ds[e].values for e in space.elements]), compositions)
    assert np.all(ds["magnetization_var"].values > 0)

    events = list(EventLog(store / "events.jsonl").read())
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "CampaignStarted" and kinds[-1] == "CampaignFinished"
    assert kinds.count("Proposed") == kinds.count("RunStarted") == kinds.count("Observed") == 6
    proposed = [e.proposal for e in events if type(e).__name__ == "Proposed"]
    # 3 Sobol points, then the model's: its acquisition's, or a stagnation rule's replacement
    generators = [p.generator for p in proposed]
    assert generators[:3] == ["sobol"] * 3 and "qlognei" in generators[3:]
    assert set(generators[3:]) <= {"qlognei", "thompson", "largest-sd"}, generators
    model_ids = {e.model_id for e in events if type(e).__name__ == "ModelUpdated"}
    assert all(p.model_id in model_ids for p in proposed[3:])
    # each event is on record before what follows it: a run's start precedes its observation
    order = {(type(e).__name__, getattr(e, "proposal_id", None)): e.seq for e in events}
    for p in proposed:
        assert order[("Submitted", p.proposal_id)] < order[("RunStarted", p.proposal_id)]
    assert (store / "campaign.yaml").read_text() == write_campaign(short_campaign).read_text()


def test_the_same_seed_gives_the_same_campaign_and_another_seed_does_not(
    short_campaign, write_campaign, junkan, tmp_path
):
    campaign = copy.deepcopy(short_campaign)
    campaign["budget"] = 4
    path = write_campaign(campaign)
    runs = {}
    for label, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        result, status = run_and_status(junkan, path, tmp_path / label, "--seed", seed)
        assert result.exit_code == 0, result.output
        assert status["seed"] == int(seed)
        runs[label] = [(o["condition"], o["values"]) for o in status["observations"]]
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_a_store_holding_a_different_campaign_is_refused_and_left_untouched(
    short_campaign, write_campaign, junkan, tmp_path
):
    first = copy.deepcopy(short_campaign)
    first.update(budget=2, name="first")
    store = tmp_path / "store"
    assert junkan("run", write_campaign(first, "first.yaml"), "--store", store).exit_code == 0
    before = {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()}

    second = copy.deepcopy(first)
    second["name"] = "second"
    result = junkan("run", write_campaign(second, "second.yaml"), "--store", store)
    assert result.exit_code == 2
    assert "already holds a different campaign ('first')" in result.output
    again = junkan("run", write_campaign(first, "first.yaml"), "--store", store)
    assert again.exit_code == 2 and "already holds campaign 'first'" in again.output
    assert {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.yaml", "second.yaml", "store"]


def test_a_non_empty_directory_that_is_not_a_store_is_refused(
    short_campaign, write_campaign, junkan, tmp_path
):
    store = tmp_path / "data"
    store.mkdir()
    (store / "notes.txt").write_text("mine")
    result = junkan("run", write_campaign(short_campaign), "--store", store)
    assert result.exit_code == 2 and "holds no junkan campaign" in result.output
    assert [p.name for p in store.iterdir()] == ["notes.txt"]


def test_status_of_a_directory_that_is_not_a_store_exits_2(junkan, tmp_path):
    result = junkan("status", tmp_path)
    assert result.exit_code == 2 and "is not a junkan store" in result.output


def test_a_negative_seed_is_refused(short_campaign, write_campaign, junkan, tmp_path):
    result = junkan("run", write_campaign(short_campaign), "--store", tmp_path / "s", "--seed", "-1")
    assert result.exit_code == 2 and "--seed must be >= 0" in result.output
    assert not (tmp_path / "s").exists()


def test_a_device_fault_is_recorded_the_campaign_fails_and_keeps_what_it_measured(
    short_campaign, write_campaign, junkan, tmp_path
):
    campaign = copy.deepcopy(short_campaign)
    campaign["instrument"]["world"] = "tests.orchestrator.faulty_world:build"
    store = tmp_path / "store"
    result, status = run_and_status(junkan, write_campaign(campaign), store)
    assert result.exit_code == 1
    assert status["state"] == "failed" and status["n_faults"] == 1
    assert status["faults"][0]["kind"] == "device"
    assert "counter did not answer within 5 s" in status["faults"][0]["message"]
    assert status["faults"][0]["proposal_id"] == "p0003"
    assert status["n_observations"] == 2
    assert xr.open_zarr(store / "observations.zarr").sizes["obs"] == 2


@pytest.mark.integration
def test_the_quickstart_improves_on_its_sobol_points(quickstart, write_campaign, junkan, tmp_path):
    """The README's campaign as shipped (default seed): the BO steps beat the Sobol start."""
    result, status = run_and_status(junkan, write_campaign(quickstart), tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert status["n_observations"] == quickstart["budget"] == len(status["observations"])
    n_sobol = quickstart["policy"]["n_sobol"]
    values = [o["values"]["magnetization"] for o in status["observations"]]
    assert max(values[n_sobol:]) > max(values[:n_sobol])


@pytest.mark.integration
def test_a_two_objective_campaign_with_expert_rules_counting_noise_and_chosen_count_times(
    quickstart, write_campaign, junkan, tmp_path
):
    campaign = copy.deepcopy(quickstart)
    campaign.update(name="alloy-pareto", budget=7)
    campaign["instrument"]["world"] = "fe-ga-pd"
    campaign["objectives"] = [
        {"name": "magnetization", "goal": "maximize", "threshold": 0.5},
        {"name": "magnetostriction", "goal": "maximize", "threshold": 0.0},
    ]
    campaign["space"]["linear_constraints"] = [{"terms": {"Ga": 1.0, "Pd": 1.0}, "max": 0.4}]
    campaign["policy"] = {
        "kind": "bayesian",
        "n_sobol": 4,
        "num_restarts": 2,
        "raw_samples": 32,
        "mc_samples": 32,
        "noise": "counting",
        "prior": "tests.orchestrator.expert_priors:no_pd_rich",
        "count_time": {"min_s": 0.5, "max_s": 8.0, "target_sd": 0.02},
    }
    result, status = run_and_status(junkan, write_campaign(campaign), tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert status["n_observations"] == 7
    for o in status["observations"]:
        x = o["condition"]
        assert x["Ga"] + x["Pd"] <= 0.4 + 1e-6
        assert set(o["values"]) == {"magnetization", "magnetostriction"}
    model_chosen = status["observations"][4:]
    assert all(o["condition"]["Pd"] <= 0.25 + 1e-9 for o in model_chosen)
    events = list(EventLog(tmp_path / "store" / "events.jsonl").read())
    generators = [e.proposal.generator for e in events if type(e).__name__ == "Proposed"]
    assert "qlognehvi" in generators[4:] and set(generators[4:]) <= {"qlognehvi", "thompson", "largest-sd"}
    times = [o["measurement"]["count_time_s"] for o in status["observations"]]
    assert times[:4] == [1.0] * 4  # space-filling points use the campaign's count time
    assert all(0.5 <= t <= 8.0 for t in times[4:]) and times[4:] != [1.0] * 3  # the model chose these
