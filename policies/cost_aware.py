"""Spot or new library: the choice of a policy that can measure existing spots (a library's, a
measured table's) cheaply or make something new at a cost, by acquisition value per second. Mixed
into `BayesianPolicy`, whose model, acquisition and proposals it uses."""

from dataclasses import replace

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.analytic import _log_ei_helper  # BoTorch's stable log(phi(u) + u Phi(u))

from policies.acquisition import acquisition_values
from policies.posterior import marginals
from policies.proposal import CandidateSet, Proposal
from policies.sobol import SobolSampler
from policies.stagnation import OPTIMISM_SD, THOMPSON_POOL, thompson_choice

# up to this many spots on offer, the MC acquisition values every one: the screen is for speed among
# thousands, and on the Fe-Ga-Pd pool (278 rows) it hid the acquisition's best spot (log value -6.1
# against -36 for the best it kept), which then read as a collapsed acquisition
SCORE_ALL_UP_TO = 512
SCREEN_KEEP = 64  # candidates scored by the MC acquisition after the cheap screen (measured: 32 lost nothing)
LIBRARY_POOL = 512  # space-filling compositions that stand in for "any new library" before optimising
LOCAL_GAIN = 1.5  # log-acquisition a local optimiser may add to the pool's best (measured up to 0.8)


