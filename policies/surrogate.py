"""Surrogates chosen by evidence: a small portfolio of GP structures, one chosen per outcome by
leave-one-out predictive log likelihood (LOO-PLL) at scheduled data sizes.

Why a portfolio: one RBF GP with the reported variances as the whole noise missed narrow features
on one world, trusted lucky readings on another and modelled skewed outcomes (conductivities,
losses) badly. Each structure here is a BoTorch `SingleTaskGP`; they differ in

- kernel: BoTorch's default (RBF, ARD, dimension-scaled lengthscale prior, Hvarfner et al. 2024)
  or Matern-5/2 ARD with Gamma priors and an output scale;
- noise: the reported variances as they are, or those plus a learned homoscedastic floor
  (`FixedNoiseGaussianLikelihood(learn_additional_noise=True)`): what the reducer does not know
  (drift, sample inhomogeneity) is learned, not assumed zero; a table without variances gets the
  floor only;
- outcome warp: identity, log (positive outcomes) or Yeo-Johnson power (lambda by maximum
  likelihood), applied before BoTorch's `Standardize`, variances carried by the delta method.

LOO-PLL is compared in the outcome's own units (the warp's Jacobian is added), so structures with
different warps compete on the same data. Closed form for an exact GP (Rasmussen & Williams 5.12).
"""

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.model import Model
from botorch.models.transforms import Normalize, Standardize
from botorch.models.utils.gpytorch_modules import get_matern_kernel_with_gamma_prior
from gpytorch.constraints import GreaterThan
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import LogNormalPrior
from scipy import stats

from policies.noise import NoiseModel
from policies.refit_schedule import hyperparameters, last_on_schedule, load_hyperparameters

Kernel = Literal["rbf", "matern52"]
NoiseKind = Literal["reported", "reported+floor"]
WarpKind = Literal["identity", "log", "power"]

SELECT_EVERY_UP_TO = 20  # the structure is chosen at every data size up to this one, then
SELECT_GROWTH = 0.25  # each time the data grow by a quarter
MIN_FOR_WARPS = 8  # fewer points say nothing about skew
POWER_MIN_DEPARTURE = 0.2  # a Yeo-Johnson lambda within this of 1 is the identity
NO_REPORTED_NOISE = 1e-8  # reported variances all below this: the table reports none
FLOOR_PRIOR = (-4.0, 1.0)  # LogNormal on the floor in standardised units (BoTorch's own noise prior)
FLOOR_MIN = 1e-6
# Matern-5/2 costs 2-3x RBF per kernel evaluation: at 1,000 observations over 5,000 spots a decision
# took 2.0-2.9 s against 0.9 s (benchmarks/decision_latency.py); past this size RBF only
MATERN_MAX_N = 500


@dataclass(frozen=True)
class Structure:
    """One member of the portfolio."""

    kernel: Kernel = "rbf"
    noise: NoiseKind = "reported"
    warp: WarpKind = "identity"

    @property
    def label(self) -> str:
        return f"{self.kernel}/{self.noise}/{self.warp}"


DEFAULT_STRUCTURE = Structure()


def last_selection(n: int) -> int:
    """The largest data size <= n at which the structure is chosen."""
    return last_on_schedule(n, SELECT_EVERY_UP_TO, SELECT_GROWTH)


