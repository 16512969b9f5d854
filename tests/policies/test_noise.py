"""Noise models: they must find where the instrument is noisy, and by how much."""

import pytest
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood
from scipy.stats import norm, spearmanr

from policies import CountingNoise, KnownNoise, MostLikelyNoise, noise_model

BOUNDS = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)


def landscape(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(3 * x[:, :1]) + torch.cos(2 * x[:, 1:])


def true_sd(x: torch.Tensor) -> torch.Tensor:
    return 0.03 + 0.5 * x[:, :1] ** 2  # quiet at x0 = 0, noisy at x0 = 1


def data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g, dtype=torch.float64)
    y = landscape(x) + true_sd(x) * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return x, y


def coverage(noise_variance_train, noise_at_test, x, y, x_test, y_test):
    model = SingleTaskGP(
        x,
        y,
        train_Yvar=noise_variance_train,
        input_transform=Normalize(2, bounds=BOUNDS),
        outcome_transform=Standardize(1),
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    with torch.no_grad():
        posterior = model.posterior(x_test)
        sd = (posterior.variance + noise_at_test).sqrt()
        inside = (y_test - posterior.mean).abs() <= norm.ppf(0.95) * sd
    return inside.squeeze(-1).double()


def test_the_learned_noise_finds_where_the_instrument_is_noisy_and_keeps_intervals_honest():
    x, y = data(200, 0)
    x_test, y_test = data(400, 1)
    noise = MostLikelyNoise()
    train_var = noise.fit(x, y, torch.full_like(y, 1.0), BOUNDS)
    predicted = noise.predict(x_test).sqrt().squeeze(-1)
    assert spearmanr(predicted, true_sd(x_test).squeeze(-1)).statistic > 0.8
    ratio = (predicted / true_sd(x_test).squeeze(-1)).median()
    assert 0.6 < float(ratio) < 1.6
    inside = coverage(train_var, noise.predict(x_test), x, y, x_test, y_test)
    noisy = x_test[:, 0] > 0.5
    assert 0.82 <= float(inside[~noisy].mean()) <= 0.98
    assert 0.82 <= float(inside[noisy].mean()) <= 0.98
    # a homoscedastic GP, fitted the usual way, cannot be right in both halves at once
    homoscedastic = SingleTaskGP(
        x, y, input_transform=Normalize(2, bounds=BOUNDS), outcome_transform=Standardize(1)
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(homoscedastic.likelihood, homoscedastic))
    with torch.no_grad():
        posterior = homoscedastic.posterior(x_test, observation_noise=True)
        inside_h = (
            ((y_test - posterior.mean).abs() <= norm.ppf(0.95) * posterior.variance.sqrt())
            .squeeze(-1)
            .double()
        )
    assert abs(float(inside_h[noisy].mean()) - float(inside_h[~noisy].mean())) > 0.1


def test_counting_noise_recovers_over_dispersion_and_floor():
    g = torch.Generator().manual_seed(4)
    x = torch.rand(200, 2, generator=g, dtype=torch.float64)
    count_time_s = 10 ** (torch.rand(200, 1, generator=g, dtype=torch.float64) * 2 - 1)  # 0.1 to 10 s
    reported = 0.01 / count_time_s  # the Poisson variances a reducer reports
    phi, s0 = 1.8, 0.05  # the detector is over-dispersed and has a systematic floor
    noise_sd = torch.sqrt(phi * reported + s0**2)
    y = landscape(x) + noise_sd * torch.randn(200, 1, generator=g, dtype=torch.float64)
    noise = CountingNoise()
    variances = noise.fit(x, y, reported, BOUNDS)
    assert noise.phi == pytest.approx(phi, rel=0.3)
    assert noise.s0 == pytest.approx(s0, rel=0.4)
    torch.testing.assert_close(variances, noise.phi * reported + noise.s0**2)
    # how long to count: v scales as 1/t, so sd 0.06 needs phi * v1 / (0.06^2 - s0^2) seconds
    assert noise.count_time_for(0.06, 0.01) == pytest.approx(noise.phi * 0.01 / (0.06**2 - noise.s0**2))
    assert noise.count_time_for(0.5 * noise.s0, 0.01) is None  # below the floor: unreachable


def test_known_noise_trusts_the_reported_variances():
    x, y = data(30, 4)
    reported = 0.01 + 0.1 * x[:, :1]
    noise = KnownNoise()
    torch.testing.assert_close(noise.fit(x, y, reported, BOUNDS), reported)
    predicted = noise.predict(torch.tensor([[0.05, 0.5], [0.95, 0.5]], dtype=torch.float64)).squeeze(-1)
    assert predicted[1] > 3 * predicted[0]


def test_one_reported_variance_for_every_point_is_the_noise_everywhere():
    """Nothing says such noise varies: away from 3 points a GP on the constant log-variances
    predicted it up to 6 % larger here, 42 % in six dimensions (its prior variance through
    exp(mu + s^2 / 2))."""
    x, y = data(3, 6)
    reported = torch.full((3, 1), 0.05**2, dtype=torch.float64)
    far = torch.rand(500, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    known = KnownNoise()
    known.fit(x, y, reported, BOUNDS)
    torch.testing.assert_close(known.predict(far), torch.full((500, 1), 0.05**2, dtype=torch.float64))
    counting = CountingNoise(steps=20)
    counting.fit(x, y, reported, BOUNDS)
    expected = counting.phi * 0.05**2 + counting.s0**2
    torch.testing.assert_close(counting.predict(far), torch.full((500, 1), expected, dtype=torch.float64))
    # reported variances that do vary are still modelled over the space
    known.fit(x, y, reported * torch.tensor([[1.0], [4.0], [16.0]], dtype=torch.float64), BOUNDS)
    assert float(known.predict(far).std()) > 0


def test_known_noise_refits_its_predictor_on_a_schedule_and_keeps_it_in_between():
    """Every size up to 100 observations; past that the predictor of the last scheduled size is
    kept (a refit at 1,000 points costs seconds a decision), and a scheduled size refits."""
    x, y = data(160, 5)
    reported = 0.01 + 0.1 * x[:, :1]
    probe = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    noise = KnownNoise()

    def predicted(n: int, reported: torch.Tensor = reported) -> torch.Tensor:
        noise.fit(x[:n], y[:n], reported[:n], BOUNDS)
        return noise.predict(probe)

    assert not torch.equal(predicted(99), predicted(100))  # every size up to 100
    first = predicted(146)  # on the schedule: 100, 110, 121, 133, 146, 161
    kept = noise._model
    assert torch.equal(predicted(150), first) and noise._model is kept
    louder = reported.clone()
    louder[140:146] *= 50  # data of the last scheduled size changed: refitted
    assert not torch.equal(predicted(150, louder), first)
    x[:146] = x[:146].flip(0)  # the same size with other conditions: refitted, not kept
    predicted(146)
    assert noise._model is not kept


def test_an_unknown_noise_model_names_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"unknown noise model 'magic'; valid: \['counting', 'known', 'learned'\]"
    ):
        noise_model("magic")