class CostAwareChoice:
    """The spot-or-library half of `BayesianPolicy` (it needs the policy's model and acquisition)."""

    # set by BayesianPolicy
    candidates: CandidateSet

    def set_candidates(self, candidates: CandidateSet) -> None:
        """The spots that can be measured without depositing anything (before each ask)."""
        self.candidates = candidates

    def _shortlists(self, q: int) -> tuple[np.ndarray, torch.Tensor, np.ndarray]:
        """The spots (indices) and the pool of new-library compositions (free coordinates) worth a
        Monte-Carlo acquisition, and every spot the stagnation rules leave on offer. Pending points
        change the acquisition, not the posterior, so a batch screens once."""
        keep = np.flatnonzero(self.space.contains(self.candidates.compositions, tol=1e-3))
        spots = keep
        if len(keep):
            free = self._free(self.candidates.compositions[keep])
            # among many spots one posterior over them all serves the repeat rule and the screen;
            # among few there is no screen, and the rule asks only where a measured condition is near
            moments = marginals(self.model, free) if len(keep) > SCORE_ALL_UP_TO else None
            if not self.allow_repeats:  # a spot known to within its noise: not again
                repeats = self._repeats(free, None if moments is None else moments[1])
                if not bool(repeats.all()):
                    offered = ~repeats
                    keep, free = keep[offered.numpy()], free[offered]
                    moments = None if moments is None else (moments[0][offered], moments[1][offered])
            if moments is not None and len(keep) > SCORE_ALL_UP_TO:
                spots = keep[self._screen(free, SCREEN_KEEP + q, moments).numpy()]
            else:
                spots = keep
        pool = torch.tensor(
            self.space.to_free(SobolSampler(self.space, self._step_seed("pool")).draw(LIBRARY_POOL)),
            dtype=torch.float64,
        )
        return spots, pool[self._screen(pool, SCREEN_KEEP)], keep

    def _free(self, points: np.ndarray) -> torch.Tensor:
        return torch.tensor(self.space.to_free(points), dtype=torch.float64)

    def _replacement_spot(self, index: int, acqf: AcquisitionFunction, generator: str, why: str) -> Proposal:
        """The proposal of spot `index` chosen instead of a refused one; its value under `acqf`, the
        acquisition the refused choice was made with, is recorded."""
        with torch.no_grad():
            value = float(acqf(self._free(self.candidates.compositions[index : index + 1]).unsqueeze(1)))
        proposal = self._proposal(self.candidates.compositions[index], "explore", value)
        return replace(
            proposal,
            target_spot=self.candidates.ids[index],
            cost_s=self.costs.spot_s if self.costs else None,
            generator=generator,
            why=why,
        )

    def _thompson_spot(self, fresh: np.ndarray, why: str, acqf: AcquisitionFunction) -> Proposal:
        """A Thompson sample among the spots on offer (a seeded subset when there are many)."""
        seed = self._step_seed("thompson")
        if len(fresh) > THOMPSON_POOL:
            fresh = np.sort(np.random.default_rng(seed).choice(fresh, THOMPSON_POOL, replace=False))
        free = self._free(self.candidates.compositions[fresh])
        index = int(
            fresh[thompson_choice(self.model, free, len(self.objectives), self._constraint_callables(), seed)]
        )
        return self._replacement_spot(index, acqf, "thompson", f"Thompson sample among the spots: {why}")

    def _collapsed_spot(self, fresh: np.ndarray, why: str, acqf: AcquisitionFunction) -> Proposal:
        """What to measure when the model is sure nothing on offer beats the incumbent: in turn, the
        spot it knows least (after an odd number of measurements) and a Thompson sample among the
        spots (after an even number).

        Thompson alone draws from that same confident posterior and peaks next to the incumbent: on
        a noiseless two-peak table (`benchmarks/pool_suite.py`, two-bumps-2d) 49 of 50 draws fell on
        the broad local peak, and 9 of 10 seeds never measured the narrow global one within 60. The
        least-known spot alone found it (3 of 10 never) but measured a third to a half as many of
        the top 5 % as Thompson on five of eight tables. In turn: 2 of 10 never, and the top 5 % kept
        (BENCHMARKS.md, "Pool replay suite")."""
        if self._least_knowns_turn():
            return self._least_known_spot(fresh, why, acqf)
        return self._thompson_spot(fresh, why, acqf)

    def _least_known_spot(self, fresh: np.ndarray, why: str, acqf: AcquisitionFunction) -> Proposal:
        """The spot on offer whose objectives the model knows least (the largest posterior sd, each
        objective's in units of its observed spread, summed), among the spots that could still beat
        what is known (`_plausible`); among all of them when none could.

        A spot that cannot beat the incumbent even optimistically teaches nothing about where the
        best is. Measured (BENCHMARKS.md, "The least-known spot among plausible ones"): on the
        Fe-Ga-Pd pool at 20 measurements Ax and BayBE no longer win a seed (were 2 each); on the
        generic tables level, and the narrow peak of two-bumps-2d still found in 8 of 10 seeds."""
        least, _ = self._least_known(self._free(self.candidates.compositions[fresh]))
        index = int(fresh[least])
        return self._replacement_spot(index, acqf, "largest-sd", f"the spot the model knows least: {why}")

    def _cost_aware_choice(
        self, pending: list[np.ndarray], spots: np.ndarray, pool: torch.Tensor, fresh: np.ndarray
    ) -> Proposal:
        """The best unmeasured spot or the best new library, by acquisition value per second.

        Log-acquisitions compare as log(value / cost) = log value - log cost. A new library is
        first valued on a space-filling pool; it is optimised further only when the pool's best,
        plus what a local optimiser could add (`LOCAL_GAIN`), could beat the best spot per second.
        """
        assert self.costs is not None
        seed = self._step_seed("ask")
        x_pending = (
            torch.tensor(self.space.to_free(np.array(pending)), dtype=torch.float64) if pending else None
        )
        acqf = self.acquisition(x_pending, seed)  # built once: the costly part
        spot_score, index, value = -np.inf, -1, -np.inf
        if len(spots):
            spot_values = acquisition_values(
                acqf,
                torch.tensor(
                    self.space.to_free(self.candidates.compositions[spots]), dtype=torch.float64
                ).unsqueeze(1),
            )
            best = int(torch.argmax(spot_values))
            index, value = int(spots[best]), float(spot_values[best])
            spot_score = value - np.log(self.costs.spot_s)
        pool_values = acquisition_values(acqf, pool.unsqueeze(1))
        if float(pool_values.max()) + LOCAL_GAIN - np.log(self.costs.library_s) >= spot_score:
            starts = pool[torch.argsort(pool_values, descending=True)[: self.num_restarts]]
            (continuous,) = self._optimise(1, pending, acqf, starts.unsqueeze(1))
            library_score = (continuous.acquisition_value or -np.inf) - np.log(self.costs.library_s)
            if library_score > spot_score or not len(spots):
                return replace(continuous, reason="new library", cost_s=self.costs.library_s)
            self.n_asked -= 1  # the continuous optimum is not proposed: reuse its number
        if self._collapsed(value) and len(fresh) > 1:
            return self._collapsed_spot(
                fresh, f"acquisition collapsed (log value {value:.1f} below the floor)", acqf
            )
        reason = self._reasons(
            torch.tensor(self.space.to_free(self.candidates.compositions[index : index + 1]))
        )[0]
        proposal = self._proposal(self.candidates.compositions[index], reason, value)
        return replace(proposal, target_spot=self.candidates.ids[index], cost_s=self.costs.spot_s)

    def _screen(
        self, free: torch.Tensor, keep: int, moments: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Indices of the candidates worth a Monte-Carlo acquisition. One posterior call instead
        of thousands of MC evaluations (scoring 5,000 spots fell from 6.5 s to 0.8 s).

        One objective: the best by an optimistic bound (mean + 2 sd), by the mean, and by analytic
        log-EI over the best posterior mean of the measured conditions (EI grows with the sd faster
        than the bound does: a spot with a lower mean and a larger sd can beat every spot the other
        two keep; measured on the Fe-Ga-Pd pool before `SCORE_ALL_UP_TO`, at 5 of 171 steps).
        Several: the best by the hypervolume improvement of their optimistic point over the
        observed front, and of their mean. (Ranking each objective's bound alone missed spots in the
        middle of the front: a closed loop then lost up to 10 % of the hypervolume the exhaustive
        choice found.)
        """
        if len(free) <= keep:
            return torch.arange(len(free))
        assert self.model is not None
        m = len(self.objectives)
        mean, variance = marginals(self.model, free) if moments is None else moments
        mean = mean[..., :m]
        sd = variance[..., :m].clamp_min(0).sqrt()
        optimistic = mean + OPTIMISM_SD * sd
        if m == 1:
            best = self._measured_mean()[:, 0].max()
            u = (mean[:, 0] - best) / sd[:, 0].clamp_min(1e-12)
            log_ei = _log_ei_helper(u) + sd[:, 0].clamp_min(1e-12).log()
            scores = [optimistic[:, 0], mean[:, 0], log_ei]
        else:
            scores = [self._improvement(optimistic), self._improvement(mean)]
        # ties (no improvement at all) are broken by the summed optimistic rank
        tie = -torch.argsort(torch.argsort(-optimistic, dim=0), dim=0).double().sum(-1) * 1e-12
        chosen = [
            torch.argsort(score + tie * (score == 0), descending=True)[: -(-keep // len(scores))]
            for score in scores
        ]
        return torch.unique(torch.cat(chosen))
