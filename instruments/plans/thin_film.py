"""Bluesky plans for composition-spread films: deposit a library, measure spots by XRD and XAFS.

Each plan opens one run whose start document carries what the run is about (campaign, proposal,
spot, composition, units); arrays (patterns, spectra) are event data whose axes travel with them.
A fault raised by a device is re-raised naming the condition the plan was working on.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
import xraydb
from bluesky.utils import MsgGenerator

from instruments.devices.sputter import SAFE_HEATER_C, ShutterState, SputterSystem
from instruments.devices.wafer_stage import SampleChanger, WaferStage
from instruments.devices.xafs_setup import XafsSetup
from instruments.devices.xrd_detector import XrdDetector
from instruments.faults import faults_named
from instruments.request_checks import (
    MAX_DEPOSITION_S,
    MAX_GUN_POWER_W,
    MAX_HEATER_C,
    checked_count_time,
    checked_powers,
    checked_within,
)

K_PER_SQRT_EV = 0.2624682917  # k^2 (1/A^2) per eV above the edge


def xafs_scan_energies(
    element: str,
    pre_edge: tuple[float, float, float] = (-150.0, -20.0, 5.0),
    xanes: tuple[float, float, float] = (-20.0, 40.0, 0.5),
    k_max: float = 10.0,
    k_step: float = 0.05,
) -> np.ndarray:
    """A standard XAFS scan around xraydb's K edge: coarse pre-edge, fine XANES, uniform steps in k."""
    e0 = float(xraydb.xray_edge(element, "K").energy)
    pre = np.arange(*pre_edge)
    near = np.arange(*xanes)
    k = np.arange(np.sqrt(K_PER_SQRT_EV * xanes[1]), k_max + 1e-9, k_step)
    return e0 + np.concatenate([pre, near, k**2 / K_PER_SQRT_EV])


def _close_shutters_and_cool(sputter: SputterSystem) -> MsgGenerator[None]:
    """What must hold after any deposition, finished or failed: shutters closed, heater safe."""
    moves: list[Any] = []
    for element in sputter.elements:
        moves += [sputter.gun(element).shutter, ShutterState.CLOSED]
    moves += [sputter.heater_c, SAFE_HEATER_C]
    yield from bps.mv(*moves)


def deposit_library(
    sputter: SputterSystem,
    powers_w: Mapping[str, float],
    duration_s: float,
    heater_c: float = SAFE_HEATER_C,
    md: Mapping[str, Any] | None = None,
    max_power_w: float = MAX_GUN_POWER_W,
) -> MsgGenerator[None]:
    """Co-sputter one library: set powers and heater, open the shutters of powered guns, deposit.
    Powers, duration and heater are checked before anything moves."""
    powers = {e: 0.0 for e in sputter.elements} | checked_powers(powers_w, sputter.elements, max_power_w)
    duration_s = checked_within("the deposition time", duration_s, 1e-3, MAX_DEPOSITION_S, "s")
    heater_c = checked_within("the heater setpoint", heater_c, 0.0, MAX_HEATER_C, "degC")
    condition = {f"{e}_power_w": p for e, p in powers.items()}
    start_md = {
        "plan_name": "deposit_library",
        "plan_args": {"powers_w": powers, "duration_s": float(duration_s), "heater_c": float(heater_c)},
        "powers_w": powers,
        "duration_s": float(duration_s),
        "heater_c": float(heater_c),
        "units": {"powers_w": "W", "duration_s": "s", "heater_c": "degC"},
        **(md or {}),
    }

    def body() -> MsgGenerator[None]:
        setpoints: list[Any] = [
            sputter.deposition_time_s,
            float(duration_s),
            sputter.heater_c,
            float(heater_c),
        ]
        for element, power in powers.items():
            setpoints += [sputter.gun(element).power_w, power]
        yield from bps.mv(*setpoints)
        opened: list[Any] = []
        for element, power in powers.items():
            if power > 0:
                opened += [sputter.gun(element).shutter, ShutterState.OPEN]
        yield from bps.mv(*opened)
        with faults_named(condition):
            yield from bps.trigger(sputter, wait=True)
        yield from _close_shutters_and_cool(sputter)
        yield from bps.create("primary")  # read, not trigger: triggering deposits again
        yield from bps.read(sputter)
        yield from bps.save()

    @bpp.run_decorator(md=start_md)
    def run() -> MsgGenerator[None]:
        yield from bpp.finalize_wrapper(body(), _close_shutters_and_cool(sputter))

    yield from run()


