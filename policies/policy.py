"""The seam between the loop and any decision-maker."""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from policies.proposal import CandidateSet, MeasuredCondition, ModelUpdate, Proposal


@runtime_checkable
class Policy(Protocol):
    """Learns from observations and proposes conditions; checkpoints exactly."""

    def tell(self, observations: Sequence[MeasuredCondition]) -> ModelUpdate | None: ...

    def ask(self, n: int, pending: Sequence[Mapping[str, float]] = ()) -> list[Proposal]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class TakesCandidates(Protocol):
    """Weighs measuring existing samples (a library's unmeasured spots, a table's conditions)
    against making new ones: told, before each decision, which candidates there are."""

    def set_candidates(self, candidates: CandidateSet) -> None: ...
