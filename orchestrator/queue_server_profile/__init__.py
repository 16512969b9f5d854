"""The bluesky-queueserver profile: the RE worker's devices, RunEngine and `junkan_plan`.

Start the RE Manager with `--startup-module orchestrator.queue_server_profile` (see
`orchestrator.queue_server_executor.re_manager_command`). Each time the worker environment opens,
this module is imported in a new worker process and builds the campaign's instrument with
`build_instrument(spec, seed)`, the same instrument (the same seeded world) as a local run, from:

- JUNKAN_CAMPAIGN: path of the campaign file;
- JUNKAN_SEED: the campaign's seed (default: the file's `seed`);
- JUNKAN_DOCUMENTS_ADDRESS: the input of the 0MQ proxy the documents are published to
  (e.g. `tcp://127.0.0.1:5577`); the orchestrator subscribes to the proxy's output.

The worker's namespace is this module's: it must hold only the RunEngine `RE`, the plan
`junkan_plan`, the instrument's devices (by device name) and objects that are neither plans
nor devices, because the queue server offers every plan and device it finds there.
"""

import os
from pathlib import Path

from bluesky import RunEngine
from bluesky.callbacks.zmq import Publisher
from bluesky.utils import RequestAbort, RequestStop
from ophyd_async import plan_stubs as ophyd_async_plan_stubs

from instruments import instrument_fault_in
from instruments.protocols import SharesRecord
from instruments.request_checks import InvalidRequest
from orchestrator.campaign import load_campaign
from orchestrator.queue_server_executor import CAMPAIGN_ENV, DOCUMENTS_ENV, SEED_ENV
from orchestrator.wiring import build_instrument


def _required_environment(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"the junkan queue-server profile needs {name} set to {what}")
    return value


junkan_campaign_path = Path(_required_environment(CAMPAIGN_ENV, "the path of the campaign file"))
junkan_spec, _ = load_campaign(junkan_campaign_path)
junkan_seed = int(os.environ.get(SEED_ENV) or junkan_spec.seed)
junkan_instrument = build_instrument(junkan_spec, junkan_seed)
junkan_documents_address = _required_environment(
    DOCUMENTS_ENV, "the 0MQ proxy input the documents go to (e.g. tcp://127.0.0.1:5577)"
)

# `RE()` returns the run uids (the default): the worker sends what it returns to the manager as JSON.
RE = RunEngine({})
junkan_publisher = Publisher(junkan_documents_address)
RE.subscribe(junkan_publisher)
# ophyd-async devices connect in the RunEngine's event loop, where their plans will run; EPICS
# devices within the campaign's connect timeout (the worker's log names the PVs that did not).
_epics = junkan_spec.instrument.epics
RE(
    ophyd_async_plan_stubs.ensure_connected(
        *junkan_instrument.devices, timeout=_epics.connect_timeout_s if _epics else 10.0
    )
)
del _epics

for _device in junkan_instrument.devices:
    if _device.name in globals():
        raise RuntimeError(f"device name {_device.name!r} clashes with a name of the junkan profile")
    globals()[_device.name] = _device
del _device


class JunkanPlanError(RuntimeError):
    """A plan that failed in the worker; the message is what the local executor would report."""


def _failure_reason(error: BaseException) -> str:
    fault = instrument_fault_in(error)  # a typed device fault says what and where
    return str(fault) if fault is not None else f"{type(error).__name__}: {error}"


def _check_campaign(md: dict) -> None:
    """Refuse a request from another campaign or seed: its world would not be this one."""
    asked = {
        "campaign": md.get("campaign", junkan_spec.name),
        "junkan_seed": md.get("junkan_seed", junkan_seed),
    }
    here = {"campaign": junkan_spec.name, "junkan_seed": junkan_seed}
    if asked != here:
        raise JunkanPlanError(
            f"this worker runs campaign {here['campaign']!r} with seed {here['junkan_seed']} "
            f"({junkan_campaign_path}); the request is for campaign {asked['campaign']!r} with seed "
            f"{asked['junkan_seed']}: restart the RE Manager with {CAMPAIGN_ENV} and {SEED_ENV} for it"
        )


def junkan_plan(condition: dict, measurement: dict, md: dict, record: dict | None = None):
    """Make and measure one condition with the campaign's instrument: what LocalExecutor runs in-process.
    `record`: what the orchestrator's instrument has made and measured (libraries, spots taken),
    adopted first, so that a fresh worker measures the wafers the campaign's record says exist.
    The request is checked before anything moves (the instrument's plan checks the values)."""
    for name, given in (("condition", condition), ("measurement", measurement), ("md", md)):
        if not isinstance(given, dict):
            raise InvalidRequest(f"junkan_plan's {name} is {given!r}; give a mapping (a JSON object)")
    _check_campaign(md)
    if record is not None and isinstance(junkan_instrument, SharesRecord):
        junkan_instrument.adopt_record(record)
    try:
        yield from junkan_instrument.plan(condition, measurement, md)
    except (RequestAbort, RequestStop):
        raise
    except Exception as exc:
        raise JunkanPlanError(_failure_reason(exc)) from exc
