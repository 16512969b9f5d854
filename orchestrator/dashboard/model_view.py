"""The model as the policy saw it after any measurement: mean, sd and noise sd over the design space.

Rebuilt from the log, not borrowed from the running loop: the policy is made from the frozen
campaign file and told the first k observations, which (the refit schedule depending on k only)
gives the model the loop had after its k-th measurement. Cached by k: a past model never changes."""

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from orchestrator.campaign import CampaignSpec
from orchestrator.observation import Observation
from orchestrator.wiring import build_policy
from policies import BayesianPolicy, simplex_grid

GRID_STEP = 0.025  # about 800 points over a whole ternary; fewer over a bounded region
CACHED_MODELS = 32


class ModelView:
    def __init__(self, spec: CampaignSpec, seed: int, grid_step: float = GRID_STEP) -> None:
        self.spec = spec
        self.seed = seed
        self.space = spec.space.simplex()
        self.grid = simplex_grid(self.space, grid_step)
        self._cache: OrderedDict[int, dict] = OrderedDict()
        self._lock = threading.Lock()  # one fit at a time: the loop keeps the other core

    def at(self, observations: Sequence[Observation]) -> dict:
        """The model after these observations (the first k of the campaign), as JSON-ready data."""
        k = len(observations)
        with self._lock:
            if k in self._cache:
                self._cache.move_to_end(k)
                return self._cache[k]
            view = self._build(observations)
            self._cache[k] = view
            if len(self._cache) > CACHED_MODELS:
                self._cache.popitem(last=False)
            return view

    def _build(self, observations: Sequence[Observation]) -> dict:
        names = list(self.space.names)
        base = {
            "n_train": len(observations),
            "grid": {n: self.grid[:, i].tolist() for i, n in enumerate(names)},
        }
        policy = build_policy(self.spec, self.seed)
        if not isinstance(policy, BayesianPolicy):
            return {**base, "available": False, "reason": f"policy {self.spec.policy.kind!r} keeps no model"}
        needed = max(2, policy.n_sobol)
        if len(observations) < needed:
            return {
                **base,
                "available": False,
                "reason": f"the model is fitted after {needed} measurements ({len(observations)} so far)",
            }
        policy.tell(list(observations))
        predictions = policy.predict(self.grid)
        return {
            **base,
            "available": True,
            "model_id": policy.model_id,
            "noise_model": self.spec.policy.noise,
            "outcomes": {
                name: {
                    "mean": _rounded(p.mean),
                    "sd": _rounded(p.sd),
                    "noise_sd": _rounded(p.noise_sd),
                }
                for name, p in predictions.items()
            },
        }


def _rounded(values: np.ndarray) -> list[float]:
    """Six significant figures: the page draws colours, and the JSON stays a third of the size."""
    return [float(f"{v:.6g}") for v in np.asarray(values, dtype=float)]
