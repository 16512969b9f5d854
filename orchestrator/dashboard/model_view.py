"""The model as the policy saw it after any measurement: mean, sd and noise sd over the design space,
and the best measured condition by it.

The model is `rebuild_model`'s (the one the loop had after its k-th measurement), fitted once per k
and shared by the model panel and the header's best. Cached by k: a past model never changes."""

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from orchestrator.best import CampaignBest, campaign_best
from orchestrator.campaign import CampaignSpec
from orchestrator.model_rebuild import RebuiltModel, rebuild_model
from orchestrator.observation import Observation
from orchestrator.state import CampaignState
from policies import simplex_grid

GRID_STEP = 0.025  # about 800 points over a whole ternary; fewer over a bounded region
CACHED_ANSWERS = 32
CACHED_POLICIES = 4  # fitted models hold their training data and kernel caches: keep few


class ModelView:
    def __init__(self, spec: CampaignSpec, seed: int, grid_step: float = GRID_STEP) -> None:
        self.spec = spec
        self.seed = seed
        self.space = spec.space.simplex()
        self.grid = simplex_grid(self.space, grid_step)
        self._models: OrderedDict[int, RebuiltModel] = OrderedDict()
        self._views: OrderedDict[int, dict] = OrderedDict()
        self._bests: OrderedDict[int, CampaignBest] = OrderedDict()
        self._lock = threading.Lock()  # one fit at a time: the loop keeps the other core

    def at(self, observations: Sequence[Observation]) -> dict:
        """The model after these observations (the first k of the campaign), as JSON-ready data."""
        k = len(observations)
        with self._lock:
            if k not in self._views:
                _keep(self._views, k, self._view(self._model(observations)))
            self._views.move_to_end(k)
            return self._views[k]

    def best(self, state: CampaignState) -> CampaignBest:
        """The best measured condition by the model after the state's observations."""
        k = len(state.observations)
        with self._lock:
            if k not in self._bests:
                _keep(self._bests, k, campaign_best(self.spec, state, self._model(state.observations)))
            self._bests.move_to_end(k)
            return self._bests[k]

    def _model(self, observations: Sequence[Observation]) -> RebuiltModel:
        k = len(observations)
        if k not in self._models:
            _keep(self._models, k, rebuild_model(self.spec, self.seed, observations), CACHED_POLICIES)
        self._models.move_to_end(k)
        return self._models[k]

    def _view(self, model: RebuiltModel) -> dict:
        names = list(self.space.names)
        base = {
            "n_train": model.n_train,
            "grid": {n: self.grid[:, i].tolist() for i, n in enumerate(names)},
        }
        if model.policy is None:
            return {**base, "available": False, "reason": model.reason}
        predictions = model.policy.predict(self.grid)
        return {
            **base,
            "available": True,
            "model_id": model.policy.model_id,
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


def _keep(cache: OrderedDict, k: int, value: object, size: int = CACHED_ANSWERS) -> None:
    cache[k] = value
    while len(cache) > size:
        cache.popitem(last=False)


def _rounded(values: np.ndarray) -> list[float]:
    """Six significant figures: the page draws colours, and the JSON stays a third of the size."""
    return [float(f"{v:.6g}") for v in np.asarray(values, dtype=float)]
