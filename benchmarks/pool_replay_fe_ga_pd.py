"""Pool replay over the real Fe-Ga-Pd library (../shared/data/fe-ga-pd): the Bayesian policy
against random, choosing only among the 278 measured compositions, maximising the magnetisation
signal. The table is written to CSV first, so this runs exactly what `junkan replay --pool` runs.

    .venv/bin/python benchmarks/pool_replay_fe_ga_pd.py [--budget 60] [--seeds 10] [--json]
"""

import argparse
import csv
import json
import tempfile
from pathlib import Path

from instruments.recorded.pool import fe_ga_pd_table
from orchestrator.pool_replay import pool_replay

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fe-ga-pd"


def write_fe_ga_pd_csv(path: Path) -> Path:
    """The measured Fe-Ga-Pd table as the CSV `junkan replay --pool` reads (DFT labels left out)."""
    table = fe_ga_pd_table(DATA)
    columns = {**table.conditions, **{k: v for k, v in table.results.items() if k != "dft_region"}}
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = write_fe_ga_pd_csv(Path(directory) / "fe-ga-pd.csv")
        result = pool_replay(
            path, ["Fe", "Ga", "Pd"], [("magnetization_signal", "max")], budget=args.budget, seeds=args.seeds
        )
    print(
        f"n to best (median): bayesian {result['n_to_best_median']}, "
        f"random {result['random_n_to_best_median']}; "
        f"AF {result['af_median']:.2f}; top 5 % found: {result['top5_fraction_at_budget']:.2f} vs "
        f"{result['random_top5_fraction_at_budget']:.2f} (EF {_ef(result['ef_at_budget'])}); "
        f"runtime {result['runtime_s']:.0f} s"
    )
    for note in result.get("notes", []):
        print("note:", note)
    if args.json:
        print(json.dumps(result))


def _ef(ef: float | None) -> str:
    """EF is undefined (None) when random found none of the top 5 %: say so rather than print 0."""
    return "undefined: random found none" if ef is None else f"{ef:.2f}"


if __name__ == "__main__":
    main()
