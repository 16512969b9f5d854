"""Ground-truth worlds for rehearsing and testing campaigns. numpy/scipy (and xraydb data) only."""

from simulators.deposition import Library, SpotLayout, SputterGun
from simulators.errors import WorldInputError
from simulators.pareto import hypervolume, pareto_mask
from simulators.registry import list_worlds, load_world
from simulators.spread_world import CompositionSpreadWorld
from simulators.world import CountingReadout, Quantity, World
from simulators.xafs import XafsSpectrum
from simulators.xrd import XrdPattern

__all__ = [
    "CompositionSpreadWorld",
    "CountingReadout",
    "Library",
    "Quantity",
    "SpotLayout",
    "SputterGun",
    "World",
    "WorldInputError",
    "XafsSpectrum",
    "XrdPattern",
    "hypervolume",
    "list_worlds",
    "load_world",
    "pareto_mask",
]
