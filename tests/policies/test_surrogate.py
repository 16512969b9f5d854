"""The surrogate portfolio: structures are chosen by leave-one-out evidence, in the outcome's units."""

import numpy as np
import pytest
import torch

from policies import BayesianPolicy, DesignSpace, Objective, SobolPolicy
from policies.surrogate import OutcomeWarp, choose, last_selection, portfolio
from tests.policies.measured import Measured

BOUNDS = {"A": [0.0, 1.0], "B": [0.0, 1.0], "C": [0.0, 1.0]}


def smooth(x: np.ndarray) -> np.ndarray:
    return np.sin(3 * x[:, 0]) + 0.5 * np.cos(4 * x[:, 1])


def data(n: int, seed: int, noise_sd: float):
    space = DesignSpace.from_bounds(BOUNDS)
    points = SobolPolicy(space, {}, seed=seed).sampler.draw(n)
    y = smooth(points) + np.random.default_rng(seed).normal(0, noise_sd, n)
    x = torch.tensor(space.to_free(points), dtype=torch.float64)
    return space, x, y


@pytest.mark.parametrize("seed", [0, 1])
def test_noise_the_reducer_did_not_report_is_learned_as_a_floor(seed):
    space, x, y = data(40, seed, noise_sd=0.2)
    reported = np.full(40, 1e-4)  # the reducer claims sd 0.01; the truth is 0.2
    chosen = choose(x, y, reported, 1.0, space.free_bounds(), warps_allowed=False)
    assert chosen.structure.noise == "reported+floor", chosen.scores
    assert 0.2**2 / 2.5 < chosen.floor_variance() < 0.2**2 * 2.5
    # the honest report is not second-guessed: the floor stays far below the reported noise
    honest = np.full(40, 0.2**2)
    trusted = choose(x, y, honest, 1.0, space.free_bounds(), warps_allowed=False)
    assert trusted.floor_variance() < 0.2**2 / 4 or trusted.structure.noise == "reported"


def test_a_table_without_variances_gets_a_learned_noise_only():
    _, _, y = data(20, 0, noise_sd=0.1)
    structures = portfolio(y, np.zeros(20), warps_allowed=False)
    assert structures and all(s.noise == "reported+floor" for s in structures)


def test_skewed_outcomes_are_warped_when_the_evidence_says_so():
    """A log-normal outcome (a conductivity spanning decades): the log warp models it far better in
    the outcome's own units, and the LOO score says so once the Jacobian is counted."""
    space, x, _ = data(40, 3, noise_sd=0.0)
    points = space.from_free(x.numpy())
    log_y = 3 * smooth(points) + np.random.default_rng(3).normal(0, 0.1, 40)
    y = np.exp(log_y)
    variances = (0.1 * y) ** 2  # 10 % relative error, as a counting reducer would report
    chosen = choose(x, y, variances, 1.0, space.free_bounds(), warps_allowed=True)
    assert chosen.structure.warp == "log", chosen.scores
    assert chosen.scores["rbf/reported/log"] > chosen.scores["rbf/reported/identity"] + 0.2


def test_warps_invert_and_their_derivatives_are_the_slopes():
    y = np.array([-2.0, -0.3, 0.0, 0.4, 1.7, 5.0])
    for warp in (OutcomeWarp(), OutcomeWarp("power", 0.5, 2.0, 0.4), OutcomeWarp("power", -1, 1.5, 2.6)):
        np.testing.assert_allclose(warp.inverse(warp.forward(y)), y, atol=1e-9)
        step = 1e-6
        numeric = (warp.forward(y + step) - warp.forward(y - step)) / (2 * step)
        np.testing.assert_allclose(warp.derivative(y), numeric, rtol=1e-5)
    positive = np.array([0.1, 1.0, 30.0])
    np.testing.assert_allclose(OutcomeWarp("log").inverse(OutcomeWarp("log").forward(positive)), positive)
    assert OutcomeWarp.fitted("log", np.array([-1.0, 2.0])) is None


def test_structure_is_chosen_on_a_schedule_of_the_data_size_alone():
    assert [last_selection(n) for n in (5, 20, 24, 25, 30, 31, 38, 39)] == [5, 20, 20, 25, 25, 31, 31, 39]


def test_the_choice_is_recorded_and_predictions_are_in_the_outcomes_units():
    space = DesignSpace.from_bounds(BOUNDS)
    policy = BayesianPolicy(space, [Objective("y", "minimize")], {"count_time_s": 1.0}, seed=0, n_sobol=4)
    points = SobolPolicy(space, {}, seed=0).sampler.draw(25)
    y = smooth(points) + np.random.default_rng(0).normal(0, 0.2, 25)
    update = None
    for p, v in zip(points, y, strict=True):
        update = policy.tell([Measured(space.as_dict(p), {"y": float(v)}, {"y": 1e-4})])
    assert update is not None and update.surrogates["y"].endswith("identity")
    assert update.surrogates["y"] == policy.surrogates.current["y"].structure.label
    assert "y_loo_pll" in update.summary
    prediction = policy.predict(points)["y"]
    assert np.corrcoef(prediction.mean, smooth(points))[0, 1] > 0.8  # minimised, but shown unsigned
    assert np.median(prediction.noise_sd) > 0.1  # the learned floor shows in the predicted noise


def test_past_the_matern_limit_the_portfolio_is_rbf_only():
    from policies.surrogate import MATERN_MAX_N

    small = portfolio(np.zeros(MATERN_MAX_N), np.ones(MATERN_MAX_N), warps_allowed=False)
    large = portfolio(np.zeros(MATERN_MAX_N + 1), np.ones(MATERN_MAX_N + 1), warps_allowed=False)
    assert {s.kernel for s in small} == {"rbf", "matern52"} and {s.kernel for s in large} == {"rbf"}
