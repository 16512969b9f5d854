"""A counting detector over a simulated world: counts the quantity of the sample under test."""

import asyncio
from collections.abc import Callable, Mapping

import numpy as np
from bluesky.protocols import Triggerable
from ophyd_async.core import (
    AsyncStatus,
    StandardReadable,
    StandardReadableFormat,
    soft_signal_r_and_setter,
    soft_signal_rw,
)

from instruments.devices.counter import COUNTER_SATURATION
from instruments.faults import DetectorSaturated
from instruments.simulated.fault_injection import FaultInjector
from simulators import World

# the sample under test: its composition and, when known, its thickness (nm)
SampleSource = Callable[[], tuple[Mapping[str, float], float | None]]


class SimulatedCounter(StandardReadable, Triggerable):
    """Counts for `count_time_s` on the sample under test; calibration goes out as configuration."""

    def __init__(
        self,
        world: World,
        quantity: str,
        sample: SampleSource,
        name: str = "",
        faults: FaultInjector | None = None,
        realtime: bool = False,
    ) -> None:
        self._faults = faults
        self._realtime = realtime  # take the count time for real: rehearsing timing and duty cycle
        self._world = world
        self._sample = sample
        self._quantity = quantity
        units = world.quantities[quantity].units
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.count_time_s = soft_signal_rw(float, 1.0, units="s")
            self.quantity, _ = soft_signal_r_and_setter(str, quantity)
            self.counts_per_unit_s, self._set_gain = soft_signal_r_and_setter(
                float, 1.0, units=f"counts/({units}*s)"
            )
        with self.add_children_as_readables(StandardReadableFormat.HINTED_UNCACHED_SIGNAL):
            self.counts, self._set_counts = soft_signal_r_and_setter(float, 0.0, units="counts")
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            self.background_counts, self._set_background = soft_signal_r_and_setter(
                float, 0.0, units="counts"
            )
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        count_time_s = await self.count_time_s.get_value()
        composition, thickness_nm = self._sample()
        if thickness_nm is None:
            readout = self._world.measure_counts(composition, self._quantity, count_time_s)
        else:
            readout = self._world.measure_counts(  # type: ignore[call-arg]
                composition, self._quantity, count_time_s, thickness_nm=thickness_nm
            )
        if self._realtime:
            await asyncio.sleep(count_time_s)
        counts = float(readout.counts)
        if self._faults is not None:  # injected: timeouts and disconnects raise; NaN passes to the reducer
            counts = float(
                self._faults.raise_or_corrupt(self.name, np.array([counts]), COUNTER_SATURATION)[0]
            )
            if counts >= COUNTER_SATURATION:
                raise DetectorSaturated(self.name, f"count at {COUNTER_SATURATION:g}; shorten the count time")
        self._set_gain(readout.counts_per_unit_s)
        self._set_background(readout.background_counts)
        self._set_counts(counts)
