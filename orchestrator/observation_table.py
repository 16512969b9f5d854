"""The observations as an xarray Dataset in zarr: one row per measurement, dimension `obs`."""

import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from orchestrator.observation import Observation


def observations_dataset(
    observations: Sequence[Observation],
    elements: Sequence[str],
    objectives: Sequence[str],
    units: dict[str, str],
    campaign: str,
) -> xr.Dataset:
    """Element fractions and measurement settings as coordinates; each objective and its variance."""
    n = len(observations)
    coords: dict[str, tuple[str, np.ndarray, dict[str, str]]] = {}
    for element in elements:
        coords[element] = (
            "obs",
            np.array([o.condition[element] for o in observations], dtype=float),
            {"units": "at. fraction", "long_name": f"{element} atomic fraction"},
        )
    settings = sorted({k for o in observations for k in o.measurement})
    for setting in settings:
        coords[setting] = (
            "obs",
            np.array([o.measurement.get(setting, np.nan) for o in observations], dtype=float),
            {"units": setting.rsplit("_", 1)[-1] if "_" in setting else ""},
        )
    coords["proposal_id"] = ("obs", np.array([o.proposal_id for o in observations], dtype=str), {})
    coords["run_uid"] = ("obs", np.array([o.run_uid for o in observations], dtype=str), {})
    coords["finished_at"] = (
        "obs",
        np.array([int(o.finished_at * 1e9) for o in observations], dtype=np.int64).astype("datetime64[ns]"),
        {"long_name": "time the measurement finished (UTC)"},
    )
    data = {}
    for name in objectives:
        data[name] = (
            "obs",
            np.array([o.values[name] for o in observations], dtype=float),
            {"units": units.get(name, "")},
        )
        data[f"{name}_var"] = (
            "obs",
            np.array([o.variances[name] for o in observations], dtype=float),
            {"units": f"({units.get(name, '')})^2", "long_name": f"variance of {name}"},
        )
    return xr.Dataset(
        data_vars=data,
        coords={"obs": np.arange(n), **coords},
        attrs={"campaign": campaign, "elements": list(elements), "objectives": list(objectives)},
    )


def write_zarr_atomically(dataset: xr.Dataset, path: Path) -> None:
    """Write beside `path`, then swap in, so a reader never sees a half-written store.

    One writer per store: leftovers of an interrupted write (hidden siblings) are removed first.
    """
    for leftover in path.parent.glob(f".{path.name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        dataset.to_zarr(staging, mode="w", consolidated=True, zarr_format=2)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.old")
    if path.exists():
        path.rename(retired)
    staging.rename(path)
    shutil.rmtree(retired, ignore_errors=True)
