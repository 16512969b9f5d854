"""Phase mapping without references: synthetic recovery, calibrated weights, the real Fe–Ga–Pd library."""

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import fowlkes_mallows_score
from sklearn.neighbors import kneighbors_graph

from instruments.recorded.fe_ga_pd import (
    FE_GA_PD_COMPOSITIONS,
    FE_GA_PD_DFT_REGIONS,
    FE_GA_PD_XRD,
    load_fe_ga_pd,
)
from instruments.reduction.xrd_phase_mapping import COMPOSITION_NEIGHBOURS, component_weights, map_phases

# /work/main/tests/instruments/<this file>: parents[3] is /work, where the shared data live.
FE_GA_PD_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "fe-ga-pd"
TWO_THETA_DEG = np.linspace(37.0, 48.0, 551)
# Three made-up phases: (centre °, relative height) of their Gaussian peaks, width σ = 0.08°.
PHASE_PEAKS = (
    ((41.0, 1.0), (44.7, 0.6)),
    ((42.6, 1.0), (46.1, 0.4), (39.2, 0.3)),
    ((38.4, 0.7), (43.6, 1.0)),
)


def _phase_patterns() -> np.ndarray:
    """(3, 551) unit-maximum patterns of the made-up phases."""
    rows = []
    for peaks in PHASE_PEAKS:
        row = sum(h * np.exp(-0.5 * ((TWO_THETA_DEG - c) / 0.08) ** 2) for c, h in peaks)
        rows.append(row / row.max())
    return np.array(rows)


def _region_graph_connected(labels: np.ndarray, compositions: np.ndarray) -> bool:
    """Every region is one connected piece of the composition neighbour graph map_phases uses."""
    graph = kneighbors_graph(compositions, COMPOSITION_NEIGHBOURS, include_self=False)
    graph = graph + graph.T
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_pieces, _ = connected_components(graph[members][:, members], directed=False)
        if n_pieces != 1:
            return False
    return True


