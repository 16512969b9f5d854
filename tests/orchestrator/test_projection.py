"""The geometry behind the dashboard's plane and slice, for any number of elements."""

import numpy as np
import pytest

from orchestrator.dashboard.projection import (
    Plane,
    ViewRequestError,
    centre,
    default_corners,
    near_line,
    parse_corners,
)
from policies import DesignSpace, LinearConstraint, simplex_grid

QUINARY = DesignSpace.from_bounds(
    {"Fe": [0.1, 0.6], "Co": [0.0, 0.5], "Ni": [0.0, 0.5], "Ta": [0.0, 0.3], "W": [0.0, 0.3]},
    [LinearConstraint({"Ta": 1.0, "W": 1.0}, 0.4)],
    process={"T": [20.0, 600.0]},
)


def test_a_ternarys_plane_is_its_whole_grid_whatever_the_spot():
    space = DesignSpace.from_bounds({"Fe": [0.4, 0.95], "Ga": [0.0, 0.6], "Pd": [0.0, 0.6]})
    plane = Plane(space, default_corners(space), centre(space))
    points, shares = plane.grid(0.025)
    assert plane.held == {}
    expected = simplex_grid(space, 0.025)
    assert sorted(map(tuple, points.round(9))) == sorted(map(tuple, expected.round(9)))
    np.testing.assert_allclose(shares, points)  # one element per corner: the shares are the fractions


def test_a_quinary_plane_holds_what_no_corner_names_and_keeps_proportions_within_a_corner():
    spot = {"Fe": 0.3, "Co": 0.15, "Ni": 0.3, "Ta": 0.1, "W": 0.15, "T": 450.0}
    assert QUINARY.contains(QUINARY.as_point(spot))[0]
    corners = parse_corners(QUINARY, ["Fe", "Co,Ni", "Ta"])
    plane = Plane(QUINARY, corners, spot)
    assert plane.held == {"W": 0.15, "T": 450.0} and plane.labels == ["Fe", "Co+Ni", "Ta"]
    points, shares = plane.grid(0.025)
    assert len(points) > 50
    assert QUINARY.contains(points, tol=1e-9).all()  # bounds and the Ta + W <= 0.4 rule
    np.testing.assert_allclose(points[:, 4], 0.15)
    np.testing.assert_allclose(points[:, 5], 450.0)
    np.testing.assert_allclose(points[:, 2], 2 * points[:, 1], atol=1e-12)  # Ni : Co as at the spot, 2 : 1
    np.testing.assert_allclose(plane.coordinates(points), shares, atol=1e-12)
    assert (points[:, 3] + points[:, 4]).max() <= 0.4 + 1e-9 and points[:, 0].min() >= 0.1 - 1e-12
    # a measured condition elsewhere: projected by its sums, off the plane by its W (or T) difference
    other = QUINARY.as_point({"Fe": 0.4, "Co": 0.1, "Ni": 0.1, "Ta": 0.1, "W": 0.3, "T": 450.0})
    np.testing.assert_allclose(plane.coordinates(other), [[0.4 / 0.7, 0.2 / 0.7, 0.1 / 0.7]])
    assert plane.off_plane(other)[0] == pytest.approx(0.15)


@pytest.mark.parametrize(
    ("corners", "says"),
    [(["Fe", "Co"], "three corners"), (["Fe", "Co,Fe", "Ni"], "more than one"), (["Fe", "Cu", "Ni"], "'Cu'")],
)
def test_corners_that_do_not_fit_are_refused(corners, says):
    with pytest.raises(ViewRequestError, match=says):
        parse_corners(QUINARY, corners)


def test_near_the_line_means_near_in_fractions_and_in_the_process_range():
    start = QUINARY.as_point({"Fe": 0.5, "Co": 0.1, "Ni": 0.1, "Ta": 0.1, "W": 0.2, "T": 100.0})
    end = QUINARY.as_point({"Fe": 0.1, "Co": 0.3, "Ni": 0.3, "Ta": 0.1, "W": 0.2, "T": 100.0})
    middle = (start + end) / 2
    hotter = middle.copy()
    hotter[5] += 0.2 * 580  # a fifth of the temperature range away: not near
    nearer = middle.copy()
    nearer[5] += 0.05 * 580
    close, t, distance = near_line(QUINARY, start, end, np.array([start, middle, hotter, nearer, end]))
    assert close.tolist() == [0, 1, 3, 4]
    np.testing.assert_allclose(t, [0, 0.5, 0.5, 1])
    np.testing.assert_allclose(distance, [0, 0, 0.05, 0], atol=1e-12)
