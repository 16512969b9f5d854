"""The observations as an xarray Dataset in zarr: one row per measurement, dimension `obs`."""

import shutil
import uuid
from collections.abc import Callable, Sequence
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
    raw: Callable[[str], xr.Dataset] | None = None,
) -> xr.Dataset:
    """Element fractions, settings and sample as coordinates; every value and its variance as a
    variable (objectives first); raw arrays stacked over `obs` along their own axis."""
    n = len(observations)
    coords: dict[str, tuple[str, np.ndarray, dict[str, str]]] = {}
    for element in elements:
        coords[element] = (
            "obs",
            np.array([o.condition[element] for o in observations], dtype=float),
            {"units": "at. fraction", "long_name": f"{element} atomic fraction"},
        )
    for parameter in sorted({k for o in observations for k in o.condition} - set(elements)):
        coords[parameter] = (  # process parameters
            "obs",
            np.array([o.condition.get(parameter, np.nan) for o in observations], dtype=float),
            {"long_name": f"process parameter {parameter}"},
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
    for key in sorted({k for o in observations for k in o.sample}):
        column = [o.sample.get(key) for o in observations]
        if all(isinstance(v, str) or v is None for v in column):
            coords[key] = ("obs", np.array(["" if v is None else v for v in column], dtype=str), {})
        else:
            coords[key] = ("obs", np.array([np.nan if v is None else float(v) for v in column]), {})
    data: dict[str, tuple] = {}
    features = sorted({k for o in observations for k in o.values} - set(objectives))
    for name in [*objectives, *features]:
        data[name] = (
            "obs",
            np.array([o.values.get(name, np.nan) for o in observations], dtype=float),
            {"units": units.get(name, "")},
        )
        data[f"{name}_var"] = (
            "obs",
            np.array([o.variances.get(name, np.nan) for o in observations], dtype=float),
            {"units": f"({units.get(name, '')})^2", "long_name": f"variance of {name}"},
        )
    raw_coords: dict[str, tuple] = {}
    if raw is not None:
        for name in sorted({k for o in observations for k in o.raw}):
            stacked, axis_name, axis = _stack_raw(observations, name, raw)
            data[name] = (
                ("obs", axis_name),
                stacked,
                {
                    "units": raw(next(o.raw[name] for o in observations if name in o.raw))[name].attrs.get(
                        "units", ""
                    )
                },
            )
            raw_coords[axis_name] = (axis_name, axis, {})
    return xr.Dataset(
        data_vars=data,
        coords={"obs": np.arange(n), **coords, **raw_coords},
        attrs={"campaign": campaign, "elements": list(elements), "objectives": list(objectives)},
    )


def _stack_raw(
    observations: Sequence[Observation], name: str, raw: Callable[[str], xr.Dataset]
) -> tuple[np.ndarray, str, np.ndarray]:
    """One raw array per observation on the first one's axis; NaN where missing or on another axis."""
    first = raw(next(o.raw[name] for o in observations if name in o.raw))[name]
    axis_name = first.dims[0]
    axis = first[axis_name].values
    stacked = np.full((len(observations), len(axis)), np.nan)
    for i, o in enumerate(observations):
        if name in o.raw:
            values = raw(o.raw[name])[name]
            if values.sizes[axis_name] == len(axis) and np.allclose(values[axis_name].values, axis):
                stacked[i] = values.values
    return stacked, axis_name, axis


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
