"""Pool replay: a policy choosing only among the rows of a fully measured table, against random."""

import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from instruments.recorded.pool import fe_ga_pd_table
from orchestrator.pool_replay import PoolTable, design_space, load_pool, pool_replay, replay_seed

# Two inputs that are not a simplex (a box); conditions repeat: (0, 1) twice, (1, 1) twice.
REPLICATED = [
    ("x", "y", "f"),
    (0.0, 0.0, 1.0),
    (0.0, 1.0, 5.0),
    (1.0, 0.0, 2.0),
    (0.0, 1.0, 7.0),
    (1.0, 1.0, 4.0),
    (1.0, 1.0, 4.4),
    (2.0, 2.0, 3.0),
]


def write_csv(path: Path, rows: list[tuple]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def simplex_table(n: int, objectives) -> list[tuple]:
    """A ternary composition grid (A + B + C = 1) with objectives computed from the composition."""
    rows: list[tuple] = [("A", "B", "C", *objectives)]
    for i in range(n + 1):
        for j in range(n + 1 - i):
            x = np.array([i / n, j / n, 1 - i / n - j / n])
            rows.append((*x, *(f(x) for f in objectives.values())))
    return rows


def bump(centre: tuple[float, float, float], width: float):
    return lambda x: float(np.exp(-np.sum((x - np.array(centre)) ** 2) / (2 * width**2)))


def test_replicates_are_grouped_served_in_turn_and_set_the_noise(tmp_path):
    path = write_csv(tmp_path / "replicated.csv", REPLICATED)
    table = PoolTable(path, ("x", "y"), (("f", "max"),))
    pool = table.load()
    data = np.array(REPLICATED[1:])
    keys = [tuple(r) for r in data[:, :2]]
    distinct = list(dict.fromkeys(keys))  # conditions in order of first row
    assert [tuple(c) for c in pool.conditions] == distinct
    groups = [data[[k == c for k in keys], 2] for c in distinct]
    np.testing.assert_allclose(pool.means[:, 0], [g.mean() for g in groups])
    # replicated conditions report their own spread; single rows the pooled spread of the others
    replicated = [g for g in groups if len(g) > 1]
    pooled = sum(((g - g.mean()) ** 2).sum() for g in replicated) / sum(len(g) - 1 for g in replicated)
    expected = [g.var(ddof=1) if len(g) > 1 else pooled for g in groups]
    np.testing.assert_allclose(pool.variances[:, 0], expected)
    assert pool.noise["f"]["replicated_conditions"] == len(replicated)

    for policy in ("random", "bayesian"):  # bayesian over a box design space, in this process
        run = replay_seed(table, policy, seed=3, budget=len(data))
        assert sorted(run["chosen"]) == sorted(i for i, g in enumerate(groups) for _ in g)
        for i, group in enumerate(groups):
            served = [v[0] for c, v in zip(run["chosen"], run["values"], strict=True) if c == i]
            assert served == list(group), f"{policy}: condition {i} served {served}, rows are {group}"
            reported = [v[0] for c, v in zip(run["chosen"], run["variances"], strict=True) if c == i]
            assert reported == pytest.approx([expected[i]] * len(group))
    assert design_space(pool)[2] == "box"

    result = pool_replay(path, ["x", "y"], [("f", "max")], policy="random", budget=len(data), seeds=3)
    best = int(np.argmax([g.mean() for g in groups]))
    for seed, n_to_best in enumerate(result["random_n_to_best"]):
        chosen = replay_seed(table, "random", seed, len(data))["chosen"]
        assert n_to_best == chosen.index(best) + 1
    assert result["random_n_to_best_censored"] == 0
    assert result["best_value"] == pytest.approx(max(g.mean() for g in groups))
    assert result["random_median_curve"][-1] == pytest.approx(result["best_value"])
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_simplex_detection_accepts_percent_and_rounding(tmp_path):
    rows = [("a", "b", "f"), (100.0, 0.0, 1.0), (60.0, 40.0, 2.0), (25.0, 75.0, 3.0)]
    pool = load_pool(write_csv(tmp_path / "percent.csv", rows), ["a", "b"], [("f", "min")])
    space, points, kind = design_space(pool)
    assert kind == "simplex"
    np.testing.assert_allclose(points.sum(axis=1), 1.0)
    assert space.contains(points).all()
    shifted = [rows[0], *[(a + 20.0, b, f) for a, b, f in rows[1:]]]  # sums of 120 %: not a simplex
    assert design_space(load_pool(write_csv(tmp_path / "box.csv", shifted), ["a", "b"], [("f", "min")]))[
        2
    ] == ("box")


def test_wrong_names_and_missing_values_are_named(tmp_path):
    path = write_csv(tmp_path / "table.csv", REPLICATED)
    with pytest.raises(ValueError, match="lacks column") as error:
        load_pool(path, ["x", "why"], [("f", "max")])
    assert "'why'" in str(error.value) and all(f"'{c}'" in str(error.value) for c in ("x", "y", "f"))
    with pytest.raises(ValueError, match="goal"):
        load_pool(path, ["x", "y"], [("f", "up")])

    holes = [*REPLICATED[:3], (1.0, 0.0, "nan"), *REPLICATED[4:]]
    with pytest.raises(ValueError, match=r"data row 3 .*'f'.*remove or fill the rows"):
        load_pool(write_csv(tmp_path / "nan.csv", holes), ["x", "y"], [("f", "max")])
    blank = [*REPLICATED[:4], (0.0, "", 7.0), *REPLICATED[5:]]
    with pytest.raises(ValueError, match=r"data row 4.*y.*remove or fill the rows"):
        load_pool(write_csv(tmp_path / "blank.csv", blank), ["x", "y"], [("f", "max")])
    with pytest.raises(ValueError, match="budget"):
        pool_replay(path, ["x", "y"], [("f", "max")], policy="random", budget=len(REPLICATED))


def test_zarr_dataset_is_read_like_the_csv(tmp_path):
    xr = pytest.importorskip("xarray")
    data = np.array(REPLICATED[1:])
    dataset = xr.Dataset(
        {"f": ("obs", data[:, 2]), "unused": ("obs", np.zeros(len(data)))},
        coords={"x": ("obs", data[:, 0]), "y": ("obs", data[:, 1])},
    )
    dataset.to_zarr(tmp_path / "table.zarr")
    from_zarr = load_pool(tmp_path / "table.zarr", ["x", "y"], [("f", "max")])
    from_csv = load_pool(write_csv(tmp_path / "table.csv", REPLICATED), ["x", "y"], [("f", "max")])
    np.testing.assert_array_equal(from_zarr.conditions, from_csv.conditions)
    np.testing.assert_array_equal(from_zarr.means, from_csv.means)
    np.testing.assert_array_equal(from_zarr.variances, from_csv.variances)
    with pytest.raises(ValueError, match=r"\['g'\].*'f'.*'unused'"):
        load_pool(tmp_path / "table.zarr", ["x", "y"], [("g", "max")])


@pytest.mark.integration
def test_bayesian_finds_the_best_of_a_smooth_table_sooner_than_random(tmp_path):
    rows = simplex_table(23, {"f": bump((0.25, 0.45, 0.30), 0.2)})  # 300 conditions, one peak
    path = write_csv(tmp_path / "smooth.csv", rows)
    result = pool_replay(path, ["A", "B", "C"], [("f", "max")], budget=25, seeds=3)
    assert result["design_space"] == "simplex" and result["n_conditions"] == len(rows) - 1
    assert result["n_to_best_median"] < result["random_n_to_best_median"]
    assert result["af_median"] > 1
    assert result["top5_fraction_at_budget"] > result["random_top5_fraction_at_budget"]
    n_sobol = 3  # the policy's default for 2 free fractions: d + 1
    assert result["mapped_to_nearest_per_seed"] == [n_sobol] * 3  # only the Sobol start is mapped


@pytest.mark.integration
def test_fe_ga_pd_magnetisation_against_random(tmp_path, fe_ga_pd_dir):
    table = fe_ga_pd_table(fe_ga_pd_dir)
    columns = {**table.conditions, "magnetization_signal": table.results["magnetization_signal"]}
    rows = [tuple(columns), *zip(*columns.values(), strict=True)]
    path = write_csv(tmp_path / "fe-ga-pd.csv", rows)
    budget = 30
    result = pool_replay(path, ["Fe", "Ga", "Pd"], [("magnetization_signal", "max")], budget=budget, seeds=2)
    assert result["n_conditions"] == len(table) and result["design_space"] == "simplex"
    for key in ("af_median", "ef_at_budget", "n_to_best_median", "random_n_to_best_median"):
        assert result[key] is not None and math.isfinite(result[key]), key
    assert result["af_median"] == result["random_n_to_best_median"] / result["n_to_best_median"]
    for name in ("median_curve", "random_median_curve"):
        curve = np.array(result[name])
        assert len(curve) == budget
        assert np.all(np.diff(curve) >= 0), f"{name} decreases"
        assert curve[-1] <= table.results["magnetization_signal"].max()
    assert 1 <= result["n_to_best_median"] <= budget + 1
    assert json.loads(json.dumps(result, allow_nan=False)) == result


@pytest.mark.integration
def test_two_objectives_give_a_hypervolume_curve(tmp_path):
    objectives = {"f": bump((0.7, 0.2, 0.1), 0.25), "g": bump((0.1, 0.2, 0.7), 0.25)}
    path = write_csv(tmp_path / "two.csv", simplex_table(12, objectives))  # 91 conditions
    budget = 15
    goals = [("f", "max"), ("g", "min")]
    result = pool_replay(path, ["A", "B", "C"], goals, budget=budget, seeds=2)
    assert result["curve"] == "hypervolume"
    pool = load_pool(path, ["A", "B", "C"], goals)
    signed = pool.means * pool.signs
    assert result["reference_point"] == pytest.approx([pool.means[:, 0].min(), pool.means[:, 1].max()])
    for name in ("median_curve", "random_median_curve"):
        curve = np.array(result[name])
        assert len(curve) == budget and curve[-1] > 0
        assert np.all(np.diff(curve) >= 0), f"{name} decreases"
        assert curve[-1] <= result["max_hypervolume"] * (1 + 1e-9)
    span = np.prod(signed.max(axis=0) - signed.min(axis=0))
    assert 0 < result["max_hypervolume"] <= span


def test_the_command_line_prints_one_json_object_and_refuses_bad_objectives(tmp_path, junkan):
    path = write_csv(tmp_path / "bump.csv", simplex_table(12, {"y": bump((0.6, 0.3, 0.1), 0.15)}))
    result = junkan(
        "replay", "--pool", path, "--inputs", "A,B,C", "--objectives", "y:max", "--policy", "random",
        "--budget", "20", "--seeds", "2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["policy"] == "random" and report["budget"] == 20 and report["seeds"] == 2
    for key in ("n_to_best_median", "random_n_to_best_median", "af_median", "top5_fraction_at_budget"):
        assert key in report
    assert len(report["median_curve"]) == 20
    assert np.all(np.diff(report["median_curve"]) >= 0)
    # the top 5 % found after each measurement: never falls, and ends where the budget's share is
    for prefix in ("", "random_"):
        curve = report[f"{prefix}top5_fraction_curve"]
        assert len(curve) == 20 and np.all(np.diff(curve) >= 0)
        assert curve[-1] == report[f"{prefix}top5_fraction_at_budget"]
    result = junkan("replay", "--pool", path, "--inputs", "A,B,C", "--objectives", "y:biggest")
    assert result.exit_code == 2 and "'y:biggest' is not NAME:max or NAME:min" in result.output
    result = junkan("replay", "--pool", path, "--inputs", "A,B,Z", "--objectives", "y:max")
    assert result.exit_code == 2 and "'Z'" in result.output and "'A'" in result.output


@pytest.mark.integration
def test_the_command_line_summary_is_readable_and_the_model_stacks_warnings_go_to_the_store(tmp_path):
    """A table without replicates reports no noise: GPyTorch warns of it at every fit, and those lines
    once buried the summary. They are counted into each seed's warnings.log, as `junkan run` does, and
    the spawned workers end without leaking semaphores."""
    path = write_csv(tmp_path / "bump.csv", simplex_table(12, {"y": bump((0.6, 0.3, 0.1), 0.15)}))
    junkan = Path(sys.executable).parent / "junkan"
    done = subprocess.run(
        [junkan, "replay", "--pool", path, "--inputs", "A,B,C", "--objectives", "y:max",
         "--budget", "8", "--seeds", "2", "--store", tmp_path / "stores"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    to_best = r"measurements to the best condition \(median\): \d+(\.5)? \(random \d+(\.5)?\); AF \d+\.\d\d\n"
    assert re.search(to_best, done.stdout), done.stdout
    assert re.search(r"top 5 % found by the budget: \d+% \(random \d+%\); EF (\d+\.\d\d|-)\n", done.stdout)
    assert re.search(r"top 5 % found by half of it \(4\): \d+% \(random \d+%\)\n", done.stdout), done.stdout
    assert "Warning" not in done.stderr and "leaked" not in done.stderr, done.stderr
    for seed in (0, 1):
        assert "NumericalWarning" in (tmp_path / "stores" / f"seed-{seed}" / "warnings.log").read_text()
