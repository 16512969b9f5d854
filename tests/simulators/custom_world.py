"""A user's own world, named in a campaign by import path (tests.simulators.custom_world:build)."""

from simulators.ternary_magnet import TernaryMagnetWorld


def build(seed: int = 0) -> TernaryMagnetWorld:
    return TernaryMagnetWorld(seed=seed, counts_per_tesla_s=500.0, name="custom")


not_a_world = "a string, not a factory"


def build_wrong(seed: int = 0) -> object:
    return object()
