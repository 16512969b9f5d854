"""No stagnation: a confident model does not spend measurements on what it already knows."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from policies import BayesianPolicy, CandidateSet, Costs, DesignSpace, Objective, SobolPolicy
from policies.stagnation import COLLAPSE_FRACTION, REPEAT_RADIUS, collapse_floor
from tests.policies.measured import Measured

BOUNDS = {"A": [0.0, 1.0], "B": [0.0, 1.0], "C": [0.0, 1.0]}
CORNER = {"A": 1.0, "B": 0.0, "C": 0.0}
NOISE_SD = 0.03
ONLY_SPOTS = Costs(spot_s=1.0, library_s=math.inf)  # a measured pool: nothing new can be made


def told_policy(allow_repeats: bool, costs: Costs | None = None) -> BayesianPolicy:
    """Magnetisation-like: highest at the A corner, which was measured six times already."""
    space = DesignSpace.from_bounds(BOUNDS)
    policy = BayesianPolicy(
        space,
        [Objective("m")],
        {"count_time_s": 1.0},
        seed=4,
        n_sobol=4,
        allow_repeats=allow_repeats,
        costs=costs,
    )
    rng = np.random.default_rng(4)
    points = list(SobolPolicy(space, {}, seed=4).sampler.draw(10)) + [space.as_point(CORNER)] * 6
    for p in points:
        value = 2.0 * p[0] + rng.normal(0, NOISE_SD)
        policy.tell([Measured(space.as_dict(p), {"m": value}, {"m": NOISE_SD**2})])
    return policy


def distance_to_corner(condition) -> float:
    return max(abs(condition[e] - CORNER[e]) for e in CORNER)


def test_a_condition_known_to_within_its_noise_is_not_measured_again():
    # the situation is real: the acquisition's own optimum is the corner measured six times
    asked = told_policy(allow_repeats=True)
    (raw,) = asked._optimise(1, [])
    assert distance_to_corner(raw.condition) < REPEAT_RADIUS
    policy = told_policy(allow_repeats=False)
    (proposal,) = policy.ask(1)
    assert distance_to_corner(proposal.condition) >= REPEAT_RADIUS
    assert proposal.generator == "thompson" and proposal.reason == "explore"
    assert proposal.why.startswith("Thompson sample: ")
    assert proposal.proposal_id == "p0001"  # the refused proposal's number is reused
    space = policy.space
    assert space.contains(space.as_point(proposal.condition), tol=1e-6)[0]


def test_a_campaign_that_asks_for_replicates_gets_them_unless_the_acquisition_collapsed():
    policy = told_policy(allow_repeats=True)
    free = torch.tensor(policy.space.to_free(policy.space.as_point(CORNER)[None, :]))[0]
    assert policy._stagnation(free, value=0.0) == ""  # a replicate is allowed
    refused = told_policy(allow_repeats=False)._stagnation(free, value=0.0)
    assert "within its noise" in refused


def test_the_collapse_floor_is_a_share_of_the_objective_spread():
    values = np.array([[0.0, 10.0], [2.0, 30.0], [1.0, 20.0]])
    assert math.isclose(collapse_floor(values), math.log(COLLAPSE_FRACTION) + math.log(2.0) + math.log(20.0))
    assert math.isclose(collapse_floor(np.ones((3, 1))), math.log(COLLAPSE_FRACTION))


def test_among_fixed_spots_the_known_one_is_not_measured_again():
    # a measured pool: only these spots exist (nothing new can be made); the corner is one of them
    spots = np.array([[1.0, 0.0, 0.0], [0.7, 0.3, 0.0], [0.5, 0.2, 0.3], [0.2, 0.4, 0.4], [0.6, 0.0, 0.4]])
    choices, on_offer = {}, {}
    for allow in (True, False):
        policy = told_policy(allow_repeats=allow, costs=Costs(spot_s=1.0, library_s=math.inf))
        policy.set_candidates(CandidateSet(tuple(f"s{i}" for i in range(len(spots))), spots))
        on_offer[allow] = {policy.candidates.ids[i] for i in policy._shortlists(1)[2]}
        (choices[allow],) = policy.ask(1)
    assert on_offer[True] == {f"s{i}" for i in range(len(spots))}  # replicates asked for: all offered
    assert on_offer[False] == on_offer[True] - {"s0"}  # the corner, known to within its noise, is not
    assert choices[False].target_spot not in (None, "s0")


@pytest.mark.parametrize("score_all_up_to", [0, 512])
def test_the_repeat_rule_among_spots_reads_each_spots_own_posterior(monkeypatch, score_all_up_to):
    # measured only around the A corner: the far spots are unknown, the corner known to within its
    # noise; among many spots (here: more than 0) the rule and the screen share one posterior over
    # the spots, which must stay aligned; among few the rule asks its own
    monkeypatch.setattr("policies.cost_aware.SCORE_ALL_UP_TO", score_all_up_to)
    space = DesignSpace.from_bounds(BOUNDS)
    costs = Costs(spot_s=1.0, library_s=math.inf)
    policy = BayesianPolicy(space, [Objective("m")], {"count_time_s": 1.0}, seed=4, n_sobol=4, costs=costs)
    rng = np.random.default_rng(4)
    near_corner = [[0.9, 0.1, 0.0], [0.85, 0.0, 0.15], [0.8, 0.1, 0.1]] + [list(CORNER.values())] * 6
    for p in near_corner:
        policy.tell(
            [Measured(space.as_dict(p), {"m": 2.0 * p[0] + rng.normal(0, NOISE_SD)}, {"m": NOISE_SD**2})]
        )
    spots = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.3, 0.4, 0.3], [1.0, 0.0, 0.0]])
    policy.set_candidates(CandidateSet(("C", "B", "middle", "A"), spots))
    sd = policy.predict(spots)["m"].sd
    assert sd[3] < NOISE_SD < sd[0]  # the situation: the A corner known, the C corner not
    on_offer = {policy.candidates.ids[i] for i in policy._shortlists(1)[2]}
    assert on_offer == {"C", "B", "middle"}


def test_near_uses_the_max_norm_radius_in_normalised_free_coordinates():
    from policies.stagnation import near, unit_free

    space = DesignSpace.from_bounds({"Fe": [0.0, 1.0], "Co": [0.0, 1.0], "Ni": [0.0, 1.0]})
    measured = torch.tensor(space.to_free(np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])), dtype=torch.float64)
    span = unit_free(space, measured[:1] + 1.0) - unit_free(space, measured[:1])  # units per free unit
    step = torch.zeros_like(measured[:1])
    step[0, 0] = 0.999 * REPEAT_RADIUS / float(span[0, 0])
    inside, outside = measured[:1] + step, measured[:1] + 1.002 * step / 0.999
    diagonal = measured[1:] + 0.999 * REPEAT_RADIUS / span  # every coordinate just inside: max norm
    flags = near(space, torch.cat([inside, outside, diagonal]), measured)
    assert flags.tolist() == [True, False, True]
    assert not near(space, inside, measured[:0]).any()


def collapsed_pool_policy(extra: int) -> tuple[BayesianPolicy, np.ndarray, np.ndarray]:
    """A noiseless broad peak measured on the lattice's half away from the C corner (51 points, and
    `extra` of them again): the model is sure nothing beats it; the 15 unmeasured spots towards C
    are on offer, what it has never seen."""
    space = DesignSpace.from_bounds(BOUNDS)
    lattice = np.array([[i / 10, j / 10, 1 - i / 10 - j / 10] for i in range(11) for j in range(11 - i)])
    measured, offered = lattice[lattice[:, 2] <= 0.5], lattice[lattice[:, 2] > 0.5]
    policy = BayesianPolicy(
        space, [Objective("y")], {"count_time_s": 1.0}, seed=3, n_sobol=2, costs=ONLY_SPOTS
    )
    for p in [*measured, *measured[:extra]]:
        peak = math.exp(-((p[0] - 0.7) ** 2 + (p[1] - 0.2) ** 2) / 0.08)
        policy.tell([Measured(space.as_dict(p), {"y": peak}, {"y": 1e-8})])
    policy.set_candidates(CandidateSet(tuple(f"s{i}" for i in range(len(offered))), offered))
    return policy, measured, offered


def test_among_fixed_spots_a_collapsed_acquisition_measures_in_turn_the_least_known_spot_and_a_draw():
    policy, measured, offered = collapsed_pool_policy(extra=0)  # 51 measured: odd
    (proposal,) = policy.ask(1)
    assert proposal.acquisition_value < collapse_floor(policy._model_values)
    assert proposal.generator == "largest-sd" and proposal.reason == "explore"
    assert proposal.why.startswith("the spot the model knows least: acquisition collapsed")
    sd = policy.predict(offered)["y"].sd
    chosen = int(proposal.target_spot[1:])
    assert chosen == int(np.argmax(sd))
    distance = np.abs(offered[:, None, :] - measured[None, :, :]).max(-1).min(-1)  # to the nearest measured
    assert distance[chosen] == distance.max()  # the C corner: the farthest from everything measured
    policy, _, _ = collapsed_pool_policy(extra=1)  # 52 measured: even
    (proposal,) = policy.ask(1)
    assert proposal.acquisition_value < collapse_floor(policy._model_values)
    assert proposal.generator == "thompson" and proposal.target_spot in policy.candidates.ids
    assert proposal.why.startswith("Thompson sample among the spots: acquisition collapsed")


def peak_unmeasured_policy(costs: Costs | None) -> tuple[BayesianPolicy, np.ndarray, np.ndarray]:
    """`collapsed_pool_policy`'s half lattice without the broad peak's own point: the peak's point
    and the C side are unmeasured (50 measured)."""
    space = DesignSpace.from_bounds(BOUNDS)
    lattice = np.array([[i / 10, j / 10, 1 - i / 10 - j / 10] for i in range(11) for j in range(11 - i)])
    top = np.all(np.isclose(lattice, [0.7, 0.2, 0.1]), axis=1)
    measured, unmeasured = lattice[(lattice[:, 2] <= 0.5) & ~top], lattice[top | (lattice[:, 2] > 0.5)]
    policy = BayesianPolicy(space, [Objective("y")], {"count_time_s": 1.0}, seed=3, n_sobol=2, costs=costs)
    for p in measured:
        peak = math.exp(-((p[0] - 0.7) ** 2 + (p[1] - 0.2) ** 2) / 0.08)
        policy.tell([Measured(space.as_dict(p), {"y": peak}, {"y": 1e-8})])
    return policy, measured, unmeasured


def test_in_the_continuous_space_a_collapsed_acquisition_measures_in_turn_the_least_known_point_and_a_draw(
    monkeypatch,
):
    """As among spots: a confident model's Thompson draws peak next to the incumbent (measured on
    quaternary-hetero: 85 of 100 measurements at the Co corner's plateau, the broad optimum never
    seen), so every other collapse measures the point of the pool it knows least among those that
    could beat the best. When none could, a draw (among spots: the least known of all). A repeat
    is replaced by a draw."""
    import policies.stagnation as stagnation

    policy, measured, unmeasured = peak_unmeasured_policy(costs=None)
    policy.tell([Measured(policy.space.as_dict(measured[0]), {"y": 0.0}, {"y": 1e-8})])  # 51: odd
    top = np.all(np.isclose(unmeasured, [0.7, 0.2, 0.1]), axis=1)
    pools = {"all": unmeasured, "C side": unmeasured[~top]}
    (raw,) = policy._optimise(1, [])
    collapsed = replace(raw, acquisition_value=-1e6)  # far below any floor
    chosen = {}
    for name, pool in pools.items():
        free = torch.tensor(policy.space.to_free(pool), dtype=torch.float64)
        monkeypatch.setattr(stagnation, "thompson_pool", lambda *a, f=free: f.clone())
        chosen[name] = policy._unstick(collapsed, [])
    assert chosen["all"].generator == "largest-sd" and chosen["all"].reason == "explore"
    assert chosen["all"].why.startswith("the point the model knows least: acquisition collapsed")
    assert np.allclose(policy.space.as_point(chosen["all"].condition), [0.7, 0.2, 0.1], atol=1e-9)
    # the C side is what the model knows least, but none of it could beat the best: a draw
    assert chosen["C side"].generator == "thompson"
    assert chosen["C side"].why.startswith("Thompson sample: acquisition collapsed")
    repeat = replace(raw, condition=policy.space.as_dict(measured[0]), acquisition_value=0.0)
    monkeypatch.setattr(policy, "_stagnation", lambda free, value: "a measured condition")
    assert policy._unstick(repeat, []).generator == "thompson"  # not a collapse: a draw
    policy.tell([Measured(policy.space.as_dict(measured[1]), {"y": 0.0}, {"y": 1e-8})])  # 52: even
    everywhere = torch.tensor(policy.space.to_free(unmeasured))
    monkeypatch.setattr(stagnation, "thompson_pool", lambda *a: everywhere.clone())
    assert policy._unstick(collapsed, []).generator == "thompson"


def test_the_least_known_spot_is_one_that_could_still_beat_the_incumbent():
    """The broad peak's own spot left unmeasured and offered beside the C side: the C corner is
    what the model knows least, but even its mean + 2 sd is far below the best measured; the
    peak's spot could beat it, so the least-known choice takes that one. (With no such spot, the
    test above: the C corner.)"""
    policy, measured, offered = peak_unmeasured_policy(costs=ONLY_SPOTS)
    top = np.all(np.isclose(offered, [0.7, 0.2, 0.1]), axis=1)
    policy.set_candidates(CandidateSet(tuple(f"s{i}" for i in range(len(offered))), offered))
    seen = policy.predict(offered)["y"]
    best = float(policy.predict(measured)["y"].mean.max())
    could_beat = seen.mean + 2 * seen.sd > best
    assert could_beat.tolist() == top.tolist()  # the peak's spot only
    assert not could_beat[int(np.argmax(seen.sd))]  # the least known overall could not
    proposal = policy._least_known_spot(np.arange(len(offered)), "test", policy.acquisition(None, 0))
    assert proposal.generator == "largest-sd"
    assert np.allclose(offered[int(proposal.target_spot[1:])], [0.7, 0.2, 0.1])


def test_with_two_objectives_a_point_could_beat_the_front_only_if_it_adds_hypervolume():
    space = DesignSpace.from_bounds(BOUNDS)
    policy = BayesianPolicy(space, [Objective("u"), Objective("v")], {"count_time_s": 1.0}, seed=1, n_sobol=4)
    for p in SobolPolicy(space, {}, seed=1).sampler.draw(8):  # u = A, v = B: a front of trade-offs
        policy.tell(
            [Measured(space.as_dict(p), {"u": float(p[0]), "v": float(p[1])}, {"u": 1e-4, "v": 1e-4})]
        )
    observed = torch.tensor(policy._model_values[:, :2])
    beyond, inside = observed.max(0).values + 0.1, observed.min(0).values
    on_the_front = observed[int(torch.argmax(observed[:, 0]))]
    assert policy._plausible(torch.stack([beyond, inside, on_the_front])).tolist() == [True, False, False]


def test_with_two_objectives_a_collapsed_draw_searches_around_the_points_best_under_its_weights(monkeypatch):
    """The Thompson pool's neighbourhoods surround the measured points best under the draw's own
    scalarisation: with every weight on the second objective, its best point is a centre (the best
    of the first objective alone was always used before, whatever the weights)."""
    import policies.stagnation as stagnation

    space = DesignSpace.from_bounds(BOUNDS)
    policy = BayesianPolicy(space, [Objective("u"), Objective("v")], {"count_time_s": 1.0}, seed=1, n_sobol=4)
    points = SobolPolicy(space, {}, seed=1).sampler.draw(12)
    for p in points:  # u = A, v = B: the best in v is poor in u
        policy.tell(
            [Measured(space.as_dict(p), {"u": float(p[0]), "v": float(p[1])}, {"u": 1e-4, "v": 1e-4})]
        )
    free = policy._training_x()
    best_v, top_u = int(np.argmax(points[:, 1])), np.argsort(-points[:, 0])[:4]
    assert best_v not in top_u  # the situation: the best point in v is not among the best in u
    seen: list[torch.Tensor] = []
    real_pool = stagnation.thompson_pool
    monkeypatch.setattr(stagnation, "thompson_pool", lambda *a: seen.append(a[2]) or real_pool(*a))
    (raw,) = policy._optimise(1, [])
    collapsed = replace(raw, acquisition_value=-1e6)  # far below any floor
    for weights, best in (([0.0, 1.0], best_v), ([1.0, 0.0], int(top_u[0]))):
        monkeypatch.setattr(stagnation, "chebyshev_weights", lambda m, seed, w=weights: torch.tensor(w))
        proposal = policy._unstick(collapsed, [])
        assert proposal.generator == "thompson"
        assert any(torch.equal(centre, free[best]) for centre in seen[-1])


def test_with_two_objectives_and_an_experts_prior_a_collapsed_draw_keeps_to_what_the_prior_allows(
    monkeypatch,
):
    """The prior thins the Thompson pool and the draw is still scalarised by the step's own
    weights (the prior's per-point weights once took their name, and the draw crashed)."""
    import policies.stagnation as stagnation

    space = DesignSpace.from_bounds(BOUNDS)

    def c_rich_is_unstable(x: np.ndarray) -> np.ndarray:
        return np.where(x[:, 2] > 0.3, 0.0, 1.0)

    policy = BayesianPolicy(
        space,
        [Objective("u"), Objective("v")],
        {"count_time_s": 1.0},
        seed=1,
        n_sobol=4,
        prior=c_rich_is_unstable,
    )
    for p in SobolPolicy(space, {}, seed=1).sampler.draw(12):  # u = A, v = B: a front of trade-offs
        policy.tell(
            [Measured(space.as_dict(p), {"u": float(p[0]), "v": float(p[1])}, {"u": 1e-4, "v": 1e-4})]
        )
    (raw,) = policy._optimise(1, [])
    collapsed = replace(raw, acquisition_value=-1e6)  # far below any floor
    drawn = {}
    for name, weights in (("u", [1.0, 0.0]), ("v", [0.0, 1.0])):
        monkeypatch.setattr(stagnation, "chebyshev_weights", lambda m, seed, w=weights: torch.tensor(w))
        proposal = policy._unstick(collapsed, [])
        assert proposal.generator == "thompson"
        drawn[name] = proposal.condition
    assert all(c["C"] <= 0.3 + 1e-9 for c in drawn.values())
    # each draw follows its own weights along the front (u = A, v = B)
    assert drawn["u"]["A"] > drawn["v"]["A"] and drawn["v"]["B"] > drawn["u"]["B"]