@dataclass(frozen=True)
class OutcomeWarp:
    """A monotone increasing map of an outcome's raw values, fixed when its structure is chosen."""

    kind: WarpKind = "identity"
    centre: float = 0.0
    scale: float = 1.0
    lam: float = 1.0

    @classmethod
    def fitted(cls, kind: WarpKind, y: np.ndarray) -> "OutcomeWarp | None":
        """The warp of this kind for these values; None when it does not apply to them."""
        if kind == "identity":
            return cls()
        if kind == "log":
            return cls("log") if bool(np.all(y > 0)) else None
        centre, scale = float(np.mean(y)), float(np.std(y))
        if not scale > 0:
            return None
        lam = float(stats.yeojohnson_normmax((y - centre) / scale))
        if not math.isfinite(lam) or abs(lam - 1.0) < POWER_MIN_DEPARTURE:
            return None
        return cls("power", centre, scale, float(np.clip(lam, -2.0, 4.0)))

    def applies_to(self, y: np.ndarray) -> bool:
        return self.kind != "log" or bool(np.all(y > 0))

    def forward(self, y: np.ndarray) -> np.ndarray:
        if self.kind == "identity":
            return y
        if self.kind == "log":
            return np.log(y)
        u, lam = (y - self.centre) / self.scale, self.lam
        pos = u >= 0
        out = np.empty_like(u)
        out[pos] = np.log1p(u[pos]) if abs(lam) < 1e-9 else ((1 + u[pos]) ** lam - 1) / lam
        neg = ~pos
        out[neg] = -np.log1p(-u[neg]) if abs(lam - 2) < 1e-9 else -((1 - u[neg]) ** (2 - lam) - 1) / (2 - lam)
        return out

    def derivative(self, y: np.ndarray) -> np.ndarray:
        """dz/dy: carries variances (delta method) and densities (the Jacobian) between units."""
        if self.kind == "identity":
            return np.ones_like(y)
        if self.kind == "log":
            return 1.0 / y
        u, lam = (y - self.centre) / self.scale, self.lam
        return np.where(u >= 0, (1 + np.abs(u)) ** (lam - 1), (1 + np.abs(u)) ** (1 - lam)) / self.scale

    def inverse(self, z: np.ndarray) -> np.ndarray:
        if self.kind == "identity":
            return z
        if self.kind == "log":
            return np.exp(np.minimum(z, 700.0))
        lam = self.lam
        pos = z >= 0
        u = np.empty_like(z)
        if abs(lam) < 1e-9:
            u[pos] = np.expm1(z[pos])
        else:
            u[pos] = np.maximum(lam * z[pos] + 1, 1e-12) ** (1 / lam) - 1
        neg = ~pos
        if abs(lam - 2) < 1e-9:
            u[neg] = -np.expm1(-z[neg])
        else:
            u[neg] = 1 - np.maximum(1 - (2 - lam) * z[neg], 1e-12) ** (1 / (2 - lam))
        return self.centre + self.scale * u


@dataclass
class FittedSurrogate:
    """A GP in model units (sign * warp(raw)), the structure and warp it was built with, and the
    LOO-PLL per point in raw units that chose it (None where no choice was made at this size)."""

    model: SingleTaskGP
    structure: Structure
    warp: OutcomeWarp
    sign: float
    loo_pll: float | None = None
    scores: dict[str, float] | None = None

    def floor_variance(self) -> float:
        """The learned floor in model units (0 without one)."""
        likelihood = self.model.likelihood
        second = getattr(likelihood, "second_noise_covar", None)
        if second is None:
            return 0.0
        stdv = float(self.model.outcome_transform.stdvs.reshape(()))
        return float(second.noise.detach().reshape(())) * stdv**2


