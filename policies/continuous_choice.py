"""Where the acquisition is largest in the continuous design space: BoTorch's `optimize_acqf` from
starting batches chosen as BoTorch chooses them, but drawn from Sobol points of the space, with an
expert's vetoes kept. Mixed into `BayesianPolicy`, whose model and acquisition it maximises."""

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.optim import optimize_acqf
from botorch.optim.initializers import initialize_q_batch

from policies.acquisition import PriorWeightedAcquisition, acquisition_values
from policies.proposal import Proposal
from policies.sobol import SobolSampler


class ContinuousChoice:
    """The continuous-optimisation half of `BayesianPolicy`."""

    def _optimise(
        self,
        q: int,
        pending: list[np.ndarray],
        acqf: AcquisitionFunction | None = None,
        starts: torch.Tensor | None = None,
    ) -> list[Proposal]:
        """Continuous optimisation of q points; from `starts` (restarts x q x d) when given, which
        saves the raw-sample search that otherwise picks the starting points."""
        assert self.model is not None
        seed = self._step_seed("ask")
        if acqf is None:
            x_pending = (
                torch.tensor(self.space.to_free(np.array(pending)), dtype=torch.float64) if pending else None
            )
            acqf = self.acquisition(x_pending, seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            if starts is None:
                starts = self._starts(acqf, q, seed)
            candidates, _ = optimize_acqf(
                acqf,
                bounds=self.space.free_bounds(),
                q=q,
                num_restarts=len(starts),
                batch_initial_conditions=starts,
                inequality_constraints=self.space.inequality_constraints(),
                options={"seed": seed},
                # L-BFGS-B stopping in a line search keeps the best point it reached; BoTorch's
                # retry would need fresh starts of its own, so with ours it only warns, misleadingly
                retry_on_optimization_warning=False,
            )
        if isinstance(acqf, PriorWeightedAcquisition):
            candidates = self._replace_vetoed(acqf, candidates, seed)
        with torch.no_grad():
            values = [float(acqf(c.view(1, -1))) for c in candidates]
            reasons = self._reasons(candidates)
        compositions = self.space.project(self.space.from_free(candidates.numpy()))
        return [self._proposal(x, r, v) for x, r, v in zip(compositions, reasons, values, strict=True)]

    def _starts(self, acqf: AcquisitionFunction, q: int, seed: int) -> torch.Tensor:
        """`num_restarts` starting q-batches picked, as BoTorch picks them (`initialize_q_batch`),
        from `raw_samples` Sobol q-batches of the design space. BoTorch's own raw samples on a
        constrained space come from a hit-and-run chain with 10,000 burn-in steps: 2-3 s of every
        ask on two to four elements, for points less evenly spread than Sobol's."""
        raw = SobolSampler(self.space, seed).draw(self.raw_samples * q)
        batches = torch.tensor(self.space.to_free(raw), dtype=torch.float64).view(self.raw_samples, q, -1)
        values = acquisition_values(acqf, batches)
        starts, _ = initialize_q_batch(batches, values, n=min(self.num_restarts, self.raw_samples))
        return starts

    def _replace_vetoed(
        self, acqf: PriorWeightedAcquisition, candidates: torch.Tensor, seed: int, pool_size: int = 512
    ) -> torch.Tensor:
        vetoed = acqf.weights(candidates) <= 0
        if not bool(vetoed.any()):
            return candidates
        pool = SobolSampler(self.space, seed).draw(pool_size)
        free = torch.tensor(self.space.to_free(pool), dtype=torch.float64)
        allowed = free[acqf.weights(free) > 0]
        if len(allowed) == 0:
            raise RuntimeError("the prior vetoes every candidate of the design space")
        with torch.no_grad():
            scores = acqf(allowed.unsqueeze(1))
        best = allowed[torch.argsort(scores, descending=True)[: int(vetoed.sum())]]
        replaced = candidates.clone()
        replaced[vetoed] = best
        return replaced
