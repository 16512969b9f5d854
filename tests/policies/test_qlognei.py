import numpy as np
import pytest
import torch

from policies import BayesianPolicy, DesignSpace, Objective, SobolPolicy
from tests.policies.measured import Measured

BOUNDS = {"A": [0.30, 0.90], "B": [0.05, 0.50], "C": [0.0, 0.40]}
PEAK = np.array([0.55, 0.30, 0.15])


def landscape(x: np.ndarray) -> float:
    """A smooth bump with its maximum (1.0) inside the bounds, at PEAK."""
    return float(np.exp(-np.sum((x - PEAK) ** 2) / (2 * 0.12**2)))


def run(policy, space, steps, rng, noise_sd=0.02, objective="y", sign=1.0):
    values = []
    for _ in range(steps):
        (proposal,) = policy.ask(1)
        x = np.array([proposal.condition[e] for e in space.elements])
        assert space.contains(x)[0], proposal.condition
        y = sign * landscape(x) + rng.normal(0, noise_sd)
        values.append(y)
        policy.tell([Measured(dict(proposal.condition), {objective: y}, {objective: noise_sd**2})])
    return np.array(values)


@pytest.fixture
def space():
    return DesignSpace.from_bounds(BOUNDS)


def test_proposals_stay_on_the_simplex_within_bounds_and_beat_the_sobol_start(space):
    policy = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=0, n_sobol=5)
    values = run(policy, space, 14, np.random.default_rng(0))
    assert values[5:].max() > values[:5].max()
    assert values.max() > 0.9  # within reach of the optimum (1.0)


def test_model_guided_search_beats_sobol_at_the_same_budget(space):
    """Median over seeds of the best value after 12 measurements (one seed alone is a coin toss)."""
    guided, sobol = [], []
    for seed in range(4):
        policy = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=seed, n_sobol=4)
        guided.append(run(policy, space, 12, np.random.default_rng(seed)).max())
        baseline = SobolPolicy(space, {"count_time_s": 1.0}, seed=seed)
        sobol.append(run(baseline, space, 12, np.random.default_rng(seed)).max())
    assert np.median(guided) > np.median(sobol)
    assert np.median(guided) > 0.95


def test_minimising_finds_low_values(space):
    policy = BayesianPolicy(space, [Objective("y", "minimize")], {"count_time_s": 1.0}, seed=2, n_sobol=4)
    values = run(policy, space, 10, np.random.default_rng(2), sign=-1.0)
    assert values[4:].min() < values[:4].min()


def test_proposals_carry_reason_model_id_and_acquisition_value(space):
    policy = BayesianPolicy(space, [Objective("y")], {"count_time_s": 2.5}, seed=3, n_sobol=3)
    run(policy, space, 3, np.random.default_rng(3))
    assert policy.model_id is not None
    (proposal,) = policy.ask(1)
    assert proposal.generator == "qlognei" and proposal.model_id == policy.model_id
    assert proposal.reason in ("explore", "exploit") and np.isfinite(proposal.acquisition_value)
    assert proposal.measurement == {"count_time_s": 2.5}
    (first,) = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1}, seed=3).ask(1)
    assert first.reason == "explore" and first.model_id is None and first.acquisition_value is None


def test_a_batch_with_pending_points_spreads_out(space):
    policy = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=4, n_sobol=5)
    run(policy, space, 6, np.random.default_rng(4))
    batch = policy.ask(2)
    a, b = (np.array([p.condition[e] for e in space.elements]) for p in batch)
    assert np.all(space.contains(np.array([a, b])))
    assert np.linalg.norm(a - b) > 1e-3
    (alone,) = policy.ask(1, pending=[batch[0].condition])
    assert np.linalg.norm(np.array([alone.condition[e] for e in space.elements]) - a) > 1e-3


def test_a_restored_policy_proposes_exactly_what_the_original_would(space):
    rng = np.random.default_rng(5)
    original = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=5, n_sobol=4)
    told = []
    for _ in range(6):
        (p,) = original.ask(1)
        y = landscape(np.array([p.condition[e] for e in space.elements])) + rng.normal(0, 0.02)
        told.append(Measured(dict(p.condition), {"y": y}, {"y": 4e-4}))
        original.tell(told[-1:])
    restored = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=5, n_sobol=4)
    restored.load_state_dict(original.state_dict())
    restored.tell(told)
    (a,), (b,) = original.ask(1), restored.ask(1)
    assert a == b


def test_past_the_full_fit_range_a_policy_told_all_at_once_equals_one_told_step_by_step(space):
    from policies.surrogate import last_scheduled_fit

    rng = np.random.default_rng(7)
    observed = []
    for x in SobolPolicy(space, {"count_time_s": 1.0}, seed=7).sampler.draw(60):
        y = landscape(x) + rng.normal(0, 0.02)
        observed.append(Measured(space.as_dict(x), {"y": y}, {"y": 4e-4}))
    stepwise = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=7, n_sobol=3)
    for o in observed:
        update = stepwise.tell([o])
    assert last_scheduled_fit(60) == 55 and update.summary["hyperparameters_fitted_at_n"] == 55
    at_once = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=7, n_sobol=3)
    at_once.tell(observed)
    probe = torch.tensor(space.to_free(SobolPolicy(space, {}, seed=8).sampler.draw(20)), dtype=torch.float64)
    with torch.no_grad():
        a, b = stepwise.model.posterior(probe), at_once.model.posterior(probe)
    torch.testing.assert_close(a.mean, b.mean)
    torch.testing.assert_close(a.variance, b.variance)


def test_the_optimiser_starts_from_sobol_batches_inside_the_space_and_from_the_best_of_them(monkeypatch):
    """BoTorch's raw samples on a constrained space come from a slow hit-and-run chain; junkan's
    come from its own Sobol sampler, so they honour bounds, simplex and an expert's rule alike."""
    from policies import LinearConstraint
    from policies.sobol import SobolSampler

    constrained = DesignSpace.from_bounds(BOUNDS, [LinearConstraint({"B": 1.0, "C": 1.0}, 0.45)])
    policy = BayesianPolicy(
        constrained,
        [Objective("y")],
        {"count_time_s": 1.0},
        seed=1,
        n_sobol=4,
        num_restarts=3,
        raw_samples=40,
    )
    run(policy, constrained, 5, np.random.default_rng(1))
    acqf = policy.acquisition(None, seed=11)
    starts = policy._starts(acqf, q=2, seed=11)
    assert starts.shape == (3, 2, constrained.dim)
    flat = constrained.from_free(starts.reshape(-1, constrained.dim).numpy())
    assert np.all(constrained.contains(flat))
    assert len({tuple(np.round(row, 9)) for row in flat}) == 6
    raw = SobolSampler(constrained, 11).draw(40 * 2)
    batches = torch.tensor(constrained.to_free(raw), dtype=torch.float64).view(40, 2, -1)
    with torch.no_grad():
        best = batches[int(torch.argmax(acqf(batches)))]
    assert any(torch.allclose(best, s) for s in starts)

    def hit_and_run(*args, **kwargs):
        raise AssertionError("an ask sampled its starting points by hit-and-run")

    monkeypatch.setattr("botorch.optim.initializers.sample_q_batches_from_polytope", hit_and_run)
    proposals = policy.ask(2)
    assert all(p.generator == "qlognei" for p in proposals)
    points = np.array([[p.condition[e] for e in constrained.elements] for p in proposals])
    assert np.all(constrained.contains(points))
