import re

import numpy as np
import pytest

from simulators import WorldInputError, list_worlds, load_world


def rate_value_and_variance(readout):
    """The reduction a counting reducer does: rate over calibration, Poisson variance."""
    scale = readout.counts_per_unit_s * readout.count_time_s
    return (readout.counts - readout.background_counts) / scale, readout.counts / scale**2


def test_shipped_worlds_are_listed_and_load():
    assert "ternary-magnet" in list_worlds()
    world = load_world("ternary-magnet", seed=3)
    assert world.elements == ("Fe", "Ga", "Pd")
    assert world.quantities["magnetization"].units == "T"


def test_pure_fe_has_the_bcc_fe_moment_and_dilution_lowers_it():
    world = load_world("ternary-magnet")
    m = world.truth(np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.7, 0.3, 0.0], [0.5, 0.5, 0.0]]))
    assert m["magnetization"][0] == pytest.approx(2.15, abs=0.02)
    assert np.all(np.diff(m["magnetization"]) < 0), "Ga dilution must lower the moment"


def test_the_landscape_has_an_interior_maximum_off_the_fe_corner():
    world = load_world("ternary-magnet")
    grid = np.array(
        [(a, b, 1 - a - b) for a in np.linspace(0, 1, 81) for b in np.linspace(0, 1, 81) if a + b <= 1]
    )
    grid[:, 2] = np.clip(grid[:, 2], 0, 1)
    grid[:, 2] = 1 - grid[:, 0] - grid[:, 1]
    m = world.truth(grid)["magnetization"]
    best = grid[np.argmax(m)]
    assert 0.7 < best[0] < 0.9 and best[2] > 0.05
    assert m.max() > world.truth(np.array([[1.0, 0.0, 0.0]]))["magnetization"][0]


def test_counting_noise_is_calibrated_and_falls_as_one_over_root_time():
    world = load_world("ternary-magnet", seed=11)
    composition = {"Fe": 0.6, "Ga": 0.25, "Pd": 0.15}
    truth = world.truth(np.array([[0.6, 0.25, 0.15]]))["magnetization"][0]
    spreads = {}
    for count_time_s in (0.25, 4.0):
        pairs = [
            rate_value_and_variance(world.measure_counts(composition, "magnetization", count_time_s))
            for _ in range(400)
        ]
        values, variances = np.array(pairs).T
        z = (values - truth) / np.sqrt(variances)
        assert abs(z.mean()) < 0.2
        assert 0.85 < z.std() < 1.15
        spreads[count_time_s] = values.std()
    assert spreads[0.25] / spreads[4.0] == pytest.approx(4.0, rel=0.2)


def test_noise_depends_on_the_condition():
    world = load_world("ternary-magnet", seed=2)
    low = {"Fe": 0.4, "Ga": 0.45, "Pd": 0.15}
    high = {"Fe": 0.8, "Ga": 0.06, "Pd": 0.14}
    var_low = np.mean(
        [rate_value_and_variance(world.measure_counts(low, "magnetization", 1))[1] for _ in range(50)]
    )
    var_high = np.mean(
        [rate_value_and_variance(world.measure_counts(high, "magnetization", 1))[1] for _ in range(50)]
    )
    assert var_high > 1.5 * var_low


def test_same_seed_same_measurements():
    a = load_world("ternary-magnet", seed=5)
    b = load_world("ternary-magnet", seed=5)
    c = {"Fe": 0.7, "Ga": 0.2, "Pd": 0.1}
    assert [a.measure_counts(c, "magnetization", 1).counts for _ in range(5)] == [
        b.measure_counts(c, "magnetization", 1).counts for _ in range(5)
    ]


@pytest.mark.parametrize(
    ("composition", "quantity", "count_time_s", "message"),
    [
        ({"Fe": 0.7, "Ga": 0.2, "Pd": 0.2}, "magnetization", 1.0, "sums to 1.1"),
        ({"Fe": 1.2, "Ga": -0.2, "Pd": 0.0}, "magnetization", 1.0, "negative fraction"),
        ({"Fe": 0.7, "Ga": 0.2, "Co": 0.1}, "magnetization", 1.0, "unknown element(s) ['Co']"),
        ({"Fe": 0.7, "Ga": 0.3}, "magnetization", 1.0, "lacks ['Pd']"),
        ({"Fe": 0.7, "Ga": 0.2, "Pd": 0.1}, "magnetization", -1.0, "count_time_s must be a positive"),
        ({"Fe": 0.7, "Ga": 0.2, "Pd": 0.1}, "band_gap", 1.0, "unknown quantity 'band_gap'"),
    ],
)
def test_bad_measurement_requests_are_refused_with_the_offending_value(
    composition, quantity, count_time_s, message
):
    world = load_world("ternary-magnet")
    with pytest.raises(WorldInputError, match=re.escape(message)):
        world.measure_counts(composition, quantity, count_time_s)


def test_truth_refuses_rows_off_the_simplex():
    with pytest.raises(WorldInputError, match="row 1"):
        load_world("ternary-magnet").truth(np.array([[0.5, 0.5, 0.0], [0.5, 0.4, 0.0]]))


def test_unknown_world_names_the_shipped_ones():
    with pytest.raises(WorldInputError, match=r"unknown world 'nope'.*ternary-magnet"):
        load_world("nope")


def test_a_users_world_loads_by_import_path():
    world = load_world("tests.simulators.custom_world:build", seed=1)
    assert world.name == "custom"
    assert (
        world.measure_counts({"Fe": 1.0, "Ga": 0.0, "Pd": 0.0}, "magnetization", 1).counts_per_unit_s == 500.0
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("tests.simulators.no_such_module:build", "cannot import module"),
        ("tests.simulators.custom_world:missing", "has no attribute 'missing'"),
        ("tests.simulators.custom_world:build_wrong", "did not build a World"),
    ],
)
def test_bad_import_paths_are_explained(path, message):
    with pytest.raises(WorldInputError, match=message):
        load_world(path)
