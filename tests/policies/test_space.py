import numpy as np
import pytest
import torch

from policies import DesignSpace, DesignSpaceError, SobolPolicy, SobolSampler

BOUNDS = {"Fe": [0.40, 0.95], "Ga": [0.0, 0.45], "Pd": [0.0, 0.30]}


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"Fe": [0.6, 1.0], "Ga": [0.3, 1.0], "Pd": [0.2, 1.0]}, "lower bounds sum to 1.1"),
        ({"Fe": [0.0, 0.3], "Ga": [0.0, 0.3], "Pd": [0.0, 0.3]}, "upper bounds sum to 0.9"),
        ({"Fe": [0.5, 0.4], "Ga": [0.0, 1.0], "Pd": [0.0, 1.0]}, "bounds of Fe are [0.5, 0.4]"),
        ({"Fe": [0.0, 1.5], "Ga": [0.0, 1.0], "Pd": [0.0, 1.0]}, "bounds of Fe are [0.0, 1.5]"),
        ({"Fe": [0.0, 1.0]}, "at least 2 elements"),
    ],
)
def test_spaces_that_hold_no_composition_are_refused(bounds, message):
    with pytest.raises(DesignSpaceError, match=message.replace("[", r"\[").replace("]", r"\]")):
        DesignSpace.from_bounds(bounds)


def test_effective_bounds_tighten_by_the_simplex():
    space = DesignSpace.from_bounds({"A": [0.0, 1.0], "B": [0.0, 0.2], "C": [0.0, 0.1]})
    lo, hi = space.effective_bounds()
    assert lo[0] == pytest.approx(0.7) and hi[0] == pytest.approx(1.0)


def test_inequality_constraints_hold_exactly_when_the_last_fraction_is_in_bounds():
    space = DesignSpace.from_bounds(BOUNDS)
    rng = np.random.default_rng(0)
    z = rng.uniform(space.free_bounds()[0].numpy(), space.free_bounds()[1].numpy(), size=(2000, 2))
    satisfied = np.ones(len(z), dtype=bool)
    for idx, coef, rhs in space.inequality_constraints():
        satisfied &= (torch.tensor(z)[:, idx] * coef).sum(-1).numpy() >= rhs - 1e-12
    assert np.array_equal(satisfied, space.contains(space.from_free(z)))
    assert 0.1 < satisfied.mean() < 1.0  # both outcomes occur


def test_sobol_points_lie_on_the_simplex_within_bounds_and_fill_it():
    space = DesignSpace.from_bounds(BOUNDS)
    x = SobolSampler(space, seed=3).draw(256)
    assert np.all(space.contains(x, tol=1e-12))
    lo, hi = space.effective_bounds()
    assert np.all(x.min(axis=0) - lo < 0.05) and np.all(hi - x.max(axis=0) < 0.05)
    pairwise = np.linalg.norm(x[:, None] - x[None], axis=-1) + np.eye(len(x))
    assert pairwise.min() > 1e-3  # no repeats


def test_sobol_is_reproducible_and_resumes_where_it_stopped():
    space = DesignSpace.from_bounds(BOUNDS)
    a = SobolSampler(space, seed=9)
    first = a.draw(5)
    b = SobolSampler(space, seed=9)
    b.restore(a.n_drawn)
    assert np.array_equal(a.draw(4), b.draw(4))
    assert np.array_equal(first, SobolSampler(space, seed=9).draw(5))
    assert not np.array_equal(first, SobolSampler(space, seed=10).draw(5))


def test_sobol_policy_checkpoints_exactly():
    space = DesignSpace.from_bounds(BOUNDS)
    a = SobolPolicy(space, {"count_time_s": 1.0}, seed=1)
    a.ask(3)
    b = SobolPolicy(space, {"count_time_s": 1.0}, seed=1)
    b.load_state_dict(a.state_dict())
    pa, pb = a.ask(2), b.ask(2)
    assert [p.condition for p in pa] == [p.condition for p in pb]
    assert [p.proposal_id for p in pa] == ["p0004", "p0005"] == [p.proposal_id for p in pb]


def test_the_grid_baseline_scans_every_grid_point_inside_the_space_once():
    from policies import GridPolicy

    space = DesignSpace.from_bounds(BOUNDS)
    policy = GridPolicy(space, {"count_time_s": 1.0}, step=0.05)
    n = len(policy.points)
    xs = np.array([[p.condition[e] for e in space.elements] for p in policy.ask(n)])
    assert np.all(space.contains(xs, tol=1e-9))
    assert len({tuple(np.round(x, 9)) for x in xs}) == n
    np.testing.assert_allclose(np.round(xs / 0.05) * 0.05, xs, atol=1e-9)  # on the 0.05 grid
    fe, ga = np.meshgrid(np.arange(21) * 0.05, np.arange(21) * 0.05)
    grid = np.column_stack([fe.ravel(), ga.ravel(), 1 - fe.ravel() - ga.ravel()])
    assert n == int(space.contains(grid, tol=1e-9).sum())  # none missed


def test_sobol_draws_in_blocks_keep_the_sequence_and_its_count():
    """Drawn in blocks, the points and `n_drawn` are those of reading the sequence one by one."""
    from torch.quasirandom import SobolEngine

    space = DesignSpace.from_bounds(BOUNDS)
    u = SobolEngine(space.dim, scramble=True, seed=4).draw(4000).double().numpy()
    x = space.uniform_from_cube(u)
    inside = np.flatnonzero(space.contains(x))
    sampler = SobolSampler(space, seed=4)
    drawn, counts = [], []
    for n in (1, 3, 40, 0, 200):
        drawn.append(sampler.draw(n))
        counts.append(sampler.n_drawn)
    assert 0.1 < len(inside) / len(u) < 0.9  # a space where blocks hold refused points
    np.testing.assert_array_equal(np.concatenate(drawn), space.project(x[inside[:244]]))
    assert counts == [int(inside[k - 1]) + 1 for k in (1, 4, 44, 44, 244)]
    resumed = SobolSampler(space, seed=4)
    resumed.restore(counts[2])
    np.testing.assert_array_equal(resumed.draw(200), drawn[-1])
