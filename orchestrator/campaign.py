"""The campaign file, validated: what to search, what to measure, how to decide, when to stop."""

import importlib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from instruments import FAULT_KINDS, describe_simulated_world
from policies import CompositionPrior, DesignSpace, DesignSpaceError, LinearConstraint, Objective

MAX_BUDGET = 10_000


class CampaignFileError(ValueError):
    """A campaign file that cannot run; `problems` lists every error found, each naming its field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "error" if len(problems) == 1 else "errors"
        super().__init__(f"{source}: {len(problems)} {noun}\n{lines}")

    def __reduce__(self) -> tuple:
        """Rebuilt from its arguments: an error in a pool-replay worker process must reach the
        parent (unpicklable, it left the parent's pool waiting for ever)."""
        return (CampaignFileError, (self.source, self.problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Bounds = Annotated[list[float], Field(min_length=2, max_length=2)]


class LinearRuleSpec(Strict):
    terms: dict[str, float] = Field(min_length=1, description="element -> coefficient")
    max: float = Field(description="sum of coefficient * fraction must not exceed this")


class SpaceSpec(Strict):
    composition: dict[str, Bounds] = Field(
        description="element -> [lower, upper] atomic fraction; fractions sum to 1"
    )
    linear_constraints: list[LinearRuleSpec] = Field(
        default=[], description="expert rules, e.g. {terms: {Ga: 1, Pd: 1}, max: 0.5}"
    )
    process: dict[str, Bounds] = Field(
        default={}, description="process parameter -> [lower, upper] (served by kind 'recorded' only)"
    )

    @model_validator(mode="after")
    def _simplex_not_empty(self) -> "SpaceSpec":
        self.simplex()
        return self

    def simplex(self) -> DesignSpace:
        try:
            rules = [LinearConstraint(r.terms, r.max) for r in self.linear_constraints]
            return DesignSpace.from_bounds(self.composition, rules, process=self.process or None)
        except DesignSpaceError as exc:
            raise ValueError(str(exc)) from None


class ObjectiveSpec(Strict):
    name: str = Field(min_length=1)
    goal: Literal["maximize", "minimize"] = "maximize"
    threshold: float | None = Field(
        default=None, description="the worst value worth having: the hypervolume's reference point"
    )


class ConstraintSpec(Strict):
    outcome: str = Field(min_length=1, description="a measured outcome, e.g. fraction_bcc")
    sense: Literal[">=", "<="]
    bound: float


class XrdSpec(Strict):
    count_time_s: float = Field(gt=0, default=1.0)


class XafsSpec(Strict):
    element: str = Field(min_length=1, description="the absorber, e.g. Fe")
    count_time_s: float = Field(gt=0, default=0.5)
    reference_valences: list[float] = Field(min_length=1, default=[2.0, 3.0])


class LibrarySpec(Strict):
    duration_s: float = Field(gt=0, default=1800.0, description="deposition time of a new library")
    spot_tolerance: float = Field(
        ge=0, le=1, default=0.03, description="reuse a spot this close in composition"
    )
    max_power_w: float = Field(gt=0, le=300, default=250.0)
    heater_c: float = Field(ge=0, le=900, default=25.0)


class EpicsSpec(Strict):
    prefix: str = Field(
        pattern=r"^[A-Za-z0-9_\-:.]{1,40}$",
        description="PV prefix of the lab: {prefix}SPUTTER:, STAGE:, XRD:, XAFS:, PROBE:<OBJECTIVE>:",
    )
    connect_timeout_s: float = Field(gt=0, le=600, default=10.0, description="to connect every PV at start")


LIBRARY_KINDS = ("thin-film", "epics")  # labs that deposit libraries and measure them by XRD and XAFS


class InstrumentSpec(Strict):
    kind: Literal["simulated", "thin-film", "epics", "recorded"] = "simulated"
    world: str | None = Field(
        default=None,
        min_length=1,
        description="a shipped world name or 'module:attribute'; kind 'epics': the world whose "
        "calibrations and reference patterns and spectra the reducers use (the rehearsal IOC's own)",
    )
    table: str | None = Field(
        default=None, min_length=1, description="kind 'recorded': a measured table (CSV or zarr) to serve"
    )
    inputs: list[str] = Field(
        default=[],
        description="kind 'recorded': the table's input columns, in the order of the space's names",
    )
    count_time_s: float = Field(gt=0, default=1.0)
    realtime: bool = Field(default=False, description="simulated detectors take their count time")
    inject_faults: dict[str, float] = Field(
        default={}, description="rehearsal: per-measurement probability of timeout, disconnect, nan, saturate"
    )
    xrd: XrdSpec | None = None
    xafs: XafsSpec | None = None
    library: LibrarySpec | None = None
    epics: EpicsSpec | None = Field(default=None, description="kind 'epics': where the devices are")

    @property
    def real_time(self) -> bool:
        """Does the instrument take real time to measure (so that its duty cycle means something)?
        EPICS devices do, and a simulated one with `realtime: true`; other simulations and recorded
        tables answer at once."""
        return self.kind == "epics" or (self.kind == "simulated" and self.realtime)

    @property
    def spectra(self) -> tuple[str, ...]:
        """The raw arrays each measurement keeps: a diffraction pattern where there is an xrd
        section, an absorption spectrum where there is an xafs section."""
        sections = (("xrd_counts", self.xrd), ("xafs_mu", self.xafs))
        return tuple(name for name, section in sections if section is not None)

    @model_validator(mode="after")
    def _sections_fit_kind(self) -> "InstrumentSpec":
        if self.kind == "recorded":
            if self.table is None or not self.inputs or self.world is not None:
                raise ValueError(
                    "kind 'recorded' serves a measured table: give table and inputs, and no world"
                )
        elif self.world is None:
            raise ValueError(f"kind {self.kind!r} needs a world: a shipped world name or 'module:attribute'")
        elif self.table is not None or self.inputs:
            raise ValueError(f"table and inputs belong to kind 'recorded', not {self.kind!r}")
        if (self.kind == "epics") != (self.epics is not None):
            raise ValueError("kind 'epics' needs an epics section (prefix), and only kind 'epics' takes one")
        given = [name for name in ("xrd", "xafs", "library") if getattr(self, name) is not None]
        if self.kind not in LIBRARY_KINDS and given:
            raise ValueError(
                f"sections {given} need kind 'thin-film'; kind {self.kind!r} makes and counts only"
                if self.kind == "simulated"
                else f"sections {given} need kind 'thin-film'; kind {self.kind!r} serves recorded rows"
            )
        if self.inject_faults and self.kind != "simulated":
            raise ValueError("inject_faults rehearses faults on kind 'simulated' only")
        unknown = sorted(set(self.inject_faults) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"inject_faults: unknown fault kind(s) {unknown}; valid: {list(FAULT_KINDS)}")
        bad = {k: v for k, v in self.inject_faults.items() if not 0 <= v <= 1}
        if bad or sum(self.inject_faults.values()) > 1:
            raise ValueError(
                f"inject_faults: rates {dict(self.inject_faults)} must be in [0, 1] and sum to <= 1"
            )
        return self


class CountTimeSpec(Strict):
    min_s: float = Field(gt=0)
    max_s: float = Field(gt=0)
    target_sd: float = Field(gt=0, description="noise sd wanted on the first objective, in its units")

    @model_validator(mode="after")
    def _ordered(self) -> "CountTimeSpec":
        if self.min_s > self.max_s:
            raise ValueError(f"min_s {self.min_s} is above max_s {self.max_s}")
        return self


class PolicySpec(Strict):
    kind: Literal["bayesian", "qlognei", "qlognehvi", "sobol", "random", "grid"] = "bayesian"
    grid_step: float = Field(gt=0, le=0.5, default=0.05, description="for kind 'grid'")
    count_time: CountTimeSpec | None = Field(
        default=None, description="let the model choose each count time to reach target_sd"
    )
    noise: Literal["known", "learned", "counting"] = "known"
    prior: str | None = Field(
        default=None, description="'module:function' giving each composition a weight in [0, 1]; 0 vetoes"
    )
    constraints: list[ConstraintSpec] = []
    n_sobol: int | None = Field(
        ge=1,
        default=None,
        description="space-filling points before the model decides; default: one more than the "
        "coordinates that vary (compositions' free fractions and process parameters)",
    )
    replicates: bool = Field(
        default=False,
        description="measure a condition again even where the model already knows it to within its noise",
    )
    outcome_warps: bool = Field(
        default=False,
        description="let leave-one-out evidence choose a log or power warp of a lone objective",
    )
    num_restarts: int = Field(ge=1, default=4)
    raw_samples: int = Field(ge=1, default=128)
    mc_samples: int = Field(ge=1, default=128)


class FaultRule(Strict):
    """What the loop does when a fault of one kind happens."""

    action: Literal["retry", "skip", "pause", "fail"] = "fail"
    max_attempts: int = Field(ge=1, default=3, description="for retry: attempts in all, then `then`")
    backoff_s: float = Field(ge=0, default=1.0, description="wait before a retry, doubled each time")
    then: Literal["skip", "pause", "fail"] = "skip"


class FaultsSpec(Strict):
    """device: a run that failed; reducer: documents that do not reduce, or NaN/inf results;
    policy: ask or tell raised (skip = measure a space-filling condition instead of the model's)."""

    device: FaultRule = FaultRule()
    reducer: FaultRule = FaultRule()
    policy: FaultRule = FaultRule()
    max_faults: int = Field(ge=0, default=1000, description="past this many faults the campaign fails")


class CampaignSpec(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    space: SpaceSpec
    objectives: list[ObjectiveSpec] = Field(min_length=1)
    instrument: InstrumentSpec
    policy: PolicySpec = PolicySpec()
    faults: FaultsSpec = FaultsSpec()
    queue_depth: int = Field(
        ge=1,
        le=8,
        default=1,
        description="conditions in flight: above 1, the next is decided while one measures",
    )
    approve_before_submit: bool = Field(
        default=False, description="each model proposal waits for `junkan control DIR approve|reject ID`"
    )
    budget: int = Field(
        gt=0,
        le=MAX_BUDGET,
        description=f"number of measurements (at most {MAX_BUDGET:,}: past a few thousand observations "
        "each GP decision takes minutes)",
    )
    seed: int = Field(ge=0, default=0)
    tiled: str | None = Field(
        default=None,
        pattern=r"^(embedded|https?://\S+)$",
        description="also write every run to Tiled: 'embedded' (a server kept in the store) or a "
        "server's http(s) URI (its API key from TILED_API_KEY)",
    )

    @model_validator(mode="after")
    def _objectives_fit_policy(self) -> "CampaignSpec":
        names = [o.name for o in self.objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objective names repeat: {names}")
        if self.policy.kind == "qlognei" and len(self.objectives) != 1:
            raise ValueError(
                f"policy 'qlognei' optimises one objective; this campaign has {len(names)}: {names} "
                "(kind 'bayesian' chooses qLogNEHVI for several)"
            )
        if self.policy.kind == "qlognehvi" and len(self.objectives) < 2:
            raise ValueError(
                "policy 'qlognehvi' needs at least two objectives (kind 'bayesian' picks for you)"
            )
        return self

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(self.space.composition)

    def policy_objectives(self) -> list[Objective]:
        return [Objective(o.name, o.goal) for o in self.objectives]

    def measured_outcomes(self) -> list[str]:
        """Objectives, then constrained outcomes that are not objectives."""
        names = [o.name for o in self.objectives]
        return names + [c.outcome for c in self.policy.constraints if c.outcome not in names]


def _valid_keys(loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the model that holds the last part of `loc`, for 'unknown key' errors."""
    model: type[BaseModel] = CampaignSpec
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        members = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        if members:  # an optional section: X | None
            annotation = members[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return list(model.model_fields)


def describe_validation_errors(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            valid = _valid_keys(loc)
            hint = f"; valid keys here: {', '.join(valid)}" if valid else ""
            problems.append(f"{where}: unknown key{hint}")
        elif item["type"] == "missing":
            problems.append(f"{where}: required, but missing")
        else:
            message = item["msg"].removeprefix("Value error, ")
            shown = item.get("input")
            got = "" if isinstance(shown, dict | list) else f" (got {shown!r})"
            problems.append(f"{where}: {message}{got}")
    return problems


def _check_against_instrument(spec: CampaignSpec) -> list[str]:
    """What only the instrument can tell: does the world have these elements and objectives?"""
    if spec.instrument.kind == "recorded":
        from orchestrator.recorded_campaign import check_recorded  # reads the table

        return check_recorded(spec)
    if spec.space.process:
        return [
            f"space.process: {sorted(spec.space.process)} can only be served by kind 'recorded' today; "
            "a simulated world makes compositions only"
        ]
    assert spec.instrument.world is not None  # the instrument section's own check
    try:
        described = describe_simulated_world(spec.instrument.world)
    except ValueError as exc:
        return [f"instrument.world: {exc}"]
    problems = []
    if spec.instrument.kind in LIBRARY_KINDS and not described.deposits:
        problems.append(
            f"instrument.world: {spec.instrument.world!r} has no sputter guns, diffractometer or beamline; "
            "kind 'thin-film' needs a composition-spread world such as 'fe-ga-pd' or 'fe-co-ni-oxide'"
        )
    xafs = spec.instrument.xafs
    if xafs is not None and xafs.element not in spec.elements:
        problems.append(
            f"instrument.xafs.element: {xafs.element!r} is not in the film; give one of {list(spec.elements)}"
        )
    if set(spec.elements) != set(described.elements):
        problems.append(
            f"space.composition: elements {list(spec.elements)} do not match world "
            f"{spec.instrument.world!r}, which has {list(described.elements)}"
        )
    for i, objective in enumerate(spec.objectives):
        if objective.name not in described.quantity_units:
            problems.append(
                f"objectives.{i}.name: world {spec.instrument.world!r} does not measure "
                f"{objective.name!r}; it measures {sorted(described.quantity_units)}"
            )
    measurable = set(described.quantity_units)
    if spec.instrument.kind in LIBRARY_KINDS:
        measurable |= {f"fraction_{p}" for p in described.phases}
        if spec.instrument.xafs is not None:
            measurable |= {"edge_energy_ev", "oxidation_state"}
    for i, constraint in enumerate(spec.policy.constraints):
        if constraint.outcome not in measurable:
            problems.append(
                f"policy.constraints.{i}.outcome: {constraint.outcome!r} is not measured here; "
                f"measurable: {sorted(measurable)}"
            )
    return problems


def resolve_prior(path: str, elements: tuple[str, ...]) -> CompositionPrior:
    """The expert prior a campaign names, checked on a probe so it fails at start, not hours later."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"prior {path!r} is not an import path; give 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import module {module_name!r} for prior {path!r}: {exc}") from None
    prior = getattr(module, attribute, None)
    if not callable(prior):
        raise ValueError(f"{path!r} is not a function of compositions")
    probe = np.full((2, len(elements)), 1.0 / len(elements))
    try:
        weights = np.asarray(prior(probe), dtype=float).reshape(-1)
    except Exception as exc:
        raise ValueError(f"prior {path!r} failed on a probe of 2 compositions: {exc}") from None
    if weights.shape != (2,) or not np.all((weights >= 0) & (weights <= 1)):
        raise ValueError(f"prior {path!r} must return one weight in [0, 1] per composition, got {weights}")
    return prior


def parse_campaign(text: str, source: str = "campaign file") -> CampaignSpec:
    """A validated campaign from YAML text, or a CampaignFileError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CampaignFileError(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise CampaignFileError(
            source, [f"expected a mapping of keys (name, space, ...), got {type(raw).__name__}"]
        )
    try:
        spec = CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        raise CampaignFileError(source, describe_validation_errors(exc)) from None
    problems = _check_against_instrument(spec)
    if spec.policy.prior is not None:
        try:
            resolve_prior(spec.policy.prior, spec.elements)
        except ValueError as exc:
            problems.append(f"policy.prior: {exc}")
    if problems:
        raise CampaignFileError(source, problems)
    return spec


def load_campaign(path: Path) -> tuple[CampaignSpec, str]:
    """The validated spec and the exact text it came from (the store freezes the text)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CampaignFileError(str(path), [f"cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise CampaignFileError(
            str(path),
            [f"not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start}; save it as UTF-8"],
        ) from None
    return parse_campaign(text, str(path)), text
