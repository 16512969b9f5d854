"""A pool instrument: serves recorded measurements row by row, so the loop runs over real data.

A `RecordedTable` holds conditions (inputs), scalar results and array results with their axis
(e.g. XRD patterns over 2-theta). `RecordedPool` is an ophyd-async device: set `row`, trigger, read.
"""

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
from bluesky.protocols import Triggerable
from bluesky.utils import MsgGenerator
from ophyd_async.core import (
    Array1D,
    AsyncStatus,
    StandardReadable,
    StandardReadableFormat,
    soft_signal_r_and_setter,
    soft_signal_rw,
)

from instruments.recorded.fe_ga_pd import load_fe_ga_pd, read_table
from instruments.reduction.reducer import Document, Reduction, ReductionError, run_documents


@dataclass(frozen=True)
class ArrayResult:
    axis_name: str
    axis: np.ndarray
    values: np.ndarray  # (n_rows, len(axis))
    units: str = ""
    axis_units: str = ""


@dataclass(frozen=True)
class RecordedTable:
    """Measured rows: conditions, scalar results and array results, aligned by row."""

    name: str
    conditions: Mapping[str, np.ndarray]
    results: Mapping[str, np.ndarray]
    arrays: Mapping[str, ArrayResult] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lengths = {k: len(v) for k, v in {**self.conditions, **self.results}.items()}
        lengths.update({k: len(a.values) for k, a in self.arrays.items()})
        if len(set(lengths.values())) > 1:
            raise ValueError(f"table {self.name!r}: columns have different lengths {lengths}")
        if not lengths:
            raise ValueError(f"table {self.name!r} has no columns")

    def __len__(self) -> int:
        return len(next(iter({**self.conditions, **self.results}.values())))


def load_table(path: Path, inputs: Sequence[str], outputs: Sequence[str]) -> RecordedTable:
    """A CSV with a header row: `inputs` become conditions, `outputs` scalar results."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except OSError as exc:
        raise ValueError(f"cannot read table {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"table {path} is not UTF-8 CSV text: {exc}") from None
    if not rows:
        raise ValueError(f"table {path} has no rows")
    for i, row in enumerate(rows):  # DictReader pads a short row with None, files extra fields under None
        extra = row.pop(None, None) or []  # type: ignore[call-overload]
        if extra or None in row.values():
            fields = sum(v is not None for v in row.values()) + len(extra)
            raise ValueError(
                f"table {path}, data row {i + 1} (line {i + 2}): {fields} field(s) where the header has "
                f"{len(header)} ({', '.join(header)}); every row needs one value per column"
            )
    missing = [c for c in [*inputs, *outputs] if c not in header]
    if missing:
        raise ValueError(f"table {path} lacks column(s) {missing}; it has {header}")

    def column(name: str) -> np.ndarray:
        try:
            return np.array([float(r[name]) for r in rows])
        except ValueError as exc:
            raise ValueError(f"table {path}, column {name!r}: {exc}") from None

    return RecordedTable(path.stem, {c: column(c) for c in inputs}, {c: column(c) for c in outputs})


class RecordedPool(StandardReadable, Triggerable):
    """Set `row`, trigger, and every column of that row is read back as data."""

    def __init__(self, table: RecordedTable, name: str = "") -> None:
        self.table = table
        self._setters: dict[str, Any] = {}
        with self.add_children_as_readables(StandardReadableFormat.CONFIG_SIGNAL):
            self.row = soft_signal_rw(int, 0)
        with self.add_children_as_readables(StandardReadableFormat.UNCACHED_SIGNAL):
            for key in [*table.conditions, *table.results]:
                signal, setter = soft_signal_r_and_setter(float, 0.0, units=table.units.get(key))
                setattr(self, key, signal)
                self._setters[key] = setter
            for key, array in table.arrays.items():
                signal, setter = soft_signal_r_and_setter(
                    Array1D[np.float64], np.zeros(len(array.axis)), units=array.units or None
                )
                setattr(self, key, signal)
                self._setters[key] = setter
                axis, _ = soft_signal_r_and_setter(
                    Array1D[np.float64], array.axis.astype(float), units=array.axis_units or None
                )
                setattr(self, array.axis_name, axis)
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        row = await self.row.get_value()
        if not 0 <= row < len(self.table):
            raise ValueError(f"row {row} is outside table {self.table.name!r} (0 to {len(self.table) - 1})")
        for key, column in {**self.table.conditions, **self.table.results}.items():
            self._setters[key](float(column[row]))
        for key, array in self.table.arrays.items():
            self._setters[key](np.asarray(array.values[row], dtype=float))


def measure_recorded(pool: RecordedPool, row: int, md: Mapping[str, Any] | None = None) -> MsgGenerator[None]:
    """One run serving one recorded row."""
    start_md = {
        "plan_name": "measure_recorded",
        "plan_args": {"row": int(row)},
        "table": pool.table.name,
        "row": int(row),
        "axes": {f"{pool.name}-{k}": f"{pool.name}-{a.axis_name}" for k, a in pool.table.arrays.items()},
        **(md or {}),
    }

    @bpp.run_decorator(md=start_md)
    def run() -> MsgGenerator[None]:
        yield from bps.mv(pool.row, int(row))
        yield from bps.trigger_and_read([pool])

    yield from run()


@dataclass(frozen=True)
class RecordedValueReducer:
    """Recorded scalars as objective values. Recorded data rarely carry uncertainties: the stated
    variance per objective (from replicates or the instrument's specification) goes with each value."""

    pool: str
    variances: Mapping[str, float]

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        start, _, events = run_documents(documents)
        if not events:
            raise ReductionError(f"run {start['uid']} has no event to reduce")
        data = events[-1]["data"]
        values = {}
        for name in self.variances:
            key = f"{self.pool}-{name}"
            if key not in data:
                raise ReductionError(f"run {start['uid']} lacks data key {key!r}")
            values[name] = float(data[key])
        return Reduction(start["uid"], values, dict(self.variances))


FE_GA_PD_MAGNETISM = "FeGaPd_Mag.txt"


def fe_ga_pd_table(directory: Path) -> RecordedTable:
    """The NIST Fe-Ga-Pd library as a pool: compositions, XRD patterns over 2-theta, and the
    scanning-SQUID remanent-magnetisation signal (column 1 raw; column 2 with saturated values
    replaced by a broad Gaussian, as in Kusne et al. 2020)."""
    two_theta, patterns, compositions, labels = load_fe_ga_pd(directory)
    magnetism = read_table(Path(directory) / FE_GA_PD_MAGNETISM, delimiter=",")
    if magnetism.shape != (len(compositions), 2):
        raise ValueError(
            f"{FE_GA_PD_MAGNETISM} must have 2 columns and {len(compositions)} rows, found {magnetism.shape}"
        )
    return RecordedTable(
        name="fe-ga-pd",
        conditions={e: compositions[:, i] for i, e in enumerate(("Fe", "Ga", "Pd"))},
        results={
            "squid_signal": magnetism[:, 0],
            "magnetization_signal": magnetism[:, 1],
            "dft_region": labels.astype(float),
        },
        arrays={"xrd_intensity": ArrayResult("two_theta_deg", two_theta, patterns, "counts", "deg")},
        units={
            "Fe": "at. fraction",
            "Ga": "at. fraction",
            "Pd": "at. fraction",
            "squid_signal": "V",
            "magnetization_signal": "V",
        },
    )
