"""What a policy asks for, and what it is told back."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Reason = Literal["explore", "exploit", "new library"]


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
    extra: Mapping[str, float] = field(default_factory=dict)


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
