"""Noise models: the variance of each observation, learned or given, for heteroscedastic GPs.

BoTorch 0.18 has no heteroscedastic GP; each model here produces per-observation variances that
go to `SingleTaskGP(train_Yvar=...)`, and predicts the noise variance at new conditions (which the
policy uses to choose count times and to report predictive intervals).

- `KnownNoise`: the reducers' variances (counting statistics), trusted as they are.
- `MostLikelyNoise`: no trust in reported variances; learns log-variance from the residuals of the
  fit itself (Kersting et al. 2007, "most likely heteroscedastic GP"), 3 rounds.
- `CountingNoise`: reported counting variances scaled by an over-dispersion phi plus a systematic
  floor s0^2 (Var = phi * v + s0^2), phi and s0 fitted by maximum a posteriori in pyro.
"""

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood

from policies.posterior import marginals, posterior_mean
from policies.refit_schedule import last_on_schedule

MIN_VARIANCE = 1e-10
LOG_CHI2_1_MEAN = -1.2703628454614782  # E[log chi^2_1] = digamma(1/2) + log 2
LOG_CHI2_1_VARIANCE = np.pi**2 / 2  # Var[log chi^2_1] = trigamma(1/2)
POSTERIOR_SHARE = 0.25
CONSTANT_LOG_VARIANCE_SD = 1e-8  # BoTorch's `Standardize` divides by 1 below this spread


