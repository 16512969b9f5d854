"""Bluesky side: ophyd-async devices, plans and reducers. Knows nothing of BoTorch."""

from instruments.plans import make_and_count
from instruments.reduction import CountingReducer, Document, Reducer, Reduction, ReductionError
from instruments.simulated_instrument import (
    InstrumentDescription,
    SimulatedInstrument,
    describe_simulated_world,
)

__all__ = [
    "CountingReducer",
    "Document",
    "InstrumentDescription",
    "Reducer",
    "Reduction",
    "ReductionError",
    "SimulatedInstrument",
    "describe_simulated_world",
    "make_and_count",
]
