"""Do many dashboard readers slow the loop's decisions? (Target: 50 polling clients, <= 10 % slower.)

The same campaign (same seed, so the same decisions) runs back to back without a dashboard, with
an idle dashboard, and with a dashboard polled by N clients; each decision's time is paired across
runs and the median ratio is reported. The instrument is instant (nothing but decisions), the worst
case for contention. The clients run in their own process (asyncio + httpx, one connection each),
each fetching what the page fetches (state, observations, events, model, spectra) once a second;
they run at nice 19 (browsers would be on other machines) and their own CPU time is reported.

    .venv/bin/python benchmarks/dashboard_load.py --clients 50 --budget 40 --rounds 2 --json
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE_REQUESTS = (
    "/api/state",
    "/api/observations",
    "/api/events?since=-1&limit=300",
    "/api/model",
    "/api/spectra",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def poll(url: str, clients: int, period_s: float, stop_file: Path) -> dict:
    import httpx

    latencies: list[float] = []
    failures = 0

    async def client(i: int) -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            await asyncio.sleep(period_s * i / clients)  # spread over the period
            while not stop_file.exists():
                started = time.perf_counter()
                for path in PAGE_REQUESTS:
                    try:
                        (await http.get(path)).raise_for_status()
                    except httpx.TransportError:
                        return  # the campaign ended and took its dashboard with it
                    except httpx.HTTPStatusError:
                        failures += 1
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(max(0.0, period_s - (time.perf_counter() - started)))

    os.nice(19)  # stands in for browsers on other machines: what they cost is reported, not charged
    await asyncio.gather(*(client(i) for i in range(clients)))
    ordered = sorted(latencies) or [float("nan")]
    return {
        "page_loads": len(latencies),
        "failures": failures,
        "page_load_median_s": statistics.median(ordered),
        "page_load_p95_s": ordered[int(0.95 * (len(ordered) - 1))],
        "client_cpu_s": resource.getrusage(resource.RUSAGE_SELF).ru_utime
        + resource.getrusage(resource.RUSAGE_SELF).ru_stime,
    }


def wait_for(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/state", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)  # not listening yet
            continue
        time.sleep(0.1)
    raise RuntimeError(f"no dashboard at {url}")


def run_once(campaign_file: Path, workdir: Path, mode: str, clients: int, period_s: float) -> dict:
    store = workdir / f"store-{mode}-{time.monotonic_ns()}"
    command = [sys.executable, "-m", "orchestrator", "run", str(campaign_file), "--store", str(store)]
    port = free_port()
    if mode != "none":
        command += ["--dashboard", "--port", str(port)]
    started = time.perf_counter()
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    load = None
    if mode == "polled":
        url = f"http://127.0.0.1:{port}"
        wait_for(url)
        stop_file = workdir / f"stop-{port}"
        load = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--poll",
                url,
                "--clients",
                str(clients),
                "--period",
                str(period_s),
                "--stop-file",
                str(stop_file),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
    _, err = run.communicate()
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"campaign failed ({mode}): {err}")
    clients_report = None
    if load is not None:
        stop_file.touch()
        out, _ = load.communicate(timeout=120)
        clients_report = json.loads(out)
    decisions = []
    for line in (store / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "Proposed" and event["proposal"]["generator"] != "sobol":
            decisions.append(event["decision_seconds"])
    return {"mode": mode, "wall_s": wall, "decisions": decisions, "clients": clients_report}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--period", type=float, default=1.0, help="seconds between a client's page loads")
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each mode, interleaved")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--poll", help=argparse.SUPPRESS)
    parser.add_argument("--stop-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.poll:
        print(json.dumps(asyncio.run(poll(args.poll, args.clients, args.period, Path(args.stop_file)))))
        return

    campaign = yaml.safe_load((ROOT / "examples" / "quickstart.yaml").read_text())
    campaign.update(budget=args.budget)
    results: dict[str, list[dict]] = {"none": [], "idle": [], "polled": []}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        campaign_file = workdir / "campaign.yaml"
        campaign_file.write_text(yaml.safe_dump(campaign, sort_keys=False))
        for round_ in range(args.rounds):
            for mode in ("none", "idle", "polled"):
                result = run_once(campaign_file, workdir, mode, args.clients, args.period)
                results[mode].append(result)
                print(
                    f"round {round_ + 1} {mode:6s}: wall {result['wall_s']:.1f} s, median decision "
                    f"{statistics.median(result['decisions']):.3f} s",
                    file=sys.stderr,
                )
    summary = summarise(results, args)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")


def summarise(results: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    """Per-decision ratios against the run without a dashboard of the same round (same decisions)."""
    summary: dict = {
        "clients": args.clients,
        "period_s": args.period,
        "budget": args.budget,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
    }
    for mode in ("none", "idle", "polled"):
        every = [d for r in results[mode] for d in r["decisions"]]
        summary[f"{mode}_decision_median_s"] = statistics.median(every)
        summary[f"{mode}_wall_s"] = [round(r["wall_s"], 1) for r in results[mode]]
    for mode in ("idle", "polled"):
        ratios = []
        for base, other in zip(results["none"], results[mode], strict=True):
            ratios += [b and o / b for b, o in zip(base["decisions"], other["decisions"], strict=False)]
        summary[f"{mode}_over_none_median_ratio"] = statistics.median(ratios)
        summary[f"{mode}_over_none_total_ratio"] = sum(sum(r["decisions"]) for r in results[mode]) / sum(
            sum(r["decisions"]) for r in results["none"]
        )
    summary["clients_report"] = [r["clients"] for r in results["polled"]]
    return summary


if __name__ == "__main__":
    main()
