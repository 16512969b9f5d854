"""Library or spot: the policy weighs the best unmeasured spot against a new library, per second."""

import math

import numpy as np
import torch

from policies import BayesianPolicy, CandidateSet, Costs, DesignSpace, Objective
from tests.policies.measured import Measured

BOUNDS = {"Fe": [0.2, 0.9], "Ga": [0.0, 0.6], "Pd": [0.0, 0.6]}
OPTIMUM = np.array([0.5, 0.2, 0.3])


def f(x: np.ndarray) -> float:
    return float(1 - np.sum((x - OPTIMUM) ** 2) / 0.2)


def warmed_up(costs: Costs, seed: int = 0) -> BayesianPolicy:
    space = DesignSpace.from_bounds(BOUNDS)
    policy = BayesianPolicy(
        space,
        [Objective("y")],
        {"count_time_s": 1.0},
        seed=seed,
        n_sobol=5,
        num_restarts=2,
        raw_samples=64,
        costs=costs,
    )
    for p in policy.ask(5):
        x = np.array([p.condition[e] for e in space.elements])
        policy.tell([Measured(dict(p.condition), {"y": f(x)}, {"y": 1e-4})])
    return policy


def spots_around(centre: np.ndarray, spread: float, n: int, seed: int) -> CandidateSet:
    rng = np.random.default_rng(seed)
    x = np.clip(centre + rng.normal(0, spread, (n, 3)), 0.02, None)
    x = x / x.sum(axis=1, keepdims=True)
    return CandidateSet(tuple(f"L001-{i:03d}" for i in range(n)), x)


def test_a_good_spot_on_an_existing_library_beats_hours_of_deposition():
    policy = warmed_up(Costs(spot_s=60.0, library_s=7200.0))
    spots = spots_around(OPTIMUM, 0.03, 177, 1)
    policy.set_candidates(spots)
    (proposal,) = policy.ask(1)
    assert proposal.target_spot is not None and proposal.target_spot.startswith("L001-")
    assert proposal.reason in ("explore", "exploit") and proposal.cost_s == 60.0
    chosen = np.array([proposal.condition[e] for e in ("Fe", "Ga", "Pd")])
    np.testing.assert_allclose(chosen, spots.compositions[spots.ids.index(proposal.target_spot)], atol=1e-9)


def test_when_the_spots_are_all_poor_a_new_library_is_worth_its_cost():
    policy = warmed_up(Costs(spot_s=60.0, library_s=600.0))
    far_corner = np.array([0.88, 0.02, 0.10])
    policy.set_candidates(spots_around(far_corner, 0.01, 50, 2))
    (proposal,) = policy.ask(1)
    assert proposal.reason == "new library" and proposal.target_spot is None and proposal.cost_s == 600.0
    chosen = np.array([proposal.condition[e] for e in ("Fe", "Ga", "Pd")])
    assert np.linalg.norm(chosen - far_corner) > 0.2


def test_a_batch_never_takes_the_same_spot_twice():
    policy = warmed_up(Costs(spot_s=1.0, library_s=1e6))
    policy.set_candidates(spots_around(OPTIMUM, 0.05, 40, 3))
    batch = policy.ask(3)
    assert len({p.target_spot for p in batch}) == 3 and None not in {p.target_spot for p in batch}
    assert [p.proposal_id for p in batch] == ["p0006", "p0007", "p0008"]


def test_with_a_few_hundred_spots_the_acquisition_values_every_one(monkeypatch):
    # the cheap screen is for thousands of spots; here it is made to keep only the first ones, and
    # the choice must not notice (a real screen hid the best spot of the Fe-Ga-Pd pool this way)
    from policies.acquisition import acquisition_values
    from policies.cost_aware import SCORE_ALL_UP_TO, SCREEN_KEEP, CostAwareChoice

    policy = warmed_up(Costs(spot_s=1.0, library_s=math.inf), seed=2)
    spots = spots_around(OPTIMUM, 0.15, 300, 4)
    assert SCREEN_KEEP < len(spots.ids) <= SCORE_ALL_UP_TO
    policy.set_candidates(spots)
    acqf = policy.acquisition(None, policy._step_seed("ask"))
    values = acquisition_values(acqf, torch.tensor(policy.space.to_free(spots.compositions)).unsqueeze(1))
    best = int(torch.argmax(values))
    assert best > SCREEN_KEEP + 1  # the situation: the first spots do not hold the best one
    monkeypatch.setattr(
        CostAwareChoice, "_screen", lambda self, free, keep, moments=None: torch.arange(min(keep, len(free)))
    )
    (proposal,) = policy.ask(1)
    assert proposal.generator == "qlognei"
    assert proposal.target_spot == spots.ids[best]
    assert proposal.acquisition_value == float(values[best])


def test_among_thousands_of_spots_the_screen_keeps_the_one_with_the_largest_expected_improvement():
    # a collapsed model: every spot far below the best known mean. 699 spots sit 10 sd below it
    # (higher mean, higher mean + 2 sd); one sits 4 sd below it: the largest EI by far, but ranked
    # last by the mean and by the bound, which alone used to pick the Monte-Carlo shortlist
    from policies.cost_aware import SCREEN_KEEP

    policy = warmed_up(Costs(spot_s=1.0, library_s=math.inf))
    best = float(policy._posterior_mean(policy._training_x())[:, 0].max())
    free = torch.tensor(policy.space.to_free(spots_around(OPTIMUM, 0.1, 700, 5).compositions))
    mean = torch.full((700, 1), best - 1.0, dtype=torch.float64) - torch.linspace(0, 0.05, 700).unsqueeze(-1)
    sd = torch.full((700, 1), 0.1, dtype=torch.float64)
    mean[613], sd[613] = best - 2.0, 0.5
    kept = policy._screen(free, SCREEN_KEEP, (mean, sd**2))
    assert len(kept) <= SCREEN_KEEP + 2  # the shortlist is no longer than before
    assert 613 in kept.tolist()
    # and the other criteria still hold their best: the highest mean and bound
    assert 0 in kept.tolist()
