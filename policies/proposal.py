"""What a policy asks for, and what it is told back."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

Reason = Literal["explore", "exploit", "new library", "manual"]


@dataclass(frozen=True)
class Proposal:
    """One condition to make and measure, with why it was chosen and by which model state."""

    proposal_id: str
    condition: Mapping[str, float]
    measurement: Mapping[str, float]
    reason: Reason
    acquisition_value: float | None = None
    model_id: str | None = None
    generator: str = ""
    target_spot: str | None = None  # an existing library spot to measure, when the policy chose one
    cost_s: float | None = None  # what the policy expected this to cost (instrument time)
    why: str = ""  # the reason in words, where `reason` alone would hide it (e.g. a stagnation rule)


@dataclass(frozen=True)
class CandidateSet:
    """Conditions that can be measured now without making anything: unmeasured library spots."""

    ids: tuple[str, ...]
    compositions: np.ndarray  # (n, len(space.names)): fractions then the library's process values

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Costs:
    """Instrument time of measuring an existing spot and of depositing a new library and measuring it."""

    spot_s: float
    library_s: float


class MeasuredCondition(Protocol):
    """The parts of an observation a policy learns from (the orchestrator's Observation has them)."""

    @property
    def condition(self) -> Mapping[str, float]: ...

    @property
    def values(self) -> Mapping[str, float]: ...

    @property
    def variances(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class ModelUpdate:
    """What a refit produced: the id later proposals cite, and how long it took."""

    model_id: str
    n_train: int
    fit_seconds: float
    summary: Mapping[str, float] = field(default_factory=dict)
    surrogates: Mapping[str, str] = field(default_factory=dict)  # outcome -> structure in use
