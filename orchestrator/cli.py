"""The `junkan` command: run, status and validate campaigns."""

import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from ophyd_async.core import DEFAULT_TIMEOUT, NotConnectedError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from instruments import ThinFilmInstrument
from instruments.simulated.rehearsal_ioc import (
    REHEARSAL_PREFIX,
    REHEARSAL_PREFIX_PATTERN,
    RehearsalClock,
    RehearsalLab,
    client_environment,
)
from instruments.simulated.rehearsal_ioc import serve as serve_ioc
from orchestrator.best import campaign_best
from orchestrator.campaign import LIBRARY_KINDS, CampaignFileError, CampaignSpec, load_campaign
from orchestrator.child_process import stop_process
from orchestrator.control import COMMANDS, ControlError, ControlRequest, parse_condition, refusal, send
from orchestrator.control_token import TOKEN_FILE, read_token
from orchestrator.crash_report import INTERNAL_ERROR, crash_line, write_crash_report
from orchestrator.dashboard.server import DEFAULT_HOST, DEFAULT_PORT, exposure_warning, port_is_free, serve
from orchestrator.event_log import EventLogError
from orchestrator.events import Proposed
from orchestrator.execution import Executor
from orchestrator.local_executor import LocalExecutor
from orchestrator.loop import CampaignLoop
from orchestrator.loop import Progress as LoopProgress
from orchestrator.pool_replay import pool_replay
from orchestrator.queue_server_executor import QueueServerError, QueueServerExecutor
from orchestrator.replay import first_difference
from orchestrator.resume import ResumeError
from orchestrator.run_engine_log import run_engine_log_in
from orchestrator.run_lock import CampaignBusyError, is_running, run_lock
from orchestrator.sigint import sigint_honoured
from orchestrator.state import CampaignState
from orchestrator.status_report import status_document, summary_lines
from orchestrator.store import CampaignStore, StoreError
from orchestrator.tiled_server import API_KEY_FILE as TILED_KEY_FILE
from orchestrator.tiled_server import TILED_DIR
from orchestrator.tiled_server import serve as serve_tiled
from orchestrator.tiled_sink import TiledError
from orchestrator.tiled_target import check as check_tiled
from orchestrator.tiled_target import check_available as check_tiled_available
from orchestrator.tiled_target import chosen as chosen_tiled
from orchestrator.tiled_target import sink_for as tiled_sink_for
from orchestrator.warning_tally import warnings_counted
from orchestrator.wiring import build_instrument, build_policy, instrument_costs

app = typer.Typer(
    help="junkan: closed-loop campaigns for autonomous materials labs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

BAD_INPUT = 2
CAMPAIGN_FAILED = 1
PAUSED = 3  # a fault rule asked for a person; `junkan resume` continues
INTERRUPTED = 130
DASHBOARD_START_S = 30.0
UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}  # the store takes no writes


DashboardOption = Annotated[
    bool, typer.Option("--dashboard", help="serve the live dashboard while the campaign runs")
]
HostOption = Annotated[
    str, typer.Option(help="dashboard address; anything but loopback is reachable from other machines")
]
PortOption = Annotated[int, typer.Option(help="dashboard port")]
TiledOption = Annotated[
    str | None,
    typer.Option(
        help="also write every run to Tiled: 'embedded' (a server kept in the store) or a server's "
        "http(s) URI (API key from TILED_API_KEY); overrides the campaign file's `tiled:`"
    ),
]


def _open_store(store: Path) -> tuple[CampaignStore, CampaignSpec]:
    """A campaign's store and its frozen campaign file, or exit 2 saying what is wrong."""
    try:
        campaign_store = CampaignStore.open(store)
        return campaign_store, campaign_store.spec()
    except (StoreError, CampaignFileError) as exc:
        raise _refuse(str(exc)) from None


def _open_state(store: Path) -> tuple[CampaignStore, CampaignSpec, CampaignState]:
    """As `_open_store`, with the campaign's state read from its log (a damaged log exits 2)."""
    campaign_store, spec = _open_store(store)
    try:
        return campaign_store, spec, campaign_store.state()
    except StoreError as exc:
        raise _refuse(str(exc)) from None


