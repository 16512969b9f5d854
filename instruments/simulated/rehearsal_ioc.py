"""The rehearsal IOC: the thin-film lab's PVs served over real Channel Access (caproto), with the
simulated devices of a seeded world behind them.

A campaign pointed at it with EPICS devices measures what the simulated instrument of the same
world and seed measures, through the same network protocol, PV names and timing behaviour as the
hardware: motors move at their speed and refuse targets outside their limits, a put to a motor
completes when it arrives (as a motor record's does), an acquisition raises BUSY for its count time
and drops it when the data PVs hold the result. `speed` compresses time for rehearsals and tests.
Loopback only: a rehearsal must never answer for a beamline's PVs on the facility network.
"""

import asyncio
import logging
import os
import re
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from caproto import AlarmSeverity, AlarmStatus, ChannelAlarm, ChannelType
from caproto.server import PVGroup, SubGroup, pvproperty
from ophyd_async.core import Device

from instruments.devices.counter import COUNTER_SATURATION
from instruments.devices.sputter import SAFE_HEATER_C, ShutterState
from instruments.devices.thin_film import ThinFilmDevices
from instruments.epics_thin_film import MAX_ARRAY_BYTES, probe_prefix
from instruments.faults import DeviceTimeout, InstrumentFault
from instruments.simulated.counter import SimulatedCounter

log = logging.getLogger(__name__)

REHEARSAL_PREFIX = "JUNKAN:"
REHEARSAL_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_\-:.]{1,40}")

MAX_SPOTS = 4096  # longest spot table a deposition can report
MOTOR_TICK_S = 0.02  # how often a moving motor's readback updates
HEATER_RATE_C_PER_S = 1.0  # substrate heater ramp
SUBSCRIPTION_BATCH_S = 0.001  # longest wait to batch monitor updates (caproto: 10 ms)
HEATER_TICK_S = 0.1  # real seconds between heater readback updates
STAGE_LIMIT_MM = 40.0  # the stage motors' travel: a little beyond a 3-inch wafer
STAGE_SPEED_MM_S = 10.0


