"""A measured outcome, with variances and provenance."""

from pydantic import BaseModel, ConfigDict


class Observation(BaseModel):
    """Objective values and their variances at a condition, and where they came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int
    proposal_id: str
    run_uid: str
    condition: dict[str, float]
    measurement: dict[str, float]
    values: dict[str, float]
    variances: dict[str, float]
    started_at: float
    finished_at: float
    sample: dict[str, str | float | bool] = {}  # which library and spot, when there are libraries
    raw: dict[str, str] = {}  # raw arrays by name -> where in the store they are
