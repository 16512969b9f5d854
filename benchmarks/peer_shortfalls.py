"""Where junkan is below issue 20's bar in a peers table, cell by cell, with how sure each shortfall is.

The bar: in every problem and budget, junkan's paired median score >= 1 against each peer, at least
as many seeds won as lost, and its AF90 and EF at least the best peer's. A table of ~75 paired cells
at 20 seeds fails such a bar by luck alone (an agent exactly level with a peer loses a cell's seed
count about half the time), so each shortfall carries the one-sided sign test of junkan's seeds won
and lost on that figure (the score; for EF the top 5 % found; for AF90 the measurements to 90 %): a
small p says the peer's lead is more than the luck of the seeds. Read from the table's rows
(`peers.table_rows`), so the list is recomputed from the stored campaigns by the table command and
never copied by hand.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.campaign_scores import sign_test_p

SURE = 0.05  # sign-test p below which a peer's lead is called more than seed noise
LEVEL = 1e-9  # relative: a ratio this close to 1 is level (as `paired_outcomes` counts ties)
NO_FACTORS = ("random",)  # random is the yardstick of AF and EF (1 by definition), not a peer there


def shortfalls(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per cell where junkan is below the bar: what, where, junkan's figure and the peer's
    (`other`; for the paired ratio, 1)."""
    found: list[dict[str, Any]] = []
    ours = {(r["problem"], r["budget"]): r for r in rows if r["agent"] == "junkan"}
    theirs = [r for r in rows if r["agent"] != "junkan"]
    for r in theirs:
        where = {"problem": r["problem"], "budget": r["budget"], "peer": r["agent"]}
        ratio = r["ratio_junkan_over_peer_median"]
        if ratio is not None and ratio < 1.0 - LEVEL:
            found.append({**where, "what": "paired median score ratio", "junkan": ratio, "other": 1.0})
        if r["junkan_wins_losses_ties"] is not None:
            wins, losses, _ = r["junkan_wins_losses_ties"]
            if wins < losses:
                found.append(
                    {**where, "what": "seeds won / lost", "junkan": wins, "other": losses,
                     "sign_test_p": sign_test_p(wins, losses)}
                )  # fmt: skip
    per_seed = {"EF": "junkan_top5_wins_losses_ties", "AF90": "junkan_n_to_90_wins_losses_ties"}
    for factor, key in (("EF", "ef_vs_random"), ("AF90", "af90_vs_random")):
        for (problem, budget), mine in ours.items():
            if factor == "AF90" and budget != max(b for p, b in ours if p == problem):
                continue  # AF90 is one figure per problem: reported once, at its largest budget
            best = max(
                (r for r in theirs if (r["problem"], r["budget"]) == (problem, budget)
                 and r["agent"] not in NO_FACTORS and r[key] is not None),
                key=lambda r: r[key],
                default=None,
            )  # fmt: skip
            if best is not None and mine[key] is not None and mine[key] < best[key]:
                wins, losses, _ = best[per_seed[factor]]
                found.append(
                    {"problem": problem, "budget": budget, "peer": best["agent"], "what": factor,
                     "junkan": mine[key], "other": best[key], "seeds_won_lost": [wins, losses],
                     "sign_test_p": sign_test_p(wins, losses)}
                )  # fmt: skip
    return found


def shortfalls_markdown(found: Sequence[Mapping[str, Any]]) -> str:
    if not found:
        return "Issue 20's bar holds in every cell: no peer is ahead anywhere."
    sure = [f for f in found if f.get("sign_test_p", 1.0) < SURE]
    lines = [
        f"Below issue 20's bar in {len(found)} cells; seed counts where the peer's lead is more than seed "
        f"noise (one-sided sign test p < {SURE}): {len(sure)}.",
        "",
        "| problem | n | peer | what | junkan | the peer | sign test p |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in found:
        p = f.get("sign_test_p")
        n = "-" if f["what"] == "AF90" else f["budget"]
        seeds = " (seeds {} / {})".format(*f["seeds_won_lost"]) if "seeds_won_lost" in f else ""
        lines.append(
            f"| {f['problem']} | {n} | {f['peer']} | {f['what']} | {_figure(f['junkan'])} "
            f"| {_figure(f['other'])} | {'-' if p is None else format(p, '.3f')}{seeds} |"
        )
    return "\n".join(lines)


def _figure(value: float) -> str:
    return str(value) if isinstance(value, int) else format(value, ".3f")
