"""The thin-film instrument: realise a proposed composition on a library spot, then measure it.

A proposal names a composition. If an unmeasured spot of an existing library lies within
`spot_tolerance` of it (by measured composition), that spot is measured: seconds. Otherwise a new
library is deposited with gun powers that put the proposal at the wafer centre (hours), and its
nearest spot is measured. Each measurement is one run counting the objectives and the diffraction
pattern, and optionally one XAFS scan; the reduction reports the spot's measured composition as
the condition, phase fractions, edge energy and oxidation state, and keeps pattern and spectrum.

What it deposited and measured lives in the record, not only in memory: `restore_documents` rebuilds
the library registry (and a simulated lab's films) from the deposit and spot runs' documents, so a
campaign resumes after its process died. A proposal whose earlier attempt deposited a library or
chose a spot goes back to that library or spot: a retry never deposits a second wafer.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import bluesky.plan_stubs as bps
import numpy as np
from bluesky.utils import MsgGenerator
from ophyd_async.core import Device

from instruments.devices.sputter import SAFE_HEATER_C
from instruments.devices.thin_film import ThinFilmDevices
from instruments.faults import faults_named
from instruments.plans.thin_film import deposit_library, measure_spot, measure_xafs
from instruments.protocols import CountingDetector
from instruments.reduction.reducer import (
    CountingReducer,
    Document,
    RawArray,
    Reduction,
    ReductionError,
    split_runs,
)
from instruments.reduction.xafs import XafsReducer, xafs_scan
from instruments.reduction.xrd import XrdPhaseFractionReducer, xrd_pattern
from instruments.request_checks import MAX_GUN_POWER_W, checked_composition, checked_count_time


@dataclass
class LibraryRecord:
    library_id: str
    positions_mm: np.ndarray
    compositions: np.ndarray  # measured (WDS/XRF)
    thickness_nm: np.ndarray
    measured: set[int] = field(default_factory=set)
    failed: str = ""  # why its spots are not offered (a deposition cut short: the wafer may be ruined)
    powers_w: dict[str, float] = field(default_factory=dict)  # how it was made: what a lab (or a
    duration_s: float = 0.0  # simulated one, rebuilding its film) needs besides the read-out

    def read_out(self, elements: Sequence[str]) -> dict[str, Any]:
        """The deposit run's event data this record was made from (plain lists)."""
        data: dict[str, Any] = {
            "sputter-library_id": self.library_id,
            "sputter-spot_x_mm": self.positions_mm[:, 0].tolist(),
            "sputter-spot_y_mm": self.positions_mm[:, 1].tolist(),
            "sputter-thickness_nm": self.thickness_nm.tolist(),
        }
        for i, element in enumerate(elements):
            data[f"sputter-{element.lower()}_fraction"] = self.compositions[:, i].tolist()
        return data


@dataclass(frozen=True)
class SpotChoice:
    library: LibraryRecord
    index: int
    distance: float

    @property
    def spot_id(self) -> str:
        return f"{self.library.library_id}-{self.index:03d}"


@dataclass(frozen=True)
class ThinFilmSettings:
    elements: tuple[str, ...]
    objective_count_time_s: float = 1.0
    xrd_count_time_s: float | None = 1.0
    xafs_element: str | None = None
    xafs_count_time_s: float = 0.5
    xafs_energies_ev: tuple[float, ...] | None = None
    library_duration_s: float = 1800.0
    heater_c: float = SAFE_HEATER_C
    spot_tolerance: float = 0.03
    max_power_w: float = MAX_GUN_POWER_W
    atoms_per_s_per_w: Mapping[str, float] = field(default_factory=dict)  # at the wafer centre


