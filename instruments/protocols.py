"""The contracts instruments keep, as runtime-checkable protocols: what the loop and the executors
ask of every instrument (planning, reducing), the abilities an instrument may have beyond that,
which the loop checks with isinstance (not getattr), and the devices that hardware-neutral plans
and instruments are typed against (not a simulated class). The contract is written down where
instruments can see it."""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from bluesky.protocols import Readable, Triggerable
from bluesky.utils import MsgGenerator
from ophyd_async.core import Device, SignalRW

from instruments.reduction.reducer import Document, Reduction


@runtime_checkable
class Instrument(Protocol):
    """What the loop asks of every instrument: a plan that makes and measures a condition, the
    reduction of that plan's documents, and the units of what it reduces to."""

    def plan(
        self,
        condition: Mapping[str, float],
        measurement: Mapping[str, float],
        md: Mapping[str, Any],
    ) -> MsgGenerator[None]: ...

    quantity_units: Mapping[str, str]

    def reduce(self, documents: list[Document]) -> Reduction: ...


@runtime_checkable
class PlanningInstrument(Protocol):
    """What an executor asks of the instrument where the plan runs: its devices, to connect, and the
    plan for a request."""

    @property
    def devices(self) -> list[Device]: ...

    def plan(
        self, condition: Mapping[str, float], measurement: Mapping[str, float], md: Mapping[str, Any]
    ) -> MsgGenerator[None]: ...


@runtime_checkable
class HasCandidateSpots(Protocol):
    """Has samples made already that can be measured without making anything new (a library's
    unmeasured spots, a recorded table's conditions): the cheap candidates a cost-aware policy
    weighs against making a new sample."""

    def unmeasured_spots(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Their ids, and their compositions (one row each, in the instrument's element order)."""
        ...


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


@runtime_checkable
class CountingDetector(Readable[Any], Triggerable, Protocol):
    """Counts for `count_time_s` when triggered, then reads out what it counted: an objective's
    counter (`devices.counter.EpicsCounter`, `simulated.counter.SimulatedCounter`)."""

    count_time_s: SignalRW[float]


@runtime_checkable
class Synthesis(Readable[Any], Triggerable, Protocol):
    """Makes a sample of the target fractions when triggered, and reads out what it made
    (`simulated.synthesis.SimulatedSynthesis`)."""

    elements: tuple[str, ...]

    def fraction(self, element: str) -> SignalRW[float]:
        """The signal holding an element's target fraction."""
        ...
