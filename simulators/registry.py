"""Finds a world by its name or by a user's import path (`module:attribute`)."""

import importlib
from collections.abc import Callable

from simulators import fe_co_ni_oxide, fe_ga_pd
from simulators.errors import WorldInputError
from simulators.quaternary_hetero import QuaternaryHeteroWorld
from simulators.ternary_magnet import TernaryMagnetWorld
from simulators.world import World

WORLDS: dict[str, Callable[..., World]] = {
    "ternary-magnet": TernaryMagnetWorld,
    "fe-ga-pd": fe_ga_pd.build,
    "fe-co-ni-oxide": fe_co_ni_oxide.build,
    "quaternary-hetero": QuaternaryHeteroWorld,
}


def list_worlds() -> list[str]:
    """Names of the worlds that ship with junkan."""
    return sorted(WORLDS)


def load_world(name_or_import_path: str, seed: int = 0) -> World:
    """A seeded world: a shipped name, or `package.module:factory` for a user's own world."""
    if ":" in name_or_import_path:
        module_name, _, attribute = name_or_import_path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise WorldInputError(
                f"cannot import module {module_name!r} for world {name_or_import_path!r}: {exc}"
            ) from exc
        factory = getattr(module, attribute, None)
        if factory is None:
            raise WorldInputError(f"module {module_name!r} has no attribute {attribute!r}")
    else:
        factory = WORLDS.get(name_or_import_path)
        if factory is None:
            raise WorldInputError(
                f"unknown world {name_or_import_path!r}; shipped worlds: {list_worlds()}, "
                "or give an import path 'module:attribute'"
            )
    try:
        world = factory(seed=seed)
    except Exception as exc:  # a user's factory: whatever it raises is a bad world, not our bug
        raise WorldInputError(
            f"world {name_or_import_path!r} failed when built as factory(seed={seed}): "
            f"{type(exc).__name__}: {exc}; a world factory takes the keyword seed= and returns a World"
        ) from exc
    if not isinstance(world, World):
        raise WorldInputError(
            f"{name_or_import_path!r} did not build a World (needs name, elements, quantities, "
            "truth, measure_counts)"
        )
    return world
