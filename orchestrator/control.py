"""A person's hand on a running campaign: requests dropped into the store's `control/` folder,
and the loop's side that takes them (`TakesControl`).

`junkan control DIR pause|resume|stop|inject|approve|reject` and the dashboard each writes one JSON
file per request, atomically; the loop takes them between steps, records each as a `Controlled`
event before acting on it, and only then deletes the file (a request seen twice after a crash is
recognised by its id and not applied again).
"""

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.events import CampaignFinished, Controlled, Event, Paused, Resumed
from orchestrator.step_outcome import RESUMED, SKIPPED, STOPPED, StepOutcome
from policies import Proposal

if TYPE_CHECKING:
    from orchestrator.campaign import CampaignSpec
    from orchestrator.state import CampaignState
    from orchestrator.store import CampaignStore
    from policies import DesignSpace

CONTROL_DIR = "control"
APPROVAL_POLL_S = 0.2  # how often a held loop looks for an answer
Command = Literal["pause", "resume", "stop", "inject", "approve", "reject"]
COMMANDS: tuple[str, ...] = ("pause", "resume", "stop", "inject", "approve", "reject")


class ControlError(ValueError):
    """A control request that cannot be taken; the message says what would be valid."""


class ControlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    command: Command
    condition: dict[str, float] | None = None  # inject
    proposal_id: str | None = None  # approve, reject
    note: str = ""
    time: float = Field(default_factory=time.time)


def missing_part(request: ControlRequest) -> str:
    """What a request lacks to mean anything (an inject's condition, an answer's proposal id), or ''."""
    if request.command == "inject" and not request.condition:
        return "inject needs a condition, e.g. Fe=0.5,Ga=0.3,Pd=0.2"
    if request.command in ("approve", "reject") and not request.proposal_id:
        return f"{request.command} needs the proposal id it answers, e.g. p0007"
    return ""


class Refusal(NamedTuple):
    """Why a request cannot be taken: `conflict` (not now: HTTP 409) or `invalid` (never: 422)."""

    kind: Literal["conflict", "invalid"]
    message: str


def refusal(
    spec: "CampaignSpec",
    state: "CampaignState",
    live: bool,
    store_path: Path,
    request: ControlRequest,
    queued: bool = False,
) -> Refusal | None:
    """The one check of a control request, for the command line and the dashboard's API alike.
    `queued`: no process need be running; the request waits for the next `junkan resume`."""
    malformed = missing_part(request)
    if malformed:
        return Refusal("invalid", malformed)
    if state.status in ("finished", "failed", "stopped"):
        return Refusal("conflict", f"the campaign is {state.status!r}; nothing to control")
    if not live and not queued:
        return Refusal(
            "conflict",
            f"no process is running this campaign (state {state.status!r}); continue it with "
            f"`junkan resume {store_path}`, or queue the request for then (`--queue`)",
        )
    if request.command == "resume" and (state.status != "paused" or not live):
        return Refusal(
            "conflict",
            f"resume continues a campaign held paused by its running process (run with --dashboard); "
            f"this one is {state.status!r}{'' if live else ' with no process running it'}: "
            f"use `junkan resume {store_path}`",
        )
    if request.command == "pause" and state.status == "paused":
        return Refusal("conflict", "the campaign is already paused")
    if request.command == "inject":
        space = spec.space.simplex()
        if not request.condition or set(request.condition) != set(space.names):
            return Refusal(
                "invalid",
                f"inject needs a condition over exactly {list(space.names)}, got {request.condition}",
            )
        outside = outside_space(space, request.condition)
        if outside:
            return Refusal("invalid", outside)
    if request.command in ("approve", "reject") and request.proposal_id not in state.pending:
        return Refusal(
            "invalid", f"{request.proposal_id!r} is not a pending proposal; pending: {state.pending}"
        )
    return None


def send(store_path: Path, request: ControlRequest) -> Path:
    """Drop a request into the store (write to a hidden name, then rename: never half-read)."""
    malformed = missing_part(request)
    if malformed:
        raise ControlError(malformed)
    directory = Path(store_path) / CONTROL_DIR
    final = directory / f"{time.time_ns():020d}-{request.request_id}.json"
    staging = directory / f".{final.name}.writing"
    try:
        directory.mkdir(exist_ok=True)
        staging.write_text(request.model_dump_json())
        with staging.open("rb") as handle:
            os.fsync(handle.fileno())
        staging.rename(final)
    except OSError as exc:
        with contextlib.suppress(OSError):  # nothing half-written is left where it can be
            staging.unlink(missing_ok=True)
        raise ControlError(f"cannot write the request into {directory}: {exc.strerror or exc}") from None
    return final


def pending_requests(store_path: Path) -> list[tuple[Path, ControlRequest | str]]:
    """Requests waiting in the store, oldest first; an unreadable one comes as its error text."""
    directory = Path(store_path) / CONTROL_DIR
    if not directory.is_dir():
        return []
    found: list[tuple[Path, ControlRequest | str]] = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append((path, ControlRequest.model_validate(json.loads(path.read_text()))))
        except (ValueError, ValidationError) as exc:
            found.append((path, f"{path.name}: {exc}"))
    return found


def outside_space(space: "DesignSpace", condition: Mapping[str, float]) -> str | None:
    """Why a whole condition is not in the design space (None when it is): one message for the
    command line, the loop and the dashboard's API."""
    if space.contains(space.as_point(condition), tol=1e-6)[0]:
        return None
    bounds = {e: [lo, hi] for e, lo, hi in zip(space.elements, space.lower, space.upper, strict=True)}
    bounds.update({p.name: [p.lower, p.upper] for p in space.process})
    rules = [r.describe() for r in space.linear_constraints]
    fractions = sum(condition[e] for e in space.elements)
    return (
        f"{dict(condition)} is not in the design space: its element fractions sum to {fractions:.4g} and "
        f"must sum to 1, each value within {bounds}" + (f", with {rules}" if rules else "")
    )


