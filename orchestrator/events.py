"""Every fact of a campaign as an immutable, timestamped event; the log holds nothing else."""

import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from orchestrator.observation import Observation

SCHEMA_VERSION = 1


class EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    seq: int = -1  # set by the log on append
    time: float = Field(default_factory=time.time)


class CampaignStarted(EventBase):
    type: Literal["CampaignStarted"] = "CampaignStarted"
    campaign: str
    campaign_sha256: str
    budget: int
    seed: int
    elements: list[str]
    objectives: dict[str, str]  # name -> goal
    units: dict[str, str]  # objective -> units
    junkan_version: str


class ProposalRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    proposal_id: str
    condition: dict[str, float]
    measurement: dict[str, float]
    reason: str
    acquisition_value: float | None = None
    model_id: str | None = None
    generator: str = ""
    target_spot: str | None = None
    cost_s: float | None = None
    why: str = ""


class Proposed(EventBase):
    type: Literal["Proposed"] = "Proposed"
    proposal: ProposalRecord
    decision_seconds: float
    policy_state: dict


class Submitted(EventBase):
    type: Literal["Submitted"] = "Submitted"
    proposal_id: str
    executor: str


class RunStarted(EventBase):
    type: Literal["RunStarted"] = "RunStarted"
    proposal_id: str
    run_uid: str


class RunFinished(EventBase):
    type: Literal["RunFinished"] = "RunFinished"
    proposal_id: str
    run_uid: str
    exit_status: str
    reason: str = ""


class Observed(EventBase):
    type: Literal["Observed"] = "Observed"
    observation: Observation


class ModelUpdated(EventBase):
    type: Literal["ModelUpdated"] = "ModelUpdated"
    model_id: str
    n_train: int
    fit_seconds: float
    summary: dict[str, float]
    surrogates: dict[str, str] = {}  # outcome -> the surrogate structure chosen (policies.surrogate)


class Faulted(EventBase):
    type: Literal["Faulted"] = "Faulted"
    kind: Literal["device", "reducer", "policy", "executor"]
    message: str
    proposal_id: str | None = None
    action: Literal["retry", "skip", "pause", "fail"] = "fail"  # what the campaign file said to do
    attempt: int = 1


class Paused(EventBase):
    """The campaign waits for a person (a fault rule said so); `junkan resume` continues it."""

    type: Literal["Paused"] = "Paused"
    reason: str


class LoopTiming(EventBase):
    """How busy the instrument was: measuring time over wall time since the campaign (re)started."""

    type: Literal["LoopTiming"] = "LoopTiming"
    instrument_busy_s: float
    wall_s: float
    duty_cycle: float
    decision_seconds: float
    warnings: dict[str, int] = {}  # numerical warnings raised since the previous step, by category


class CandidatesOffered(EventBase):
    """What changed in the set of spots the policy may choose without making anything: recorded
    so that a replay offers exactly what the campaign offered."""

    type: Literal["CandidatesOffered"] = "CandidatesOffered"
    added: dict[str, list[float]]  # spot id -> point (fractions, then process values)
    removed: list[str]


class Resumed(EventBase):
    """A campaign continued after its process ended; what became of each proposal in flight."""

    type: Literal["Resumed"] = "Resumed"
    reconciled: dict[str, str]  # proposal id -> "observed from its documents" | "re-submitted"


class Controlled(EventBase):
    """A person's request (pause, stop, inject, approve, reject) and what the loop did with it."""

    type: Literal["Controlled"] = "Controlled"
    request_id: str
    command: str
    condition: dict[str, float] | None = None
    proposal_id: str | None = None
    outcome: Literal["done", "queued", "refused"]
    message: str = ""


class CampaignFinished(EventBase):
    type: Literal["CampaignFinished"] = "CampaignFinished"
    status: Literal["finished", "failed", "stopped"]
    reason: str


Event = Annotated[
    CampaignStarted
    | Proposed
    | Submitted
    | RunStarted
    | RunFinished
    | Observed
    | ModelUpdated
    | Faulted
    | Paused
    | LoopTiming
    | CandidatesOffered
    | Controlled
    | Resumed
    | CampaignFinished,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
