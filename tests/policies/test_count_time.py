"""Choosing the count time through the noise model: count longer where the instrument is noisy."""

import numpy as np
import pytest

from policies import BayesianPolicy, CountingNoise, CountTimeRule, DesignSpace, Objective
from tests.policies.measured import Measured

BOUNDS = {"A": [0.1, 0.9], "B": [0.05, 0.8], "C": [0.0, 0.7]}


def rate(x: np.ndarray) -> float:
    """Variance of a 1 s measurement: ten times larger at A-rich compositions."""
    return 0.001 * (1 + 9 * x[0])


def trained(rule: CountTimeRule, noise=None, seed: int = 0) -> BayesianPolicy:
    space = DesignSpace.from_bounds(BOUNDS)
    kwargs = {"noise": noise} if noise else {}
    policy = BayesianPolicy(
        space, [Objective("y")], {"count_time_s": 1.0}, seed=seed, n_sobol=20, count_time=rule, **kwargs
    )
    rng = np.random.default_rng(seed)
    for p in policy.ask(20):
        x = np.array([p.condition[e] for e in space.elements])
        t = float(rng.choice([0.5, 1.0, 4.0]))  # earlier measurements used various count times
        y = x[1] + rng.normal(0, np.sqrt(rate(x) / t))
        policy.tell([Measured(dict(p.condition), {"y": y}, {"y": rate(x) / t}, {"count_time_s": t})])
    return policy


def test_count_time_follows_the_noise_rate_and_reaches_the_target():
    rule = CountTimeRule(min_s=0.2, max_s=60.0, target_sd=0.03)
    policy = trained(rule)
    quiet, noisy = np.array([0.15, 0.5, 0.35]), np.array([0.85, 0.1, 0.05])
    t_quiet, t_noisy = policy.choose_count_time(quiet), policy.choose_count_time(noisy)
    assert t_noisy > 3 * t_quiet
    for x, t in ((quiet, t_quiet), (noisy, t_noisy)):
        assert np.sqrt(rate(x) / t) == pytest.approx(0.03, rel=0.35)  # the predicted time meets the target
    (proposal,) = policy.ask(1)  # model-chosen proposals carry their own count time
    x = np.array([proposal.condition[e] for e in ("A", "B", "C")])
    assert proposal.measurement["count_time_s"] == policy.choose_count_time(x)
    assert rule.min_s <= proposal.measurement["count_time_s"] <= rule.max_s


def test_a_target_below_the_detector_floor_gets_the_longest_time():
    noise = CountingNoise()
    policy = trained(CountTimeRule(min_s=0.5, max_s=20.0, target_sd=0.05), noise=lambda: noise)
    assert noise.s0 > 0
    x = np.array([0.5, 0.3, 0.2])
    assert policy.choose_count_time(x) < 20.0  # reachable: counted for less than the maximum
    policy.count_time = CountTimeRule(min_s=0.5, max_s=20.0, target_sd=noise.s0 / 2)
    assert policy.choose_count_time(x) == 20.0  # unreachable by counting longer: the longest time


@pytest.mark.parametrize(("low", "high", "target"), [(0.0, 1.0, 0.1), (2.0, 1.0, 0.1), (1.0, 2.0, 0.0)])
def test_a_bad_rule_is_refused(low, high, target):
    with pytest.raises(ValueError):
        CountTimeRule(low, high, target)
