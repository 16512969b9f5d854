"""Phase equilibria: Gibbs phase rule, lever rule, mass balance, from the convex hull."""

import numpy as np
import pytest

from simulators import load_world
from simulators.phase_diagram import PhaseWell, TernaryPhaseDiagram


@pytest.fixture(params=["fe-ga-pd", "fe-co-ni-oxide"])
def world(request):
    return load_world(request.param)


def test_fractions_are_non_negative_sum_to_one_and_at_most_three_phases_coexist(world):
    grid = world.dense_grid(0.01)
    eq = world.equilibrium(grid)
    assert np.all(eq.fractions >= 0)
    np.testing.assert_allclose(eq.fractions.sum(axis=1), 1.0, atol=1e-12)
    n_present = np.count_nonzero(eq.fractions > 0, axis=1)
    assert n_present.max() <= 3  # Gibbs: F = C - P + 0 >= 0 at fixed T and p, C = 3
    assert {1, 2, 3} <= set(np.unique(n_present))


def test_phase_amounts_and_compositions_balance_the_overall_composition(world):
    grid = world.dense_grid(0.02)
    eq = world.equilibrium(grid)
    rebuilt = np.nansum(eq.fractions[:, :, None] * np.nan_to_num(eq.phase_compositions), axis=1)
    np.testing.assert_allclose(rebuilt, grid, atol=1e-9)


def test_lever_rule_along_a_tie_line(world):
    grid = world.dense_grid(0.02)
    eq = world.equilibrium(grid)
    n_present = np.count_nonzero(eq.fractions, axis=1)
    two = np.flatnonzero((n_present == 2) & (np.count_nonzero(eq.fractions > 0.1, axis=1) == 2))
    assert two.size
    row = two[len(two) // 2]
    p, q = np.flatnonzero(eq.fractions[row] > 0)
    xp, xq = eq.phase_compositions[row, p], eq.phase_compositions[row, q]
    for t in (0.25, 0.5, 0.75):
        x = xp + t * (xq - xp)
        along = world.equilibrium(x[None, :])
        # on one tie-line the end compositions stay put and the amount of q is the lever arm t
        assert along.fractions[0, q] == pytest.approx(t, abs=0.03)
        np.testing.assert_allclose(along.phase_compositions[0, p], xp, atol=0.02)
        np.testing.assert_allclose(along.phase_compositions[0, q], xq, atol=0.02)


def test_inside_a_three_phase_triangle_fractions_are_barycentric_and_compositions_fixed(world):
    grid = world.dense_grid(0.02)
    eq = world.equilibrium(grid)
    three = np.flatnonzero(np.count_nonzero(eq.fractions > 0.15, axis=1) == 3)
    assert three.size
    row = three[0]
    phases = np.flatnonzero(eq.fractions[row] > 0)
    corners = eq.phase_compositions[row, phases]  # the tie-triangle
    weights = np.array([0.5, 0.3, 0.2])
    x = weights @ corners
    inner = world.equilibrium(x[None, :])
    np.testing.assert_allclose(inner.fractions[0, phases], weights, atol=1e-6)
    np.testing.assert_allclose(inner.phase_compositions[0, phases], corners, atol=1e-6)


def test_a_single_well_gives_one_phase_everywhere():
    diagram = TernaryPhaseDiagram([PhaseWell("only", (0.3, 0.3, 0.4), -1.0, 1.0)])
    eq = diagram.equilibrium(np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]))
    np.testing.assert_allclose(eq.fractions, 1.0)
    np.testing.assert_allclose(eq.phase_compositions[:, 0], [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]], atol=1e-12)
