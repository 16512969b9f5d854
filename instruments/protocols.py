"""Abilities an instrument may have beyond planning and reducing, as protocols the loop checks with
isinstance (not getattr): the contract is written down where instruments can see it."""

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class RestoresFromRecord(Protocol):
    """Rebuilds what it has already done (rows served, spots measured) from the observations on
    record, so a resumed campaign continues where the record ends."""

    def restore(self, observations: Sequence[Any]) -> None: ...
