"""Best means best by the model: a lucky noisy reading is reported as the best reading, never as the
best condition; status, the run's summary and the dashboard show the same answer."""

import json
import math
from pathlib import Path

import httpx
import pytest
import yaml

from orchestrator.best import SAME_CONDITION_TOLERANCE, campaign_best
from orchestrator.campaign import parse_campaign
from orchestrator.control import ControlRequest, send
from orchestrator.observation import Observation
from orchestrator.state import CampaignState
from tests.orchestrator.dashboard_server import dashboard_server, loop_of, new_store, quick_campaign
from tests.orchestrator.lucky_corner_world import build as lucky_corner

PEAK = {"Fe": 0.70, "Ga": 0.20, "Pd": 0.10}  # 3.2 T, one reading's sd 0.03 T
CORNER = {"Fe": 0.50, "Ga": 0.25, "Pd": 0.25}  # 2.55 T, sd 0.73 T
NEAR_CORNER = {"Fe": 0.45, "Ga": 0.30, "Pd": 0.25}  # 2.25 T, sd 0.73 T
# the person's plan, injected before the campaign starts: the peak three times, the noisy corner four
PLAN = [
    PEAK,
    CORNER,
    {"Fe": 0.90, "Ga": 0.05, "Pd": 0.05},
    PEAK,
    NEAR_CORNER,
    {"Fe": 0.55, "Ga": 0.40, "Pd": 0.05},
    CORNER,
    PEAK,
    CORNER,
    {"Fe": 0.80, "Ga": 0.10, "Pd": 0.10},
]
SEED = 17  # a seed at which the one reading beside the corner reads 3.95 T (truth 2.25 T)


@pytest.fixture(scope="module")
def lucky(tmp_path_factory) -> Path:
    """A finished campaign on the lucky-corner world, its conditions set by a person's injections."""
    campaign = quick_campaign(
        budget=len(PLAN), seed=SEED, instrument={"world": "tests.orchestrator.lucky_corner_world:build"}
    )
    store = new_store(tmp_path_factory.mktemp("lucky") / "store", campaign)
    for condition in PLAN:
        send(store.path, ControlRequest(command="inject", condition=condition))
    state = loop_of(store).run()
    assert state.status == "finished" and len(state.observations) == len(PLAN)
    return store.path


def _truth(condition: dict[str, float]) -> float:
    return float(lucky_corner().truth([[condition[e] for e in ("Fe", "Ga", "Pd")]])["magnetization"][0])


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(abs(a[k] - b[k]) <= SAME_CONDITION_TOLERANCE for k in b)


def test_the_lucky_reading_is_the_best_reading_and_the_model_best_is_the_truly_better_condition(
    lucky, junkan
):
    status = json.loads(junkan("status", lucky, "--json").stdout)
    readings = [o["values"]["magnetization"] for o in status["observations"]]
    reading = status["best_reading"]
    # the setting: the best single reading is a noisy corner's, and the peak is truly better
    assert reading["values"]["magnetization"] == max(readings) > 3.8
    assert reading["condition"]["Pd"] == pytest.approx(0.25)
    assert _truth(PEAK) - _truth(reading["condition"]) > 0.5
    assert status["best"] == reading  # the earlier key is kept, and says the same

    by_model = status["best_by_model"]
    best = by_model["best"]
    assert by_model["by"] == "model" and by_model["model_id"] == status["model_id"]
    assert _same(best["condition"], PEAK) and not _same(best["condition"], reading["condition"])
    assert best["n_measured"] == 3 and len(best["proposal_ids"]) == 3
    assert best["mean"]["magnetization"] < reading["values"]["magnetization"]
    assert abs(best["mean"]["magnetization"] - _truth(PEAK)) < 3 * best["sd"]["magnetization"] + 0.02
    peak_readings = [
        o["values"]["magnetization"] for o in status["observations"] if _same(o["condition"], PEAK)
    ]
    assert best["reading_mean"]["magnetization"] == pytest.approx(sum(peak_readings) / 3)
    assert by_model["pareto"] == [best]
    # best so far, by the model: the peak is the best from the first measurement on
    assert by_model["so_far"] == pytest.approx([best["mean"]["magnetization"]] * len(PLAN))


def test_status_text_shows_the_model_best_and_the_single_reading_as_such(lucky, junkan):
    text = junkan("status", lucky).stdout
    model_line = next(line for line in text.splitlines() if line.startswith("best (model)"))
    reading_line = next(line for line in text.splitlines() if line.startswith("best reading"))
    assert "at Fe0.700 Ga0.200 Pd0.100" in model_line and "(measured 3x, first " in model_line
    assert "Pd0.250" in reading_line and reading_line.endswith("one reading)")
    # a simulation takes no real time: its busy / wall ratio would describe the computer, not a lab
    duty_line = next(line for line in text.splitlines() if line.startswith("duty cycle"))
    assert "simulated time" in duty_line and "wall time" not in duty_line
    assert json.loads(junkan("status", lucky, "--json").stdout)["real_time"] is False


