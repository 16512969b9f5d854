"""Pool replay through the real loop: a measured table served as an instrument, with a store that
`junkan status`, `replay --verify` and resume treat like any campaign's."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from orchestrator.campaign import CampaignFileError, parse_campaign
from orchestrator.event_log import EventLog
from orchestrator.loop import CampaignLoop
from orchestrator.pool_replay import VARIANCE_FLOOR_FRACTION, load_pool
from orchestrator.recorded_campaign import pool_campaign_text, recorded_pool, reported_variances
from orchestrator.store import CampaignStore
from orchestrator.wiring import build_instrument, build_policy, instrument_costs
from tests.orchestrator.crashing_executor import CrashAfterRun, CrashingExecutor
from tests.orchestrator.four_element_campaign import ELEMENTS, TEMPERATURES, hardness, write_table
from tests.orchestrator.four_element_campaign import campaign as four_element_campaign
from tests.orchestrator.test_pool_replay import write_csv

POLICY = {"n_sobol": 2, "num_restarts": 2, "raw_samples": 32, "mc_samples": 32}


def box_table(n: int, seed: int, replicated: int) -> list[tuple]:
    """Temperature and time (a box, not a composition); `replicated` conditions appear twice."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.uniform(300, 700, n), rng.uniform(1, 60, n)])
    rows: list[tuple] = [("temperature_c", "time_min", "yield")]
    for i, (t, m) in enumerate(x):
        for _ in range(2 if i < replicated else 1):
            value = np.exp(-(((t - 520) / 90) ** 2) - ((m - 35) / 20) ** 2) + rng.normal(0, 0.05)
            rows.append((float(t), float(m), float(value)))
    return rows


def served(store: Path) -> list[tuple[int, int, float]]:
    """(condition, replicate, value) of every observation, in order."""
    return [
        (int(o.sample["condition"]), int(o.sample["replicate"]), o.values["yield"])
        for o in (
            e.observation for e in EventLog(store / "events.jsonl").read() if type(e).__name__ == "Observed"
        )
    ]


