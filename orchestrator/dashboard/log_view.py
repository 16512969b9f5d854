"""The dashboard's view of a store: the event log followed as it grows, and folded to any step.

One reader for every client: the log is read incrementally (each record once), and the state
after any measurement is the same fold `junkan status` uses, cut at that measurement."""

import threading
from dataclasses import dataclass
from pathlib import Path

from orchestrator.campaign import CampaignSpec
from orchestrator.event_log import EventLog
from orchestrator.events import Event, Observed
from orchestrator.state import CampaignState, fold
from orchestrator.store import CampaignStore


@dataclass(frozen=True)
class Snapshot:
    """The log as read at one moment: its events, the live state, and where each step ends."""

    events: tuple[Event, ...]
    state: CampaignState
    step_ends: tuple[int, ...]  # number of events up to and including the k-th Observed (k = 1..n)

    @property
    def n_steps(self) -> int:
        return len(self.step_ends)

    def events_at(self, step: int | None) -> tuple[Event, ...]:
        """The events that had happened when the step-th measurement was recorded (all if None);
        step 0 is the campaign before its first measurement."""
        if step is None or step >= self.n_steps:
            return self.events
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        end = self.step_ends[step - 1] if step > 0 else _first_observed(self.events)
        return self.events[:end]


def _first_observed(events: tuple[Event, ...]) -> int:
    return next((i for i, e in enumerate(events) if isinstance(e, Observed)), len(events))


class LogFollower:
    """Follows a store's event log; `refresh` reads what was appended since the last call."""

    def __init__(self, store: CampaignStore) -> None:
        self.store = store
        self.spec: CampaignSpec = store.spec()
        self._log = EventLog(store.log.path)  # read only: a reader never cuts a live writer's tail
        self._offset = 0
        self._events: list[Event] = []
        self._state = CampaignState()
        self._step_ends: list[int] = []
        self._lock = threading.Lock()
        self._folds: dict[int, CampaignState] = {}
        self.snapshot = Snapshot((), CampaignState(), ())
        self.refresh()

    @property
    def path(self) -> Path:
        return self.store.path

    def refresh(self) -> Snapshot:
        """Read new records (if any) and return the current snapshot (the same object if none)."""
        with self._lock:
            new, self._offset = self._log.read_from(self._offset)
            if not new:
                return self.snapshot
            for event in new:
                self._events.append(event)
                self._state.apply(event)
                if isinstance(event, Observed):
                    self._step_ends.append(len(self._events))
            self.snapshot = Snapshot(tuple(self._events), _copy(self._state), tuple(self._step_ends))
            return self.snapshot

    def state_at(self, snapshot: Snapshot, step: int | None) -> CampaignState:
        """The campaign's state after its step-th measurement (cached: a past step never changes)."""
        if step is None or step >= snapshot.n_steps:
            return snapshot.state
        with self._lock:
            if step not in self._folds:
                self._folds[step] = fold(snapshot.events_at(step))
            return self._folds[step]


def _copy(state: CampaignState) -> CampaignState:
    """A shallow copy whose lists and dicts the follower's own state will not append to."""
    copied = CampaignState(**{k: getattr(state, k) for k in state.__dataclass_fields__})
    for name, value in vars(copied).items():
        if isinstance(value, list | dict | set):
            setattr(copied, name, type(value)(value))
    return copied
