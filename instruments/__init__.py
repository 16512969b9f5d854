"""Bluesky side: ophyd-async devices, plans and reducers. Knows nothing of BoTorch."""

from instruments.faults import InstrumentFault, instrument_fault_in
from instruments.plans.make_and_count import make_and_count
from instruments.reduction.reducer import (
    CountingReducer,
    Document,
    RawArray,
    Reducer,
    Reduction,
    ReductionError,
)
from instruments.simulated.fault_injection import FAULT_KINDS
from instruments.simulated.instrument import (
    InstrumentDescription,
    SimulatedInstrument,
    describe_simulated_world,
)
from instruments.simulated.thin_film import simulated_thin_film_instrument
from instruments.thin_film_instrument import ThinFilmInstrument, ThinFilmSettings

__all__ = [
    "FAULT_KINDS",
    "CountingReducer",
    "Document",
    "InstrumentDescription",
    "InstrumentFault",
    "RawArray",
    "Reducer",
    "Reduction",
    "ReductionError",
    "SimulatedInstrument",
    "ThinFilmInstrument",
    "ThinFilmSettings",
    "describe_simulated_world",
    "instrument_fault_in",
    "make_and_count",
    "simulated_thin_film_instrument",
]
