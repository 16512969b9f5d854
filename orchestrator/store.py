"""A campaign's directory: the frozen campaign file, the event log and observations.zarr."""

import hashlib
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from instruments import RawArray
from orchestrator.campaign import CampaignSpec, parse_campaign
from orchestrator.control_token import create_token
from orchestrator.event_log import EventLog, EventLogError
from orchestrator.events import Event
from orchestrator.observation_table import observations_dataset, write_zarr_atomically
from orchestrator.state import CampaignState, fold

CAMPAIGN_FILE = "campaign.yaml"
RAW_DIR = "raw"
EVENT_LOG_FILE = "events.jsonl"
OBSERVATIONS_ZARR = "observations.zarr"


class StoreError(ValueError):
    """A store directory that cannot be used as asked; the message says what it holds."""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class CampaignStore:
    """The event log is the truth; observations.zarr is a view rebuilt from it after each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.campaign_text = (path / CAMPAIGN_FILE).read_text()
        self.log = EventLog(path / EVENT_LOG_FILE)
        self._raw_cache: dict[str, xr.Dataset] = {}

    @property
    def observations_path(self) -> Path:
        return self.path / OBSERVATIONS_ZARR

    @classmethod
    def create(cls, path: Path, spec: CampaignSpec, campaign_text: str) -> "CampaignStore":
        """A new store, all or nothing: built in a hidden sibling directory, then renamed."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise StoreError(f"store {path} is a file; give a directory path")
        if path.is_dir() and any(path.iterdir()):
            held = path / CAMPAIGN_FILE
            if not held.exists():
                raise StoreError(
                    f"store {path} is not empty and holds no junkan campaign; give a new or empty directory"
                )
            if text_sha256(held.read_text()) != text_sha256(campaign_text):
                held_name = _campaign_name(held)
                raise StoreError(
                    f"store {path} already holds a different campaign ({held_name!r}); "
                    "give a new or empty directory for campaign "
                    f"{spec.name!r}"
                )
            raise StoreError(
                f"store {path} already holds campaign {spec.name!r}; give a new or empty "
                "directory to run it again"
            )
        staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.creating")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store {path}: {exc.strerror or exc} ({exc.filename})") from None
        try:
            staging.mkdir()
            (staging / CAMPAIGN_FILE).write_text(campaign_text)
            (staging / EVENT_LOG_FILE).touch()
            create_token(staging)
            write_zarr_atomically(
                observations_dataset([], spec.elements, [o.name for o in spec.objectives], {}, spec.name),
                staging / OBSERVATIONS_ZARR,
            )
            _fsync_dir(staging)
            if path.is_dir():
                path.rmdir()  # empty, checked above
            staging.rename(path)
            _fsync_dir(path.parent)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"cannot create store {path}: {exc.strerror or exc} ({exc.filename})") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> "CampaignStore":
        path = Path(path)
        if not (path / CAMPAIGN_FILE).exists() or not (path / EVENT_LOG_FILE).exists():
            raise StoreError(f"{path} is not a junkan store: it needs {CAMPAIGN_FILE} and {EVENT_LOG_FILE}")
        return cls(path)

    def spec(self) -> CampaignSpec:
        return parse_campaign(self.campaign_text, str(self.path / CAMPAIGN_FILE))

    def append(self, event: Event) -> Event:
        return self.log.append(event)

    def state(self) -> CampaignState:
        """The campaign as its log records it; a damaged or lost log is refused, never guessed at."""
        try:
            events = list(self.log.read())
        except EventLogError as exc:
            raise StoreError(
                f"{exc}. The log is the campaign's record and junkan does not repair it: restore "
                f"{EVENT_LOG_FILE} from a backup"
            ) from None
        if not events:
            kept = self._observations_in_view()
            if kept:
                raise StoreError(
                    f"{self.path / EVENT_LOG_FILE} is empty, but {OBSERVATIONS_ZARR} holds {kept} "
                    f"observation(s): the log was lost or truncated; restore it from a backup"
                )
        return fold(events)

    def _observations_in_view(self) -> int:
        try:
            with xr.open_zarr(self.observations_path) as view:
                return int(view.sizes.get("obs", 0))
        except (OSError, ValueError, KeyError):
            return 0  # no readable view: nothing contradicts an empty log

    def write_raw(self, run_uid: str, arrays: Mapping[str, RawArray]) -> dict[str, str]:
        """Raw arrays of one run as `raw/<run uid>.zarr` (written whole before the log refers to it)."""
        dataset = xr.Dataset(
            {
                name: (a.axis_name, np.asarray(a.values, dtype=float), {"units": a.units})
                for name, a in arrays.items()
            },
            coords={
                a.axis_name: (a.axis_name, np.asarray(a.axis, dtype=float), {"units": a.axis_units})
                for a in arrays.values()
            },
            attrs={"run_uid": run_uid},
        )
        relative = f"{RAW_DIR}/{run_uid}.zarr"
        (self.path / RAW_DIR).mkdir(exist_ok=True)
        write_zarr_atomically(dataset, self.path / relative)
        self._raw_cache[relative] = dataset
        return {name: relative for name in arrays}

    def raw(self, relative: str) -> xr.Dataset:
        if relative not in self._raw_cache:
            self._raw_cache[relative] = xr.open_zarr(self.path / relative).load()
        return self._raw_cache[relative]

    def write_observations(self, state: CampaignState) -> None:
        write_zarr_atomically(
            observations_dataset(
                state.observations,
                state.elements,
                list(state.objectives),
                state.units,
                state.campaign,
                raw=self.raw,
            ),
            self.observations_path,
        )


def _campaign_name(campaign_file: Path) -> str:
    try:
        return str(yaml.safe_load(campaign_file.read_text()).get("name", "unnamed"))
    except (yaml.YAMLError, AttributeError):
        return "unreadable"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
