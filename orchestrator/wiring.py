"""Builds the instrument and policy that a campaign file names, with seeds derived from one."""

import numpy as np

from instruments import (
    SimulatedInstrument,
    ThinFilmInstrument,
    describe_simulated_world,
    simulated_thin_film_instrument,
)
from instruments.epics_thin_film import epics_thin_film_instrument
from instruments.recorded.pool_instrument import RecordedPoolInstrument
from orchestrator.campaign import CampaignSpec, LibrarySpec, resolve_prior
from orchestrator.recorded_campaign import build_recorded_instrument, recorded_costs
from policies import (
    BayesianPolicy,
    Costs,
    CountTimeRule,
    GridPolicy,
    OutcomeConstraint,
    Policy,
    RandomPolicy,
    SobolPolicy,
)
from policies.noise import NOISE_MODELS


def derived_seeds(seed: int) -> dict[str, int]:
    """Independent streams for the world and the policy, all from the campaign's one seed."""
    world, policy = np.random.SeedSequence(seed).generate_state(2)
    return {"world": int(world), "policy": int(policy)}


def build_instrument(
    spec: CampaignSpec, seed: int
) -> SimulatedInstrument | ThinFilmInstrument | RecordedPoolInstrument:
    instrument = spec.instrument
    if instrument.kind == "recorded":
        return build_recorded_instrument(spec)
    assert instrument.world is not None  # the campaign file's own check
    quantities = describe_simulated_world(instrument.world).quantity_units
    objectives = [o for o in spec.measured_outcomes() if o in quantities]  # counted; features are reduced
    world_seed = derived_seeds(seed)["world"]
    if instrument.kind == "simulated":
        return SimulatedInstrument(
            instrument.world,
            objectives,
            seed=world_seed,
            fault_rates=instrument.inject_faults,
            realtime=instrument.realtime,
        )
    library = instrument.library or LibrarySpec()
    settings: dict[str, object] = {
        "objective_count_time_s": instrument.count_time_s,
        "xrd_count_time_s": instrument.xrd.count_time_s if instrument.xrd else None,
        "library_duration_s": library.duration_s,
        "spot_tolerance": library.spot_tolerance,
        "max_power_w": library.max_power_w,
        "heater_c": library.heater_c,
    }
    valences: tuple[float, ...] = (2.0, 3.0)
    if instrument.xafs is not None:
        settings.update(xafs_element=instrument.xafs.element, xafs_count_time_s=instrument.xafs.count_time_s)
        valences = tuple(instrument.xafs.reference_valences)
    simulated = simulated_thin_film_instrument(instrument.world, objectives, world_seed, settings, valences)
    if instrument.epics is not None:  # calibrations, reference data and units from the simulated one
        return epics_thin_film_instrument(
            instrument.epics.prefix,
            objectives,
            simulated.settings,
            phase_reducer=simulated.phase_reducer,
            xafs_reducer=simulated.xafs_reducer,
            feature_units=simulated.quantity_units,
        )
    return simulated


def build_policy(spec: CampaignSpec, seed: int, costs: Costs | None = None) -> Policy:
    space = spec.space.simplex()
    measurement = {"count_time_s": spec.instrument.count_time_s}
    policy_seed = derived_seeds(seed)["policy"]
    if spec.policy.kind == "sobol":
        return SobolPolicy(space, measurement, seed=policy_seed)
    if spec.policy.kind == "random":
        return RandomPolicy(space, measurement, seed=policy_seed)
    if spec.policy.kind == "grid":
        return GridPolicy(space, measurement, step=spec.policy.grid_step)
    return BayesianPolicy(
        space,
        spec.policy_objectives(),
        measurement,
        seed=policy_seed,
        n_sobol=spec.policy.n_sobol,
        num_restarts=spec.policy.num_restarts,
        raw_samples=spec.policy.raw_samples,
        mc_samples=spec.policy.mc_samples,
        constraints=[OutcomeConstraint(c.outcome, c.sense, c.bound) for c in spec.policy.constraints],
        noise=NOISE_MODELS[spec.policy.noise],
        reference_point={o.name: o.threshold for o in spec.objectives if o.threshold is not None},
        prior=resolve_prior(spec.policy.prior, spec.elements) if spec.policy.prior else None,
        costs=costs,
        count_time=CountTimeRule(**spec.policy.count_time.model_dump()) if spec.policy.count_time else None,
        allow_repeats=spec.policy.replicates,
        outcome_warps=spec.policy.outcome_warps,
    )


def instrument_costs(
    instrument: SimulatedInstrument | ThinFilmInstrument | RecordedPoolInstrument,
) -> Costs | None:
    """Spot and library times of an instrument that has libraries; None for one that makes each sample."""
    if isinstance(instrument, ThinFilmInstrument):
        return Costs(spot_s=instrument.spot_seconds(), library_s=instrument.library_seconds())
    if isinstance(instrument, RecordedPoolInstrument):
        return recorded_costs()
    return None
