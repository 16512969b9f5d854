"""XAFS reducer: normalised mu(E), edge energy and oxidation state, with variances.

mu = ln(I0/It) with var = 1/I0 + 1/It per point (independent Poisson counters). The edge energy is
the maximum of the derivative of the smoothed XANES; the oxidation state is a linear combination
of reference spectra of known valence, fitted on the XANES. Their variances come from a parametric
bootstrap over the counting noise, which follows the estimators through every non-linear step.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls
from scipy.signal import savgol_filter

from instruments.reduction.reducer import Document, Reduction, ReductionError, run_documents


@dataclass(frozen=True)
class XafsScan:
    run_uid: str
    element: str
    energy_ev: np.ndarray
    mu: np.ndarray
    mu_variance: np.ndarray


def xafs_scan(documents: Sequence[Document], setup: str) -> XafsScan:
    start, _, events = run_documents(documents)
    if len(events) < 20:
        raise ReductionError(f"run {start['uid']} has {len(events)} points; a spectrum needs at least 20")
    try:
        energy = np.array([e["data"][f"{setup}-energy_ev"] for e in events], dtype=float)
        i0 = np.array([e["data"][f"{setup}-i0"] for e in events], dtype=float)
        it = np.array([e["data"][f"{setup}-it"] for e in events], dtype=float)
    except KeyError as exc:
        raise ReductionError(f"run {start['uid']} lacks data key {exc.args[0]!r}") from exc
    if np.any(i0 <= 0) or np.any(it <= 0):
        raise ReductionError(f"run {start['uid']}: a counter read zero; mu = ln(I0/It) is undefined there")
    order = np.argsort(energy)
    return XafsScan(
        start["uid"],
        str(start.get("absorber", "")),
        energy[order],
        np.log(i0 / it)[order],
        (1 / i0 + 1 / it)[order],
    )


def normalise(energy: np.ndarray, mu: np.ndarray, e0: float) -> np.ndarray:
    """Pre-edge line removed, post-edge quadratic brought to one: the unit edge step."""
    pre = (energy < e0 - 30) & (energy > e0 - 200)
    post = (energy > e0 + 50) & (energy < e0 + 400)
    if pre.sum() < 3 or post.sum() < 4:
        raise ReductionError(
            f"too few points below ({pre.sum()}) or above ({post.sum()}) the edge to normalise"
        )
    pre_line = np.polyval(np.polyfit(energy[pre], mu[pre], 1), energy)
    post_curve = np.polyval(np.polyfit(energy[post], mu[post] - pre_line[post], 2), energy)
    step = np.polyval(np.polyfit(energy[post], mu[post] - pre_line[post], 2), e0)
    if step <= 0:
        raise ReductionError(f"no edge step at {e0:.1f} eV")
    del post_curve
    return (mu - pre_line) / step


def derivative_edge(energy: np.ndarray, mu: np.ndarray, around: float, half_window: float = 20.0) -> float:
    """Maximum of dmu/dE (Savitzky-Golay, parabola-refined) within +-half_window of `around`."""
    near = np.flatnonzero(np.abs(energy - around) <= half_window)
    if near.size < 9:
        raise ReductionError(f"too few points near {around:.1f} eV to locate the edge")
    e, m = energy[near], mu[near]
    step = float(np.median(np.diff(e)))
    d = savgol_filter(m, window_length=7, polyorder=2, deriv=1, delta=step)
    i = int(np.clip(np.argmax(d), 1, len(d) - 2))
    y0, y1, y2 = d[i - 1 : i + 2]
    curvature = y0 - 2 * y1 + y2
    return float(e[i] + (0.5 * step * (y0 - y2) / curvature if curvature < 0 else 0.0))


@dataclass(frozen=True)
class XafsReducer:
    """Edge energy (eV) and oxidation state of the absorber from a measure_xafs run.

    `references` maps valence to a normalised reference spectrum (energy, mu) of that valence;
    the nominal edge `edge_ev` (xraydb's) anchors the search.
    """

    setup: str
    edge_ev: float
    references: Mapping[float, tuple[np.ndarray, np.ndarray]]
    bootstrap: int = 100
    seed: int = 0

    def estimate(self, energy: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
        e0 = derivative_edge(energy, mu, self.edge_ev + 3.0, half_window=15.0)
        norm = normalise(energy, mu, e0)
        xanes = (energy > self.edge_ev - 20) & (energy < self.edge_ev + 40)
        valences = np.array(list(self.references))
        basis = np.column_stack([np.interp(energy[xanes], *self.references[v]) for v in valences])
        weights, _ = nnls(basis, norm[xanes])
        if weights.sum() <= 0:
            raise ReductionError("no reference spectrum fits the XANES")
        return e0, float(weights @ valences / weights.sum())

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        scan = xafs_scan(documents, self.setup)
        e0, valence = self.estimate(scan.energy_ev, scan.mu)
        rng = np.random.default_rng(self.seed)
        draws = np.array(
            [
                self.estimate(scan.energy_ev, scan.mu + rng.normal(0, np.sqrt(scan.mu_variance)))
                for _ in range(self.bootstrap)
            ]
        )
        return Reduction(
            scan.run_uid,
            {"edge_energy_ev": e0, "oxidation_state": valence},
            {
                "edge_energy_ev": float(draws[:, 0].var(ddof=1)),
                "oxidation_state": float(draws[:, 1].var(ddof=1)),
            },
        )