class ThinFilmInstrument:
    def __init__(
        self,
        devices: ThinFilmDevices,
        counters: Mapping[str, CountingDetector],
        settings: ThinFilmSettings,
        phase_reducer: XrdPhaseFractionReducer | None = None,
        xafs_reducer: XafsReducer | None = None,
        feature_units: Mapping[str, str] | None = None,
    ) -> None:
        self.hardware = devices
        self.counters = dict(counters)
        self.settings = settings
        self.phase_reducer = phase_reducer
        self.xafs_reducer = xafs_reducer
        self.libraries: dict[str, LibraryRecord] = {}
        self._counting = [CountingReducer(c.name, objective) for objective, c in self.counters.items()]
        self._choices: dict[str, tuple[SpotChoice, bool]] = {}
        self.deposited_by: dict[str, str] = {}  # proposal id -> the library its plan deposited
        self.spot_of: dict[str, str] = {}  # proposal id -> the spot its plan chose
        self.interrupted_deposits: dict[str, str] = {}  # proposal id -> why its deposition failed
        self.quantity_units = dict(feature_units or {})

    @property
    def devices(self) -> list[Device]:
        """Everything the executor connects."""
        return [*self.hardware.all, *self.counters.values()]

    # -- deciding where to measure ---------------------------------------------------------
    def nearest_unmeasured(self, target: np.ndarray, tolerance: float) -> SpotChoice | None:
        best: SpotChoice | None = None
        for library in self.libraries.values():
            choice = None if library.failed else self._nearest_in(library, target)
            near = choice is not None and choice.distance <= tolerance
            if near and (best is None or choice.distance < best.distance):  # type: ignore[union-attr]
                best = choice
        return best

    @staticmethod
    def _nearest_in(library: LibraryRecord, target: np.ndarray) -> SpotChoice | None:
        """The unmeasured spot of `library` nearest to `target`; None when every spot is measured."""
        distance = np.linalg.norm(library.compositions - target, axis=1)
        distance[list(library.measured)] = np.inf
        i = int(np.argmin(distance))
        return SpotChoice(library, i, float(distance[i])) if np.isfinite(distance[i]) else None

    def _unmeasured_in(self, library: LibraryRecord, target: np.ndarray) -> SpotChoice:
        choice = self._nearest_in(library, target)
        if choice is None:
            raise ReductionError(f"library {library.library_id} has no unmeasured spot")
        return choice

    def powers_for(self, condition: Mapping[str, float]) -> dict[str, float]:
        """Gun powers that deposit `condition` at the wafer centre (atoms per W from calibration)."""
        rates = self.settings.atoms_per_s_per_w
        missing = [e for e in self.settings.elements if rates.get(e, 0) <= 0]
        if missing:
            raise ValueError(f"no deposition-rate calibration for {missing}")
        raw = {e: max(condition[e], 0.0) / rates[e] for e in self.settings.elements}
        scale = self.settings.max_power_w / max(raw.values())
        return {e: round(p * scale, 3) for e, p in raw.items()}

    def _read_library(self, powers_w: Mapping[str, float], duration_s: float) -> MsgGenerator[LibraryRecord]:
        sputter = self.hardware.sputter
        data = {"sputter-library_id": (yield from bps.rd(sputter.library_id))}
        for key in ("spot_x_mm", "spot_y_mm", "thickness_nm"):
            data[f"sputter-{key}"] = yield from bps.rd(getattr(sputter, key))
        for element in self.settings.elements:
            key = f"{element.lower()}_fraction"
            data[f"sputter-{key}"] = yield from bps.rd(getattr(sputter, key))
        return self._add_library(self._library_from(data, powers_w, duration_s))

    def _library_from(
        self, data: Mapping[str, Any], powers_w: Mapping[str, float], duration_s: float
    ) -> LibraryRecord:
        """A library as the sputter system reads it out (the deposit run's event data)."""
        fractions = [data[f"sputter-{e.lower()}_fraction"] for e in self.settings.elements]
        return LibraryRecord(
            str(data["sputter-library_id"]),
            np.column_stack([data["sputter-spot_x_mm"], data["sputter-spot_y_mm"]]).astype(float),
            np.column_stack(fractions).astype(float),
            np.asarray(data["sputter-thickness_nm"], dtype=float),
            powers_w={e: float(p) for e, p in powers_w.items()},
            duration_s=float(duration_s),
        )

    def _add_library(self, record: LibraryRecord) -> LibraryRecord:
        """Into the registry, and its film into a simulated lab, unless known already (the record
        a plan made in this process, or documents seen before): adding is idempotent."""
        known = self.libraries.get(record.library_id)
        if known is not None:
            known.failed = known.failed or record.failed
            return known
        self.libraries[record.library_id] = record
        if self.hardware.lab is not None and record.library_id not in self.hardware.lab.libraries:
            self.hardware.lab.restore_library(
                record.library_id,
                record.powers_w,
                record.duration_s,
                record.positions_mm,
                record.compositions,
                record.thickness_nm,
            )
        return record

    def spot_by_id(self, spot_id: str, again: bool = False) -> SpotChoice:
        """The spot of that id; `again`: one this proposal chose before (it was not observed)."""
        library_id, _, index = spot_id.rpartition("-")
        library = self.libraries.get(library_id)
        if library is None or not index.isdigit() or int(index) >= len(library.positions_mm):
            raise ValueError(f"no spot {spot_id!r}; libraries: {sorted(self.libraries)}")
        if library.failed:
            raise ValueError(f"spot {spot_id!r} is on library {library_id}, which failed: {library.failed}")
        if int(index) in library.measured and not again:
            raise ValueError(f"spot {spot_id!r} was measured already")
        return SpotChoice(library, int(index), 0.0)

    def unmeasured_spots(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Ids and measured compositions of every spot not yet measured: the cheap candidates."""
        ids, rows = [], []
        for library in self.libraries.values():
            if library.failed:
                continue
            for i, composition in enumerate(library.compositions):
                if i not in library.measured:
                    ids.append(SpotChoice(library, i, 0.0).spot_id)
                    rows.append(composition)
        return tuple(ids), np.array(rows).reshape(-1, len(self.settings.elements))

    def spot_seconds(self) -> float:
        """Instrument time of one spot: counters, pattern and spectrum, plus stage and set-up overhead."""
        s = self.settings
        seconds = s.objective_count_time_s + (s.xrd_count_time_s or 0.0) + 10.0
        if s.xafs_element is not None:
            points = len(s.xafs_energies_ev) if s.xafs_energies_ev else 282
            seconds += points * (s.xafs_count_time_s + 0.2)
        return seconds

    def library_seconds(self) -> float:
        """A new library: deposition, a pump-down and transfer (30 min), then its first spot."""
        return self.settings.library_duration_s + 1800.0 + self.spot_seconds()

    # -- the plan ------------------------------------------------------------------------
    def plan(
        self, condition: Mapping[str, float], measurement: Mapping[str, float], md: Mapping[str, Any]
    ) -> MsgGenerator[None]:
        """Measure `condition` on a spot of a library, depositing one if none is near; the request
        is checked before anything moves, and a device's failure comes out as a typed fault."""
        s = self.settings
        condition = checked_composition(condition, s.elements)
        count_time_s = checked_count_time(
            "count_time_s", measurement.get("count_time_s", s.objective_count_time_s)
        )
        with faults_named(condition):
            yield from self._make_and_measure(condition, count_time_s, md)

    def _make_and_measure(
        self, condition: Mapping[str, float], count_time_s: float, md: Mapping[str, Any]
    ) -> MsgGenerator[None]:
        s = self.settings
        target = np.array([condition[e] for e in s.elements])
        pid = str(md.get("proposal_id", ""))
        deposited = self.libraries.get(self.deposited_by.get(pid, ""))
        choice: SpotChoice | None
        if pid in self.spot_of:  # an earlier attempt chose this spot and was not observed
            choice = self.spot_by_id(self.spot_of[pid], again=True)
        elif deposited is not None:  # an earlier attempt deposited: measure that wafer, not a new one
            choice = self._unmeasured_in(deposited, target)
        elif md.get("target_spot"):  # the policy chose an existing spot
            choice = self.spot_by_id(str(md["target_spot"]))
        elif md.get("reason") == "new library":  # the policy chose to deposit
            choice = None
        else:  # a policy that does not weigh costs: reuse a spot close enough, else deposit
            choice = self.nearest_unmeasured(target, s.spot_tolerance)
        new_library = choice is None or deposited is not None
        if choice is None:
            powers = self.powers_for(condition)
            yield from deposit_library(
                self.hardware.sputter,
                powers,
                s.library_duration_s,
                s.heater_c,
                md={**md, "target": dict(condition)},
                max_power_w=s.max_power_w,
            )
            record = yield from self._read_library(powers, s.library_duration_s)
            self.deposited_by[pid] = record.library_id
            choice = self._unmeasured_in(record, target)
        choice.library.measured.add(choice.index)
        self.spot_of[pid] = choice.spot_id
        composition = dict(
            zip(s.elements, map(float, choice.library.compositions[choice.index]), strict=True)
        )
        spot_md = {
            **md,
            "spot_id": choice.spot_id,
            "library_id": choice.library.library_id,
            "composition": composition,
            "composition_units": "at. fraction",
            "new_library": new_library,
        }
        self._choices[str(md.get("proposal_id", ""))] = (choice, new_library)
        position = tuple(float(v) for v in choice.library.positions_mm[choice.index])
        wafer = (self.hardware.changer, choice.library.library_id)
        detectors: list[tuple[Any, float]] = [(c, count_time_s) for c in self.counters.values()]
        if s.xrd_count_time_s is not None:
            detectors.append((self.hardware.xrd, s.xrd_count_time_s))
        yield from measure_spot(
            self.hardware.stage, position, detectors, {**spot_md, "technique": "properties+xrd"}, wafer=wafer
        )
        if s.xafs_element is not None:
            yield from measure_xafs(
                self.hardware.stage,
                self.hardware.xafs,
                position,
                s.xafs_element,
                s.xafs_count_time_s,
                s.xafs_energies_ev,
                md=spot_md,
                wafer=wafer,
            )

    # -- the record ------------------------------------------------------------------------
    def restore_documents(self, plans: Sequence[tuple[str, Sequence[Document]]]) -> None:
        """Rebuild the registry from every plan's documents (earlier attempts included, in the
        order they ran): each deposit run's event is a library; a deposit run without a successful
        stop is a failed library; a spot run that started is a spot taken by its proposal. A
        simulated lab gets its films back (`SimulatedLab.restore_library`)."""
        for pid, documents in plans:
            for run in split_runs(documents).values():
                start = run[0][1]
                stops = [doc for name, doc in run if name == "stop"]
                succeeded = bool(stops) and stops[-1].get("exit_status") == "success"
                if start.get("plan_name") == "deposit_library":
                    self._restore_deposit(pid, start, run, succeeded)
                elif start.get("plan_name") == "measure_spot" and start.get("spot_id"):
                    choice = self.spot_by_id(str(start["spot_id"]), again=True)
                    choice.library.measured.add(choice.index)
                    self.spot_of[pid] = choice.spot_id
                    self._choices[pid] = (choice, pid in self.deposited_by)

    def _restore_deposit(
        self, pid: str, start: Mapping[str, Any], run: Sequence[Document], succeeded: bool
    ) -> None:
        events = [doc for name, doc in run if name == "event" and "sputter-library_id" in doc["data"]]
        self.interrupted_deposits.pop(pid, None)
        self.deposited_by.pop(pid, None)
        if not succeeded:
            why = f"its deposition ({start.get('uid', '?')[:8]}) was cut short; the wafer may be ruined"
            self.interrupted_deposits[pid] = why
        if not events:
            return
        record = self._library_from(events[-1]["data"], start["powers_w"], start["duration_s"])
        record.failed = "" if succeeded else self.interrupted_deposits[pid]
        self.deposited_by[pid] = self._add_library(record).library_id

    def record_summary(self) -> dict[str, Any]:
        """What this instrument made and measured, JSON-ready: sent with each plan to a queue
        server's worker, whose own instrument adopts what it does not know (`adopt_record`), so a
        fresh worker measures the same wafers as the orchestrator's record says."""
        return {
            "libraries": [
                {
                    "read_out": library.read_out(self.settings.elements),
                    "powers_w": library.powers_w,
                    "duration_s": library.duration_s,
                    "measured": sorted(library.measured),
                    "failed": library.failed,
                }
                for library in self.libraries.values()
            ],
            "deposited_by": dict(self.deposited_by),
            "spot_of": dict(self.spot_of),
        }

    def adopt_record(self, summary: Mapping[str, Any]) -> None:
        for entry in summary.get("libraries", []):
            record = self._library_from(entry["read_out"], entry["powers_w"], entry["duration_s"])
            record.failed = str(entry.get("failed", ""))
            self._add_library(record).measured.update(int(i) for i in entry.get("measured", []))
        self.deposited_by.update(summary.get("deposited_by", {}))
        self.spot_of.update(summary.get("spot_of", {}))

    def interrupted(self, proposal_id: str) -> str | None:
        """Once per proposal: its deposition was cut short (the process died mid-run)."""
        why = self.interrupted_deposits.pop(proposal_id, None)
        if why is not None:
            self.deposited_by.pop(proposal_id, None)  # asked again, it deposits a new library
        return why

    # -- the reduction ---------------------------------------------------------------------
    def reduce(self, documents: Sequence[Document]) -> Reduction:
        runs = split_runs(documents)
        by_plan = {run[0][1]["plan_name"]: run for run in runs.values()}
        spot_run = by_plan.get("measure_spot")
        if spot_run is None:
            raise ReductionError("no measure_spot run among the documents")
        start = spot_run[0][1]
        values: dict[str, float] = {}
        variances: dict[str, float] = {}
        for reducer in self._counting:
            part = reducer.reduce(spot_run)
            values.update(part.values)
            variances.update(part.variances)
        raw: dict[str, RawArray] = {}
        if self.settings.xrd_count_time_s is not None:
            _, two_theta, counts, _ = xrd_pattern(spot_run, self.hardware.xrd.name)
            raw["xrd_counts"] = RawArray("two_theta_deg", two_theta, counts, "counts", "deg")
            if self.phase_reducer is not None:
                part = self.phase_reducer.reduce(spot_run)
                values.update({k: v for k, v in part.values.items() if k.startswith("fraction_")})
                variances.update({k: v for k, v in part.variances.items() if k.startswith("fraction_")})
        xafs_run = by_plan.get("measure_xafs")
        if xafs_run is not None:
            scan = xafs_scan(xafs_run, self.hardware.xafs.name)
            raw["xafs_mu"] = RawArray("energy_ev", scan.energy_ev, scan.mu, "", "eV")
            if self.xafs_reducer is not None:
                part = self.xafs_reducer.reduce(xafs_run)
                values.update(part.values)
                variances.update(part.variances)
        choice, new_library = self._choices.pop(str(start.get("proposal_id", "")), (None, False))
        sample: dict[str, str | float | bool] = {
            "spot_id": start["spot_id"],
            "new_library": bool(new_library),
        }
        if choice is not None:
            x, y = choice.library.positions_mm[choice.index]
            sample.update(
                library_id=choice.library.library_id,
                x_mm=float(x),
                y_mm=float(y),
                thickness_nm=float(choice.library.thickness_nm[choice.index]),
            )
        return Reduction(start["uid"], values, variances, dict(start["composition"]), sample, raw)
