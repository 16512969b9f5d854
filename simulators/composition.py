"""Checks a composition against a world's elements and the simplex."""

from collections.abc import Mapping, Sequence

import numpy as np

from simulators.errors import WorldInputError

SIMPLEX_TOLERANCE = 1e-6


def composition_array(composition: Mapping[str, float], elements: Sequence[str]) -> np.ndarray:
    """Atomic fractions in the world's element order, refused if unknown or off the simplex."""
    unknown = sorted(set(composition) - set(elements))
    if unknown:
        raise WorldInputError(f"unknown element(s) {unknown}; this world has {list(elements)}")
    missing = [e for e in elements if e not in composition]
    if missing:
        raise WorldInputError(f"composition lacks {missing}; give a fraction for each of {list(elements)}")
    x = np.array([float(composition[e]) for e in elements])
    if not np.all(np.isfinite(x)):
        raise WorldInputError(f"composition {dict(composition)} has a non-finite fraction")
    if np.any(x < -SIMPLEX_TOLERANCE):
        raise WorldInputError(
            f"composition {dict(composition)} has a negative fraction; fractions are in [0, 1]"
        )
    total = float(x.sum())
    if abs(total - 1.0) > SIMPLEX_TOLERANCE:
        raise WorldInputError(
            f"composition {dict(composition)} sums to {total:.6g}; atomic fractions sum to 1"
        )
    return np.clip(x, 0.0, 1.0)


def compositions_array(compositions: np.ndarray, n_elements: int) -> np.ndarray:
    """An (n, n_elements) array of compositions, refused if any row is off the simplex."""
    x = np.atleast_2d(np.asarray(compositions, dtype=float))
    if x.shape[-1] != n_elements:
        raise WorldInputError(
            f"compositions have {x.shape[-1]} columns; this world has {n_elements} elements"
        )
    bad = np.flatnonzero(
        (np.abs(x.sum(axis=1) - 1.0) > SIMPLEX_TOLERANCE)
        | np.any(x < -SIMPLEX_TOLERANCE, axis=1)
        | ~np.all(np.isfinite(x), axis=1)
    )
    if bad.size:
        raise WorldInputError(
            f"composition row {int(bad[0])} ({x[bad[0]].tolist()}) is off the simplex: "
            "fractions must be in [0, 1] and sum to 1"
        )
    return np.clip(x, 0.0, 1.0)
