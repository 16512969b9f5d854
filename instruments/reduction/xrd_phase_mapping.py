"""Unsupervised XRD phase mapping for libraries without reference patterns (CAMEO, Kusne et al. 2020).

Patterns are background-subtracted, scaled to unit maximum, factorised by non-negative matrix
factorisation (NMF) into a few basis patterns ("components", one per phase or phase mixture),
and the spots are clustered on their NMF weights into phase regions. When compositions are
given the clustering may only merge spots that are neighbours in composition, so every region
is contiguous in composition space, as in CAMEO's graph-based phase mapping.

`component_weights` then places one new measurement on the learned components with counting
statistics propagated, which is what a reducer needs to report phase weights with variances.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, minimum_filter1d, uniform_filter1d
from scipy.optimize import nnls
from scipy.sparse import csr_matrix
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import NMF
from sklearn.metrics import silhouette_score
from sklearn.neighbors import kneighbors_graph

from instruments.reduction.reducer import Document, Reduction, ReductionError, run_documents

BACKGROUND_WINDOW_DEG = 2.0
"""Width of the rolling-minimum baseline. Thin-film Bragg peaks are 0.1–0.5° wide while the
background (substrate, fluorescence, air scatter) varies over several degrees, so a 2° minimum
runs under the peaks without cutting into them."""

COMPOSITION_NEIGHBOURS = 6
"""Neighbours per spot in the composition connectivity graph: about one ring of neighbours on a
2-D library (a triangular lattice has 6), enough to keep the graph connected, few enough that a
region cannot jump across the library."""

REGION_CANDIDATES = range(2, 9)
"""Numbers of regions tried when `n_regions` is None. A ternary library rarely shows more than a
handful of distinct phase fields in one 2θ window, and at least two are needed to split it."""

BASELINE_SMOOTHING_DEG = 0.04
"""Gaussian σ of the smoothing applied before the rolling minimum. The minimum of raw counts sits
about two noise σ below the true background and would leave a pedestal under every pattern;
0.04° is under half the σ of the narrowest thin-film peaks, so the baseline is not pulled up."""

NMF_MAX_ITER = 1000
"""Cap on NMF coordinate-descent sweeps. The Fe–Ga–Pd library converges in under 60 (3–6
components), well inside scikit-learn's default of 200; the higher cap costs nothing once
converged and keeps a harder library from returning a half-converged factorisation."""


@dataclass(frozen=True)
class PhaseMap:
    """Phase regions of a library and the NMF decomposition they were found from.

    `weights @ components` approximates the background-subtracted patterns, each scaled to a
    maximum of 1; every component row has a maximum of 1, so a weight is the peak height that
    component contributes, as a fraction of the pattern's strongest peak.
    """

    labels: np.ndarray
    weights: np.ndarray
    components: np.ndarray
    n_regions: int


def _window_points(two_theta_deg: np.ndarray, window_deg: float) -> int:
    """The baseline window in points, odd so the filter is centred, and no wider than the scan."""
    step = float(np.median(np.diff(two_theta_deg)))
    points = max(3, round(window_deg / step))
    points = min(points, two_theta_deg.size)
    return points if points % 2 == 1 else points - 1


def _subtract_background(
    two_theta_deg: np.ndarray, patterns: np.ndarray, window_deg: float = BACKGROUND_WINDOW_DEG
) -> np.ndarray:
    """Patterns minus a smoothed rolling-minimum baseline, clipped at zero.

    The rolling minimum (of lightly smoothed patterns, see `BASELINE_SMOOTHING_DEG`) follows the
    slowly varying background under the peaks; averaging it over the same window removes the
    minimum filter's steps. Clipping keeps the input non-negative, which NMF requires, and only
    touches noise dips below the baseline.
    """
    width = _window_points(two_theta_deg, window_deg)
    step = float(np.median(np.diff(two_theta_deg)))
    smoothed = gaussian_filter1d(patterns, BASELINE_SMOOTHING_DEG / step, axis=-1, mode="nearest")
    baseline = minimum_filter1d(smoothed, width, axis=-1, mode="nearest")
    baseline = uniform_filter1d(baseline, width, axis=-1, mode="nearest")
    return np.clip(patterns - baseline, 0.0, None)


def _scale_to_unit_max(patterns: np.ndarray) -> np.ndarray:
    """Each pattern divided by its maximum, so thick or strongly textured spots do not dominate.

    A per-pattern factor (rather than a square root) keeps the pattern a linear, non-negative
    mix of phase patterns, which is the model NMF fits and what `component_weights` assumes.
    A pattern that is zero everywhere stays zero.
    """
    peak = patterns.max(axis=1, keepdims=True)
    return patterns / np.where(peak > 0, peak, 1.0)


def _check_map_inputs(
    two_theta_deg: np.ndarray,
    patterns: np.ndarray,
    compositions: np.ndarray | None,
    n_components: int,
    n_regions: int | None,
) -> None:
    """Reject inputs that would make NMF or the clustering fail or silently mean something else."""
    if two_theta_deg.ndim != 1 or two_theta_deg.size < 3:
        raise ValueError(f"two_theta_deg must be 1-D with at least 3 points, got shape {two_theta_deg.shape}")
    if not np.all(np.diff(two_theta_deg) > 0):
        raise ValueError("two_theta_deg must be strictly increasing")
    if patterns.ndim != 2 or patterns.shape[1] != two_theta_deg.size:
        raise ValueError(
            f"patterns must have shape (n_patterns, {two_theta_deg.size}) to match two_theta_deg, "
            f"got {patterns.shape}"
        )
    if patterns.shape[0] < 3:
        raise ValueError(f"need at least 3 patterns to map phases, got {patterns.shape[0]}")
    if not np.all(np.isfinite(patterns)):
        raise ValueError("patterns contain NaN or infinite intensities")
    if not 1 <= n_components < min(patterns.shape):
        raise ValueError(f"n_components must be in [1, {min(patterns.shape) - 1}], got {n_components}")
    if n_regions is not None and not 1 <= n_regions <= patterns.shape[0]:
        raise ValueError(f"n_regions must be None or in [1, {patterns.shape[0]}], got {n_regions}")
    if compositions is not None and (compositions.ndim != 2 or compositions.shape[0] != patterns.shape[0]):
        raise ValueError(
            f"compositions must have shape ({patterns.shape[0]}, n_elements), one row per pattern, "
            f"got {compositions.shape}"
        )


def _cluster(features: np.ndarray, connectivity: csr_matrix | None, n_regions: int) -> np.ndarray:
    """Ward agglomeration: it merges the pair of regions that least increases within-region
    variance, which gives compact regions and, unlike k-means, accepts a connectivity graph."""
    model = AgglomerativeClustering(n_clusters=n_regions, connectivity=connectivity, linkage="ward")
    return model.fit_predict(features)


def map_phases(
    two_theta_deg: np.ndarray,
    patterns: np.ndarray,
    compositions: np.ndarray | None = None,
    n_components: int = 4,
    n_regions: int | None = None,
    seed: int = 0,
) -> PhaseMap:
    """Phase regions of a library from its XRD patterns alone.

    Steps, each chosen so that no reference pattern is needed:
    1. background: smoothed rolling minimum (`_subtract_background`);
    2. scale each pattern to unit maximum (`_scale_to_unit_max`);
    3. NMF (scikit-learn) into `n_components` non-negative basis patterns, started from
       `nndsvda`: deterministic, and the start scikit-learn recommends when the factors need not
       be sparse (XRD patterns are dense after background subtraction);
    4. features: each spot's NMF weights divided by their Euclidean norm, so spots are grouped by
       which phases they contain rather than by how strongly they diffract;
    5. Ward clustering; with `compositions`, restricted by a k-nearest-neighbour graph in
       composition space so that regions are contiguous (CAMEO's graph-based clustering);
    6. if `n_regions` is None, the number in `REGION_CANDIDATES` with the highest silhouette score
       of the features (ties go to fewer regions): it rewards regions that are both tight and
       well separated without a model of how many phases to expect.

    `seed` is passed to NMF; with the deterministic start it only matters for degenerate data.
    """
    two_theta_deg = np.asarray(two_theta_deg, dtype=float)
    patterns = np.asarray(patterns, dtype=float)
    if compositions is not None:
        compositions = np.asarray(compositions, dtype=float)
    _check_map_inputs(two_theta_deg, patterns, compositions, n_components, n_regions)

    scaled = _scale_to_unit_max(_subtract_background(two_theta_deg, patterns))
    nmf = NMF(n_components=n_components, init="nndsvda", max_iter=NMF_MAX_ITER, random_state=seed)
    weights = nmf.fit_transform(scaled)
    components = nmf.components_
    # Put the scale in the weights: components of unit maximum are comparable with each other.
    component_peak = components.max(axis=1)
    component_peak = np.where(component_peak > 0, component_peak, 1.0)
    components = components / component_peak[:, None]
    weights = weights * component_peak[None, :]

    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    features = weights / np.where(norms > 0, norms, 1.0)

    connectivity = None
    if compositions is not None:
        n_neighbours = min(COMPOSITION_NEIGHBOURS, patterns.shape[0] - 1)
        connectivity = kneighbors_graph(compositions, n_neighbours, include_self=False)

    if n_regions is not None:
        labels = _cluster(features, connectivity, n_regions)
    else:
        best_score = -np.inf
        labels = np.zeros(patterns.shape[0], dtype=int)
        for candidate in REGION_CANDIDATES:
            if candidate >= patterns.shape[0]:
                break
            trial = _cluster(features, connectivity, candidate)
            if np.unique(trial).size < 2:
                continue
            score = silhouette_score(features, trial)
            if score > best_score:
                best_score, labels = score, trial
    return PhaseMap(
        labels=np.asarray(labels, dtype=int),
        weights=weights,
        components=components,
        n_regions=int(np.unique(labels).size),
    )


def component_weights(
    pattern: np.ndarray, counts_variance: np.ndarray, components: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative weights of one pattern on known components, and their variances.

    `pattern` is a background-subtracted pattern on the components' 2θ grid (counts), and
    `counts_variance` its variance per point: for Poisson counts the expected counts, background
    included. Rows of the least-squares problem are divided by σ, so the solution is the
    maximum-likelihood estimate under Gaussian-approximated counting noise (scipy's NNLS).
    The raw counts may stand in for the expected counts (the spread of the weights stays right),
    but at low counts that weighting (Neyman's χ²) favours downward fluctuations and biases the
    weights low, by about half a standard deviation at ~40 counts per point in the tests. A second
    call weighted by the first fit's prediction (`weights @ components` plus background) removes
    that bias (tested).

    Variances are the diagonal of (AᵀA)⁻¹ over the active set (weights > 0), with A the
    σ-scaled components: the covariance of weighted least squares with known variances, not
    rescaled by the reduced χ², because the counting variance is known rather than fitted.
    An inactive weight sits on the non-negativity bound, where this Gaussian picture does not
    hold; its variance is reported as 0, meaning "at the bound", not "known exactly".
    """
    pattern = np.asarray(pattern, dtype=float)
    counts_variance = np.asarray(counts_variance, dtype=float)
    components = np.asarray(components, dtype=float)
    if pattern.ndim != 1:
        raise ValueError(f"pattern must be 1-D, got shape {pattern.shape}")
    if counts_variance.shape != pattern.shape:
        raise ValueError(
            f"counts_variance must have the pattern's shape {pattern.shape}, got {counts_variance.shape}"
        )
    if components.ndim != 2 or components.shape[1] != pattern.size:
        raise ValueError(
            f"components must have shape (n_components, {pattern.size}) to match the pattern, "
            f"got {components.shape}"
        )
    if not (np.all(np.isfinite(counts_variance)) and np.all(counts_variance > 0)):
        raise ValueError("counts_variance must be finite and > 0 everywhere (use max(counts, 1) for counts)")
    if not np.all(np.isfinite(pattern)):
        raise ValueError("pattern contains NaN or infinite values")

    sigma = np.sqrt(counts_variance)
    design = components.T / sigma[:, None]
    weights, _ = nnls(design, pattern / sigma)
    # NNLS can leave round-off-sized positive values (~1e-27 relative seen) on weights that belong
    # on the bound; anything below sqrt(machine epsilon) of the largest weight is put on it.
    active = weights > np.sqrt(np.finfo(float).eps) * weights.max(initial=0.0)
    weights = np.where(active, weights, 0.0)
    variances = np.zeros_like(weights)
    if np.any(active):
        fisher = design[:, active].T @ design[:, active]
        variances[active] = np.diag(np.linalg.pinv(fisher, hermitian=True))
    return weights, variances


@dataclass(frozen=True)
class XrdComponentReducer:
    """A run's pattern as weights on a phase map's components (the Reducer for data without
    reference patterns): background removed as in `map_phases`, Poisson variances of the counts."""

    counts_key: str  # e.g. "xrd-counts", or "pool-xrd_intensity" for recorded data
    axis_key: str  # e.g. "xrd-two_theta_deg"
    components: np.ndarray
    two_theta_deg: np.ndarray  # the components' grid
    prefix: str = "component_"

    def reduce(self, documents: Sequence[Document]) -> Reduction:
        start, _, events = run_documents(documents)
        if not events:
            raise ReductionError(f"run {start['uid']} has no event to reduce")
        data = events[-1]["data"]
        missing = [k for k in (self.counts_key, self.axis_key) if k not in data]
        if missing:
            raise ReductionError(f"run {start['uid']} lacks data key {missing[0]!r}")
        uid = start["uid"]
        two_theta = np.asarray(data[self.axis_key], dtype=float)
        counts = np.asarray(data[self.counts_key], dtype=float)
        on_grid = np.interp(self.two_theta_deg, two_theta, counts)
        signal = _subtract_background(self.two_theta_deg, on_grid[None, :])[0]
        weights, variances = component_weights(signal, np.maximum(on_grid, 1.0), self.components)
        return Reduction(
            uid,
            {f"{self.prefix}{k}": float(w) for k, w in enumerate(weights)},
            {f"{self.prefix}{k}": float(v) for k, v in enumerate(variances)},
        )
