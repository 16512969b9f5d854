"""A thin-film instrument on EPICS: its devices and objective probes under one PV prefix.

Calibrations (atoms per second per watt) and reference data (phase patterns, XAFS standards) are
taken from a world, as the simulated instrument takes them: for a rehearsal against `junkan ioc`
they are the IOC's own. A lab's measured calibration files are the step after this one.
"""

import os
from collections.abc import Mapping, Sequence

from instruments.devices.counter import EpicsCounter
from instruments.devices.thin_film import epics_thin_film_devices
from instruments.simulated.thin_film import simulated_thin_film_instrument
from instruments.thin_film_instrument import ThinFilmInstrument

MAX_ARRAY_BYTES = 10_000_000  # an XRD pattern is 3,001 doubles: beyond Channel Access's 16 kB default


def probe_prefix(prefix: str, objective: str) -> str:
    return f"{prefix}PROBE:{objective.upper()}:"


def epics_thin_film_instrument(
    prefix: str,
    world: str,
    objectives: Sequence[str],
    seed: int,
    settings: Mapping[str, object],
    xafs_reference_valences: Sequence[float] = (2.0, 3.0),
) -> ThinFilmInstrument:
    # libca reads its array limit once, when the process's first channel opens: before that, here
    os.environ.setdefault("EPICS_CA_MAX_ARRAY_BYTES", str(MAX_ARRAY_BYTES))
    reference = simulated_thin_film_instrument(world, objectives, seed, settings, xafs_reference_valences)
    counters = {o: EpicsCounter(probe_prefix(prefix, o), name=f"counter_{o}") for o in objectives}
    return ThinFilmInstrument(
        epics_thin_film_devices(prefix, reference.settings.elements),
        counters,  # type: ignore[arg-type]
        reference.settings,
        phase_reducer=reference.phase_reducer,
        xafs_reducer=reference.xafs_reducer,
        feature_units=reference.quantity_units,
    )