def measure_spot(
    stage: WaferStage,
    position_mm: tuple[float, float],
    detectors: Sequence[tuple[Any, float]],
    md: Mapping[str, Any] | None = None,
    plan_name: str = "measure_spot",
    wafer: "tuple[SampleChanger, str] | None" = None,
) -> MsgGenerator[None]:
    """Move to a spot, set each detector's count time, and read them all in one event. `wafer`: the
    sample changer and the library to load first (read into the event beside the stage)."""
    stage.check(position_mm)  # refused before the run opens, before any motion
    for detector, count_time_s in detectors:
        checked_count_time(f"the count time of {detector.name}", count_time_s)
    condition = {"x_mm": float(position_mm[0]), "y_mm": float(position_mm[1]), **_composition(md)}
    names = [d.name for d, _ in detectors]
    start_md = {
        "plan_name": plan_name,
        "plan_args": {
            "position_mm": list(map(float, position_mm)),
            "count_time_s": {n: float(t) for n, (_, t) in zip(names, detectors, strict=True)},
        },
        "position_mm": list(map(float, position_mm)),
        "count_time_s": {n: float(t) for n, (_, t) in zip(names, detectors, strict=True)},
        "detectors": names,
        "axes": {
            f"{n}-counts": f"{n}-two_theta_deg"
            for d, _ in detectors
            if isinstance(d, XrdDetector)
            for n in [d.name]
        },
        **(md or {}),
    }
    setpoints: list[Any] = [stage, tuple(position_mm)]
    for detector, count_time_s in detectors:
        setpoints += [detector.count_time_s, float(count_time_s)]

    readers: list[Any] = [*(d for d, _ in detectors), stage, *([wafer[0]] if wafer else [])]

    @bpp.run_decorator(md=start_md)
    def run() -> MsgGenerator[None]:
        with faults_named(condition):
            if wafer is not None:  # the wafer first: the stage then moves under it
                yield from bps.mv(*wafer)
            yield from bps.mv(*setpoints)
            yield from bps.trigger_and_read(readers)

    yield from run()


def measure_xrd(
    stage: WaferStage,
    detector: XrdDetector,
    position_mm: tuple[float, float],
    count_time_s: float,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator[None]:
    """Move to a spot and count one diffraction pattern (one event: 2-theta axis and counts)."""
    run_md = {"technique": "xrd", **(md or {})}
    yield from measure_spot(stage, position_mm, [(detector, count_time_s)], run_md, plan_name="measure_xrd")


def measure_xafs(
    stage: WaferStage,
    setup: XafsSetup,
    position_mm: tuple[float, float],
    element: str,
    count_time_s: float,
    energies_ev: Sequence[float] | None = None,
    md: Mapping[str, Any] | None = None,
    wafer: "tuple[SampleChanger, str] | None" = None,
) -> MsgGenerator[None]:
    """Move to a spot and step the monochromator across `element`'s K edge: one event per energy.
    `wafer`: the sample changer and the library to load first."""
    stage.check(position_mm)
    checked_count_time(f"the count time of {setup.name}", count_time_s)
    energies = np.asarray(
        energies_ev if energies_ev is not None else xafs_scan_energies(element), dtype=float
    )
    condition = {"x_mm": float(position_mm[0]), "y_mm": float(position_mm[1]), **_composition(md)}
    start_md = {
        "plan_name": "measure_xafs",
        "plan_args": {"position_mm": list(map(float, position_mm)), "element": element},
        "technique": "xafs",
        "absorber": element,
        "edge": "K",
        "edge_energy_ev": float(xraydb.xray_edge(element, "K").energy),
        "position_mm": list(map(float, position_mm)),
        "count_time_s": float(count_time_s),
        "num_points": len(energies),
        "detectors": [setup.name],
        "motors": [setup.energy_ev.name],
        **(md or {}),
    }

    @bpp.run_decorator(md=start_md)
    def run() -> MsgGenerator[None]:
        with faults_named(condition):
            if wafer is not None:
                yield from bps.mv(*wafer)
            yield from bps.mv(
                stage, tuple(position_mm), setup.absorber, element, setup.count_time_s, count_time_s
            )
            for energy in energies:
                yield from bps.mv(setup.energy_ev, float(energy))
                yield from bps.trigger_and_read([setup])

    yield from run()


@dataclass(frozen=True)
class SpotRequest:
    """A spot to characterise, and what the run's metadata should say about it."""

    spot_id: str
    position_mm: tuple[float, float]
    md: Mapping[str, Any] = field(default_factory=dict)


def shortest_tour(start_mm: tuple[float, float], spots: Sequence[SpotRequest]) -> list[SpotRequest]:
    """Visit order by nearest neighbour from the stage's position: short travel, no solver needed."""
    left = list(spots)
    here = np.array(start_mm, dtype=float)
    order = []
    while left:
        distances = [np.hypot(*(np.array(s.position_mm) - here)) for s in left]
        nearest = left.pop(int(np.argmin(distances)))
        order.append(nearest)
        here = np.array(nearest.position_mm)
    return order


def characterize_spots(
    stage: WaferStage,
    spots: Sequence[SpotRequest],
    start_mm: tuple[float, float],
    xrd: XrdDetector | None = None,
    xrd_count_time_s: float = 1.0,
    xafs: XafsSetup | None = None,
    xafs_element: str | None = None,
    xafs_count_time_s: float = 1.0,
    md: Mapping[str, Any] | None = None,
) -> MsgGenerator[list[str]]:
    """Several spots, several techniques: one run per spot and technique, spots in a short tour."""
    if xafs is not None and xafs_element is None:
        raise ValueError("give xafs_element (the absorber) to measure XAFS")
    for spot in spots:
        stage.check(spot.position_mm)  # refuse the whole batch before any motion
    order = shortest_tour(start_mm, spots)
    for spot in order:
        spot_md = {**(md or {}), **spot.md, "spot_id": spot.spot_id}
        if xrd is not None:
            yield from measure_xrd(stage, xrd, spot.position_mm, xrd_count_time_s, md=spot_md)
        if xafs is not None and xafs_element is not None:
            yield from measure_xafs(
                stage, xafs, spot.position_mm, xafs_element, xafs_count_time_s, md=spot_md
            )
    return [s.spot_id for s in order]


def _composition(md: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict((md or {}).get("composition", {}))