@pytest.mark.integration
def test_a_replayed_pool_is_a_campaign_that_status_and_verify_open(tmp_path, junkan):
    table = write_csv(tmp_path / "furnace.csv", box_table(30, 1, replicated=10))
    stores = tmp_path / "stores"
    result = junkan(
        "replay", "--pool", table, "--inputs", "temperature_c,time_min", "--objectives", "yield:max",
        "--budget", "10", "--seeds", "1", "--store", stores, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    store = stores / "seed-0"
    assert report["stores"] == [str(store)] and report["design_space"] == "box"

    status = junkan("status", store, "--json")
    assert status.exit_code == 0, status.output
    document = json.loads(status.output)
    assert document["state"] == "finished" and document["n_observations"] == 10
    verify = junkan("replay", store, "--verify")
    assert verify.exit_code == 0 and "all 10 proposals re-decided identically" in verify.output

    # every observation is a recorded row of the condition it names, served in table order
    pool = load_pool(table, ["temperature_c", "time_min"], [("yield", "max")])
    measured = served(store)
    for condition, replicate, value in measured:
        assert value == pytest.approx(pool.replicates[condition][replicate, 0])
    assert len({(c, r) for c, r, _ in measured}) == len(measured)  # no row served twice
    observed = [
        e.observation for e in EventLog(store / "events.jsonl").read() if type(e).__name__ == "Observed"
    ]
    for observation, (condition, _, _) in zip(observed, measured, strict=True):
        assert observation.condition["temperature_c"] == pytest.approx(pool.conditions[condition, 0])

    again = junkan(
        "replay", "--pool", table, "--inputs", "temperature_c,time_min", "--objectives", "yield:max",
        "--budget", "10", "--seeds", "1", "--store", stores,
    )  # fmt: skip
    assert again.exit_code == 2 and "already hold" in again.output


def run_pool_campaign(store: Path, crash_on_run: int = 0):
    campaign = CampaignStore.open(store)
    spec = campaign.spec()
    instrument = build_instrument(spec, spec.seed)
    policy = build_policy(spec, spec.seed, instrument_costs(instrument))
    executor = CrashingExecutor(instrument, crash_on_run)
    return CampaignLoop(campaign, policy, instrument, executor, spec.seed).run()


def test_a_pool_campaign_resumed_after_a_crash_serves_what_the_uninterrupted_one_served(tmp_path):
    # few conditions, all replicated, budget past the conditions: the second rows must be served
    table = write_csv(tmp_path / "small.csv", box_table(5, 2, replicated=5))
    pool = load_pool(table, ["temperature_c", "time_min"], [("yield", "max")])
    text = pool_campaign_text(pool, table, 0, 8, POLICY)
    spec = parse_campaign(text, "pool.yaml")
    for name in ("whole", "crashed"):
        CampaignStore.create(tmp_path / name, spec, text)
    assert run_pool_campaign(tmp_path / "whole").status == "finished"
    with pytest.raises(CrashAfterRun):
        run_pool_campaign(tmp_path / "crashed", crash_on_run=7)  # rows served twice by then
    assert len(served(tmp_path / "crashed")) == 6
    state = run_pool_campaign(tmp_path / "crashed")
    assert state.status == "finished"
    assert served(tmp_path / "crashed") == served(tmp_path / "whole")
    assert len(set((c, r) for c, r, _ in served(tmp_path / "whole"))) == 8
    assert any(r == 1 for _, r, _ in served(tmp_path / "whole"))  # replicates were served in turn


def test_a_table_without_replicates_leaves_its_noise_to_the_model(tmp_path):
    table = write_csv(tmp_path / "single.csv", box_table(20, 3, replicated=0))
    pool = load_pool(table, ["temperature_c", "time_min"], [("yield", "max")])
    floor = VARIANCE_FLOOR_FRACTION * pool.means[:, 0].var()
    np.testing.assert_allclose(reported_variances(pool), floor)  # not a rule-of-thumb noise
    replicated = load_pool(
        write_csv(tmp_path / "pairs.csv", box_table(20, 3, replicated=6)),
        ["temperature_c", "time_min"],
        [("yield", "max")],
    )
    np.testing.assert_array_equal(reported_variances(replicated), replicated.variances)


def test_a_recorded_campaign_file_is_checked_against_its_table(tmp_path):
    table = write_csv(tmp_path / "furnace.csv", box_table(12, 4, replicated=0))
    pool = load_pool(table, ["temperature_c", "time_min"], [("yield", "max")])
    text = pool_campaign_text(pool, table, 0, 5, POLICY)
    parse_campaign(text, "ok.yaml")
    wrong = text.replace("time_min", "duration_min")
    with pytest.raises(CampaignFileError, match="duration_min"):
        parse_campaign(wrong, "wrong.yaml")
    with pytest.raises(CampaignFileError, match="kind 'recorded'"):
        parse_campaign(text.replace("  table:", "  world: quickstart\n  table:"), "both.yaml")


def test_a_table_of_compositions_at_several_temperatures_is_a_composition_and_process_campaign(
    tmp_path, junkan
):
    """Element columns on the simplex and a process column: the campaign's own space, each condition
    served at its composition and temperature; a row off the simplex is refused by name."""
    table = write_table(tmp_path / "cocrfeni.csv")
    spec = parse_campaign(yaml.safe_dump(four_element_campaign(table, budget=4)), "four.yaml")
    pool, space, points = recorded_pool(spec)
    assert space.elements == ELEMENTS and [p.name for p in space.process] == ["T"]
    np.testing.assert_allclose(points[:, :4].sum(axis=1), 1.0)
    np.testing.assert_array_equal(points[:, 4], pool.conditions[:, 4])  # temperatures as recorded
    assert sorted(set(points[:, 4])) == list(TEMPERATURES)
    campaign_file = tmp_path / "four.yaml"
    campaign_file.write_text(yaml.safe_dump(four_element_campaign(table, budget=4)))
    assert junkan("run", campaign_file, "--store", tmp_path / "store").exit_code == 0
    observations = [
        e.observation for e in EventLog(tmp_path / "store" / "events.jsonl").read() if e.type == "Observed"
    ]
    for o in observations:  # each reading is the table's row at the condition it names
        row = points.tolist().index([o.condition[n] for n in space.names])
        assert o.values["hardness"] == pytest.approx(pool.means[row, 0])
        x = np.array([o.condition[e] for e in ELEMENTS])
        assert o.values["hardness"] == pytest.approx(float(hardness(x, np.array(o.condition["T"]))), abs=0.5)

    lines = table.read_text().splitlines()
    lines[3] = "0.5,0.5,0.5,0.0," + lines[3].split(",", 4)[4]  # fractions summing to 1.5
    table.write_text("\n".join(lines) + "\n")
    with pytest.raises(CampaignFileError, match=r"data row 3 sum to 1\.5.*must sum to 1"):
        parse_campaign(yaml.safe_dump(four_element_campaign(table, budget=4)), "four.yaml")