def _synthetic_library(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson counts of a ternary grid split into three contiguous regions of known phase mixes.

    Like a ternary phase diagram: region 0 (a >= 0.5) is phase 0 alone; region 1 (b >= c) is the
    two-phase field 0 + 1 with a fraction 0.4 + 0.6 b of phase 1; region 2 (c > b) is the field
    1 + 2 with a fraction 0.4 + 0.6 c of phase 2. Fractions vary within a field (lever rule) and
    jump across its boundary. Each spot also gets its own overall scale (film thickness, 0.3–1.5)
    and a sloping background, which the mapping has to see through.
    """
    steps = 16
    grid = [(i, j, steps - i - j) for i in range(steps + 1) for j in range(steps + 1 - i)]
    compositions = np.array(grid, dtype=float) / steps
    a, b, c = compositions.T
    regions = np.where(a >= 0.5, 0, np.where(b >= c, 1, 2))
    fractions = np.zeros((len(regions), 3))
    fractions[regions == 0, 0] = 1.0
    f1 = 0.4 + 0.6 * b
    fractions[regions == 1, 0] = 1.0 - f1[regions == 1]
    fractions[regions == 1, 1] = f1[regions == 1]
    f2 = 0.4 + 0.6 * c
    fractions[regions == 2, 1] = 1.0 - f2[regions == 2]
    fractions[regions == 2, 2] = f2[regions == 2]
    scale = rng.uniform(0.3, 1.5, size=(len(regions), 1))
    background = 30.0 + 2.0 * (48.0 - TWO_THETA_DEG)
    counts = rng.poisson(400.0 * scale * (fractions @ _phase_patterns()) + background).astype(float)
    return compositions, counts, regions


def test_map_phases_recovers_synthetic_regions_and_phases():
    rng = np.random.default_rng(7)
    compositions, counts, regions = _synthetic_library(rng)

    phase_map = map_phases(TWO_THETA_DEG, counts, compositions, n_components=3)

    assert phase_map.n_regions == 3, "the silhouette criterion should find the three regions"
    assert fowlkes_mallows_score(regions, phase_map.labels) >= 0.9
    assert _region_graph_connected(phase_map.labels, compositions)
    assert phase_map.weights.shape == (len(regions), 3)
    assert phase_map.components.shape == (3, TWO_THETA_DEG.size)
    assert np.all(phase_map.weights >= 0)
    # Weights are on the per-pattern unit-maximum scale, whatever each spot's thickness.
    reconstructed_peak = (phase_map.weights @ phase_map.components).max(axis=1)
    assert np.all((reconstructed_peak > 0.75) & (reconstructed_peak < 1.25)), reconstructed_peak
    # Each true phase pattern is one of the learned components (cosine similarity).
    truth = _phase_patterns()
    cosine = (truth / np.linalg.norm(truth, axis=1, keepdims=True)) @ (
        phase_map.components / np.linalg.norm(phase_map.components, axis=1, keepdims=True)
    ).T
    assert np.all(cosine.max(axis=1) >= 0.95), cosine


def test_map_phases_uses_the_requested_number_of_regions():
    rng = np.random.default_rng(8)
    compositions, counts, _ = _synthetic_library(rng)
    phase_map = map_phases(TWO_THETA_DEG, counts, compositions, n_components=3, n_regions=5)
    assert phase_map.n_regions == 5
    assert np.unique(phase_map.labels).size == 5


def test_map_phases_rejects_misaligned_compositions():
    rng = np.random.default_rng(9)
    compositions, counts, _ = _synthetic_library(rng)
    with pytest.raises(ValueError, match="compositions"):
        map_phases(TWO_THETA_DEG, counts, compositions[:-1])


def test_component_weights_z_scores_have_unit_spread_under_poisson_noise():
    """300 Poisson draws of one pattern: (estimate - truth) / reported σ must be N(0, 1)-like.

    Three ways of giving the variance: the expected counts (spread and centre checked); the raw
    counts (spread checked; their Neyman weighting biases the weights low by ~0.5 σ here, as the
    docstring says); and a second pass weighted by the first fit's prediction (both checked).
    """
    components = _phase_patterns()
    true_weights = np.array([300.0, 150.0, 80.0])
    background = 40.0
    expected = true_weights @ components + background
    rng = np.random.default_rng(11)

    z_expected, z_raw, z_two_pass = [], [], []
    for _ in range(300):
        counts = rng.poisson(expected).astype(float)
        # Background known and subtracted; its counts still add Poisson variance.
        signal = counts - background
        weights, variances = component_weights(signal, expected, components)
        assert np.all(variances > 0), "all three phases are present, so all weights are active"
        z_expected.append((weights - true_weights) / np.sqrt(variances))
        weights, variances = component_weights(signal, np.maximum(counts, 1.0), components)
        z_raw.append((weights - true_weights) / np.sqrt(variances))
        weights, variances = component_weights(signal, weights @ components + background, components)
        z_two_pass.append((weights - true_weights) / np.sqrt(variances))

    for z_scores, centred in ((z_expected, True), (z_raw, False), (z_two_pass, True)):
        z_scores = np.array(z_scores)
        spread = z_scores.std(axis=0, ddof=1)
        assert np.all((spread > 0.85) & (spread < 1.15)), spread
        if centred:
            assert np.all(np.abs(z_scores.mean(axis=0)) < 0.2), z_scores.mean(axis=0)


def test_component_weights_exact_for_noiseless_pattern_and_zero_variance_at_the_bound():
    components = _phase_patterns()
    pattern = np.array([200.0, 100.0, 0.0]) @ components
    weights, variances = component_weights(pattern, np.maximum(pattern, 1.0), components)
    np.testing.assert_allclose(weights, [200.0, 100.0, 0.0], atol=1e-6)
    assert variances[2] == 0.0
    assert np.all(variances[:2] > 0)


def test_component_weights_rejects_non_positive_variance():
    components = _phase_patterns()
    pattern = components[0] * 100.0
    with pytest.raises(ValueError, match="counts_variance"):
        component_weights(pattern, np.zeros_like(pattern), components)


@pytest.fixture(scope="module")
def fe_ga_pd():
    assert FE_GA_PD_DIR.is_dir(), f"the shared Fe–Ga–Pd data are missing: expected them at {FE_GA_PD_DIR}"
    return load_fe_ga_pd(FE_GA_PD_DIR)


def test_load_fe_ga_pd_shapes(fe_ga_pd):
    two_theta_deg, patterns, compositions, dft_labels = fe_ga_pd
    assert two_theta_deg.shape == (551,)
    assert two_theta_deg[0] == pytest.approx(37.0) and two_theta_deg[-1] == pytest.approx(48.0)
    assert patterns.shape == (278, 551)
    assert compositions.shape == (278, 3)
    np.testing.assert_allclose(compositions.sum(axis=1), 1.0)
    assert dft_labels.shape == (278,) and dft_labels.dtype.kind == "i"


def test_real_fe_ga_pd_regions_agree_with_dft_better_than_baselines(fe_ga_pd):
    """Measured (defaults: 4 components, composition graph, silhouette): 4 regions, FMI 0.679.

    Baselines at the same number of regions: composition-only k-means 0.566, composition-only
    Ward 0.505, one region for all spots 0.561 (the DFT labels are unbalanced, so FMI's floor is
    high), random labels about 0.28. Thresholds are the measurement minus a margin.
    """
    two_theta_deg, patterns, compositions, dft_labels = fe_ga_pd
    phase_map = map_phases(two_theta_deg, patterns, compositions)
    n = phase_map.n_regions
    score = fowlkes_mallows_score(dft_labels, phase_map.labels)

    composition_kmeans = KMeans(n, n_init=10, random_state=0).fit_predict(compositions)
    composition_ward = AgglomerativeClustering(n).fit_predict(compositions)
    one_region = np.zeros_like(dft_labels)
    random_labels = np.random.default_rng(0).integers(0, n, size=dft_labels.size)
    baselines = {
        "composition k-means": fowlkes_mallows_score(dft_labels, composition_kmeans),
        "composition Ward": fowlkes_mallows_score(dft_labels, composition_ward),
        "one region": fowlkes_mallows_score(dft_labels, one_region),
        "random": fowlkes_mallows_score(dft_labels, random_labels),
    }

    assert 2 <= n <= 8
    assert score >= 0.6, score
    for name, baseline in baselines.items():
        assert score >= baseline + 0.05, (name, baseline, score)
    assert score >= baselines["random"] + 0.3
    assert _region_graph_connected(phase_map.labels, compositions)


def _write_fe_ga_pd(directory: Path, n_cmp: int = 5, n_xrd: int = 5, n_dft: int = 5) -> None:
    """A tiny library in the real files' formats, with chosen row counts."""
    directory.mkdir(parents=True, exist_ok=True)
    cmp_rows = "\n".join("  0.5  0.3  0.2" for _ in range(n_cmp))
    (directory / FE_GA_PD_COMPOSITIONS).write_text(f"  Fe\t\t  Ga\t\t  Pd\n{cmp_rows}\n")
    xrd_rows = ["37,37.02,37.04,37.06"] + ["1,2,3,4" for _ in range(n_xrd)]
    (directory / FE_GA_PD_XRD).write_text("\n".join(xrd_rows) + "\n")
    (directory / FE_GA_PD_DFT_REGIONS).write_text("\n".join("1" for _ in range(n_dft)) + "\n")


def test_load_fe_ga_pd_small_files_round_trip(tmp_path):
    _write_fe_ga_pd(tmp_path)
    two_theta_deg, patterns, compositions, labels = load_fe_ga_pd(tmp_path)
    assert two_theta_deg.shape == (4,) and patterns.shape == (5, 4)
    assert compositions.shape == (5, 3) and labels.tolist() == [1] * 5


@pytest.mark.parametrize("missing", [FE_GA_PD_COMPOSITIONS, FE_GA_PD_XRD, FE_GA_PD_DFT_REGIONS])
def test_load_fe_ga_pd_missing_file_is_named(tmp_path, missing):
    _write_fe_ga_pd(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(ValueError, match=missing):
        load_fe_ga_pd(tmp_path)


@pytest.mark.parametrize(
    ("counts", "named"),
    [({"n_xrd": 4}, FE_GA_PD_XRD), ({"n_dft": 6}, FE_GA_PD_DFT_REGIONS)],
)
def test_load_fe_ga_pd_misaligned_rows_name_the_file(tmp_path, counts, named):
    _write_fe_ga_pd(tmp_path, **counts)
    with pytest.raises(ValueError, match=named) as error:
        load_fe_ga_pd(tmp_path)
    assert "align" in str(error.value)
