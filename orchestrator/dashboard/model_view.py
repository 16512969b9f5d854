"""The model as the policy saw it after any measurement: mean, sd and noise sd over a pseudo-ternary
plane through the design space and along the line between two conditions, and the best measured
condition by it.

The model is `rebuild_model`'s (the one the loop had after its k-th measurement), fitted once per k
and shared by the plane, the slice and the header's best. Cached by k: a past model never changes."""

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from orchestrator.best import CampaignBest, campaign_best
from orchestrator.campaign import CampaignSpec
from orchestrator.dashboard.projection import (
    SCALED_NEAR,
    Plane,
    ViewRequestError,
    centre,
    line,
    near_line,
    parse_corners,
)
from orchestrator.model_rebuild import RebuiltModel, rebuild_model
from orchestrator.observation import Observation
from orchestrator.state import CampaignState
from policies import DesignSpace

GRID_STEP = 0.025  # about 800 points over a whole plane; fewer over a bounded region
SLICE_POINTS = 81
CACHED_ANSWERS = 32
CACHED_POLICIES = 4  # fitted models hold their training data and kernel caches: keep few


class ModelView:
    def __init__(self, spec: CampaignSpec, seed: int, grid_step: float = GRID_STEP) -> None:
        self.spec = spec
        self.seed = seed
        self.space = spec.space.simplex()
        self.grid_step = grid_step
        self._models: OrderedDict[int, RebuiltModel] = OrderedDict()
        self._planes: OrderedDict[tuple, dict] = OrderedDict()
        self._bests: OrderedDict[int, CampaignBest] = OrderedDict()
        self._lock = threading.RLock()  # one fit at a time: the loop keeps the other core

    def at(
        self,
        state: CampaignState,
        corners: Sequence[str] | None = None,
        spot: dict[str, float] | None = None,
    ) -> dict:
        """The model after the state's observations over a plane (three corners, each an element or
        a group; elements in no corner and process parameters held at `spot`, by default the best
        measured condition by the model), with the measured and pending conditions projected onto
        it. A campaign of two elements has no plane: its answer says so, and the slice still works."""
        observations = state.observations
        k = len(observations)
        if len(self.space.elements) < 3 and not corners:
            return {**self._model_fields(self._model(observations)), "plane": None}
        groups = parse_corners(self.space, corners)
        spot_from = "given"
        if spot is None:
            best = self.best(state).best
            spot, spot_from = (
                (best.condition, "the best measured condition by the model")
                if best
                else (centre(self.space), "the centre of the space")
            )
        plane = Plane(self.space, groups, spot)
        key = (k, groups, tuple(float(spot[n]) for n in self.space.names))
        with self._lock:
            if key not in self._planes:
                _keep(self._planes, key, self._plane(plane, self._model(observations)))
            self._planes.move_to_end(key)
            answer = dict(self._planes[key])  # the cached answer stays as it was
        measured = _points(self.space, [o.condition for o in observations])
        pending = [state.proposals[pid].proposal.condition for pid in state.pending]
        answer["plane"] = {
            **answer["plane"],
            "spot": {n: float(spot[n]) for n in self.space.names},
            "spot_from": spot_from,
            "measured": {
                **_corner_lists(plane.coordinates(measured)),
                "off_plane": _rounded(plane.off_plane(measured)),
            },
            "pending": _corner_lists(plane.coordinates(_points(self.space, pending))),
        }
        return answer

    def slice(
        self, observations: Sequence[Observation], start: dict[str, float], end: dict[str, float]
    ) -> dict:
        """The model along the straight line from `start` to `end`, and the measured conditions near
        it (within `SCALED_NEAR`, fractions and process ranges as one scale)."""
        a, b = self.space.as_point(start), self.space.as_point(end)
        if np.allclose(a, b):
            raise ViewRequestError(f"start and end are the same condition {start}: a slice needs two")
        points, t = line(a, b, SLICE_POINTS)
        measured = _points(self.space, [o.condition for o in observations])
        close, along, distance = near_line(self.space, a, b, measured)
        answer = {
            **self._model_fields(self._model(observations)),
            "start": start,
            "end": end,
            "t": t.tolist(),
            "conditions": {n: _rounded(points[:, i]) for i, n in enumerate(self.space.names)},
            "near": SCALED_NEAR,
            "measured": [
                {
                    "index": observations[i].index,
                    "proposal_id": observations[i].proposal_id,
                    "t": float(u),
                    "distance": float(r),
                    "values": observations[i].values,
                    "sd": {k: float(np.sqrt(max(v, 0.0))) for k, v in observations[i].variances.items()},
                }
                for i, u, r in zip(close, along, distance, strict=True)
            ],
        }
        if answer["available"]:
            with self._lock:
                answer["outcomes"] = _predicted(self._model(observations), points)
        return answer

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
        with self._lock:
            if k not in self._models:
                _keep(self._models, k, rebuild_model(self.spec, self.seed, observations), CACHED_POLICIES)
            self._models.move_to_end(k)
            return self._models[k]

    def _model_fields(self, model: RebuiltModel) -> dict:
        if model.policy is None:
            return {"n_train": model.n_train, "available": False, "reason": model.reason}
        return {
            "n_train": model.n_train,
            "available": True,
            "model_id": model.policy.model_id,
            "noise_model": self.spec.policy.noise,
        }

    def _plane(self, plane: Plane, model: RebuiltModel) -> dict:
        points, shares = plane.grid(self.grid_step)
        answer = {
            **self._model_fields(model),
            "grid": {n: points[:, i].tolist() for i, n in enumerate(self.space.names)},
            "plane": {
                "corners": [list(group) for group in plane.corners],
                "labels": plane.labels,
                "held": plane.held,
                **_corner_lists(shares),
            },
        }
        if model.policy is not None:
            answer["outcomes"] = _predicted(model, points)
        return answer


def _predicted(model: RebuiltModel, points: np.ndarray) -> dict:
    assert model.policy is not None
    if not len(points):
        return {}
    return {
        name: {"mean": _rounded(p.mean), "sd": _rounded(p.sd), "noise_sd": _rounded(p.noise_sd)}
        for name, p in model.policy.predict(points).items()
    }


def _points(space: DesignSpace, conditions: Sequence[dict[str, float]]) -> np.ndarray:
    return np.array([space.as_point(c) for c in conditions]).reshape(-1, len(space.names))


def _corner_lists(coordinates: np.ndarray) -> dict[str, list[float | None]]:
    """Corner coordinates as the page draws them (a, b, c), None where a condition has none."""
    return {
        axis: [None if np.isnan(v) else round(float(v), 6) for v in coordinates[:, i]]
        for i, axis in enumerate("abc")
    }


def _keep(cache: OrderedDict, k: int, value: object, size: int = CACHED_ANSWERS) -> None:
    cache[k] = value
    while len(cache) > size:
        cache.popitem(last=False)


def _rounded(values: np.ndarray) -> list[float]:
    """Six significant figures: the page draws colours, and the JSON stays a third of the size."""
    return [float(f"{v:.6g}") for v in np.asarray(values, dtype=float)]