class NoiseModel(Protocol):
    name: str

    def fit(
        self, x: torch.Tensor, y: torch.Tensor, reported: torch.Tensor, bounds: torch.Tensor
    ) -> torch.Tensor:
        """Noise variances (n, 1) of the training observations, in y's units squared."""
        ...

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Noise variance (n, 1) at new conditions (at the reference measurement settings)."""
        ...


def log_variance_gp(
    x: torch.Tensor, z: torch.Tensor, z_var: torch.Tensor, bounds: torch.Tensor
) -> SingleTaskGP:
    """A GP on log-variances whose own noise is known (the spread of a log chi-square)."""
    model = SingleTaskGP(
        x,
        z,
        train_Yvar=z_var,
        input_transform=Normalize(d=x.shape[-1], bounds=bounds),
        outcome_transform=Standardize(m=1),
    )
    with torch.enable_grad():  # may be called lazily from inside a no_grad prediction
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model


@dataclass(frozen=True)
class LogNormalVariance:
    """A variance over the space as exp of a GP on log-variances, E[var] = exp(mu + s^2 / 2); or a
    constant, when the log-variances do not vary (within BoTorch's `Standardize` floor). A GP on
    those is standardised by 1 instead of their spread, and its prior variance far from the data
    inflated the constant: by up to 42 % at 3 points and 2 % at 10 in six dimensions (one
    reported variance for every point). Nothing says such noise varies."""

    model: SingleTaskGP | None
    constant: float = 0.0

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        if self.model is None:
            return torch.full((len(x), 1), self.constant, dtype=torch.float64)
        mean, variance = marginals(self.model, x)
        return torch.exp(mean + 0.5 * variance).clamp_min(MIN_VARIANCE)


def log_normal_variance(
    x: torch.Tensor, z: torch.Tensor, z_var: torch.Tensor, bounds: torch.Tensor
) -> LogNormalVariance:
    """The variance field of log-variances `z` (their own noise `z_var`): fitted only if they vary."""
    if len(z) < 2 or float(z.std()) < CONSTANT_LOG_VARIANCE_SD:
        return LogNormalVariance(None, max(math.exp(float(z.mean())), MIN_VARIANCE))
    return LogNormalVariance(log_variance_gp(x, z, z_var, bounds))


KNOWN_NOISE_FIT_EVERY_UP_TO = 100  # a log-variance fit on <= 100 points costs ~0.1 s: every size,
KNOWN_NOISE_FIT_GROWTH = 0.1  # then at each 10 % growth (a fit costs 2 s at 1,000 points)


@dataclass
class KnownNoise:
    """The reported variances as they are. Their log is predicted at new conditions by a GP fitted
    on `refit_schedule`'s sizes: between two fits it predicts from the data of the last one (a
    noise level is smooth and 10 % more data move it little; conditioning anew would cost 0.1 s
    a decision at 1,000 points)."""

    name: str = "known"
    _data: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = field(default=None, repr=False)
    _model: LogNormalVariance | None = field(default=None, repr=False)

    def fit(
        self, x: torch.Tensor, y: torch.Tensor, reported: torch.Tensor, bounds: torch.Tensor
    ) -> torch.Tensor:
        variances = reported.clamp_min(MIN_VARIANCE)
        n_fit = last_on_schedule(len(x), KNOWN_NOISE_FIT_EVERY_UP_TO, KNOWN_NOISE_FIT_GROWTH)
        data = (x[:n_fit], variances[:n_fit], bounds)
        if self._data is None or not all(torch.equal(a, b) for a, b in zip(self._data, data, strict=True)):
            self._data, self._model = data, None  # the predictor is fitted when asked for
        return variances

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        if self._data is None:
            raise RuntimeError("KnownNoise.predict before fit")
        if self._model is None:
            train_x, variances, bounds = self._data
            self._model = log_normal_variance(
                train_x, variances.log(), torch.full_like(variances, 0.01), bounds
            )
        return self._model.predict(x)


@dataclass
class MostLikelyNoise:
    rounds: int = 3
    name: str = "learned"
    _model: SingleTaskGP | None = field(default=None, repr=False)

    def fit(
        self, x: torch.Tensor, y: torch.Tensor, reported: torch.Tensor, bounds: torch.Tensor
    ) -> torch.Tensor:
        d = x.shape[-1]
        outcome = SingleTaskGP(
            x, y, input_transform=Normalize(d=d, bounds=bounds), outcome_transform=Standardize(m=1)
        )
        fit_gpytorch_mll(ExactMarginalLogLikelihood(outcome.likelihood, outcome))
        variances = reported.clamp_min(MIN_VARIANCE)
        for _ in range(self.rounds):
            with torch.no_grad():  # the training points: their joint costs little beside the fits here
                posterior = outcome.posterior(x)
                # Kersting's E[(y - f)^2] adds the full posterior variance of f, which over-states quiet
                # regions 1.6-2.5x here; in-sample residuals alone under-state noisy ones (the fit
                # follows the noise). A quarter of the posterior variance gave 0.88-0.95 coverage of
                # 90 % intervals in both regions on 3 seeds (tests/policies/test_noise.py).
                spread = (y - posterior.mean) ** 2 + POSTERIOR_SHARE * posterior.variance
            z = spread.clamp_min(MIN_VARIANCE).log() - LOG_CHI2_1_MEAN
            self._model = log_variance_gp(x, z, torch.full_like(z, LOG_CHI2_1_VARIANCE), bounds)
            with torch.no_grad():
                variances = torch.exp(self._model.posterior(x).mean).clamp_min(MIN_VARIANCE)
            outcome = SingleTaskGP(
                x,
                y,
                train_Yvar=variances,
                input_transform=Normalize(d=d, bounds=bounds),
                outcome_transform=Standardize(m=1),
            )
            fit_gpytorch_mll(ExactMarginalLogLikelihood(outcome.likelihood, outcome))
        return variances

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        if self._model is None:
            raise RuntimeError("MostLikelyNoise.predict before fit")
        return torch.exp(posterior_mean(self._model, x)).clamp_min(MIN_VARIANCE)


def loo_residuals(model: SingleTaskGP) -> tuple[torch.Tensor, torch.Tensor]:
    """Leave-one-out residuals of an exact GP and the latent part of their variance, in y's units.

    Closed form (Rasmussen & Williams 5.12): with K = K_f + noise, r_i = [K^-1 y]_i / [K^-1]_ii and
    Var(r_i) = 1 / [K^-1]_ii = Var(f_i | y_-i) + noise_i. In-sample residuals would be shrunk by the
    fit itself and understate the noise.
    """
    with torch.no_grad():
        x = model.train_inputs[0]
        targets = model.train_targets.unsqueeze(-1)
        k = model.covar_module(x).to_dense() + torch.diag(model.likelihood.noise.reshape(-1))
        inverse = torch.linalg.inv(k)
        diagonal = torch.diagonal(inverse).unsqueeze(-1)
        residual = (inverse @ (targets - model.mean_module(x).unsqueeze(-1))) / diagonal
        latent = 1.0 / diagonal - model.likelihood.noise.reshape(-1, 1)
        scale = model.outcome_transform.stdvs.reshape(())
    return residual * scale, latent.clamp_min(0.0) * scale**2


@dataclass
class CountingNoise:
    """Var_i = phi * v_i + s0^2, v_i the reported (Poisson) variance. phi and s0 by maximum a
    posteriori in pyro on leave-one-out residuals, refitting the GP with the new variances
    (3 rounds). Weakly informative priors: log phi ~ N(0, 1), log s0 ~ N(log(5 % of sd(y)), 2)."""

    steps: int = 300
    rounds: int = 3
    name: str = "counting"
    phi: float = 1.0
    s0: float = 0.0
    _reported: LogNormalVariance | None = field(default=None, repr=False)

    def _map(self, residual: torch.Tensor, latent: torch.Tensor, v: torch.Tensor, scale: float) -> None:
        def model() -> None:
            log_phi = pyro.sample("log_phi", dist.Normal(0.0, 1.0))
            log_s0 = pyro.sample("log_s0", dist.Normal(float(np.log(0.05 * scale)), 2.0))
            sd = torch.sqrt(log_phi.exp() * v + (2 * log_s0).exp() + latent)
            pyro.sample("residual", dist.Normal(0.0, sd).to_event(1), obs=residual)

        pyro.clear_param_store()
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the guide starts from prior draws: same data, same answer
            guide = pyro.infer.autoguide.AutoDelta(model)
            svi = pyro.infer.SVI(model, guide, pyro.optim.Adam({"lr": 0.05}), pyro.infer.Trace_ELBO())
            for _ in range(self.steps):
                svi.step()
            found = guide.median()
        self.phi = float(found["log_phi"].exp())
        self.s0 = float(found["log_s0"].exp())

    def fit(
        self, x: torch.Tensor, y: torch.Tensor, reported: torch.Tensor, bounds: torch.Tensor
    ) -> torch.Tensor:
        reported = reported.clamp_min(MIN_VARIANCE)
        d = x.shape[-1]
        variances = reported
        scale = float(y.std().clamp_min(1e-12))
        for _ in range(self.rounds):
            outcome = SingleTaskGP(
                x,
                y,
                train_Yvar=variances,
                input_transform=Normalize(d=d, bounds=bounds),
                outcome_transform=Standardize(m=1),
            )
            fit_gpytorch_mll(ExactMarginalLogLikelihood(outcome.likelihood, outcome))
            residual, latent = loo_residuals(outcome)
            self._map(residual.squeeze(-1), latent.squeeze(-1), reported.squeeze(-1), scale)
            variances = (self.phi * reported + self.s0**2).clamp_min(MIN_VARIANCE)
        self._reported = log_normal_variance(x, reported.log(), torch.full_like(reported, 0.01), bounds)
        return variances

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        if self._reported is None:
            raise RuntimeError("CountingNoise.predict before fit")
        return self.phi * self._reported.predict(x) + self.s0**2

    def count_time_for(self, target_sd: float, variance_at_1s: float) -> float | None:
        """Count time giving `target_sd` when 1 s gives `variance_at_1s` (v scales as 1/t);
        None when the floor s0 alone exceeds the target: no count time reaches it."""
        if target_sd**2 <= self.s0**2:
            return None
        return self.phi * variance_at_1s / (target_sd**2 - self.s0**2)


NOISE_MODELS = {"known": KnownNoise, "learned": MostLikelyNoise, "counting": CountingNoise}


def noise_model(name: str) -> NoiseModel:
    if name not in NOISE_MODELS:
        raise ValueError(f"unknown noise model {name!r}; valid: {sorted(NOISE_MODELS)}")
    return NOISE_MODELS[name]()
