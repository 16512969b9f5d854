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
def rehearsal_ioc(campaign: Path, port: int, *options: str, speed: float = 10_000.0) -> Iterator[None]:
    """`junkan ioc CAMPAIGN` on 127.0.0.1:`port`, up (its banner printed) until the block ends."""
    command = [sys.executable, "-m", "orchestrator", "ioc", str(campaign), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--speed", str(speed), *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert "rehearsal IOC" in banner, process.stderr.read() if process.stderr else banner
        yield
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


if __name__ == "__main__":
    if sys.argv[1] == "--limits":
        print(json.dumps(asyncio.run(beyond_the_limit(sys.argv[2]))))
        sys.exit()
    prefix, elements, objectives = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
    print(json.dumps(asyncio.run(exercise(*epics_form(prefix, elements, objectives)))))
