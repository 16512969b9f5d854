"""Serving the dashboard: loopback by default, a loud warning for any other address."""

import ipaddress
import os
import socket
from pathlib import Path

from orchestrator.child_process import when_parent_is_gone

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
NICENESS = 10


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int) -> str | None:
    """What a person must know before serving beyond this machine (None on loopback)."""
    if is_loopback(host):
        return None
    return (
        f"WARNING: the dashboard listens on {host}:{port}, reachable from other machines. Anyone who "
        "can reach it can read this campaign; control needs the token, which plain HTTP sends in "
        "clear text: put it behind TLS (a reverse proxy) or keep to 127.0.0.1 and an SSH tunnel."
    )


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve(store: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, parent: int | None = None) -> None:
    """Serve until interrupted, or until process `parent` (the campaign beside which it was started)
    is gone. The dashboard is the campaign's guest: its model fits use one thread and it runs at a
    lower priority (nice 10), so its readers take what the loop leaves."""
    os.nice(NICENESS)
    import torch
    import uvicorn

    from orchestrator.dashboard.app import create_app

    torch.set_num_threads(1)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(store),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,  # open event streams would otherwise hold the shutdown
        )
    )
    when_parent_is_gone(parent, lambda: setattr(server, "should_exit", True))
    server.run()
