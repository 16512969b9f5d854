"""Marginal posteriors in blocks: the same numbers as one joint posterior, for the outcome models
and for the noise predictors that use them."""

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood

from policies import DesignSpace, SobolPolicy
from policies.noise import KnownNoise
from policies.posterior import marginals

BOUNDS = {"A": [0.0, 1.0], "B": [0.0, 1.0], "C": [0.0, 1.0]}


def points(n: int, seed: int) -> tuple[DesignSpace, torch.Tensor]:
    space = DesignSpace.from_bounds(BOUNDS)
    drawn = SobolPolicy(space, {}, seed=seed).sampler.draw(n)
    return space, torch.tensor(space.to_free(drawn), dtype=torch.float64)


def test_marginals_in_blocks_equal_one_joint_posterior():
    space, x = points(30, 2)
    y = torch.sin(3 * x[:, :1]) + 0.5 * torch.cos(4 * x[:, 1:2])
    bounds = space.free_bounds()
    model = SingleTaskGP(
        x, y, train_Yvar=torch.full_like(y, 0.05**2),
        input_transform=Normalize(d=x.shape[-1], bounds=bounds), outcome_transform=Standardize(m=1),
    )  # fmt: skip
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    _, new = points(50, 7)
    mean, variance = marginals(model, new, block=16)  # 16 + 16 + 16 + 2
    with torch.no_grad():
        joint = model.posterior(new)
    torch.testing.assert_close(mean, joint.mean, rtol=0, atol=1e-10)
    torch.testing.assert_close(variance, joint.variance, rtol=0, atol=1e-10)
    assert bool((variance > 0).all()) and float(variance.max()) > 10 * float(variance.min())


def test_known_noise_predicts_its_log_normal_mean_over_blocks_of_spots():
    """Reported variances that grow tenfold along A: predicted at 2,500 spots (three blocks),
    E[var] = exp(mu + s^2 / 2) of the log-variance GP, spot by spot as from one joint posterior,
    and growing along A as the data do."""
    space, x = points(40, 3)
    reported = 1e-3 * 10 ** x[:, 0]
    noise = KnownNoise()
    noise.fit(x, torch.zeros(40, 1), reported.unsqueeze(-1), space.free_bounds())
    _, spots = points(2500, 11)
    predicted = noise.predict(spots).reshape(-1)
    assert noise._model is not None and noise._model.model is not None
    with torch.no_grad():
        joint = noise._model.model.posterior(spots)
        expected = torch.exp(joint.mean + 0.5 * joint.variance).reshape(-1)
    torch.testing.assert_close(predicted, expected, rtol=1e-9, atol=0)
    low, high = predicted[spots[:, 0] < 0.2], predicted[spots[:, 0] > 0.8]
    assert float(np.median(high.numpy()) / np.median(low.numpy())) > 4
