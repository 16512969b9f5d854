"""Bayesian optimisation of one objective: Sobol start, then a GP with known noise under qLogNEI."""

import hashlib
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from botorch.optim import optimize_acqf
from botorch.sampling import SobolQMCNormalSampler
from gpytorch.mlls import ExactMarginalLogLikelihood

from policies.objective import Objective
from policies.proposal import MeasuredCondition, ModelUpdate, Proposal
from policies.sobol import SobolSampler
from policies.space import CompositionSimplex

MIN_VARIANCE = 1e-10


class QLogNEIPolicy:
    """One GP per objective with per-observation variances from the reducers (`train_Yvar`).

    The first `n_sobol` conditions come from a Sobol sequence; after that each ask fits nothing
    new (the fit happens on `tell`) and optimises qLogNoisyExpectedImprovement over the bounded
    simplex, with in-flight conditions as pending points.
    """

    name = "qlognei"

    def __init__(
        self,
        space: CompositionSimplex,
        objective: Objective,
        measurement: Mapping[str, float],
        seed: int = 0,
        n_sobol: int = 5,
        num_restarts: int = 4,
        raw_samples: int = 128,
        mc_samples: int = 128,
    ) -> None:
        if n_sobol < 1:
            raise ValueError(f"n_sobol must be >= 1, got {n_sobol}")
        self.space = space
        self.objective = objective
        self.measurement = dict(measurement)
        self.seed = seed
        self.n_sobol = n_sobol
        self.num_restarts = num_restarts
        self.raw_samples = raw_samples
        self.mc_samples = mc_samples
        self.sampler = SobolSampler(space, seed)
        self.n_asked = 0
        self._conditions: list[np.ndarray] = []
        self._values: list[float] = []
        self._variances: list[float] = []
        self.model: SingleTaskGP | None = None
        self.model_id: str | None = None

    # -- learning ---------------------------------------------------------------------------
    def tell(self, observations: Sequence[MeasuredCondition]) -> ModelUpdate | None:
        for obs in observations:
            self._conditions.append(np.array([obs.condition[e] for e in self.space.elements]))
            self._values.append(float(obs.values[self.objective.name]))
            self._variances.append(float(obs.variances[self.objective.name]))
        if len(self._values) < max(2, self.n_sobol):
            return None
        return self._fit()

    def _training_data(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = torch.tensor(self.space.to_free(np.array(self._conditions)), dtype=torch.float64)
        y = self.objective.sign * torch.tensor(self._values, dtype=torch.float64).unsqueeze(-1)
        yvar = torch.tensor(self._variances, dtype=torch.float64).clamp_min(MIN_VARIANCE)
        return x, y, yvar.unsqueeze(-1)

    def _fit(self) -> ModelUpdate:
        started = time.perf_counter()
        x, y, yvar = self._training_data()
        model = SingleTaskGP(
            x,
            y,
            train_Yvar=yvar,
            input_transform=Normalize(d=self.space.dim, bounds=self.space.free_bounds()),
            outcome_transform=Standardize(m=1),
        )
        with torch.random.fork_rng():
            torch.manual_seed(self._step_seed("fit"))
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        self.model = model
        digest = hashlib.sha256(
            b"".join(t.numpy().tobytes() for t in (x, y, yvar)) + str(self.seed).encode()
        ).hexdigest()[:8]
        self.model_id = f"gp-{len(y):04d}-{digest}"
        lengthscales = model.covar_module.lengthscale.detach().flatten().tolist()
        summary = {f"lengthscale_{i}": float(v) for i, v in enumerate(lengthscales)}
        return ModelUpdate(
            model_id=self.model_id,
            n_train=len(y),
            fit_seconds=time.perf_counter() - started,
            summary=summary,
        )

    # -- deciding ---------------------------------------------------------------------------
    def ask(self, n: int, pending: Sequence[Mapping[str, float]] = ()) -> list[Proposal]:
        if n < 1:
            raise ValueError(f"ask for at least one proposal, got n={n}")
        n_space_filling = max(0, min(n, self.n_sobol - len(self._values) - len(pending)))
        if self.model is None:
            n_space_filling = n
        proposals = [self._proposal(x, "explore", None) for x in self.sampler.draw(n_space_filling)]
        n_model = n - n_space_filling
        if n_model:
            pending_x = [np.array([p[e] for e in self.space.elements]) for p in pending]
            pending_x += [np.array(list(p.condition.values())) for p in proposals]
            proposals += self._optimise(n_model, pending_x)
        return proposals

    def _optimise(self, q: int, pending: list[np.ndarray]) -> list[Proposal]:
        assert self.model is not None
        x_train, _, _ = self._training_data()
        x_pending = (
            torch.tensor(self.space.to_free(np.array(pending)), dtype=torch.float64) if pending else None
        )
        seed = self._step_seed("ask")
        acqf = qLogNoisyExpectedImprovement(
            model=self.model,
            X_baseline=x_train,
            sampler=SobolQMCNormalSampler(torch.Size([self.mc_samples]), seed=seed),
            X_pending=x_pending,
            prune_baseline=True,
        )
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            candidates, _ = optimize_acqf(
                acqf,
                bounds=self.space.free_bounds(),
                q=q,
                num_restarts=self.num_restarts,
                raw_samples=self.raw_samples,
                inequality_constraints=self.space.inequality_constraints(),
                options={"seed": seed},
            )
        with torch.no_grad():
            values = [float(acqf(c.view(1, -1))) for c in candidates]
            means = self.model.posterior(candidates).mean.squeeze(-1)
            best_mean = float(self.model.posterior(x_train).mean.max())
        compositions = self.space.project(self.space.from_free(candidates.numpy()))
        return [
            self._proposal(x, "exploit" if float(m) >= best_mean else "explore", v)
            for x, m, v in zip(compositions, means, values, strict=True)
        ]

    def _proposal(self, x: np.ndarray, reason: str, value: float | None) -> Proposal:
        self.n_asked += 1
        return Proposal(
            proposal_id=f"p{self.n_asked:04d}",
            condition=self.space.as_dict(x),
            measurement=self.measurement,
            reason=reason,  # type: ignore[arg-type]
            acquisition_value=value,
            model_id=self.model_id if value is not None else None,
            generator=self.name if value is not None else "sobol",
        )

    def _step_seed(self, what: str) -> int:
        """A seed for this step alone, so that a resumed policy draws what the original drew."""
        key = f"{self.seed}:{what}:{self.n_asked}:{len(self._values)}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"n_asked": self.n_asked, "sobol_drawn": self.sampler.n_drawn}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.n_asked = int(state["n_asked"])
        self.sampler.restore(int(state["sobol_drawn"]))
