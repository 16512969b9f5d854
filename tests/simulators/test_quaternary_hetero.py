"""The quaternary world with Co-fluorescence background: its landscape and its heteroscedastic noise."""

import numpy as np
import pytest

from simulators import World, WorldInputError, load_world
from simulators.quaternary_hetero import BROAD, NARROW, OPTIMUM, OPTIMUM_AT, QuaternaryHeteroWorld

NI_CORNER = {"Ni": 1.0, "Cu": 0.0, "Zn": 0.0, "Co": 0.0}
CO_CORNER = {"Ni": 0.0, "Cu": 0.0, "Zn": 0.0, "Co": 1.0}


def reduce(readout):
    """What a counting reducer does: net rate over calibration, Poisson variance."""
    scale = readout.counts_per_unit_s * readout.count_time_s
    return (readout.counts - readout.background_counts) / scale, readout.counts / scale**2


def merit(world, points):
    return world.truth(np.atleast_2d(np.array(points, dtype=float)))["merit"]


def simplex_lattice(n):
    return np.array(
        [
            (a, b, c, n - a - b - c)
            for a in range(n + 1)
            for b in range(n + 1 - a)
            for c in range(n + 1 - a - b)
        ]
    ) / float(n)


def test_it_is_a_shipped_world():
    world = load_world("quaternary-hetero", seed=1)
    assert isinstance(world, World)
    assert world.elements == ("Ni", "Cu", "Zn", "Co")
    assert world.quantities["merit"].goal == "maximize"


def test_truth_at_known_points():
    world = QuaternaryHeteroWorld()
    corners = merit(world, np.eye(4))
    # the floor (0.4, rising by 1.0 per unit Co) with the peaks' tails: ~0 at Cu, Zn, Co; 0.017 at Ni
    assert corners == pytest.approx([0.4167, 0.4001, 0.4000, 1.4000], abs=1e-3)
    assert merit(world, OPTIMUM_AT)[0] == pytest.approx(OPTIMUM, abs=1e-5)
    assert merit(world, BROAD["centre"])[0] == pytest.approx(0.4 + 0.05 + 1.6, abs=0.01)


def test_the_stated_optimum_is_global_and_narrower_than_the_broad_local_one():
    world = QuaternaryHeteroWorld()
    lattice = simplex_lattice(60)  # holds the narrow peak's centre
    values = merit(world, lattice)
    assert values.max() <= OPTIMUM + 1e-9
    assert values.max() > 0.999 * OPTIMUM
    local = merit(world, BROAD["centre"])[0]
    assert local < OPTIMUM / 1.3
    # 0.08 away (toward Ni - Zn, within the simplex) the global peak has fallen below the broad
    # optimum's level, while the broad one keeps most of its height
    step = np.array([0.04, 0.0, -0.04, 0.0]) * np.sqrt(2)
    assert merit(world, np.array(NARROW["centre"]) + step)[0] < local
    assert merit(world, np.array(BROAD["centre"]) + step)[0] > 0.9 * local


def test_noise_grows_at_least_fourfold_in_sd_toward_the_co_corner():
    world = QuaternaryHeteroWorld(seed=7)
    draws = {}
    for name, corner in (("Ni", NI_CORNER), ("Co", CO_CORNER)):
        draws[name] = np.array([reduce(world.measure_counts(corner, "merit", 1.0)) for _ in range(3000)])
    ratio = draws["Co"][:, 0].std() / draws["Ni"][:, 0].std()
    assert 6.0 < ratio < 10.0  # sqrt(12600 / 207) = 7.8 expected
    for name, corner in (("Ni", NI_CORNER), ("Co", CO_CORNER)):
        truth = merit(world, list(corner.values()))[0]
        values, variances = draws[name].T
        z = (values - truth) / np.sqrt(variances)
        assert abs(z.mean()) < 0.1 and 0.9 < z.std() < 1.1  # reported variances are calibrated


def test_noise_grows_monotonically_along_the_way_to_co():
    world = QuaternaryHeteroWorld()
    points = np.array([[1.0 - c, 0.0, 0.0, c] for c in np.linspace(0, 1, 6)])
    background = world.background_counts_per_s_at(points)
    assert np.all(np.diff(background) > 0)
    assert background[-1] / background[0] > 16  # 4x in sd needs 16x in counts


def test_the_same_seed_gives_the_same_measurements():
    a, b, c = (QuaternaryHeteroWorld(seed=s) for s in (5, 5, 6))
    point = {"Ni": 0.2, "Cu": 0.3, "Zn": 0.1, "Co": 0.4}
    counts = [[w.measure_counts(point, "merit", 1.0).counts for _ in range(10)] for w in (a, b, c)]
    assert counts[0] == counts[1]
    assert counts[0] != counts[2]


@pytest.mark.parametrize(
    ("composition", "quantity", "count_time_s", "message"),
    [
        (NI_CORNER, "conductivity", 1.0, "unknown quantity 'conductivity'"),
        (NI_CORNER, "merit", 0.0, "count_time_s must be a positive number"),
        (NI_CORNER, "merit", float("nan"), "count_time_s must be a positive number"),
        ({"Ni": 0.5, "Cu": 0.2, "Zn": 0.2, "Co": 0.2}, "merit", 1.0, "sums to 1.1"),
        ({"Ni": 0.5, "Cu": 0.5, "Zn": 0.0}, "merit", 1.0, "lacks ['Co']"),
        ({"Ni": 0.5, "Cu": 0.5, "Zn": 0.0, "Co": 0.0, "Fe": 0.0}, "merit", 1.0, "unknown element"),
    ],
)
def test_bad_input_is_refused_with_what_is_valid(composition, quantity, count_time_s, message):
    world = QuaternaryHeteroWorld()
    with pytest.raises(WorldInputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        world.measure_counts(composition, quantity, count_time_s)


def test_truth_refuses_rows_off_the_simplex():
    with pytest.raises(WorldInputError, match="off the simplex"):
        QuaternaryHeteroWorld().truth(np.array([[0.5, 0.5, 0.5, 0.0]]))
    with pytest.raises(WorldInputError, match="4 elements"):
        QuaternaryHeteroWorld().truth(np.array([[0.5, 0.5, 0.0]]))
