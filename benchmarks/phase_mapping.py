"""Unsupervised phase mapping on the real Fe-Ga-Pd library: agreement with the DFT region labels
and runtime, beside clustering the compositions alone.

    .venv/bin/python benchmarks/phase_mapping.py [--data ../shared/data/fe-ga-pd] [--repeats 5]
"""

import argparse
import statistics
import time
from pathlib import Path

from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, fowlkes_mallows_score

from instruments.recorded.fe_ga_pd import load_fe_ga_pd
from instruments.reduction.xrd_phase_mapping import map_phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/fe-ga-pd"
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    two_theta, patterns, compositions, labels = load_fe_ga_pd(args.data)
    seconds, phase_map = [], None
    for _ in range(args.repeats):
        started = time.perf_counter()
        phase_map = map_phases(two_theta, patterns, compositions)
        seconds.append(time.perf_counter() - started)
    assert phase_map is not None
    composition_only = KMeans(n_clusters=phase_map.n_regions, n_init=10, random_state=0).fit_predict(
        compositions
    )
    print(f"{len(patterns)} patterns x {len(two_theta)} points; {args.repeats} runs\n")
    print("| method | regions | FMI vs DFT labels | ARI vs DFT labels | time (median s) |")
    print("|---|---|---|---|---|")
    rows = [
        ("map_phases (NMF, connected Ward)", phase_map.labels, f"{statistics.median(seconds):.3f}"),
        ("k-means on compositions only", composition_only, "-"),
    ]
    for method, found, runtime in rows:
        fmi, ari = fowlkes_mallows_score(labels, found), adjusted_rand_score(labels, found)
        print(f"| {method} | {phase_map.n_regions} | {fmi:.3f} | {ari:.3f} | {runtime} |")


if __name__ == "__main__":
    main()