def _refuse(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(BAD_INPUT)


def main(argv: list[str] | None = None) -> None:
    """The `junkan` command: every expected failure exits 2 (bad input, refused state) or 1 (the
    campaign ran and failed) with its own message; anything else is junkan's bug, told in one line."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        app(args=args, prog_name="junkan")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted", highlight=False)
        raise SystemExit(INTERRUPTED) from None
    except Exception as exc:
        err.print(escape(crash_line(exc, write_crash_report(exc, args))), highlight=False, soft_wrap=True)
        raise SystemExit(INTERNAL_ERROR) from None


@app.command()
def validate(campaign: Annotated[Path, typer.Argument(help="campaign file (YAML)")]) -> None:
    """Check a campaign file and explain every error found."""
    try:
        spec, _ = load_campaign(campaign)
    except CampaignFileError as exc:
        raise _refuse(str(exc)) from None
    out.print(
        f"{campaign}: campaign {spec.name!r} is valid: {len(spec.elements)} elements "
        f"{list(spec.elements)}, objectives {[o.name for o in spec.objectives]}, "
        f"policy {spec.policy.kind}, budget {spec.budget}",
        highlight=False,
    )


@app.command()
def run(
    campaign: Annotated[Path, typer.Argument(help="campaign file (YAML)")],
    store: Annotated[Path, typer.Option(help="new or empty directory for the campaign's store")],
    seed: Annotated[int | None, typer.Option(help="overrides the campaign file's seed")] = None,
    queue_server: Annotated[
        str | None,
        typer.Option(help="run the plans through this RE Manager's 0MQ control address (tcp://host:60615)"),
    ] = None,
    documents: Annotated[
        str | None, typer.Option(help="with --queue-server: the 0MQ proxy output its worker publishes to")
    ] = None,
    dashboard: DashboardOption = False,
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
    tiled: TiledOption = None,
) -> None:
    """Run a campaign to its budget, writing its store."""
    try:
        spec, text = load_campaign(campaign)
    except CampaignFileError as exc:
        raise _refuse(str(exc)) from None
    if seed is not None and seed < 0:
        raise _refuse(f"--seed must be >= 0, got {seed}")
    run_seed = spec.seed if seed is None else seed
    if (queue_server is None) != (documents is None):
        raise _refuse("give --queue-server and --documents together (the RE Manager and its document proxy)")
    if dashboard and not port_is_free(host, port):
        raise _refuse(f"--port {port} on {host} is in use; give a free one, e.g. --port {port + 1}")
    target = tiled if tiled is not None else spec.tiled
    if target is not None:
        try:  # before the store exists, like the queue server
            check_tiled(target)
        except TiledError as exc:
            raise _refuse(str(exc)) from None
    remote = None
    if queue_server is not None and documents is not None:
        try:  # before the store exists: an unreachable queue server leaves nothing behind
            remote = QueueServerExecutor(queue_server, documents)
        except QueueServerError as exc:
            raise _refuse(str(exc)) from None
    if spec.instrument.epics is not None and remote is None:  # before the store exists, likewise
        _connected_executor(spec, build_instrument(spec, run_seed))
    try:
        campaign_store = CampaignStore.create(store, spec, text)
    except StoreError as exc:
        raise _refuse(str(exc)) from None
    out.print(
        f"control token (shown once; kept in {store / TOKEN_FILE}, readable by you only): "
        f"{read_token(store)}",
        highlight=False,
        soft_wrap=True,
    )
    with _dashboard_beside(store, dashboard, host, port):
        _run_to_end(campaign_store, spec, run_seed, store, remote, dashboard, target)


@app.command()
def resume(
    store: Annotated[Path, typer.Argument(help="the store of a campaign that did not finish")],
    dashboard: DashboardOption = False,
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
    tiled: TiledOption = None,
) -> None:
    """Continue a campaign whose process ended (crash, kill, Ctrl-C) to the end of its budget.
    Runs go to the Tiled the campaign wrote to (or --tiled), with what it missed written first."""
    campaign_store, spec, state = _open_state(store)
    if state.status not in ("running", "paused"):
        raise _refuse(
            f"{store} holds campaign {state.campaign or spec.name!r} in state {state.status!r}; "
            "only a campaign that started and did not finish ('running' or 'paused') can be resumed"
        )
    if dashboard and not port_is_free(host, port):
        raise _refuse(f"--port {port} on {host} is in use; give a free one, e.g. --port {port + 1}")
    target = chosen_tiled(store, tiled, spec.tiled)
    if target is not None:
        try:
            check_tiled(target)
        except TiledError as exc:
            raise _refuse(str(exc)) from None
    with _dashboard_beside(store, dashboard, host, port):
        _run_to_end(campaign_store, spec, state.seed, store, None, dashboard, target)


@app.command(name="dashboard")
def dashboard_command(
    store: Annotated[Path, typer.Argument(help="a campaign's store: running, finished or recorded")],
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
    parent: Annotated[int | None, typer.Option(hidden=True, help="stop when this process is gone")] = None,
) -> None:
    """Serve a campaign's dashboard (live while it runs; step by step once recorded)."""
    _open_state(store)
    if not port_is_free(host, port):
        raise _refuse(f"--port {port} on {host} is in use; give a free one, e.g. --port {port + 1}")
    warning = exposure_warning(host, port)
    if warning:
        err.print(f"[bold red]{warning}[/]", highlight=False, soft_wrap=True)
    shown = f"[{host}]" if ":" in host else host
    out.print(f"dashboard of {store}: http://{shown}:{port}/  (Ctrl-C to stop)", highlight=False)
    serve(store, host, port, parent)


@app.command(name="tiled")
def tiled_command(
    store: Annotated[Path, typer.Argument(help="a campaign's store")],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1 (0: any free one)")] = 0,
    create: Annotated[bool, typer.Option(hidden=True, help="start a new one (run --tiled embedded)")] = False,
    parent: Annotated[int | None, typer.Option(hidden=True, help="stop when this process is gone")] = None,
) -> None:
    """Serve the Tiled kept in a campaign's store (written by `run --tiled embedded`), on loopback."""
    _open_store(store)
    if not create and not (store / TILED_DIR).is_dir():
        raise _refuse(
            f"{store} keeps no Tiled of its own: its campaign ran without `--tiled embedded` "
            f"(it wrote to: {chosen_tiled(store, None, None) or 'no Tiled'})"
        )
    try:
        check_tiled_available()
    except TiledError as exc:
        raise _refuse(str(exc)) from None
    if port and not port_is_free("127.0.0.1", port):
        raise _refuse(f"--port {port} on 127.0.0.1 is in use; give a free one or 0 for any")
    serve_tiled(
        store,
        port,
        lambda uri: print(
            f"tiled of {store}: {uri}  (API key in {store / TILED_KEY_FILE}; Ctrl-C to stop)", flush=True
        ),
        parent,
    )


@app.command(name="ioc")
def ioc_command(
    campaign: Annotated[Path, typer.Argument(help="a thin-film or epics campaign file: its world and seed")],
    prefix: Annotated[
        str | None,
        typer.Option(help=f"PV prefix (default: the file's epics.prefix, else {REHEARSAL_PREFIX})"),
    ] = None,
    port: Annotated[int, typer.Option(help="Channel Access server port on 127.0.0.1")] = 5064,
    speed: Annotated[float, typer.Option(help="instrument seconds per real second")] = 1.0,
) -> None:
    """Serve the campaign's simulated thin-film lab as EPICS PVs on loopback: a rehearsal IOC."""
    try:
        spec, _ = load_campaign(campaign)
    except CampaignFileError as exc:
        raise _refuse(str(exc)) from None
    epics = spec.instrument.epics
    prefix = prefix if prefix is not None else epics.prefix if epics is not None else REHEARSAL_PREFIX
    if not REHEARSAL_PREFIX_PATTERN.fullmatch(prefix):
        raise _refuse(f"--prefix {prefix!r} is not a PV prefix; use letters, digits, _ - : . (e.g. JUNKAN:)")
    if not (speed > 0 and speed < float("inf")):
        raise _refuse(f"--speed {speed} must be a positive number (1: real time)")
    if not 0 < port < 65536 or not port_is_free("127.0.0.1", port):
        raise _refuse(f"--port {port} on 127.0.0.1 is in use or not a port; give a free one")
    if spec.instrument.kind not in LIBRARY_KINDS:
        raise _refuse(
            f"{campaign}: instrument kind {spec.instrument.kind!r} has no sputter system, stage or "
            "beamline to serve; the rehearsal IOC serves kinds 'thin-film' and 'epics'"
        )
    simulated = spec.instrument.model_copy(update={"kind": "thin-film", "epics": None})
    instrument = build_instrument(spec.model_copy(update={"instrument": simulated}), spec.seed)
    assert isinstance(instrument, ThinFilmInstrument)
    out.print(
        f"rehearsal IOC for {campaign}: PVs {prefix}SPUTTER:, STAGE:, XRD:, XAFS:, PROBE: on "
        f"127.0.0.1:{port}, {speed:g} instrument s per s (Ctrl-C to stop)\n"
        f"clients: {' '.join(f'{k}={v}' for k, v in client_environment(port).items())}",
        highlight=False,
        soft_wrap=True,
    )
    lab = RehearsalLab(instrument.hardware, instrument.counters, RehearsalClock(speed))
    try:
        serve_ioc(lab, prefix, instrument.settings.elements, port)
    except KeyboardInterrupt:
        out.print("rehearsal IOC stopped", highlight=False)


@contextmanager
def _dashboard_beside(store: Path, wanted: bool, host: str, port: int) -> Iterator[None]:
    """The dashboard in its own process (its model fits must not take the loop's interpreter),
    up before the campaign starts and stopped when it ends."""
    if not wanted:
        yield
        return
    command = [
        sys.executable,
        "-m",
        "orchestrator",
        "dashboard",
        str(store),
        "--host",
        host,
        "--port",
        str(port),
        "--parent",
        str(os.getpid()),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + DASHBOARD_START_S
        while port_is_free(host, port) and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if server.poll() is not None:
            raise _refuse(f"the dashboard did not start (exit {server.returncode}); see the message above")
        shown = f"[{host}]" if ":" in host else host
        out.print(f"dashboard: http://{shown}:{port}/", highlight=False)
        yield
    finally:
        stop_process(server, timeout=10)


def _connected_executor(spec: CampaignSpec, instrument: Any) -> LocalExecutor:
    """The in-process executor, every device connected; a PV that does not answer is bad input."""
    epics = spec.instrument.epics
    timeout_s = epics.connect_timeout_s if epics is not None else DEFAULT_TIMEOUT
    try:
        return LocalExecutor(instrument, connect_timeout_s=timeout_s)
    except NotConnectedError as exc:
        where = f"under prefix {epics.prefix!r} " if epics is not None else ""
        raise _refuse(
            f"the instrument's devices {where}did not all connect within {timeout_s:g} s "
            f"(is the IOC up, and EPICS_CA_ADDR_LIST right?); what did not connect:\n{exc}"
        ) from None


def _run_to_end(
    campaign_store: CampaignStore,
    spec: CampaignSpec,
    seed: int,
    store: Path,
    remote: Executor | None = None,
    hold_when_paused: bool = False,
    tiled: str | None = None,
) -> None:
    def notify(message: str) -> None:
        err.print(escape(message), highlight=False, soft_wrap=True)

    try:
        with run_lock(store):
            proposals = list(campaign_store.state().proposals)
            announce = lambda m: out.print(m, highlight=False)  # noqa: E731
            with (
                tiled_sink_for(store, tiled, proposals, notify, announce) as sink,
                run_engine_log_in(store),
                warnings_counted(store),
                sigint_honoured(),
            ):
                _run_locked(campaign_store, spec, seed, store, remote, hold_when_paused, notify, sink)
    except CampaignBusyError as exc:
        raise _refuse(str(exc)) from None
    except OSError as exc:  # a read-only or full disk: every record before it is whole (appends are atomic)
        if exc.errno not in UNWRITABLE:
            raise
        raise _refuse(
            f"cannot write to the store: {exc.strerror or exc} ({exc.filename or store}); "
            f"fix it and continue with `junkan resume {store}`"
        ) from None
    except TiledError as exc:
        raise _refuse(f"{exc}; the store is as it was: `junkan resume {store}` after fixing it") from None


def _run_locked(
    campaign_store: CampaignStore,
    spec: CampaignSpec,
    seed: int,
    store: Path,
    remote: Executor | None,
    hold_when_paused: bool,
    notify: Callable[[str], None],
    publish: Callable[[str, Mapping[str, Any]], None] | None,
) -> None:
    instrument = build_instrument(spec, seed)
    executor = remote or _connected_executor(spec, instrument)
    loop = CampaignLoop(
        campaign_store,
        build_policy(spec, seed, instrument_costs(instrument)),
        instrument,
        executor,
        seed=seed,
        notify=notify,
        hold_when_paused=hold_when_paused,
        publish=publish,
    )
    objective = spec.objectives[0].name
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("best reading {task.fields[best]}"),
        TextColumn("decision {task.fields[decision]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),  # measured as the campaign goes: decisions slow as the data grow
        console=out,
    ) as progress:
        task = progress.add_task(
            spec.name, total=spec.budget, completed=len(loop.state.observations), best="-", decision="-"
        )

        def show(step: LoopProgress) -> None:
            best = step.state.best_reading(objective)  # cheap, and labelled as what it is
            progress.update(
                task,
                completed=len(step.state.observations),
                best=f"{objective}={best.values[objective]:.4g}" if best else "-",
                decision=f"{step.decision_seconds:.2f}s",
            )

        try:
            state = loop.run(on_progress=show)
        except ResumeError as exc:
            raise _refuse(f"{store}: {exc}") from None
        except KeyboardInterrupt:
            campaign_store.write_observations(loop.state)  # the view may lag the log by one
            kept = len(loop.state.observations)
            err.print(
                f"interrupted: {store} keeps {kept} observation(s); continue with `junkan resume {store}`",
                highlight=False,
            )
            raise typer.Exit(INTERRUPTED) from None
    _print_summary(spec, state, store)
    if state.status == "paused":
        err.print(escape(f"paused: {state.pause_reason}"), highlight=False, soft_wrap=True)
        raise typer.Exit(PAUSED)
    if state.status == "stopped":
        err.print(escape(f"stopped: {state.finish_reason}"), highlight=False, soft_wrap=True)
        return
    if state.status != "finished":
        raise typer.Exit(CAMPAIGN_FAILED)


@app.command()
def control(
    store: Annotated[Path, typer.Argument(help="the store of a running campaign")],
    command: Annotated[str, typer.Argument(help="pause, resume, stop, inject, approve or reject")],
    proposal_id: Annotated[str | None, typer.Argument(help="for approve and reject: the proposal id")] = None,
    condition: Annotated[str | None, typer.Option(help="for inject: Fe=0.5,Ga=0.3,Pd=0.2")] = None,
    note: Annotated[str, typer.Option(help="why (kept in the event log)")] = "",
    queue: Annotated[
        bool,
        typer.Option("--queue", help="no process need run the campaign: the next `junkan resume` takes it"),
    ] = False,
) -> None:
    """Pause, resume, stop, inject a condition into, or approve or reject a proposal of a running campaign."""
    if command not in COMMANDS:
        raise _refuse(f"unknown command {command!r}; give one of {list(COMMANDS)}")
    _, spec, state = _open_state(store)
    try:
        parsed = parse_condition(condition, spec.space.simplex().names) if condition else None
        request = ControlRequest(command=command, condition=parsed, proposal_id=proposal_id, note=note)  # type: ignore[arg-type]
        refused = refusal(spec, state, is_running(store), store, request, queued=queue)
        if refused is not None:
            raise ControlError(refused.message)
        path = send(store, request)
    except ControlError as exc:
        raise _refuse(str(exc)) from None
    taker = "the campaign takes it at its next step" if is_running(store) else "`junkan resume` takes it"
    out.print(f"{command} sent ({path.name}); {taker}", highlight=False)


@app.command()
def replay(
    store: Annotated[Path | None, typer.Argument(help="a campaign's store directory (with --verify)")] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="re-decide every proposal from the log and compare")
    ] = False,
    pool: Annotated[
        Path | None, typer.Option(help="a fully measured table (CSV or zarr) to replay over")
    ] = None,
    inputs: Annotated[str | None, typer.Option(help="with --pool: input columns, A,B,C")] = None,
    objectives: Annotated[str | None, typer.Option(help="with --pool: NAME:max[,NAME2:min]")] = None,
    policy: Annotated[str, typer.Option(help="with --pool: bayesian or random")] = "bayesian",
    budget: Annotated[int, typer.Option(help="with --pool: measurements per seed")] = 50,
    seeds: Annotated[int, typer.Option(help="with --pool: seeds (run in parallel processes)")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="with --pool: print one JSON object")] = False,
    keep: Annotated[
        Path | None,
        typer.Option("--store", help="with --pool: keep each seed's campaign store at DIR/seed-N"),
    ] = None,
) -> None:
    """Re-decide a recorded campaign (DIR --verify), or run a policy over a measured table (--pool)."""
    if pool is not None:
        _replay_pool(pool, inputs, objectives, policy, budget, seeds, as_json, keep)
        return
    if store is None or not verify:
        raise _refuse("give a store and --verify, or --pool DATA --inputs ... --objectives ...")
    campaign_store, spec = _open_store(store)
    try:
        events = list(campaign_store.log.read())
    except EventLogError as exc:
        raise _refuse(str(exc)) from None
    difference = first_difference(spec, events)
    n_proposals = sum(1 for e in events if isinstance(e, Proposed))
    if difference is not None:
        err.print(escape(f"replay differs: {difference}"), highlight=False, soft_wrap=True)
        raise typer.Exit(CAMPAIGN_FAILED)
    out.print(f"{store}: all {n_proposals} proposals re-decided identically", highlight=False, soft_wrap=True)


