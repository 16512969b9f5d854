"""XRD reducers: phase fractions against reference patterns, and the strongest peak's features.

Both weight each channel by its Poisson variance (the counts), so the variances they report come
from counting statistics.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit, nnls

from instruments.reduction.reducer import Document, Reduction, ReductionError, run_documents


def xrd_pattern(documents: Sequence[Document], detector: str) -> tuple[str, np.ndarray, np.ndarray, float]:
    """Run uid, 2-theta axis, counts and count time of a measure_xrd run."""
    start, descriptors, events = run_documents(documents)
    if not events:
        raise ReductionError(f"run {start['uid']} has no event to reduce")
    data = events[-1]["data"]
    try:
        two_theta = np.asarray(data[f"{detector}-two_theta_deg"], dtype=float)
        counts = np.asarray(data[f"{detector}-counts"], dtype=float)
    except KeyError as exc:
        raise ReductionError(f"run {start['uid']} lacks data key {exc.args[0]!r}") from exc
    config = descriptors[-1]["configuration"].get(detector, {}).get("data", {})
    count_time_s = float(config.get(f"{detector}-count_time_s", 0.0))
    if count_time_s <= 0:
        raise ReductionError(f"run {start['uid']} does not configure {detector}-count_time_s")
    return start["uid"], two_theta, counts, count_time_s


def strained(two_theta: np.ndarray, pattern: np.ndarray, scale: float) -> np.ndarray:
    """A reference pattern for a lattice scaled by `scale` (d -> d*scale), by Bragg's law."""
    sin_half = np.sin(np.radians(two_theta) / 2) * scale
    source = np.degrees(2 * np.arcsin(np.clip(sin_half, -1, 1)))
    return np.interp(source, two_theta, pattern, left=0.0, right=0.0)


def _background_basis(two_theta: np.ndarray) -> np.ndarray:
    """Non-negative smooth shapes for the background (NNLS needs non-negative coefficients)."""
    u = (two_theta - two_theta[0]) / (two_theta[-1] - two_theta[0])
    return np.column_stack([np.ones_like(u), u, 1 - u, (two_theta[0] / two_theta) ** 2])


@dataclass(frozen=True)
class XrdPhaseFractionReducer:
    """Phase fractions by weighted NNLS against reference patterns (one per phase, per 100 nm, per s).

    Each reference may shift by a lattice strain within +-`max_strain` (Vegard shifts with composition),
    found by a coarse-to-fine search. Fractions are the fitted weights over their sum.
    """

    detector: str
    references: Mapping[str, np.ndarray]
    reference_two_theta: np.ndarray
    max_strain: float = 0.03
    prefix: str = "fraction_"

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        uid, two_theta, counts, count_time_s = xrd_pattern(documents, self.detector)
        names = list(self.references)
        refs = [np.interp(two_theta, self.reference_two_theta, self.references[n]) for n in names]
        weight = 1.0 / np.sqrt(np.maximum(counts, 1.0))
        background = _background_basis(two_theta) * count_time_s
        scales = np.ones(len(names))

        def design(s: np.ndarray) -> np.ndarray:
            phase_columns = [strained(two_theta, r, k) * count_time_s for r, k in zip(refs, s, strict=True)]
            return np.column_stack([*phase_columns, background])

        def misfit(s: np.ndarray) -> float:
            return float(nnls(design(s) * weight[:, None], counts * weight)[1])

        for step in (0.004, 0.001, 0.00025):
            for i in range(len(names)):
                trial = scales.copy()
                candidates = scales[i] + step * np.arange(-4, 5)
                candidates = candidates[np.abs(candidates - 1) <= self.max_strain]
                best = min(candidates, key=lambda c: misfit(np.where(np.arange(len(names)) == i, c, trial)))
                scales[i] = best
        a = design(scales)
        coefficients, _ = nnls(a * weight[:, None], counts * weight)
        w = coefficients[: len(names)]
        total = w.sum()
        if total <= 0:
            raise ReductionError(f"run {uid}: no reference phase fits the pattern")
        active = np.flatnonzero(coefficients > 0)
        covariance = np.zeros((len(coefficients), len(coefficients)))
        aw = a[:, active] * weight[:, None]
        covariance[np.ix_(active, active)] = np.linalg.pinv(aw.T @ aw)
        jacobian = (np.eye(len(names)) * total - w[:, None]) / total**2  # d(w_i / sum w) / d w_j
        fraction_cov = jacobian @ covariance[: len(names), : len(names)] @ jacobian.T
        values = {f"{self.prefix}{n}": float(w[i] / total) for i, n in enumerate(names)}
        variances = {f"{self.prefix}{n}": float(max(fraction_cov[i, i], 0.0)) for i, n in enumerate(names)}
        values.update({f"strain_{n}": float(scales[i] - 1) for i, n in enumerate(names)})
        variances.update({f"strain_{n}": 0.0 for n in names})  # a search result, not a fitted quantity
        return Reduction(uid, values, variances)


def _pseudo_voigt(x, area, centre, fwhm, eta, slope, offset):
    gamma = fwhm / 2
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    lorentz = gamma / np.pi / ((x - centre) ** 2 + gamma**2)
    gauss = np.exp(-0.5 * ((x - centre) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return area * (eta * lorentz + (1 - eta) * gauss) + slope * (x - x.mean()) + offset


@dataclass(frozen=True)
class XrdPeakReducer:
    """Position, width and area of the strongest peak in a window, by a pseudo-Voigt fit.

    The fit weights channels by their counts, so the parameter covariance is the counting one.
    Area is in counts per second times degrees (proportional to the diffracting volume).
    """

    detector: str
    window_deg: tuple[float, float] = (30.0, 90.0)
    half_width_deg: float = 1.5

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        uid, two_theta, counts, count_time_s = xrd_pattern(documents, self.detector)
        inside = (two_theta >= self.window_deg[0]) & (two_theta <= self.window_deg[1])
        if not inside.any():
            raise ReductionError(f"run {uid}: no channel in the window {self.window_deg} deg")
        peak = two_theta[inside][np.argmax(counts[inside])]
        near = np.abs(two_theta - peak) <= self.half_width_deg
        x, y = two_theta[near], counts[near]
        floor = float(np.percentile(y, 10))
        guess = [float((y - floor).clip(0).sum() * (x[1] - x[0])), float(peak), 0.3, 0.5, 0.0, floor]
        try:
            params, covariance = curve_fit(
                _pseudo_voigt,
                x,
                y,
                p0=guess,
                sigma=np.sqrt(np.maximum(y, 1.0)),
                absolute_sigma=True,
                bounds=([0, x[0], 0.01, 0, -np.inf, 0], [np.inf, x[-1], 3.0, 1, np.inf, np.inf]),
                maxfev=5000,
            )
        except RuntimeError as exc:
            raise ReductionError(f"run {uid}: the peak near {peak:.2f} deg did not fit: {exc}") from exc
        area, centre, fwhm = params[:3]
        var = np.diag(covariance)
        return Reduction(
            uid,
            {
                "peak_position_deg": float(centre),
                "peak_fwhm_deg": float(fwhm),
                "peak_area": float(area / count_time_s),
            },
            {
                "peak_position_deg": float(var[1]),
                "peak_fwhm_deg": float(var[2]),
                "peak_area": float(var[0] / count_time_s**2),
            },
        )
