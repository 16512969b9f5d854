"""A thin-film instrument on EPICS: its devices and objective probes under one PV prefix.

Calibrations (atoms per second per watt, in `settings`) and reference data (phase patterns, XAFS
standards, in the reducers) come from the caller: `orchestrator.wiring` takes them from a simulated
instrument over the same world and seed, so for a rehearsal against `junkan ioc` they are the IOC's
own. A lab's measured calibration files are the step after this one.
"""

import os
from collections.abc import Mapping, Sequence

from instruments.devices.counter import EpicsCounter
from instruments.devices.thin_film import epics_thin_film_devices
from instruments.reduction.xafs import XafsReducer
from instruments.reduction.xrd import XrdPhaseFractionReducer
from instruments.thin_film_instrument import ThinFilmInstrument, ThinFilmSettings

MAX_ARRAY_BYTES = 10_000_000  # an XRD pattern is 3,001 doubles: beyond Channel Access's 16 kB default


def probe_prefix(prefix: str, objective: str) -> str:
    return f"{prefix}PROBE:{objective.upper()}:"


def epics_thin_film_instrument(
    prefix: str,
    objectives: Sequence[str],
    settings: ThinFilmSettings,
    phase_reducer: XrdPhaseFractionReducer | None = None,
    xafs_reducer: XafsReducer | None = None,
    feature_units: Mapping[str, str] | None = None,
) -> ThinFilmInstrument:
    # libca reads its array limit once, when the process's first channel opens: before that, here
    os.environ.setdefault("EPICS_CA_MAX_ARRAY_BYTES", str(MAX_ARRAY_BYTES))
    counters = {o: EpicsCounter(probe_prefix(prefix, o), name=f"counter_{o}") for o in objectives}
    return ThinFilmInstrument(
        epics_thin_film_devices(prefix, settings.elements),
        counters,
        settings,
        phase_reducer=phase_reducer,
        xafs_reducer=xafs_reducer,
        feature_units=feature_units,
    )