def _replay_pool(
    data: Path,
    inputs: str | None,
    objectives: str | None,
    policy: str,
    budget: int,
    seeds: int,
    as_json: bool,
    stores: Path | None,
) -> None:
    if not inputs or not objectives:
        raise _refuse("--pool needs --inputs A,B,C and --objectives NAME:max[,NAME2:min]")
    goals = []
    for item in objectives.split(","):
        name, _, goal = item.partition(":")
        if goal not in ("max", "min") or not name:
            raise _refuse(f"--objectives: {item!r} is not NAME:max or NAME:min")
        goals.append((name, goal))
    try:
        result = pool_replay(
            data, inputs.split(","), goals, policy=policy, budget=budget, seeds=seeds, stores=stores
        )
    except (ValueError, OSError) as exc:
        raise _refuse(str(exc)) from None
    if as_json:
        print(json.dumps(result))
        return
    half = max(1, result["budget"] // 2)  # how soon: the top 5 % found early is a campaign's to use
    out.print(
        f"{result['policy']} over {data}: {result['seeds']} seeds of {result['budget']} measurements\n"
        f"measurements to the best condition (median): {result['n_to_best_median']:g} "
        f"(random {result['random_n_to_best_median']:g}); AF {_factor(result['af_median'])}\n"
        f"top 5 % found by the budget: {result['top5_fraction_at_budget']:.0%} "
        f"(random {result['random_top5_fraction_at_budget']:.0%}); EF {_factor(result['ef_at_budget'])}\n"
        f"top 5 % found by half of it ({half}): {result['top5_fraction_curve'][half - 1]:.0%} "
        f"(random {result['random_top5_fraction_curve'][half - 1]:.0%})",
        highlight=False,
        soft_wrap=True,
    )
    for note in result.get("notes", []):
        out.print(f"note: {note}", highlight=False, soft_wrap=True)
    for store in result.get("stores") or []:
        out.print(f"store: {store} (junkan status / dashboard open it)", highlight=False, soft_wrap=True)


def _factor(value: float | None) -> str:
    """An AF or EF for reading: two decimals; none when random found nothing to compare with."""
    return "-" if value is None else f"{value:.2f}"


@app.command()
def status(
    store: Annotated[Path, typer.Argument(help="a campaign's store directory")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Print a campaign's state from its event log, and its best condition by the model."""
    _, spec, state = _open_state(store)
    live = is_running(store)
    if as_json:
        document = status_document(state, campaign_best(spec, state), live, spec.instrument.real_time)
        print(json.dumps(document, indent=2))
    else:
        _print_summary(spec, state, store, live)


def _print_summary(spec: CampaignSpec, state: CampaignState, store: Path, live: bool = True) -> None:
    """`live`: a process is running the campaign (the one printing, at the end of `run`)."""
    for line in summary_lines(state, campaign_best(spec, state), store, live, spec.instrument.real_time):
        out.print(escape(line), highlight=False, soft_wrap=True)
