"""A measured table as the loop's instrument: its conditions are the only spots there are, each
measurement serves the next recorded row of the chosen condition through a Bluesky run.

So a pool replay is a campaign like any other: the same loop, event log, store, resume and
dashboard. Rows with identical inputs are one condition (a replicate group); a condition stays on
offer while it has unserved rows. Which rows were served is rebuilt from the observations
(`restore`), so a resumed replay serves what the uninterrupted one would have.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from bluesky.utils import MsgGenerator
from ophyd_async.core import Device

from instruments.recorded.pool import RecordedPool, RecordedTable, measure_recorded
from instruments.reduction.reducer import Document, Reduction, ReductionError, run_documents

SPOT_PREFIX = "c"


class GroupedTable(Protocol):
    """A table grouped into conditions (`orchestrator.pool_replay.Pool` is one)."""

    name: str
    inputs: tuple[str, ...]
    objectives: tuple[str, ...]
    replicates: tuple[np.ndarray, ...]  # per condition: (n_rows, n_objectives)
    rows: tuple[tuple[int, ...], ...]  # per condition: its data rows

    @property
    def counts(self) -> np.ndarray: ...


def spot_id(condition: int) -> str:
    return f"{SPOT_PREFIX}{condition:05d}"


def condition_of(spot: str) -> int:
    if not spot.startswith(SPOT_PREFIX) or not spot[len(SPOT_PREFIX) :].isdigit():
        raise ValueError(f"{spot!r} is not a condition of a recorded pool (e.g. {spot_id(12)!r})")
    return int(spot[len(SPOT_PREFIX) :])


class RecordedPoolInstrument:
    """Serves a grouped table's rows. `points` are the conditions in the policy's coordinates
    (`names` order), `variances` the variance reported with each condition's rows."""

    def __init__(
        self,
        pool: GroupedTable,
        points: np.ndarray,
        names: Sequence[str],
        variances: np.ndarray,
        units: Mapping[str, str] | None = None,
    ) -> None:
        if points.shape != (len(pool.rows), len(names)) or variances.shape != (
            len(pool.rows),
            len(pool.objectives),
        ):
            raise ValueError(
                f"pool {pool.name!r}: {len(pool.rows)} conditions need points of shape "
                f"({len(pool.rows)}, {len(names)}) and variances ({len(pool.rows)}, {len(pool.objectives)}), "
                f"got {points.shape} and {variances.shape}"
            )
        self.pool = pool
        self.points = np.asarray(points, dtype=float)
        self.names = tuple(names)
        self.variances = np.asarray(variances, dtype=float)
        self.quantity_units = {o: (units or {}).get(o, "") for o in pool.objectives}
        self.served = np.zeros(len(pool.rows), dtype=int)
        n_rows = sum(len(r) for r in pool.rows)
        by_row = np.zeros((n_rows, len(pool.objectives)))
        where = np.zeros(n_rows, dtype=int)
        for condition, (rows, values) in enumerate(zip(pool.rows, pool.replicates, strict=True)):
            by_row[list(rows)] = values
            where[list(rows)] = condition
        self._condition_of_row = where
        table = RecordedTable(
            pool.name,
            conditions={"condition": where.astype(float)},
            results={o: by_row[:, j] for j, o in enumerate(pool.objectives)},
        )
        self.device = RecordedPool(table, name="pool")
        span = self.points.max(axis=0) - self.points.min(axis=0)
        self._scale = np.where(span > 0, span, 1.0)

    @property
    def devices(self) -> list[Device]:
        return [self.device]

    def available(self) -> np.ndarray:
        return np.flatnonzero(self.served < self.pool.counts)

    def unmeasured_spots(self) -> tuple[tuple[str, ...], np.ndarray]:
        """The conditions that still have a row to serve: the only candidates there are."""
        available = self.available()
        return tuple(spot_id(int(c)) for c in available), self.points[available]

    def restore(self, observations: Sequence[Any]) -> None:
        """Which rows were served, from the observations on record (each names its condition)."""
        self.served[:] = 0
        for observation in observations:
            self._mark_served(int(observation.sample["condition"]), int(observation.sample["replicate"]))

    def _mark_served(self, condition: int, replicate: int) -> None:
        self.served[condition] = max(self.served[condition], replicate + 1)

    def choose(self, condition: Mapping[str, float], target_spot: str | None) -> int:
        """The condition to serve: the named spot, else the available condition nearest the asked
        one (in coordinates scaled by the table's range), e.g. a person's injected condition."""
        available = self.available()
        if not len(available):
            raise ValueError(f"pool {self.pool.name!r} has served every row")
        if target_spot is not None:
            chosen = condition_of(target_spot)
            if chosen not in available:
                raise ValueError(f"spot {target_spot!r} has no unserved row left in pool {self.pool.name!r}")
            return chosen
        missing = [n for n in self.names if n not in condition]
        if missing:
            raise ValueError(
                f"condition {dict(condition)} lacks {missing}; the pool's inputs are {self.names}"
            )
        asked = np.array([condition[n] for n in self.names]) / self._scale
        distances = ((self.points[available] / self._scale - asked) ** 2).sum(axis=1)
        return int(available[int(np.argmin(distances))])

    def plan(
        self, condition: Mapping[str, float], measurement: Mapping[str, float], md: Mapping[str, Any]
    ) -> MsgGenerator[None]:
        chosen = self.choose(condition, md.get("target_spot"))
        replicate = int(self.served[chosen])
        row = self.pool.rows[chosen][replicate]
        return measure_recorded(
            self.device, row, {**md, "pool_condition": chosen, "pool_replicate": replicate}
        )

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        start, _, events = run_documents(documents)
        if not events:
            raise ReductionError(f"run {start['uid']} has no event to reduce")
        if "pool_condition" not in start or "pool_replicate" not in start:
            raise ReductionError(f"run {start['uid']} does not say which condition of the pool it served")
        condition, replicate = int(start["pool_condition"]), int(start["pool_replicate"])
        data = events[-1]["data"]
        values = {}
        for name in self.pool.objectives:
            key = f"{self.device.name}-{name}"
            if key not in data:
                raise ReductionError(f"run {start['uid']} lacks data key {key!r}")
            values[name] = float(data[key])
        self._mark_served(condition, replicate)
        return Reduction(
            run_uid=start["uid"],
            values=values,
            variances={
                n: float(v) for n, v in zip(self.pool.objectives, self.variances[condition], strict=True)
            },
            condition={n: float(v) for n, v in zip(self.names, self.points[condition], strict=True)},
            sample={
                "spot": spot_id(condition),
                "condition": condition,
                "replicate": replicate,
                "row": int(start["row"]),
            },
        )
