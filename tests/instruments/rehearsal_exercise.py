"""The rehearsal IOC started for a test, and one pass over every thin-film device, the same on
either form: deposit a library, load it, move to a spot, count XRD, XAFS at one energy and the
objective probe. Run as a module, it connects the EPICS forms to a rehearsal IOC (prefix, elements
and objectives from argv) and prints what it read."""

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from instruments.devices.counter import EpicsCounter
from instruments.devices.sputter import ShutterState
from instruments.devices.thin_film import ThinFilmDevices, epics_thin_film_devices
from instruments.epics_thin_film import probe_prefix


@contextmanager
def rehearsal_ioc(
    campaign: Path, port: int, *options: str, speed: float = 10_000.0
) -> Iterator[subprocess.Popen]:
    """`junkan ioc CAMPAIGN` on 127.0.0.1:`port`, up (its banner printed) until the block ends."""
    command = [sys.executable, "-m", "orchestrator", "ioc", str(campaign), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--speed", str(speed), *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert "rehearsal IOC" in banner, process.stderr.read() if process.stderr else banner
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


POWERS_W = {"Fe": 60.0, "Co": 35.0, "Ni": 50.0}
SPOT = 7


async def exercise(devices: ThinFilmDevices, counters: Mapping[str, Any]) -> dict[str, Any]:
    await asyncio.gather(*(d.connect(timeout=10) for d in [*devices.all, *counters.values()]))
    sputter = devices.sputter
    await sputter.deposition_time_s.set(900.0)
    for element, power in POWERS_W.items():
        await sputter.gun(element).power_w.set(power)
        await sputter.gun(element).shutter.set(ShutterState.OPEN)
    await sputter.trigger()
    library = await sputter.library_id.get_value()
    x, y = (await sputter.spot_x_mm.get_value())[SPOT], (await sputter.spot_y_mm.get_value())[SPOT]
    await devices.changer.set(library)
    await devices.stage.set((float(x), float(y)))
    await devices.xrd.count_time_s.set(2.0)
    await devices.xrd.trigger()
    await devices.xafs.absorber.set("Co")
    await devices.xafs.energy_ev.set(7712.0)
    await devices.xafs.count_time_s.set(0.5)
    await devices.xafs.trigger()
    read: dict[str, Any] = {
        "library": library,
        "thickness_nm": (await sputter.thickness_nm.get_value()).tolist(),
        "fe_fraction": (await sputter.fe_fraction.get_value()).tolist(),
        "stage_mm": [
            await devices.stage.x.user_readback.get_value(),
            await devices.stage.y.user_readback.get_value(),
        ],
        "xrd_counts": (await devices.xrd.counts.get_value()).tolist(),
        "xafs": [await devices.xafs.i0.get_value(), await devices.xafs.it.get_value()],
    }
    for objective, counter in counters.items():
        await counter.count_time_s.set(1.5)
        await counter.trigger()
        read[objective] = [await counter.counts.get_value(), await counter.background_counts.get_value()]
    return read


def epics_form(prefix: str, elements: Sequence[str], objectives: Sequence[str]):
    devices = epics_thin_film_devices(prefix, elements)
    counters = {o: EpicsCounter(probe_prefix(prefix, o), name=f"counter_{o}") for o in objectives}
    return devices, counters


async def beyond_the_limit(prefix: str) -> dict[str, Any]:
    """Ask the stage's X motor for a target past its travel: the move is refused, nothing moves."""
    from ophyd_async.epics.motor import Motor

    motor = Motor(f"{prefix}STAGE:X", name="x")
    await motor.connect(timeout=10)
    await motor.set(5.0)
    try:
        await motor.set(55.0)
    except Exception as refused:
        error = f"{type(refused).__name__}: {refused}"
    else:
        error = ""
    return {"error": error, "readback": await motor.user_readback.get_value()}


async def between_spots(prefix: str, elements: Sequence[str], objectives: Sequence[str]) -> dict[str, Any]:
    """Count with the beam between two spots of a fresh library (no film there), then on a spot:
    the first acquisition's error, and what the second read."""
    devices, counters = epics_form(prefix, elements, objectives)
    await asyncio.gather(*(d.connect(timeout=10) for d in [*devices.all, *counters.values()]))
    sputter = devices.sputter
    await sputter.deposition_time_s.set(600.0)
    for element in elements:
        await sputter.gun(element).power_w.set(50.0)
        await sputter.gun(element).shutter.set(ShutterState.OPEN)
    await sputter.trigger()
    await devices.changer.set(await sputter.library_id.get_value())
    xs, ys = await sputter.spot_x_mm.get_value(), await sputter.spot_y_mm.get_value()
    await devices.stage.set(((xs[0] + xs[1]) / 2, (ys[0] + ys[1]) / 2))
    read: dict[str, Any] = {}
    for name, device in [("xrd", devices.xrd), *counters.items()]:
        try:
            await device.trigger()
        except Exception as error:
            read[f"{name}_error"] = f"{type(error).__name__}: {error}"
    await devices.stage.set((float(xs[0]), float(ys[0])))
    await devices.xrd.trigger()
    read["xrd_after"] = float(sum(await devices.xrd.counts.get_value()))
    return read


async def setpoints(prefix: str, elements: Sequence[str], objectives: Sequence[str]) -> dict[str, Any]:
    """Every setpoint a plan could move, read back from the IOC: what a refused request must leave."""
    devices, counters = epics_form(prefix, elements, objectives)
    await asyncio.gather(*(d.connect(timeout=10) for d in [*devices.all, *counters.values()]))
    sputter = devices.sputter
    signals = {
        "deposition_time_s": sputter.deposition_time_s,
        "heater_c": sputter.heater_c,
        "library_id": sputter.library_id,
        "stage_x": devices.stage.x.user_setpoint,
        "stage_y": devices.stage.y.user_setpoint,
        "wafer": devices.changer.wafer,
        "xrd_count_time_s": devices.xrd.count_time_s,
        "xafs_energy_ev": devices.xafs.energy_ev,
        "xafs_count_time_s": devices.xafs.count_time_s,
        **{f"{e}_power_w": sputter.gun(e).power_w for e in elements},
        **{f"{e}_shutter": sputter.gun(e).shutter for e in elements},
        **{f"{o}_count_time_s": c.count_time_s for o, c in counters.items()},
    }
    read: dict[str, Any] = {}
    for name, signal in signals.items():
        value = await signal.get_value()
        read[name] = value if isinstance(value, int | float | str) else str(value)
    return read


if __name__ == "__main__":
    if sys.argv[1] == "--limits":
        print(json.dumps(asyncio.run(beyond_the_limit(sys.argv[2]))))
        sys.exit()
    if sys.argv[1] == "--between-spots":
        print(
            json.dumps(
                asyncio.run(between_spots(sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(",")))
            )
        )
        sys.exit()
    if sys.argv[1] == "--setpoints":
        print(json.dumps(asyncio.run(setpoints(sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(",")))))
        sys.exit()
    prefix, elements, objectives = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
    print(json.dumps(asyncio.run(exercise(*epics_form(prefix, elements, objectives)))))
