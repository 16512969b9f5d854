"""Process parameters beside the composition: a substrate temperature the policy learns to set."""

import numpy as np
import pytest

from policies import BayesianPolicy, CandidateSet, Costs, DesignSpace, DesignSpaceError, GridPolicy, Objective
from tests.policies.measured import Measured

BOUNDS = {"Fe": [0.2, 0.9], "Ga": [0.0, 0.6], "Pd": [0.0, 0.6]}
PROCESS = {"substrate_temperature_c": [25.0, 600.0]}
BEST_COMPOSITION = np.array([0.5, 0.2, 0.3])
BEST_TEMPERATURE = 420.0


def ordering(point: np.ndarray) -> float:
    """Peaks at one composition and one substrate temperature (ordering needs heat; too much
    coarsens the grains)."""
    composition, temperature = point[:3], point[3]
    return float(
        np.exp(
            -np.sum((composition - BEST_COMPOSITION) ** 2) / 0.05
            - ((temperature - BEST_TEMPERATURE) / 150) ** 2
        )
    )


def test_points_carry_the_process_values_through_every_coordinate_change():
    space = DesignSpace.from_bounds(BOUNDS, process=PROCESS)
    assert space.names == ("Fe", "Ga", "Pd", "substrate_temperature_c") and space.dim == 3
    u = np.random.default_rng(0).random((500, 3))
    points = space.uniform_from_cube(u)
    inside = points[space.contains(points)]
    np.testing.assert_allclose(space.from_free(space.to_free(inside)), inside)
    assert np.all((inside[:, 3] >= 25) & (inside[:, 3] <= 600))
    # the temperature follows the cube coordinate linearly
    np.testing.assert_allclose(points[:, 3], 25 + 575 * u[:, 2])
    assert not space.contains(np.array([[0.5, 0.2, 0.3, 700.0]]))[0]
    lo, hi = space.free_bounds().numpy()
    np.testing.assert_allclose([lo[-1], hi[-1]], [25.0, 600.0])


def test_bad_process_bounds_and_conditions_without_the_process_value_are_refused():
    with pytest.raises(DesignSpaceError, match=r"substrate_temperature_c.*\[600.0, 25.0\]"):
        DesignSpace.from_bounds(BOUNDS, process={"substrate_temperature_c": [600.0, 25.0]})
    with pytest.raises(DesignSpaceError, match="clash"):
        DesignSpace.from_bounds(BOUNDS, process={"Fe": [0.0, 1.0]})
    space = DesignSpace.from_bounds(BOUNDS, process=PROCESS)
    with pytest.raises(DesignSpaceError, match=r"lacks \['substrate_temperature_c'\]"):
        space.as_point({"Fe": 0.5, "Ga": 0.2, "Pd": 0.3})


def test_the_policy_learns_the_temperature_as_well_as_the_composition():
    space = DesignSpace.from_bounds(BOUNDS, process=PROCESS)
    policy = BayesianPolicy(
        space, [Objective("order")], {"count_time_s": 1.0}, seed=3, n_sobol=8, num_restarts=3, raw_samples=64
    )
    measured = []
    for _ in range(22):
        (proposal,) = policy.ask(1)
        point = space.as_point(proposal.condition)
        assert space.contains(point, tol=1e-6)[0]
        measured.append((ordering(point), point))
        policy.tell([Measured(dict(proposal.condition), {"order": measured[-1][0]}, {"order": 1e-4})])
    best_value, best_point = max(measured, key=lambda m: m[0])
    sobol_best = max(m[0] for m in measured[:8])
    assert best_value > 0.8 > sobol_best, (best_value, sobol_best)
    assert abs(best_point[3] - BEST_TEMPERATURE) < 100, best_point


def test_spots_of_a_library_are_candidates_at_the_temperature_it_was_made_at():
    space = DesignSpace.from_bounds(BOUNDS, process=PROCESS)
    policy = BayesianPolicy(
        space,
        [Objective("order")],
        {"count_time_s": 1.0},
        seed=1,
        n_sobol=8,
        num_restarts=2,
        raw_samples=64,
        costs=Costs(spot_s=60.0, library_s=7200.0),
    )
    for proposal in policy.ask(8):
        point = space.as_point(proposal.condition)
        policy.tell([Measured(dict(proposal.condition), {"order": ordering(point)}, {"order": 1e-4})])
    rng = np.random.default_rng(0)
    compositions = BEST_COMPOSITION + rng.normal(0, 0.03, (60, 3))
    compositions /= compositions.sum(axis=1, keepdims=True)
    hot = np.column_stack([compositions, np.full(60, BEST_TEMPERATURE)])
    cold = np.column_stack([compositions, np.full(60, 25.0)])
    ids = tuple(f"hot-{i}" for i in range(60)) + tuple(f"cold-{i}" for i in range(60))
    policy.set_candidates(CandidateSet(ids, np.vstack([hot, cold])))
    (proposal,) = policy.ask(1)
    assert proposal.target_spot is not None and proposal.target_spot.startswith("hot-")
    assert proposal.condition["substrate_temperature_c"] == BEST_TEMPERATURE


def test_a_grid_scan_steps_the_temperature_too():
    space = DesignSpace.from_bounds(BOUNDS, process=PROCESS)
    points = np.array([space.as_point(p.condition) for p in GridPolicy(space, {}, step=0.25).ask(400)])
    assert set(np.round(points[:, 3], 6)) == {25.0, 168.75, 312.5, 456.25, 600.0}
    assert np.all(space.contains(points, tol=1e-9))
