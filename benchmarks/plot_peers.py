"""Plots of a `benchmarks/peers.py` result, from its JSON alone (it holds every per-seed curve and step
time): per problem, the score against measurements (median and p10-p90 band across seeds per agent;
the grid as its one deterministic step curve), and the decision latency and peak memory per agent.

    .venv/bin/python benchmarks/plot_peers.py RESULT.json [--out docs/figures]

Writes peers-PROBLEM-score.png and peers-PROBLEM-latency.png.
"""

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

COLOURS = {"junkan": "C0", "ax": "C1", "baybe": "C2", "ucb": "C3", "random": "C7", "grid": "k"}
FLOOR_S = 1e-6  # log axis: a step timed at 0 s


def score_figure(name: str, problem: dict[str, Any], result: dict[str, Any]) -> Figure:
    figure, axes = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
    for agent, runs in problem["agents"].items():
        curves = np.array(runs["curves"], dtype=float)  # null (no grid that small) -> NaN
        steps = np.arange(1, curves.shape[1] + 1)
        colour = COLOURS.get(agent)
        if runs["deterministic"]:
            axes.step(
                steps, curves[0], where="post", ls="--", lw=1.2, color=colour, label=f"{agent} (lattice)"
            )
            continue
        low, median, high = np.percentile(curves, [10, 50, 90], axis=0)
        axes.step(steps, median, where="post", lw=1.8, color=colour, label=agent)
        axes.fill_between(steps, low, high, step="post", color=colour, alpha=0.15, lw=0)
    for budget in result["budgets"]:
        axes.axvline(budget, color="0.85", lw=0.8, zorder=0)
    axes.set_xlabel("measurements")
    axes.set_ylabel(problem["score"])
    axes.set_title(f"{name}: median, band p10-p90 over {len(result['seeds'])} seeds")
    axes.set_xlim(1, max(result["budgets"]))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    return figure


def latency_figure(name: str, problem: dict[str, Any]) -> Figure:
    timed = {a: r for a, r in problem["agents"].items() if not r["deterministic"]}
    figure, (latency, memory) = plt.subplots(
        1, 2, figsize=(9.0, 4.0), layout="constrained", gridspec_kw={"width_ratios": [3, 2]}
    )
    steps = [np.maximum(np.concatenate(r["step_seconds"]), FLOOR_S) for r in timed.values()]
    boxes = latency.boxplot(steps, tick_labels=list(timed), whis=(5, 95), showfliers=False, patch_artist=True)
    for box, agent in zip(boxes["boxes"], timed, strict=True):
        box.set(facecolor=COLOURS.get(agent, "C0"), alpha=0.4)
    latency.scatter(
        range(1, len(timed) + 1), [r["latency_s"]["p95"] for r in timed.values()], marker="_", s=200, c="k"
    )
    latency.set_yscale("log")
    latency.set_ylabel("seconds per decision (ask + tell)")
    latency.set_title(f"{name}: decision latency\nbox quartiles, whiskers p5-p95 (p95 marked), all steps")
    latency.grid(axis="y", alpha=0.3)
    rss = [r["peak_rss_mb"]["median"] for r in timed.values()]
    memory.bar(list(timed), rss, color=[COLOURS.get(a, "C0") for a in timed], alpha=0.6)
    memory.set_ylabel("peak RSS of the run's process (MB), median")
    memory.set_title("peak memory")
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="the JSON printed by benchmarks/peers.py --json")
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = parser.parse_args()
    result = json.loads(args.result.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    for name, problem in result["problems"].items():
        figures = {"score": score_figure(name, problem, result)}
        if any(not r["deterministic"] for r in problem["agents"].values()):  # the grid alone is not timed
            figures["latency"] = latency_figure(name, problem)
        for kind, figure in figures.items():
            path = args.out / f"peers-{name}-{kind}.png"
            figure.savefig(path, dpi=130)
            plt.close(figure)
            print(path)


if __name__ == "__main__":
    main()
