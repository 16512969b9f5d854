"""Typed instrument faults: each names the device and the condition, so the loop can record it and go on."""

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np


class InstrumentFault(RuntimeError):
    """A device could not do what the plan asked. `kind` says how; the message names device and condition."""

    kind = "device"

    def __init__(self, device: str, problem: str, condition: Mapping[str, float] | None = None) -> None:
        self.device = device
        self.problem = problem
        self.condition = dict(condition or {})
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" at {_describe(self.condition)}" if self.condition else ""
        return f"{self.kind} on {self.device}{where}: {self.problem}"

    def at(self, condition: Mapping[str, float]) -> "InstrumentFault":
        """The same fault, naming the condition the plan was measuring."""
        return type(self)(self.device, self.problem, condition)


class DeviceTimeout(InstrumentFault):
    kind = "timeout"


class DeviceDisconnected(InstrumentFault):
    kind = "disconnected"


class InvalidReading(InstrumentFault):
    kind = "invalid reading"


class DetectorSaturated(InstrumentFault):
    kind = "saturated"


class StageLimitFault(InstrumentFault):
    kind = "outside soft limits"


class NoSampleFault(InstrumentFault):
    kind = "no sample"


def check_counts(device: str, counts: np.ndarray, saturation: float) -> None:
    """Refuse a readout with NaN or infinite values or any channel at or above saturation."""
    values = np.asarray(counts, dtype=float)
    if not np.all(np.isfinite(values)):
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise InvalidReading(device, f"{bad} of {values.size} channels are NaN or infinite")
    if np.any(values >= saturation):
        hot = int(np.count_nonzero(values >= saturation))
        raise DetectorSaturated(
            device, f"{hot} channel(s) at or above {saturation:g} counts; shorten the count time"
        )


SEVERITY = {0: "NO_ALARM", 1: "MINOR", 2: "MAJOR", -1: "INVALID"}  # as ophyd-async reports it


async def acquire_counts(device: str, start, busy, timeout_s: float, what: str, results, saturation) -> None:
    """One EPICS acquisition as every detector here makes it: start it and wait for BUSY's rise and
    fall, then read each result PV with its alarm severity and judge the counts against the
    saturation PV's value."""
    await start_and_wait(start, busy, timeout_s, device, what)
    counts = [np.atleast_1d(np.asarray(await _trusted_value(device, r), dtype=float)) for r in results]
    check_counts(device, np.concatenate(counts), await saturation.get_value())


async def _trusted_value(device: str, signal):
    """A result's value, read once with its alarm severity: one in MAJOR or INVALID alarm (its IOC
    does not vouch for it) is an invalid reading naming the PV."""
    reading = next(iter((await signal.read(cached=False)).values()))
    severity = int(reading.get("alarm_severity", 0))
    if severity == -1 or severity >= 2:
        alarm = SEVERITY.get(severity, severity)
        pv = signal.source.partition("://")[2] or signal.source
        raise InvalidReading(device, f"{pv} is in {alarm} alarm: the IOC does not vouch for it")
    return reading["value"]


def _describe(condition: Mapping[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in condition.items())


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it was raised from (the RunEngine wraps device errors in FailedStatus)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def instrument_fault_in(error: BaseException) -> InstrumentFault | None:
    """The InstrumentFault behind an error, or a Channel Access PV that did not answer, typed."""
    for cause in _causes(error):
        if isinstance(cause, InstrumentFault):
            return cause
    return channel_access_fault(error)


def channel_access_fault(error: BaseException) -> InstrumentFault | None:
    """A PV that did not answer over Channel Access (ophyd-async raises TimeoutError('ca://PV')):
    disconnected when its channel is down (the IOC is gone, or the network), else a timeout. The
    channel's state is known only in the event loop the devices run in: elsewhere, a timeout."""
    for cause in _causes(error):
        if isinstance(cause, TimeoutError) and cause.args and str(cause.args[0]).startswith("ca://"):
            pv = str(cause.args[0]).removeprefix("ca://")
            if _channel_connected(pv) is False:
                return DeviceDisconnected(pv, "the PV is disconnected (its IOC does not answer)")
            return DeviceTimeout(pv, "the PV did not answer in time")
    return None


def _channel_connected(pv: str) -> bool | None:
    import aioca  # libca: only when a Channel Access PV failed

    try:
        channels = aioca.get_channel_infos()
    except RuntimeError:  # no event loop running here
        return None
    return next((c.connected for c in channels if c.name == pv), None)


@contextmanager
def faults_named(condition: Mapping[str, object]) -> Iterator[None]:
    """Errors raised in a plan's block as typed faults naming the condition it worked on; other
    errors pass as they are. Run where the plan runs: a PV's connection is judged there."""
    try:
        yield
    except Exception as error:
        fault = instrument_fault_in(error)
        if fault is None or (fault is error and fault.condition):
            raise
        raise fault.at(condition) from error  # type: ignore[arg-type]


def _keep_monitor_open(reading: Mapping[str, Mapping]) -> None:
    """Subscribed to BUSY for good: reopening its Channel Access monitor at every acquisition costs
    a round trip each time (an XAFS scan has hundreds; measured 90 ms -> 48 ms per point)."""


async def _until(changes: "asyncio.Queue[bool]", value: bool) -> None:
    while await changes.get() != value:
        continue


async def start_and_wait(start, busy, timeout_s: float, device: str, what: str) -> None:
    """Trigger an EPICS start command and wait for its busy PV to rise and fall; a timeout is a typed
    fault. BUSY is watched from before the start: the start's put can complete before BUSY's rise
    reaches us, and the last acquisition's 'done' must not end this one."""
    changes: asyncio.Queue[bool] = asyncio.Queue()

    def watch(reading: Mapping[str, Mapping]) -> None:
        changes.put_nowait(bool(next(iter(reading.values()))["value"]))

    busy.subscribe_reading(_keep_monitor_open)
    busy.subscribe_reading(watch)
    try:
        await start.trigger()
        async with asyncio.timeout(timeout_s):
            await _until(changes, True)
            await _until(changes, False)
    except TimeoutError as exc:
        raise DeviceTimeout(device, f"{what} did not finish in time") from exc
    finally:
        busy.clear_sub(watch)
