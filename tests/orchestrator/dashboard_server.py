"""A real dashboard server (uvicorn, HTTP on loopback) for the tests, and a recorded campaign."""

import copy
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
import yaml

from orchestrator.campaign import parse_campaign
from orchestrator.dashboard.app import create_app
from orchestrator.local_executor import LocalExecutor
from orchestrator.loop import CampaignLoop
from orchestrator.store import CampaignStore
from orchestrator.wiring import build_instrument, build_policy

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dashboard_server(store: Path) -> Iterator[str]:
    """Serves `store` over real HTTP in a thread; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the dashboard server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def run_with_dashboard(campaign_file: Path, store: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`junkan run CAMPAIGN --dashboard` in a process of its own; yields it and the dashboard's port
    once the API answers, and kills it if it is still running afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "orchestrator", "run", str(campaign_file), "--store", str(store)]
    run = subprocess.Popen(
        [*command, "--dashboard", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the dashboard did not come up"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/state", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield run, port
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()


def quick_campaign(**changes: object) -> dict:
    """The quickstart, short and light."""
    campaign = yaml.safe_load(QUICKSTART.read_text())
    campaign["policy"].update(n_sobol=3, num_restarts=2, raw_samples=32, mc_samples=64)
    campaign.update(budget=6)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(campaign.get(key), dict):
            campaign[key] = {**campaign[key], **value}
        else:
            campaign[key] = copy.deepcopy(value)
    return campaign


def new_store(path: Path, campaign: dict) -> CampaignStore:
    text = yaml.safe_dump(campaign, sort_keys=False)
    return CampaignStore.create(path, parse_campaign(text, "campaign.yaml"), text)


def loop_of(store: CampaignStore, **options: object) -> CampaignLoop:
    spec = store.spec()
    instrument = build_instrument(spec, spec.seed)
    policy = build_policy(spec, spec.seed)
    return CampaignLoop(store, policy, instrument, LocalExecutor(instrument), spec.seed, **options)  # type: ignore[arg-type]