def model_units(
    warp: OutcomeWarp, sign: float, y: np.ndarray, var: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Raw values and variances -> what the GP sees: sign * warp(y), variances by the delta method."""
    return sign * warp.forward(y), var * warp.derivative(y) ** 2


def build(
    structure: Structure, x: torch.Tensor, z: torch.Tensor, z_var: torch.Tensor, bounds: torch.Tensor
) -> SingleTaskGP:
    """The GP of a structure on data already in model units."""
    d = x.shape[-1]
    covar = get_matern_kernel_with_gamma_prior(ard_num_dims=d) if structure.kernel == "matern52" else None
    model = SingleTaskGP(
        x,
        z,
        train_Yvar=z_var,
        covar_module=covar,
        input_transform=Normalize(d=d, bounds=bounds),
        outcome_transform=Standardize(m=1),
    )
    if structure.noise == "reported+floor":
        model.likelihood = FixedNoiseGaussianLikelihood(
            noise=model.likelihood.noise_covar.noise.detach().clone(),
            learn_additional_noise=True,
            noise_prior=LogNormalPrior(*FLOOR_PRIOR),
            noise_constraint=GreaterThan(FLOOR_MIN),
        ).to(x)
    return model


def fit(model: SingleTaskGP) -> SingleTaskGP:
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model


def loo_log_likelihood(model: SingleTaskGP) -> torch.Tensor:
    """Leave-one-out log predictive density of each training target, in the model's standardised
    units (R&W 5.12: mean residual [K^-1 y]_i / [K^-1]_ii, variance 1 / [K^-1]_ii)."""
    with torch.no_grad():
        model.eval()
        x = model.train_inputs[0]
        targets = model.train_targets
        k = model.covar_module(x).to_dense() + torch.diag(model.likelihood.noise.reshape(-1).expand(len(x)))
        chol = torch.linalg.cholesky(k + 1e-9 * torch.eye(len(x), dtype=k.dtype))
        inverse = torch.cholesky_inverse(chol)
        diagonal = torch.diagonal(inverse)
        residual = (inverse @ (targets - model.mean_module(x))) / diagonal
        variance = 1.0 / diagonal
        return -0.5 * (residual**2 / variance + variance.log() + math.log(2 * math.pi))


def raw_loo_pll(fitted: FittedSurrogate, y_raw: np.ndarray) -> float:
    """Mean LOO log density per point in the outcome's raw units: the standardised density times
    the Jacobian of raw -> model units (|warp'(y)| / standardisation sd)."""
    per_point = loo_log_likelihood(fitted.model).numpy()
    stdv = float(fitted.model.outcome_transform.stdvs.reshape(()))
    jacobian = np.log(np.abs(fitted.warp.derivative(y_raw))) - math.log(stdv)
    return float(np.mean(per_point + jacobian))


def portfolio(y_raw: np.ndarray, reported: np.ndarray, warps_allowed: bool) -> list[Structure]:
    """The structures worth comparing on these data."""
    noises: Sequence[NoiseKind] = (
        ("reported+floor",) if bool(np.all(reported < NO_REPORTED_NOISE)) else ("reported", "reported+floor")
    )
    warps: list[WarpKind] = ["identity"]
    if warps_allowed and len(y_raw) >= MIN_FOR_WARPS:
        warps += [w for w in ("log", "power") if OutcomeWarp.fitted(w, y_raw) is not None]
    kernels: Sequence[Kernel] = ("rbf", "matern52") if len(y_raw) <= MATERN_MAX_N else ("rbf",)
    return [Structure(k, n, w) for w in warps for k in kernels for n in noises]


def fit_structure(
    structure: Structure,
    warp: OutcomeWarp,
    sign: float,
    x: torch.Tensor,
    y_raw: np.ndarray,
    var_raw: np.ndarray,
    bounds: torch.Tensor,
) -> FittedSurrogate:
    z, z_var = model_units(warp, sign, y_raw, var_raw)
    model = build(
        structure,
        x,
        torch.tensor(z, dtype=torch.float64).unsqueeze(-1),
        torch.tensor(np.maximum(z_var, 1e-10), dtype=torch.float64).unsqueeze(-1),
        bounds,
    )
    return FittedSurrogate(fit(model), structure, warp, sign)


def choose(
    x: torch.Tensor,
    y_raw: np.ndarray,
    var_raw: np.ndarray,
    sign: float,
    bounds: torch.Tensor,
    warps_allowed: bool,
) -> FittedSurrogate:
    """Fit every structure of the portfolio and keep the best by LOO-PLL in raw units (ties: the
    first, i.e. the simplest). A structure whose fit fails numerically is skipped."""
    best: FittedSurrogate | None = None
    scores: dict[str, float] = {}
    for structure in portfolio(y_raw, var_raw, warps_allowed):
        warp = OutcomeWarp.fitted(structure.warp, y_raw)
        assert warp is not None
        try:
            candidate = fit_structure(structure, warp, sign, x, y_raw, var_raw, bounds)
            score = raw_loo_pll(candidate, y_raw)
        except (RuntimeError, ValueError, torch.linalg.LinAlgError):
            continue
        if not math.isfinite(score):
            continue
        scores[structure.label] = score
        if best is None or score > (best.loo_pll or -math.inf) + 1e-9:
            candidate.loo_pll = score
            best = candidate
    if best is None:  # every structure failed: the default, unscored
        best = fit_structure(DEFAULT_STRUCTURE, OutcomeWarp(), sign, x, y_raw, var_raw, bounds)
    best.scores = scores
    return best


def stable_seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:4], "little")


