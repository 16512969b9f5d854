"""Bluesky plans that make a sample and measure it."""

from collections.abc import Mapping, Sequence
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator

from instruments.protocols import CountingDetector, Synthesis
from instruments.request_checks import checked_composition, checked_count_time


def make_and_count(
    synthesis: Synthesis,
    counters: Sequence[CountingDetector],
    composition: Mapping[str, float],
    count_time_s: float,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator[None]:
    """One run: make a film of `composition`, count on it with every counter, emit one event. The
    request is checked before anything moves."""
    composition = checked_composition(composition, synthesis.elements)
    count_time_s = checked_count_time("count_time_s", count_time_s)
    start_md = {
        "plan_name": "make_and_count",
        "plan_args": {"composition": composition, "count_time_s": float(count_time_s)},
        "composition": composition,
        "composition_units": "at. fraction",
        "count_time_s": float(count_time_s),
        "detectors": [counter.name for counter in counters],
        **(md or {}),
    }
    setpoints: list[Any] = []
    for element, fraction in composition.items():
        setpoints += [synthesis.fraction(element), fraction]
    for counter in counters:
        setpoints += [counter.count_time_s, float(count_time_s)]

    @bpp.run_decorator(md=start_md)
    def run() -> MsgGenerator[None]:
        yield from bps.mv(*setpoints)
        yield from bps.trigger(synthesis, wait=True)
        yield from bps.trigger_and_read([*counters, synthesis])

    yield from run()
