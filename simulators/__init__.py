"""Ground-truth worlds for rehearsing and testing campaigns. numpy/scipy only."""

from simulators.errors import WorldInputError
from simulators.registry import list_worlds, load_world
from simulators.world import CountingReadout, Quantity, World

__all__ = ["CountingReadout", "Quantity", "World", "WorldInputError", "list_worlds", "load_world"]
