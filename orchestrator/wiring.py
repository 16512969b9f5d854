"""Builds the instrument and policy that a campaign file names, with seeds derived from one."""

import numpy as np

from instruments import SimulatedInstrument
from orchestrator.campaign import CampaignSpec
from policies import Policy, QLogNEIPolicy, SobolPolicy


def derived_seeds(seed: int) -> dict[str, int]:
    """Independent streams for the world and the policy, all from the campaign's one seed."""
    world, policy = np.random.SeedSequence(seed).generate_state(2)
    return {"world": int(world), "policy": int(policy)}


def build_instrument(spec: CampaignSpec, seed: int) -> SimulatedInstrument:
    return SimulatedInstrument(
        spec.instrument.world,
        [o.name for o in spec.objectives],
        seed=derived_seeds(seed)["world"],
    )


def build_policy(spec: CampaignSpec, seed: int) -> Policy:
    space = spec.space.simplex()
    measurement = {"count_time_s": spec.instrument.count_time_s}
    policy_seed = derived_seeds(seed)["policy"]
    if spec.policy.kind == "sobol":
        return SobolPolicy(space, measurement, seed=policy_seed)
    return QLogNEIPolicy(
        space,
        spec.policy_objectives()[0],
        measurement,
        seed=policy_seed,
        n_sobol=spec.policy.n_sobol,
        num_restarts=spec.policy.num_restarts,
        raw_samples=spec.policy.raw_samples,
        mc_samples=spec.policy.mc_samples,
    )