def parse_condition(text: str, names: Mapping[str, object]) -> dict[str, float]:
    """'Fe=0.5,Ga=0.3,Pd=0.2' as a condition over exactly `names`."""
    condition: dict[str, float] = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            condition[name.strip()] = float(value)
        except ValueError:
            raise ControlError(f"{item!r} is not NAME=VALUE; give e.g. Fe=0.5,Ga=0.3,Pd=0.2") from None
    if set(condition) != set(names):
        raise ControlError(f"condition names {sorted(condition)} must be exactly {sorted(names)}")
    return condition


class TakesControl:
    """The loop's side of a person's requests: pause, resume, stop, inject, approve, reject,
    each recorded as a `Controlled` event before it takes effect. Mixed into `CampaignLoop`,
    whose store, state and policy space it reads."""

    store: "CampaignStore"
    spec: "CampaignSpec"
    state: "CampaignState"
    policy_space: "DesignSpace"
    hold_when_paused: bool
    notify: Callable[[str], None]
    _injected: "list[Proposal]"
    _record: Callable[[Event], Event]

    def _take_control(self, awaiting: str | None = None) -> "StepOutcome | str | None":
        """Act on a person's requests, oldest first. Returns STOPPED after pause or stop; when
        `awaiting` a proposal id, "approve" or "reject" once it is answered; else None."""
        answer: StepOutcome | str | None = None
        for path, request in pending_requests(self.store.path):
            if isinstance(request, str):
                self._record(
                    Controlled(request_id=path.stem, command="unreadable", outcome="refused", message=request)
                )
            elif request.request_id not in self.state.control_ids:
                answer = self._apply(request, awaiting) or answer
            path.unlink(missing_ok=True)  # recorded first: a crash before this line is harmless
            if answer is STOPPED or answer is RESUMED or isinstance(answer, str):
                break
        return answer

    def _apply(self, request: ControlRequest, awaiting: str | None) -> "StepOutcome | str | None":
        def record(outcome: str, message: str = "") -> None:
            self._record(
                Controlled(
                    request_id=request.request_id,
                    command=request.command,
                    condition=request.condition,
                    proposal_id=request.proposal_id,
                    outcome=outcome,  # type: ignore[arg-type]
                    message=message,
                )
            )

        who = f"by a person{': ' + request.note if request.note else ''}"
        paused = self.state.status == "paused"
        if request.command == "pause":
            if paused:
                record("refused", "the campaign is already paused")
                return None
            record("done")
            self._record(Paused(reason=f"paused {who}; {self._how_to_continue()}"))
            return self._hold() if self.hold_when_paused else STOPPED
        if request.command == "resume":
            if not paused:
                record("refused", f"the campaign is {self.state.status}, not paused")
                return None
            record("done")
            self._record(Resumed(reconciled={}))
            return RESUMED
        if request.command == "stop":
            record("done")
            self._record(CampaignFinished(status="stopped", reason=f"stopped {who}"))
            return STOPPED
        if request.command == "inject":
            assert request.condition is not None
            try:  # a condition lacking a name is refused by as_point's message
                outside = outside_space(self.policy_space, request.condition)
            except ValueError as exc:
                record("refused", str(exc))
                return None
            if set(request.condition) != set(self.policy_space.names) or outside:
                record(
                    "refused", outside or f"{request.condition} names other than {self.policy_space.names}"
                )
                return None
            record("queued")
            self._injected.append(self._manual(request.condition))
            return None
        if request.proposal_id != awaiting or paused:
            record("refused", f"{request.proposal_id} is not awaiting approval")
            return None
        record("done")
        return request.command

    def _how_to_continue(self) -> str:
        if self.hold_when_paused:
            return f"resume from the dashboard or with `junkan control {self.store.path} resume`"
        return "continue with `junkan resume`"

    def _hold(self) -> "StepOutcome | None":
        """Paused while a person watches: wait for their resume (None) or stop (STOPPED)."""
        self.notify(f"paused: {self.state.pause_reason}")
        while True:
            answer = self._take_control()
            if answer is RESUMED:
                self.notify("resumed")
                return None
            if answer is STOPPED:
                return STOPPED
            time.sleep(APPROVAL_POLL_S)

    def _manual(self, condition: Mapping[str, float]) -> Proposal:
        manual = sum(1 for p in self.state.proposals.values() if p.proposal.generator == "manual")
        manual += len(self._injected)
        return Proposal(
            proposal_id=f"m{manual + 1:04d}-{len(self.state.proposals) + 1:04d}",
            condition=dict(condition),
            measurement={"count_time_s": self.spec.instrument.count_time_s},
            reason="manual",
            generator="manual",
        )

    def _approval(self, proposal: Proposal) -> "StepOutcome | None":
        """In approve-before-submit mode, wait for a person to approve or reject a model proposal.
        SKIPPED when rejected (the next ask treats it as pending, so it is not proposed again)."""
        pid = proposal.proposal_id
        if (
            not self.spec.approve_before_submit
            or proposal.generator == "manual"
            or pid in self.state.approved
        ):
            return None
        self.notify(f"{pid} waits for approval: junkan control {self.store.path} approve {pid} (or reject)")
        while True:
            answer = self._take_control(awaiting=pid)
            if answer is STOPPED:
                return STOPPED
            if answer == "approve":
                return None
            if answer == "reject":
                return SKIPPED
            time.sleep(APPROVAL_POLL_S)
