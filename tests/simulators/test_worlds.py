"""The shipped worlds: truth, Pareto fronts, stated hypervolumes, heteroscedastic measurements."""

import numpy as np
import pytest

from simulators import (
    CompositionSpreadWorld,
    World,
    fe_co_ni_oxide,
    fe_ga_pd,
    hypervolume,
    list_worlds,
    load_world,
    pareto_mask,
)

SPREAD_WORLDS = {"fe-ga-pd": fe_ga_pd, "fe-co-ni-oxide": fe_co_ni_oxide}


def test_every_shipped_world_is_listed_and_is_a_world():
    assert set(SPREAD_WORLDS) | {"ternary-magnet", "quaternary-hetero"} == set(list_worlds())
    for name in list_worlds():
        assert isinstance(load_world(name), World)


@pytest.mark.parametrize("name", SPREAD_WORLDS)
def test_the_stated_maximal_hypervolume_is_reproduced_from_the_dense_grid(name):
    world = load_world(name)
    assert world.max_hypervolume() == pytest.approx(SPREAD_WORLDS[name].STATED_MAX_HYPERVOLUME, rel=1e-3)


@pytest.mark.parametrize("name", SPREAD_WORLDS)
def test_the_pareto_front_is_non_dominated_and_nothing_beats_its_hypervolume(name):
    world: CompositionSpreadWorld = load_world(name)
    compositions, front = world.pareto_front()
    y = world.objective_matrix(front)
    assert len(compositions) >= 5 and np.all(pareto_mask(y))
    grid = world.dense_grid()
    all_values = world.objective_matrix(world.truth(grid))
    for row in y:
        assert not np.any(np.all(all_values >= row, axis=1) & np.any(all_values > row, axis=1))
    sample = np.random.default_rng(0).choice(len(grid), 50, replace=False)
    assert hypervolume(all_values[sample], world.signed_reference()) < world.max_hypervolume()
    assert world.hypervolume(front) == pytest.approx(world.max_hypervolume())


def test_alloy_truth_has_the_physics_it_claims():
    world = load_world("fe-ga-pd")
    values = world.truth(np.array([[1.0, 0.0, 0.0], [0.81, 0.19, 0.0], [0.95, 0.05, 0.0]]))
    assert values["magnetization"][0] == pytest.approx(2.15, abs=0.05)  # bcc Fe
    assert values["magnetization"][1] < values["magnetization"][2] < values["magnetization"][0]  # Ga dilutes
    assert values["magnetostriction"][1] > 4 * values["magnetostriction"][2]  # Galfenol peak near 19 % Ga


def test_oxide_truth_has_the_physics_it_claims():
    world = load_world("fe-co-ni-oxide")
    values = world.truth(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.67, 0.0, 0.33]]))
    assert values["magnetization"][0] == pytest.approx(0.6, abs=0.07)  # magnetite
    assert (
        values["band_gap"][1] == pytest.approx(3.7, abs=0.05) and values["magnetization"][1] == 0
    )  # NiO, AFM
    assert values["band_gap"][0] < 0.5 < values["band_gap"][2]  # Fe3O4 (half-metal) vs NiFe2O4


@pytest.mark.parametrize("name", SPREAD_WORLDS)
def test_measurement_noise_depends_on_the_condition_and_the_film(name):
    world = load_world(name, seed=4)
    quantity = next(iter(world.quantities))
    grid = world.dense_grid(0.1)
    values = world.truth(grid)[quantity]
    low, high = grid[np.argmin(values)], grid[np.argmax(values)]

    def spread(x, thickness_nm):
        readouts = [
            world.measure_counts(dict(zip(world.elements, x, strict=True)), quantity, 1.0, thickness_nm)
            for _ in range(300)
        ]
        estimates = [
            (r.counts - r.background_counts) / (r.counts_per_unit_s * r.count_time_s) for r in readouts
        ]
        return np.std(estimates)

    assert spread(high, 100.0) > 1.2 * spread(low, 100.0)  # heteroscedastic across the simplex
    assert spread(high, 25.0) > 1.2 * spread(high, 100.0)  # thin films are noisier


@pytest.mark.parametrize("name", SPREAD_WORLDS)
def test_a_seed_fixes_every_measurement(name):
    x = dict(zip(load_world(name).elements, (0.5, 0.3, 0.2), strict=True))
    a, b, c = load_world(name, seed=7), load_world(name, seed=7), load_world(name, seed=8)
    assert np.array_equal(a.measure_xrd(x, 1.0).counts, b.measure_xrd(x, 1.0).counts)
    assert not np.array_equal(a.measure_xrd(x, 1.0).counts, c.measure_xrd(x, 1.0).counts)


def test_reference_patterns_exist_for_every_phase():
    world = load_world("fe-co-ni-oxide")
    references = world.reference_patterns()
    assert list(references) == world.phase_names
    assert all(
        r.shape == world.diffractometer.two_theta_deg.shape and r.max() > 0 for r in references.values()
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w: w.measure_xrd({"Fe": 0.5, "Ga": 0.5, "Pd": 0.0}, -1.0), "count_time_s must be a positive"),
        (
            lambda w: w.measure_xrd({"Fe": 0.5, "Ga": 0.5, "Pd": 0.0}, 1.0, thickness_nm=0),
            "thickness_nm must be",
        ),
        (lambda w: w.measure_xrd({"Fe": 0.5, "Ga": 0.5, "Co": 0.0}, 1.0), r"unknown element\(s\) \['Co'\]"),
        (lambda w: w.truth(np.array([[0.5, 0.6, 0.0]])), "off the simplex"),
        (
            lambda w: w.measure_counts({"Fe": 1, "Ga": 0, "Pd": 0}, "band_gap", 1.0),
            "unknown quantity 'band_gap'",
        ),
    ],
)
def test_bad_requests_name_the_value_and_what_is_valid(call, message):
    from simulators import WorldInputError

    with pytest.raises(WorldInputError, match=message):
        call(load_world("fe-ga-pd"))
