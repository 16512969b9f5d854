"""The model where a campaign of four elements and a temperature can be seen: a pseudo-ternary plane
through a chosen spot, and the line between two conditions (`/api/model`, `/api/model/slice`)."""

from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.orchestrator.dashboard_server import dashboard_server, loop_of, new_store
from tests.orchestrator.four_element_campaign import ELEMENTS, campaign, write_table

BUDGET = 8
NAMES = [*ELEMENTS, "T"]


@pytest.fixture(scope="module")
def four(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("four")
    store = new_store(where / "store", campaign(write_table(where / "cocrfeni.csv"), BUDGET))
    assert loop_of(store).run().status == "finished"
    return store.path


@pytest.fixture(scope="module")
def api(four):
    with dashboard_server(four) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def _grid(model: dict) -> np.ndarray:
    return np.column_stack([model["grid"][n] for n in NAMES])


def test_the_default_plane_runs_through_the_best_condition_with_the_rest_summed(api):
    best = api.get("/api/state").json()["best_by_model"]["best"]
    model = api.get("/api/model").json()
    plane = model["plane"]
    assert plane["corners"] == [["Co"], ["Cr"], ["Fe", "Ni"]] and plane["labels"] == ["Co", "Cr", "Fe+Ni"]
    assert plane["spot"] == best["condition"] and plane["spot_from"].startswith("the best measured")
    assert plane["held"] == {"T": best["condition"]["T"]}  # every element is in a corner
    x = _grid(model)
    assert len(x) > 100
    np.testing.assert_allclose(x[:, :4].sum(axis=1), 1.0)
    np.testing.assert_allclose(x[:, 4], best["condition"]["T"])
    # Fe and Ni keep the spot's proportion; the corners are the summed fractions
    fe, ni = best["condition"]["Fe"], best["condition"]["Ni"]
    np.testing.assert_allclose(x[:, 2] * (fe + ni), fe * (x[:, 2] + x[:, 3]), atol=1e-9)
    corners = np.column_stack([plane["a"], plane["b"], plane["c"]])
    np.testing.assert_allclose(corners, np.column_stack([x[:, 0], x[:, 1], x[:, 2] + x[:, 3]]), atol=1e-6)
    for name in ("mean", "sd", "noise_sd"):
        assert len(model["outcomes"]["hardness"][name]) == len(x)
    # measured conditions projected: their summed fractions; off the plane where T differs
    observations = api.get("/api/observations").json()["observations"]
    for i, o in enumerate(observations):
        c = o["condition"]
        assert plane["measured"]["c"][i] == pytest.approx(c["Fe"] + c["Ni"], abs=1e-6)
        off = abs(c["T"] - best["condition"]["T"]) / 300
        assert plane["measured"]["off_plane"][i] == pytest.approx(off, abs=1e-5)


def test_a_chosen_plane_holds_the_fourth_element_and_the_temperature_at_the_chosen_spot(api):
    observations = api.get("/api/observations").json()["observations"]
    spot = observations[2]
    params = [("corner", "Fe"), ("corner", "Cr"), ("corner", "Ni"), ("at", spot["proposal_id"])]
    plane_answer = api.get("/api/model", params=params).json()
    plane = plane_answer["plane"]
    assert plane["held"] == pytest.approx({"Co": spot["condition"]["Co"], "T": spot["condition"]["T"]})
    x = _grid(plane_answer)
    np.testing.assert_allclose(x[:, 0], spot["condition"]["Co"])
    np.testing.assert_allclose(
        x[:, [2, 1, 3]] / x[:, [2, 1, 3]].sum(axis=1, keepdims=True),
        np.column_stack([plane["a"], plane["b"], plane["c"]]),
        atol=1e-6,
    )
    # the same spot written out as a condition gives the same plane
    written = ",".join(f"{n}={spot['condition'][n]!r}" for n in NAMES)
    again = api.get("/api/model", params=[*params[:3], ("at", written)]).json()
    assert again["grid"] == plane_answer["grid"] and again["plane"]["spot_from"] == "given"
    # an earlier step: the model and the projected measurements of then
    early = api.get("/api/model", params=[*params[:3], ("step", 3)]).json()
    assert early["n_train"] == 3 and len(early["plane"]["measured"]["a"]) == 3


def test_the_slice_runs_straight_between_two_conditions_and_agrees_with_the_plane(api):
    observations = api.get("/api/observations").json()["observations"]
    best = api.get("/api/state").json()["best_by_model"]["best"]
    first = observations[0]
    answer = api.get(
        "/api/model/slice", params={"start": best["proposal_ids"][0], "end": first["proposal_id"]}
    )
    assert answer.status_code == 200, answer.text
    cut = answer.json()
    x = np.column_stack([cut["conditions"][n] for n in NAMES])
    a = np.array([best["condition"][n] for n in NAMES])
    b = np.array([first["condition"][n] for n in NAMES])
    np.testing.assert_allclose(x, a + np.array(cut["t"])[:, None] * (b - a), rtol=1e-5, atol=1e-6)
    # measured near the line: both ends (on it), and exactly those within `near` of it
    scale = np.array([1, 1, 1, 1, 1 / 300])
    listed = {m["proposal_id"]: m for m in cut["measured"]}
    assert (
        listed[first["proposal_id"]]["t"] == pytest.approx(1)
        and listed[first["proposal_id"]]["distance"] < 1e-9
    )
    assert listed[best["proposal_ids"][0]]["t"] == pytest.approx(0)
    for o in observations:
        p = np.array([o["condition"][n] for n in NAMES]) * scale
        u, v = a * scale, b * scale
        t = np.clip((p - u) @ (v - u) / ((v - u) @ (v - u)), 0, 1)
        assert (np.linalg.norm(p - (u + t * (v - u))) <= cut["near"]) == (o["proposal_id"] in listed)
    # one model: the slice's start is the plane's spot, and both give it the same mean and sd
    model = api.get("/api/model").json()
    at_spot = int(np.argmin(np.abs(_grid(model) - a).sum(axis=1)))
    assert np.abs(_grid(model)[at_spot] - a).max() < 1e-9
    for name in ("mean", "sd"):
        assert cut["outcomes"]["hardness"][name][0] == pytest.approx(
            model["outcomes"]["hardness"][name][at_spot], rel=1e-4
        )
    # the model is surer where it measured than between
    sd = np.array(cut["outcomes"]["hardness"]["sd"])
    assert max(sd[0], sd[-1]) < sd.max()


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/api/model", [("corner", "Fe"), ("corner", "Mn"), ("corner", "Ni")], "['Mn'] is not an element"),
        (
            "/api/model",
            [("corner", "Fe,Cr"), ("corner", "Cr"), ("corner", "Ni")],
            "['Cr'] named in more than one",
        ),
        ("/api/model", [("corner", "Fe"), ("corner", "Cr")], "give three corners"),
        ("/api/model", [("at", "Co=0.5,Cr=0.5,Fe=0.5,Ni=0,T=400")], "sum to 1.5"),
        ("/api/model", [("at", "Co=0.25,Cr=0.25,Fe=0.25,Ni=0.25,T=900")], "not in the design space"),
        ("/api/model", [("at", "Co=0.25,Cr=0.75")], "must be exactly ['Co', 'Cr', 'Fe', 'Ni', 'T']"),
        ("/api/model", [("at", "p0999")], "'p0999' is neither a measured proposal id"),
        ("/api/model/slice", [("start", "p0001"), ("end", "p0001")], "a slice needs two"),
        ("/api/model/slice", [("start", "p0001"), ("end", "Co=x")], "'Co=x' is not NAME=VALUE"),
    ],
)
def test_a_view_that_does_not_fit_the_campaign_is_refused_by_name(api, path, params, says):
    answer = api.get(path, params=params)
    assert answer.status_code == 422
    assert says in answer.json()["detail"]


def test_the_views_are_documented(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert {p["name"] for p in paths["/api/model"]["get"]["parameters"]} == {"step", "corner", "at"}
    assert {p["name"] for p in paths["/api/model/slice"]["get"]["parameters"]} == {"start", "end", "step"}
