"""Campaign scores, defined once for pool replay, the benchmarks and the dashboard: a campaign's
progress (the best value so far, or the hypervolume of what it measured), the top 5 % of a set of
conditions and how much of it a campaign found, and the acceleration (AF) and enhancement (EF,
Rohr et al. 2020) factors against random, and two campaigns' scores compared seed by seed. Values
are signed: every objective maximised."""

import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import stats

from simulators import hypervolume, pareto_mask

TOP_FRACTION = 0.05


def progress(signed: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """After each measurement (rows of `signed`): the best value so far of the one objective, or,
    with a `reference` point, the hypervolume the measured values dominate."""
    signed = _columns(signed)
    if reference is None:
        return np.maximum.accumulate(signed[:, 0]) if len(signed) else np.zeros(0)
    return np.array([hypervolume(signed[: k + 1], reference) for k in range(len(signed))])


def _columns(signed: np.ndarray) -> np.ndarray:
    signed = np.asarray(signed, dtype=float)
    return signed[:, None] if signed.ndim == 1 else signed


def pareto_ranks(signed: np.ndarray) -> np.ndarray:
    """0 for the non-dominated rows, 1 for those non-dominated once they are removed, and so on."""
    ranks = np.full(len(signed), -1)
    remaining = np.arange(len(signed))
    rank = 0
    while remaining.size:
        front = pareto_mask(signed[remaining])
        ranks[remaining[front]] = rank
        remaining = remaining[~front]
        rank += 1
    return ranks


def top_set(signed: np.ndarray) -> np.ndarray:
    """The top 5 % (ceil of 5 % of the rows): by value for one objective, ties at the boundary in;
    for several, the first Pareto fronts that together hold at least that many."""
    signed = _columns(signed)
    n_top = math.ceil(TOP_FRACTION * len(signed))
    if signed.shape[1] == 1:
        return signed[:, 0] >= np.sort(signed[:, 0])[::-1][n_top - 1]
    ranks = pareto_ranks(signed)
    last = int(np.searchsorted(np.cumsum(np.bincount(ranks)), n_top))  # the front that reaches n_top
    return ranks <= last


def found_fraction(measured: Iterable[int], top: np.ndarray) -> float:
    """The share of the top set (a bool per condition) among the measured conditions."""
    curve = found_curve(list(measured), top)
    return float(curve[-1]) if len(curve) else 0.0


def found_curve(measured: Sequence[int], top: np.ndarray) -> np.ndarray:
    """`found_fraction` after each measurement: how soon the top set is found, not only how much of it."""
    seen: set[int] = set()
    new_hits = []
    for i in measured:
        new_hits.append(bool(top[i]) and i not in seen)
        seen.add(i)
    return np.cumsum(np.array(new_hits, dtype=float)) / int(top.sum())


def acceleration_factor(random_n: float, policy_n: float) -> float:
    """AF: measurements random needs to a target over those the policy needs."""
    return random_n / policy_n


def enhancement_factor(policy_found: float, random_found: float) -> float | None:
    """EF: the policy's share of the top set over random's at the same budget (None when random's is 0)."""
    return policy_found / random_found if random_found > 0 else None


def paired_outcomes(ours: np.ndarray, theirs: np.ndarray) -> list[int]:
    """Seeds (same world and noise stream) where our score is above, below and level with theirs;
    level within float rounding, since agents that measure the same corner differ only in the last
    digits."""
    level = np.isclose(ours, theirs, rtol=1e-9, atol=0.0)
    return [int(np.sum(~level & (ours > theirs))), int(np.sum(~level & (ours < theirs))), int(np.sum(level))]


def sign_test_p(wins: int, losses: int) -> float:
    """One-sided sign test, ties dropped: the chance of so few wins or fewer if neither side were
    better. Small (say < 0.05): the other side's lead is more than the luck of the seeds."""
    untied = wins + losses
    return float(stats.binomtest(wins, untied, 0.5, alternative="less").pvalue) if untied else 1.0