@dataclass
class RehearsalClock:
    """Instrument seconds per real second: 1 rehearses in real time, 1000 runs a shift in seconds."""

    speed: float = 1.0

    async def wait(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


@dataclass
class RehearsalLab:
    """What the IOC serves: the simulated devices (and objective counters) of one world and seed."""

    devices: ThinFilmDevices
    counters: Mapping[str, SimulatedCounter]
    clock: RehearsalClock = field(default_factory=RehearsalClock)
    stage_mm: list[float] = field(default_factory=lambda: [0.0, 0.0])

    @property
    def world(self):
        """The world behind the simulated devices (a rehearsal lab always has one)."""
        assert self.devices.lab is not None
        return self.devices.lab.world

    async def connect(self) -> None:
        simulated: list[Device] = [*self.devices.all, *self.counters.values()]
        await asyncio.gather(*(device.connect() for device in simulated))

    def under_beam(self) -> None:
        """The simulated lab measures where the IOC's motors stand."""
        assert self.devices.lab is not None
        self.devices.lab.stage_mm = (float(self.stage_mm[0]), float(self.stage_mm[1]))


async def acquire(
    busy: pvproperty,
    work: Callable[[], Awaitable[None]],
    device: str,
    tasks: set[asyncio.Task],
    results: ChannelAlarm | None = None,
) -> None:
    """Raise BUSY, then do `work` in the background: the put that started it completes at once, as
    a detector's Acquire does. A device that fails to read (no sample under the beam...) puts its
    `results` in INVALID alarm and drops BUSY, as a detector IOC does; one that hangs (a timeout,
    or no results alarm to raise) leaves BUSY high and the client's wait times out."""
    if busy.value not in (0, busy.enum_strings[0]):  # caproto keeps an enum's value as its string
        raise ValueError(f"{device} is busy; wait for BUSY to drop")
    await busy.write(1)

    async def run() -> None:
        try:
            await work()
        except InstrumentFault as fault:
            if results is None or isinstance(fault, DeviceTimeout):
                log.warning("rehearsal %s: %s (BUSY stays high)", device, fault)
                return
            log.warning("rehearsal %s: %s (results in INVALID alarm)", device, fault)
            await results.write(
                status=AlarmStatus.READ, severity=AlarmSeverity.INVALID_ALARM, alarm_string=str(fault)[:39]
            )
        except Exception:
            log.exception("rehearsal %s failed", device)
        else:
            if results is not None and results.severity != AlarmSeverity.NO_ALARM:
                clear = AlarmSeverity.NO_ALARM
                await results.write(status=AlarmStatus.NO_ALARM, severity=clear, alarm_string="")
        await busy.write(0)

    task = asyncio.get_running_loop().create_task(run())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def busy_pv(name: str, busy_state: str) -> pvproperty:
    """A BUSY PV as hardware has it: a two-state enum, high while the device works."""
    return pvproperty(
        value=0, name=name, dtype=ChannelType.ENUM, enum_strings=["Done", busy_state], read_only=True
    )


class RehearsalMotor(PVGroup):
    """A motor record: VAL, RBV, DMOV, MOVN, VELO, limits; a put to VAL completes on arrival."""

    motor = pvproperty(value=0.0, name="", record="motor", precision=3)

    def __init__(self, *args, clock: RehearsalClock, on_move: Callable[[float], None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock
        self.on_move = on_move

    @motor.startup
    async def motor(self, instance, async_lib) -> None:
        fields = instance.field_inst
        await fields.velocity.write(STAGE_SPEED_MM_S)
        await fields.max_velocity.write(5 * STAGE_SPEED_MM_S)
        await fields.seconds_to_velocity.write(0.1)
        await fields.motor_step_size.write(1e-4)
        await fields.retry_deadband.write(1e-3)
        for low, high in (
            (fields.user_low_limit, fields.user_high_limit),
            (fields.dial_low_limit, fields.dial_high_limit),
        ):
            await low.write(-STAGE_LIMIT_MM)
            await high.write(STAGE_LIMIT_MM)
        await fields.done_moving_to_value.write(1)

    @motor.putter
    async def motor(self, instance, value: float) -> float:
        fields = instance.field_inst
        low, high = fields.user_low_limit.value, fields.user_high_limit.value
        if not low <= value <= high:
            await fields.limit_violation.write(1)
            raise ValueError(f"{self.prefix} target {value} is outside its limits [{low}, {high}]")
        await fields.limit_violation.write(0)
        await fields.done_moving_to_value.write(0)
        await fields.motor_is_moving.write(1)
        start = float(fields.user_readback_value.value)
        travel_s = abs(value - start) / max(float(fields.velocity.value), 1e-9)
        steps = max(1, int(travel_s / self.clock.speed / MOTOR_TICK_S))
        for step in range(1, steps + 1):
            await self.clock.wait(travel_s / steps)
            await fields.user_readback_value.write(start + (value - start) * step / steps)
        await fields.user_readback_value.write(value)
        self.on_move(float(value))
        await fields.motor_is_moving.write(0)
        await fields.done_moving_to_value.write(1)
        return value


def stage_group(lab: RehearsalLab) -> type[PVGroup]:
    """{prefix}X, {prefix}Y (motor records) and {prefix}WAFER (the sample changer)."""

    def mover(axis: int) -> Callable[[float], None]:
        def moved(position: float) -> None:
            lab.stage_mm[axis] = position

        return moved

    class Stage(PVGroup):
        x = SubGroup(RehearsalMotor, prefix="X", clock=lab.clock, on_move=mover(0))
        y = SubGroup(RehearsalMotor, prefix="Y", clock=lab.clock, on_move=mover(1))
        wafer = pvproperty(value="", name="WAFER", dtype=ChannelType.STRING)

        @wafer.putter
        async def wafer(self, instance, value: str) -> str:
            await lab.devices.changer.set(value)  # refuses a library the lab never deposited
            return value

    return Stage


def xrd_group(lab: RehearsalLab) -> type[PVGroup]:
    """COUNT_TIME, SATURATION, WAVELENGTH, TTH, COUNTS, ACQUIRE, BUSY."""
    xrd = lab.devices.xrd
    tasks: set[asyncio.Task] = set()
    axis = lab.world.diffractometer.two_theta_deg

    class Xrd(PVGroup):
        count_time = pvproperty(value=1.0, name="COUNT_TIME", units="s")
        saturation = pvproperty(value=1.0e6, name="SATURATION", units="counts")
        wavelength = pvproperty(
            value=float(lab.world.diffractometer.wavelength_a),
            name="WAVELENGTH",
            units="angstrom",
            read_only=True,
        )
        tth = pvproperty(value=axis.tolist(), name="TTH", units="deg", read_only=True, max_length=len(axis))
        counts = pvproperty(
            value=[0.0] * len(axis), name="COUNTS", units="counts", read_only=True, alarm_group="results"
        )
        busy = busy_pv("BUSY", "Acquiring")
        start = pvproperty(value=0, name="ACQUIRE")

        @start.putter
        async def start(self, instance, value: int) -> int:
            async def count() -> None:
                count_time_s = float(self.count_time.value)
                await xrd.count_time_s.set(count_time_s)
                await xrd.saturation_counts.set(np.inf)  # the client judges saturation, as on hardware
                lab.under_beam()
                await xrd.trigger()
                await lab.clock.wait(count_time_s)
                await self.counts.write((await xrd.counts.get_value()).tolist())

            await acquire(self.busy, count, "xrd", tasks, self.alarms["results"])
            return value

    return Xrd


def xafs_group(lab: RehearsalLab) -> type[PVGroup]:
    """MONO:ENERGY(_RBV), COUNT_TIME, ABSORBER, SATURATION, I0, IT, ACQUIRE, BUSY."""
    xafs = lab.devices.xafs
    tasks: set[asyncio.Task] = set()
    first_element = lab.world.elements[0]

    class Xafs(PVGroup):
        energy = pvproperty(value=7000.0, name="MONO:ENERGY", units="eV", precision=2)
        energy_rbv = pvproperty(value=7000.0, name="MONO:ENERGY_RBV", units="eV", precision=2, read_only=True)
        count_time = pvproperty(value=1.0, name="COUNT_TIME", units="s")
        absorber = pvproperty(value=first_element, name="ABSORBER", dtype=ChannelType.STRING)
        saturation = pvproperty(value=5.0e7, name="SATURATION", units="counts")
        i0 = pvproperty(value=0.0, name="I0", units="counts", read_only=True, alarm_group="results")
        it = pvproperty(value=0.0, name="IT", units="counts", read_only=True, alarm_group="results")
        busy = busy_pv("BUSY", "Counting")
        start = pvproperty(value=0, name="ACQUIRE")

        @energy.putter
        async def energy(self, instance, value: float) -> float:
            await self.energy_rbv.write(value)  # a monochromator in position when its put completes
            return value

        @start.putter
        async def start(self, instance, value: int) -> int:
            async def count() -> None:
                count_time_s = float(self.count_time.value)
                await xafs.energy_ev.set(float(self.energy_rbv.value))
                await xafs.count_time_s.set(count_time_s)
                await xafs.absorber.set(str(self.absorber.value))
                await xafs.saturation_counts.set(np.inf)
                lab.under_beam()
                await xafs.trigger()
                await lab.clock.wait(count_time_s)
                await self.i0.write(await xafs.i0.get_value())
                await self.it.write(await xafs.it.get_value())

            await acquire(self.busy, count, "xafs", tasks, self.alarms["results"])
            return value

    return Xafs


def sputter_group(lab: RehearsalLab, elements: Sequence[str]) -> type[PVGroup]:
    """GUN<i>:POWER and :SHUTTER, HEATER:TEMP(_RBV), DEP:TIME|START|BUSY, LIB:ID, MAP:X|Y|THICKNESS|X<i>."""
    sputter = lab.devices.sputter
    tasks: set[asyncio.Task] = set()
    shutter = [s.value for s in ShutterState]
    namespace: dict[str, object] = {}
    for i, _ in enumerate(elements, start=1):
        namespace[f"power{i}"] = pvproperty(value=0.0, name=f"GUN{i}:POWER", units="W")
        namespace[f"shutter{i}"] = pvproperty(
            value=ShutterState.CLOSED.value,
            name=f"GUN{i}:SHUTTER",
            dtype=ChannelType.ENUM,
            enum_strings=shutter,
        )
        namespace[f"fraction{i}"] = pvproperty(
            value=[0.0], name=f"MAP:X{i}", max_length=MAX_SPOTS, read_only=True
        )

    class Sputter(PVGroup):
        locals().update(namespace)
        heater = pvproperty(value=SAFE_HEATER_C, name="HEATER:TEMP", units="degC")
        heater_rbv = pvproperty(value=SAFE_HEATER_C, name="HEATER:TEMP_RBV", units="degC", read_only=True)
        duration = pvproperty(value=3600.0, name="DEP:TIME", units="s")
        start = pvproperty(value=0, name="DEP:START")
        busy = busy_pv("DEP:BUSY", "Depositing")
        library_id = pvproperty(value="", name="LIB:ID", dtype=ChannelType.STRING, read_only=True)
        spot_x = pvproperty(value=[0.0], name="MAP:X", max_length=MAX_SPOTS, units="mm", read_only=True)
        spot_y = pvproperty(value=[0.0], name="MAP:Y", max_length=MAX_SPOTS, units="mm", read_only=True)
        thickness = pvproperty(
            value=[0.0], name="MAP:THICKNESS", max_length=MAX_SPOTS, units="nm", read_only=True
        )

        @heater.startup
        async def heater(self, instance, async_lib) -> None:
            """The substrate follows its setpoint at a fixed rate, updated ten times a real second."""
            while True:
                await asyncio.sleep(HEATER_TICK_S)
                now, target = float(self.heater_rbv.value), float(self.heater.value)
                most = HEATER_RATE_C_PER_S * HEATER_TICK_S * lab.clock.speed
                step = float(np.clip(target - now, -most, most))
                if step:
                    await self.heater_rbv.write(now + step)

        @start.putter
        async def start(self, instance, value: int) -> int:
            async def deposit() -> None:
                for i, element in enumerate(elements, start=1):
                    gun = sputter.gun(element)
                    await gun.power_w.set(float(getattr(self, f"power{i}").value))
                    await gun.shutter.set(ShutterState(getattr(self, f"shutter{i}").value))
                await sputter.heater_c.set(float(self.heater.value))
                duration_s = float(self.duration.value)
                await sputter.deposition_time_s.set(duration_s)
                await sputter.trigger()
                await lab.clock.wait(duration_s)
                for i, element in enumerate(elements, start=1):
                    fraction = await getattr(sputter, f"{element.lower()}_fraction").get_value()
                    await getattr(self, f"fraction{i}").write(fraction.tolist())
                await self.spot_x.write((await sputter.spot_x_mm.get_value()).tolist())
                await self.spot_y.write((await sputter.spot_y_mm.get_value()).tolist())
                await self.thickness.write((await sputter.thickness_nm.get_value()).tolist())
                await self.library_id.write(await sputter.library_id.get_value())

            await acquire(self.busy, deposit, "sputter", tasks)
            return value

    return Sputter


def counter_group(lab: RehearsalLab, counter: SimulatedCounter) -> type[PVGroup]:
    """COUNT_TIME, QUANTITY, GAIN, COUNTS, BACKGROUND, ACQUIRE, BUSY: a scaler behind a probe."""
    tasks: set[asyncio.Task] = set()

    class Counter(PVGroup):
        count_time = pvproperty(value=1.0, name="COUNT_TIME", units="s")
        quantity = pvproperty(value="", name="QUANTITY", dtype=ChannelType.STRING, read_only=True)
        gain = pvproperty(value=1.0, name="GAIN", read_only=True)
        counts = pvproperty(value=0.0, name="COUNTS", units="counts", read_only=True, alarm_group="results")
        background = pvproperty(
            value=0.0, name="BACKGROUND", units="counts", read_only=True, alarm_group="results"
        )
        saturation = pvproperty(value=COUNTER_SATURATION, name="SATURATION", units="counts", read_only=True)
        busy = busy_pv("BUSY", "Counting")
        start = pvproperty(value=0, name="ACQUIRE")

        @quantity.startup
        async def quantity(self, instance, async_lib) -> None:
            await instance.write(await counter.quantity.get_value())
            await self.gain.write(await counter.counts_per_unit_s.get_value())

        @start.putter
        async def start(self, instance, value: int) -> int:
            async def count() -> None:
                count_time_s = float(self.count_time.value)
                await counter.count_time_s.set(count_time_s)
                lab.under_beam()
                await counter.trigger()
                await lab.clock.wait(count_time_s)
                await self.gain.write(await counter.counts_per_unit_s.get_value())
                await self.background.write(await counter.background_counts.get_value())
                await self.counts.write(await counter.counts.get_value())

            await acquire(self.busy, count, counter.name, tasks, self.alarms["results"])
            return value

    return Counter


def rehearsal_pvdb(lab: RehearsalLab, prefix: str, elements: Sequence[str]) -> dict:
    """Every PV of the lab under `prefix`: SPUTTER:, STAGE:, XRD:, XAFS:, and PROBE:<objective>:."""
    groups: list[PVGroup] = [
        sputter_group(lab, elements)(prefix=f"{prefix}SPUTTER:"),
        stage_group(lab)(prefix=f"{prefix}STAGE:"),
        xrd_group(lab)(prefix=f"{prefix}XRD:"),
        xafs_group(lab)(prefix=f"{prefix}XAFS:"),
    ]
    for objective, counter in lab.counters.items():
        groups.append(counter_group(lab, counter)(prefix=probe_prefix(prefix, objective)))
    pvdb: dict = {}
    for group in groups:
        pvdb.update(group.pvdb)
    return pvdb


def client_environment(port: int) -> dict[str, str]:
    """What a Channel Access client needs to find the rehearsal IOC, and only it."""
    return {
        "EPICS_CA_ADDR_LIST": "127.0.0.1",
        "EPICS_CA_AUTO_ADDR_LIST": "NO",
        "EPICS_CA_SERVER_PORT": str(port),
        "EPICS_CA_MAX_ARRAY_BYTES": str(MAX_ARRAY_BYTES),
    }


def serve(lab: RehearsalLab, prefix: str, elements: Sequence[str], port: int) -> None:
    """Serve the lab's PVs on 127.0.0.1:`port` (TCP and UDP search) until stopped."""
    import caproto.server.common
    from caproto.asyncio.server import Context

    # caproto's CAPROTO_SERVER_HIGH_LOAD_TIMEOUT_SEC, read when caproto is imported (before this):
    # how long it waits to batch monitor updates; 10 ms by default, one acquisition's BUSY edges
    caproto.server.common.HIGH_LOAD_TIMEOUT = SUBSCRIPTION_BATCH_S

    class PromptContext(Context):
        """caproto's server with Nagle off on each client's circuit: with it on, a monitor update
        after a put's reply waited for the client's delayed ACK, 40 ms every acquisition."""

        async def tcp_handler(self, client, addr):
            client.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return await super().tcp_handler(client, addr)

    os.environ.update(
        client_environment(port),
        EPICS_CAS_SERVER_PORT=str(port),
        EPICS_CAS_INTF_ADDR_LIST="127.0.0.1",
        EPICS_CAS_AUTO_BEACON_ADDR_LIST="NO",
        EPICS_CAS_BEACON_ADDR_LIST="",  # no beacons: nothing listens for them on loopback
    )

    async def main() -> None:
        await lab.connect()
        context = PromptContext(rehearsal_pvdb(lab, prefix, elements), interfaces=["127.0.0.1"])
        await context.run(log_pv_names=False)

    asyncio.run(main())
