"""Pareto sets and dominated hypervolume, for scoring campaigns against a world's truth."""

import numpy as np


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Rows not dominated by any other row (every objective maximised)."""
    y = np.asarray(values, dtype=float)
    keep = np.ones(len(y), dtype=bool)
    for i in range(len(y)):
        if not keep[i]:
            continue
        dominated_by_i = np.all(y[i] >= y, axis=1) & np.any(y[i] > y, axis=1)
        keep &= ~dominated_by_i
    return keep


def hypervolume(values: np.ndarray, reference: np.ndarray) -> float:
    """Volume dominated by `values` above `reference` (every objective maximised), exact.

    Slices along the first objective and recurses; fine for the fronts of a few hundred points
    that campaigns and dense grids produce.
    """
    y = np.asarray(values, dtype=float)
    ref = np.asarray(reference, dtype=float)
    y = y[np.all(y > ref, axis=1)]
    if len(y) == 0:
        return 0.0
    y = y[pareto_mask(y)]
    if y.shape[1] == 1:
        return float(y.max() - ref[0])
    order = np.argsort(-y[:, 0])
    y = y[order]
    volume = 0.0
    for i in range(len(y)):
        upper = y[i, 0]
        lower = y[i + 1, 0] if i + 1 < len(y) else ref[0]
        if upper > lower:
            volume += (upper - lower) * hypervolume(y[: i + 1, 1:], ref[1:])
    return float(volume)