FULL_FIT_EVERY_UP_TO = 50
REFIT_GROWTH = 0.1


def last_scheduled_fit(n: int) -> int:
    """The largest data size <= n at which hyperparameters are fitted."""
    return last_on_schedule(n, FULL_FIT_EVERY_UP_TO, REFIT_GROWTH)


@dataclass(frozen=True)
class SurrogateFit:
    """What one refit of every outcome produced."""

    model: Model
    summary: dict[str, float]
    structures: dict[str, str]  # outcome -> structure label in use


class OutcomeSurrogates:
    """One GP per outcome, refitted on a schedule that depends on the number of observations alone.

    The structure is chosen at `last_selection(n)` data, hyperparameters fitted at
    `last_scheduled_fit(n)` data, and in between the GP conditions on all data with the last fitted
    hyperparameters. Everything is a function of the data prefix, so a resumed or replayed policy
    builds exactly the models the original built.
    """

    def __init__(
        self,
        outcomes: Sequence[str],
        signs: np.ndarray,
        warps_allowed: Mapping[str, bool],
        noise: Mapping[str, NoiseModel],
        bounds: torch.Tensor,
        seed: int,
        select: bool = True,
    ) -> None:
        self.outcomes = list(outcomes)
        self.signs = signs
        self.warps_allowed = dict(warps_allowed)
        self.noise = noise
        self.bounds = bounds
        self.seed = seed
        self.select = select
        self._chosen: dict[tuple[str, int], FittedSurrogate] = {}
        self._hyperparameters: dict[tuple[str, int, str], dict[str, torch.Tensor]] = {}
        self.current: dict[str, FittedSurrogate] = {}

    def _noise_variances(
        self, name: str, what: str, x: torch.Tensor, y: np.ndarray, v: np.ndarray
    ) -> np.ndarray:
        """The noise model's variances of these observations (raw units)."""
        i = self.outcomes.index(name)
        with torch.random.fork_rng():
            torch.manual_seed(stable_seed(self.seed, what, name, len(y)))
            variances = self.noise[name].fit(
                x,
                torch.tensor(y * self.signs[i], dtype=torch.float64).unsqueeze(-1),
                torch.tensor(v, dtype=torch.float64).unsqueeze(-1),
                self.bounds,
            )
        return variances.detach().squeeze(-1).numpy()

    def _choice(
        self, name: str, x: torch.Tensor, y: np.ndarray, v: np.ndarray, n_sel: int
    ) -> FittedSurrogate:
        key = (name, n_sel)
        if key not in self._chosen:
            i = self.outcomes.index(name)
            xs, ys, vs = x[:n_sel], y[:n_sel], v[:n_sel]
            with torch.random.fork_rng():
                torch.manual_seed(stable_seed(self.seed, "select", name, n_sel))
                noise = self._noise_variances(name, "select", xs, ys, vs)
                if self.select:
                    chosen = choose(
                        xs, ys, noise, float(self.signs[i]), self.bounds, self.warps_allowed[name]
                    )
                else:
                    chosen = fit_structure(
                        DEFAULT_STRUCTURE, OutcomeWarp(), float(self.signs[i]), xs, ys, noise, self.bounds
                    )
            self._chosen = {k: c for k, c in self._chosen.items() if k[0] != name}
            self._chosen[key] = chosen
        return self._chosen[key]

    def fit(self, x: torch.Tensor, values: np.ndarray, reported: np.ndarray) -> SurrogateFit:
        n = len(values)
        n_fit = last_scheduled_fit(n)
        n_sel = last_selection(n_fit)
        summary: dict[str, float] = {
            "hyperparameters_fitted_at_n": float(n_fit),
            "structure_chosen_at_n": float(n_sel),
        }
        structures: dict[str, str] = {}
        models = []
        for i, name in enumerate(self.outcomes):
            y, v = values[:, i], reported[:, i]
            chosen = self._choice(name, x, y, v, n_sel)
            structure, warp = chosen.structure, chosen.warp
            if not warp.applies_to(y):  # e.g. a value <= 0 arrived under a log warp
                structure, warp = replace(structure, warp="identity"), OutcomeWarp()
            key = (name, n_fit, structure.label)
            if key not in self._hyperparameters:
                if n_fit == n_sel and structure == chosen.structure:
                    fitted = chosen
                else:
                    with torch.random.fork_rng():
                        torch.manual_seed(stable_seed(self.seed, "fit", name, n_fit))
                        noise = self._noise_variances(name, "fit", x[:n_fit], y[:n_fit], v[:n_fit])
                        fitted = fit_structure(
                            structure, warp, float(self.signs[i]), x[:n_fit], y[:n_fit], noise, self.bounds
                        )
                self._hyperparameters = {k: h for k, h in self._hyperparameters.items() if k[0] != name}
                self._hyperparameters[key] = hyperparameters(fitted.model)
                if n_fit == n:
                    self.current[name] = replace(fitted, loo_pll=chosen.loo_pll, scores=chosen.scores)
                    models.append(fitted.model)
                    self._describe(name, summary, structures)
                    continue
            noise = self._noise_variances(name, "noise", x, y, v)
            z, z_var = model_units(warp, float(self.signs[i]), y, noise)
            model = build(
                structure,
                x,
                torch.tensor(z, dtype=torch.float64).unsqueeze(-1),
                torch.tensor(np.maximum(z_var, 1e-10), dtype=torch.float64).unsqueeze(-1),
                self.bounds,
            )
            load_hyperparameters(model, self._hyperparameters[key])
            self.current[name] = FittedSurrogate(
                model, structure, warp, float(self.signs[i]), chosen.loo_pll, chosen.scores
            )
            models.append(model)
            self._describe(name, summary, structures)
        model: Model = models[0] if len(models) == 1 else ModelListGP(*models)
        return SurrogateFit(model, summary, structures)

    def _describe(self, name: str, summary: dict[str, float], structures: dict[str, str]) -> None:
        fitted = self.current[name]
        structures[name] = fitted.structure.label
        if fitted.loo_pll is not None:
            summary[f"{name}_loo_pll"] = fitted.loo_pll
        summary[f"{name}_noise_floor_var"] = fitted.floor_variance()
        kernel = fitted.model.covar_module
        base = getattr(kernel, "base_kernel", kernel)
        for j, value in enumerate(base.lengthscale.detach().flatten().tolist()):
            summary[f"{name}_lengthscale_{j}"] = float(value)

    def model_values(self, values: np.ndarray, reported: np.ndarray) -> np.ndarray:
        """Every observation in model units (sign * warp), as the current GPs see them."""
        columns = []
        for i, name in enumerate(self.outcomes):
            fitted = self.current[name]
            columns.append(model_units(fitted.warp, fitted.sign, values[:, i], reported[:, i])[0])
        return np.column_stack(columns)

    def to_raw(self, name: str, mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd in model units -> the outcome's raw units (delta method)."""
        fitted = self.current[name]
        y = fitted.warp.inverse(fitted.sign * mean)
        return y, sd / np.abs(fitted.warp.derivative(y))

    def floor_raw_variance(self, name: str, y: np.ndarray) -> np.ndarray:
        fitted = self.current[name]
        return fitted.floor_variance() / fitted.warp.derivative(y) ** 2
