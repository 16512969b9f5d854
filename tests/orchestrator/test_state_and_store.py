import numpy as np
import pytest
import xarray as xr

from orchestrator.campaign import parse_campaign
from orchestrator.events import (
    CampaignFinished,
    CampaignStarted,
    Faulted,
    Observed,
    ProposalRecord,
    Proposed,
)
from orchestrator.observation import Observation
from orchestrator.state import fold
from orchestrator.store import CampaignStore, StoreError

STORE_FILES = ["campaign.yaml", "control-token", "events.jsonl", "observations.zarr"]


def started(goal="maximize"):
    return CampaignStarted(
        campaign="c",
        campaign_sha256="0" * 64,
        budget=3,
        seed=7,
        elements=["Fe", "Ga", "Pd"],
        objectives={"magnetization": goal},
        units={"magnetization": "T"},
        junkan_version="0",
    )


def observation(i, value, fe=0.6):
    return Observation(
        index=i,
        proposal_id=f"p{i:04d}",
        run_uid=f"run-{i}",
        condition={"Fe": fe, "Ga": 0.3, "Pd": round(0.1 - (fe - 0.6), 10)},
        measurement={"count_time_s": 1.0 + i},
        values={"magnetization": value},
        variances={"magnetization": 0.01 * (i + 1)},
        started_at=1_700_000_000.0 + i,
        finished_at=1_700_000_001.0 + i,
    )


def proposed(i):
    record = ProposalRecord(proposal_id=f"p{i:04d}", condition={"Fe": 0.6}, measurement={}, reason="explore")
    return Proposed(proposal=record, decision_seconds=0.1 * i, policy_state={})


@pytest.mark.parametrize(("goal", "best"), [("maximize", "p0001"), ("minimize", "p0002")])
def test_the_fold_tracks_status_best_pending_and_faults(goal, best):
    events = [started(goal)]
    events += [proposed(0), Observed(observation=observation(0, 1.5))]
    events += [proposed(1), Observed(observation=observation(1, 2.0))]
    events += [proposed(2), Observed(observation=observation(2, 0.5)), proposed(3)]
    state = fold(events)
    assert state.status == "running" and state.seed == 7
    assert state.best_reading().proposal_id == best
    assert state.pending == ["p0003"]
    state = fold(
        [*events, Faulted(kind="device", message="x"), CampaignFinished(status="failed", reason="x")]
    )
    assert state.status == "failed" and len(state.faults) == 1


def test_observations_round_trip_through_xarray(tmp_path, quickstart):
    import yaml

    text = yaml.safe_dump(quickstart, sort_keys=False)
    store = CampaignStore.create(tmp_path / "store", parse_campaign(text), text)
    empty = xr.open_zarr(store.observations_path)
    assert empty.sizes["obs"] == 0 and set(empty.data_vars) == {"magnetization", "magnetization_var"}
    observations = [observation(0, 1.5, fe=0.6), observation(1, 2.0, fe=0.65), observation(2, 0.5, fe=0.7)]
    for event in [started(), *[Observed(observation=o) for o in observations]]:
        store.append(event)
    store.write_observations(store.state())
    ds = xr.open_zarr(store.observations_path)
    assert ds.sizes == {"obs": 3}
    np.testing.assert_allclose(ds["Fe"].values, [0.6, 0.65, 0.7])
    np.testing.assert_allclose(ds["Ga"].values, [0.3, 0.3, 0.3])
    np.testing.assert_allclose(ds["Fe"] + ds["Ga"] + ds["Pd"], 1.0)
    np.testing.assert_allclose(ds["magnetization"].values, [1.5, 2.0, 0.5])
    np.testing.assert_allclose(ds["magnetization_var"].values, [0.01, 0.02, 0.03])
    np.testing.assert_allclose(ds["count_time_s"].values, [1.0, 2.0, 3.0])
    assert list(ds["proposal_id"].values) == ["p0000", "p0001", "p0002"]
    assert list(ds["run_uid"].values) == ["run-0", "run-1", "run-2"]
    assert ds["magnetization"].attrs["units"] == "T"
    assert ds["Fe"].attrs["units"] == "at. fraction"
    assert ds.attrs["campaign"] == "c"
    assert sorted(p.name for p in store.path.iterdir()) == STORE_FILES


def test_opening_a_directory_that_is_not_a_store_is_explained(tmp_path):
    with pytest.raises(StoreError, match="is not a junkan store"):
        CampaignStore.open(tmp_path)


def test_a_rewrite_clears_what_an_interrupted_write_left_behind(tmp_path, quickstart):
    import yaml

    text = yaml.safe_dump(quickstart, sort_keys=False)
    store = CampaignStore.create(tmp_path / "store", parse_campaign(text), text)
    (store.path / ".observations.zarr.0badc0de.tmp").mkdir()
    (store.path / ".observations.zarr.0badc0de.tmp" / "zarr.json").write_text("{")
    for event in [started(), Observed(observation=observation(0, 1.5))]:
        store.append(event)
    store.write_observations(store.state())
    assert sorted(p.name for p in store.path.iterdir()) == STORE_FILES
    assert xr.open_zarr(store.observations_path).sizes["obs"] == 1