def test_the_dashboard_serves_the_best_that_status_reports(lucky, junkan):
    status = json.loads(junkan("status", lucky, "--json").stdout)
    with dashboard_server(lucky) as url, httpx.Client(base_url=url, timeout=120) as client:
        header = client.get("/api/state").json()
        early = client.get("/api/state", params={"step": 2}).json()
    assert header["best_reading"] == status["best_reading"]
    served, reported = header["best_by_model"], status["best_by_model"]
    assert served["model_id"] == reported["model_id"] and served["by"] == reported["by"] == "model"
    assert served["best"]["condition"] == reported["best"]["condition"]
    assert served["best"]["proposal_ids"] == reported["best"]["proposal_ids"]
    for key in ("mean", "sd", "noise_sd"):
        assert served["best"][key] == pytest.approx(reported["best"][key], rel=1e-6)
    assert served["so_far"] == pytest.approx(reported["so_far"], rel=1e-6)
    # after two measurements there is no model yet (it is fitted after 3): the readings say
    assert (
        early["best_by_model"]["by"] == "reading"
        and "after 3 measurements" in early["best_by_model"]["reason"]
    )
    assert early["best_by_model"]["best"]["proposal_ids"] == [early["best_reading"]["proposal_id"]]


def _observation(i: int, condition: dict[str, float], values: dict[str, float], var: float) -> Observation:
    return Observation(
        index=i,
        proposal_id=f"p{i:04d}",
        run_uid=f"run-{i}",
        condition=condition,
        measurement={"count_time_s": 1.0},
        values=values,
        variances=dict.fromkeys(values, var),
        started_at=1_700_000_000.0 + i,
        finished_at=1_700_000_001.0 + i,
    )


def _spec(**changes: object):
    return parse_campaign(yaml.safe_dump(quick_campaign(**changes), sort_keys=False))


def test_without_a_model_replicate_readings_are_averaged_and_the_answer_says_so():
    spec = _spec(policy={"kind": "random"})
    a, b = {"Fe": 0.6, "Ga": 0.3, "Pd": 0.1}, {"Fe": 0.8, "Ga": 0.1, "Pd": 0.1}
    nearly_a = {"Fe": 0.602, "Ga": 0.298, "Pd": 0.1}  # the same condition, within the tolerance
    observations = [
        _observation(0, a, {"magnetization": 2.0}, 0.01),
        _observation(1, b, {"magnetization": 1.9}, 0.04),
        _observation(2, nearly_a, {"magnetization": 2.4}, 0.01),
        _observation(3, b, {"magnetization": 2.3}, 0.04),
    ]
    state = CampaignState(objectives={"magnetization": "maximize"}, observations=observations)
    best = campaign_best(spec, state)
    assert best.by == "reading" and "'random' keeps no model" in best.reason and best.model_id is None
    assert best.best is not None and best.best.condition == a
    assert best.best.proposal_ids == ("p0000", "p0002")
    assert best.best.mean["magnetization"] == pytest.approx(2.2)
    assert best.best.sd["magnetization"] == pytest.approx(math.sqrt(0.02) / 2)
    assert best.best.noise_sd is None
    assert best.reading is not None and best.reading.proposal_id == "p0002"
    assert best.so_far == pytest.approx((2.2, 2.2, 2.2, 2.2))


def test_several_objectives_give_the_pareto_set_by_posterior_mean():
    spec = _spec(
        instrument={"world": "fe-ga-pd"},
        objectives=[
            {"name": "magnetization", "goal": "maximize"},
            {"name": "magnetostriction", "goal": "minimize"},
        ],
        policy={"kind": "bayesian", "n_sobol": 3},
    )
    # (magnetization, magnetostriction): two extremes, one between them, one worse than the middle in both
    rows = [
        ({"Fe": 0.90, "Ga": 0.05, "Pd": 0.05}, 2.0, 80.0),
        ({"Fe": 0.50, "Ga": 0.40, "Pd": 0.10}, 1.0, 10.0),
        ({"Fe": 0.70, "Ga": 0.20, "Pd": 0.10}, 1.5, 40.0),
        ({"Fe": 0.60, "Ga": 0.15, "Pd": 0.25}, 1.1, 70.0),
        ({"Fe": 0.80, "Ga": 0.10, "Pd": 0.10}, 1.75, 60.0),
    ]
    observations = [
        _observation(i, c, {"magnetization": m, "magnetostriction": s}, 1e-4)
        for i, (c, m, s) in enumerate(rows)
    ]
    state = CampaignState(
        objectives={"magnetization": "maximize", "magnetostriction": "minimize"}, observations=observations
    )
    best = campaign_best(spec, state)
    assert best.by == "model"
    front = [m.proposal_ids[0] for m in best.pareto]
    assert front == ["p0000", "p0004", "p0002", "p0001"]  # best first by magnetization; p0003 is dominated
    assert best.so_far == ()
    for m, (_, magnetization, magnetostriction) in zip(
        best.pareto, [rows[0], rows[4], rows[2], rows[1]], strict=True
    ):
        assert m.mean["magnetization"] == pytest.approx(magnetization, abs=0.05)
        assert m.mean["magnetostriction"] == pytest.approx(magnetostriction, abs=2.0)


def test_a_condition_reads_as_a_formula_and_named_process_parameters_without_the_tables_placeholder():
    from orchestrator.status_report import _composition

    assert _composition({"Fe": 0.7, "Ga": 0.2, "Pd": 0.1}, ["Fe", "Ga", "Pd"]) == "Fe0.700 Ga0.200 Pd0.100"
    box_row = {"_pool_placeholder_a": 0.5, "_pool_placeholder_b": 0.5, "temperature_C": 667.746}
    box_row["time_min"] = 5.4
    placeholders = ["_pool_placeholder_a", "_pool_placeholder_b"]
    assert _composition(box_row, placeholders) == "temperature_C=667.7 time_min=5.4"
    film = {"Fe": 0.8, "Pd": 0.2, "T": 873.15}  # a process parameter named like a symbol stays one
    assert _composition(film, ["Fe", "Pd"]) == "Fe0.800 Pd0.200 T=873.1"
