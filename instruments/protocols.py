"""Abilities an instrument may have beyond planning and reducing, as protocols the loop checks with
isinstance (not getattr): the contract is written down where instruments can see it."""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from instruments.reduction.reducer import Document


@runtime_checkable
class RestoresFromRecord(Protocol):
    """Rebuilds what it has already done (rows served, spots measured) from the observations on
    record, so a resumed campaign continues where the record ends."""

    def restore(self, observations: Sequence[Any]) -> None: ...


@runtime_checkable
class RestoresFromDocuments(Protocol):
    """Rebuilds what it made and measured (libraries deposited, spots measured) from the Bluesky
    documents of every plan it ran, earlier attempts included, in the order they ran: what lives
    in its memory is lost with the process, the documents are not."""

    def restore_documents(self, plans: Sequence[tuple[str, Sequence[Document]]]) -> None: ...

    def interrupted(self, proposal_id: str) -> str | None:
        """Why this proposal's plan must not simply run again after the process died (a
        deposition cut short may have ruined its wafer), else None: the loop records a fault and
        the policy chooses anew."""
        ...


@runtime_checkable
class SharesRecord(Protocol):
    """Its record travels with each plan to where the plan runs (a queue server's worker, whose
    own instrument may be fresh), which adopts what it does not know."""

    def record_summary(self) -> dict[str, Any]: ...

    def adopt_record(self, summary: Any) -> None: ...


@runtime_checkable
class RestoresFilms(Protocol):
    """The backend behind a lab's devices that holds its films (a simulated lab): a film that a
    process before this one deposited is rebuilt in it from the record, so its spots can be measured."""

    @property
    def libraries(self) -> Mapping[str, Any]: ...

    def restore_library(
        self,
        library_id: str,
        powers_w: Mapping[str, float],
        duration_s: float,
        positions_mm: np.ndarray,
        measured_compositions: np.ndarray,
        thickness_nm: np.ndarray,
    ) -> None: ...
