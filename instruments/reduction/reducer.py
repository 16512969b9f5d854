"""Reducers turn a finished run's documents into objective values with variances."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

Document = tuple[str, Mapping[str, Any]]


class ReductionError(ValueError):
    """A run's documents cannot be reduced; the message names the run and what was missing."""


@dataclass(frozen=True)
class RawArray:
    """A raw measurement kept for the store: values over a named axis, with units."""

    axis_name: str
    axis: np.ndarray
    values: np.ndarray
    units: str = ""
    axis_units: str = ""


@dataclass(frozen=True)
class Reduction:
    """Values and their variances (same units squared) from one run, and what else the store keeps.

    `condition` is the condition really measured when it differs from the one asked for (a
    library spot's measured composition); `sample` says which sample it was; `raw` holds arrays.
    """

    run_uid: str
    values: Mapping[str, float]
    variances: Mapping[str, float]
    condition: Mapping[str, float] | None = None
    sample: Mapping[str, str | float | bool] = field(default_factory=dict)
    raw: Mapping[str, RawArray] = field(default_factory=dict)


class Reducer(Protocol):
    def reduce(self, documents: Sequence[Document]) -> Reduction: ...


def run_documents(documents: Sequence[Document]) -> tuple[Mapping, list[Mapping], list[Mapping]]:
    """The start document, the descriptors and the events of one run."""
    starts = [doc for name, doc in documents if name == "start"]
    if len(starts) != 1:
        raise ReductionError(f"expected one start document, found {len(starts)}")
    descriptors = [doc for name, doc in documents if name == "descriptor"]
    events = [doc for name, doc in documents if name == "event"]
    return starts[0], descriptors, events


@dataclass(frozen=True)
class CountingReducer:
    """Background-subtracted count rate over calibration; Poisson variance of the counts.

    value = (N - B) / (g t), Var = N / (g t)^2, with N counts, B expected background,
    g the calibration (counts per unit per second) and t the count time, all read from the run.
    """

    detector: str
    objective: str

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        start, descriptors, events = run_documents(documents)
        uid = start["uid"]
        primary = [d for d in descriptors if d.get("name") == "primary"]
        if not primary or not events:
            raise ReductionError(f"run {uid} has no primary event to reduce")
        config = primary[0]["configuration"].get(self.detector, {}).get("data", {})
        data = events[-1]["data"]
        keys = {
            "counts": f"{self.detector}-counts",
            "background": f"{self.detector}-background_counts",
            "gain": f"{self.detector}-counts_per_unit_s",
            "time": f"{self.detector}-count_time_s",
        }
        try:
            counts = float(data[keys["counts"]])
            background = float(data[keys["background"]])
            gain = float(config[keys["gain"]])
            count_time_s = float(config[keys["time"]])
        except KeyError as exc:
            raise ReductionError(f"run {uid} lacks data key {exc.args[0]!r}") from exc
        scale = gain * count_time_s
        if scale <= 0:
            raise ReductionError(f"run {uid}: calibration x count time is {scale}, must be > 0")
        value = (counts - background) / scale
        variance = max(counts, 1.0) / scale**2
        return Reduction(uid, {self.objective: value}, {self.objective: variance})


def split_runs(documents: Sequence[Document]) -> dict[str, list[Document]]:
    """The documents of a plan that opened several runs, grouped by run (in order of the starts)."""
    runs: dict[str, list[Document]] = {}
    descriptor_run: dict[str, str] = {}
    for name, doc in documents:
        if name == "start":
            runs[doc["uid"]] = [(name, doc)]
        elif name in ("descriptor", "stop"):
            runs[doc["run_start"]].append((name, doc))
            if name == "descriptor":
                descriptor_run[doc["uid"]] = doc["run_start"]
        elif name == "event":
            runs[descriptor_run[doc["descriptor"]]].append((name, doc))
    return runs
