"""The dashboard's web application: a page, a JSON API (OpenAPI at /openapi.json), a stream of
log changes (server-sent events), Prometheus metrics, and control for whoever holds the token.

Reading is open to anyone who can reach the port; every answer is computed once per change of
the log (and step) and served from a cache, so many watchers cost the campaign little."""

import asyncio
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.control import ControlError, ControlRequest, refusal, send
from orchestrator.control_token import ControlTokenError, token_matches
from orchestrator.dashboard import panels
from orchestrator.dashboard.log_view import LogFollower, Snapshot
from orchestrator.dashboard.metrics import metrics_registry, metrics_text
from orchestrator.dashboard.model_view import ModelView
from orchestrator.dashboard.projection import ViewRequestError, parse_condition
from orchestrator.run_lock import is_running
from orchestrator.store import CampaignStore

STATIC = files("orchestrator.dashboard") / "static"
REFRESH_S = 0.2  # the log is re-read at most this often, however many clients ask
STREAM_POLL_S = 0.25
STREAM_HEARTBEAT_S = 15.0
CACHED_ANSWERS = 256


def plotly_js() -> Path:
    """plotly.js as shipped inside the plotly wheel: the page works with no internet access."""
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


class ControlBody(BaseModel):
    """A person's request, as `junkan control` takes it."""

    model_config = ConfigDict(extra="forbid")

    command: Literal["pause", "resume", "stop", "inject", "approve", "reject"]
    condition: dict[str, float] | None = Field(default=None, description="inject: element -> fraction")
    proposal_id: str | None = Field(default=None, description="approve, reject: the proposal id")
    note: str = Field(default="", description="why (kept in the event log)")


class ControlAccepted(BaseModel):
    request_id: str
    command: str
    message: str


class Dashboard:
    """The store's followed log and the cached answers computed from it."""

    def __init__(self, store_path: Path) -> None:
        self.store = CampaignStore.open(store_path)
        self.follower = LogFollower(self.store)
        self.spec = self.follower.spec
        self.models = ModelView(self.spec, self._seed())
        self._refreshed = 0.0
        self._live = (0.0, False)
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.registry = metrics_registry(self.follower, self.live)

    def _seed(self) -> int:
        return self.follower.snapshot.state.seed if self.follower.snapshot.events else self.spec.seed

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        if now - self._refreshed >= REFRESH_S:
            self._refreshed = now
            snapshot = self.follower.refresh()
            if self.models.seed != self._seed():  # the run's --seed, known once it started
                self.models = ModelView(self.spec, self._seed())
            return snapshot
        return self.follower.snapshot

    def live(self) -> bool:
        """A live process holds the store's run lock (checked at most once a second)."""
        checked, running = self._live
        if time.monotonic() - checked > 1.0:
            running = is_running(self.store.path)
            self._live = (time.monotonic(), running)
        return running

    def answer(self, key: tuple, build: Callable[[Snapshot], object]) -> Response:
        """JSON computed once per (question, log length); later askers get the same bytes."""
        snapshot = self.snapshot()
        full_key = (*key, len(snapshot.events))
        with self._lock:
            cached = self._answers.get(full_key)
        if cached is None:
            cached = json.dumps(build(snapshot), allow_nan=False, default=_jsonable).encode()
            with self._lock:
                self._answers[full_key] = cached
                while len(self._answers) > CACHED_ANSWERS:
                    self._answers.popitem(last=False)
        return Response(cached, media_type="application/json")


def _jsonable(value: object) -> object:
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _step(snapshot: Snapshot, step: int | None) -> int | None:
    if step is not None and step > snapshot.n_steps:
        raise HTTPException(
            422,
            f"step {step} is beyond the {snapshot.n_steps} measurements so far; give 0..{snapshot.n_steps}",
        )
    return step


def create_app(store_path: Path) -> FastAPI:
    dashboard = Dashboard(store_path)
    app = FastAPI(
        title="junkan dashboard",
        version="1",
        description=(
            "The live state of a junkan campaign, folded from its event log. Reading needs nothing; "
            "control needs the bearer token printed when the campaign started (also in the store's "
            "`control-token` file, readable by its owner only)."
        ),
        docs_url=None,  # the interactive docs load their script from a CDN: no use offline
        redoc_url=None,
    )
    app.state.dashboard = dashboard
    bearer = HTTPBearer(auto_error=False, description="the campaign's control token")
    StepQuery = Annotated[
        int | None,
        Query(ge=0, description="the state after this many measurements (omit for the latest)"),
    ]

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text())

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get(
        "/api/state",
        summary="Header: campaign, state, budget, time left, duty cycle, latency, faults, best by the model",
    )
    def state(step: StepQuery = None) -> Response:
        def build(snapshot: Snapshot) -> dict:
            at = _step(snapshot, step)
            state = dashboard.follower.state_at(snapshot, at)
            return panels.header(
                dashboard.spec,
                state,
                dashboard.models.best(state),
                dashboard.live(),
                snapshot.n_steps,
                at,
            )

        return dashboard.answer(("state", step, dashboard.live()), build)

    @app.get("/api/observations", summary="Measurements, the Pareto front and the hypervolume after each")
    def observations(step: StepQuery = None) -> Response:
        def build(snapshot: Snapshot) -> dict:
            at = dashboard.follower.state_at(snapshot, _step(snapshot, step))
            return panels.observations(dashboard.spec, at, snapshot.state)

        return dashboard.answer(("observations", step), build)

    @app.get("/api/events", summary="Events after sequence number `since` (the latest `limit`)")
    def events(
        since: Annotated[int, Query(ge=-1, description="the last seq the client has")] = -1,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        step: StepQuery = None,
    ) -> Response:
        def build(snapshot: Snapshot) -> dict:
            events = snapshot.events_at(_step(snapshot, step))
            rows = panels.event_rows(events, since, limit)
            return {"events": rows, "last_seq": events[-1].seq if events else -1}

        return dashboard.answer(("events", since, limit, step), build)

    CornerQuery = Annotated[
        list[str] | None,
        Query(
            description="three, each an element or elements joined by commas (summed), e.g. "
            "corner=Fe&corner=Co&corner=Cr,Ni; default: a ternary's elements, else the first two and the rest"
        ),
    ]
    SpotQuery = Annotated[
        str | None,
        Query(
            description="where elements in no corner and process parameters are held (and the "
            "proportions within a corner): 'Fe=0.25,Co=0.25,Cr=0.2,Ni=0.3,T=450' (as `junkan control "
            "inject` takes it) or a measured proposal id; default: the best measured condition by the model"
        ),
    ]

    def view_request(build: Callable[[Snapshot], dict]) -> Callable[[Snapshot], dict]:
        def checked(snapshot: Snapshot) -> dict:
            try:
                return build(snapshot)
            except ViewRequestError as exc:
                raise HTTPException(422, str(exc)) from None

        return checked

    @app.get(
        "/api/model",
        summary="The model's mean, sd and noise sd over a pseudo-ternary plane, with the measured and "
        "pending conditions projected onto it",
    )
    def model(step: StepQuery = None, corner: CornerQuery = None, at: SpotQuery = None) -> Response:
        @view_request
        def build(snapshot: Snapshot) -> dict:
            state = dashboard.follower.state_at(snapshot, _step(snapshot, step))
            spot = (
                None if at is None else parse_condition(dashboard.models.space, at, state.observations, "at")
            )
            return dashboard.models.at(state, corner, spot)

        return dashboard.answer(("model", step, tuple(corner or ()), at), build)

    @app.get(
        "/api/model/slice",
        summary="The model along the straight line between two conditions, and the measured "
        "conditions near it",
    )
    def model_slice(
        start: Annotated[str, Query(description="a condition 'Fe=0.25,…,T=450' or a measured proposal id")],
        end: Annotated[str, Query(description="the same, for the other end")],
        step: StepQuery = None,
    ) -> Response:
        @view_request
        def build(snapshot: Snapshot) -> dict:
            state = dashboard.follower.state_at(snapshot, _step(snapshot, step))
            space = dashboard.models.space
            return dashboard.models.slice(
                state.observations,
                parse_condition(space, start, state.observations, "start"),
                parse_condition(space, end, state.observations, "end"),
            )

        return dashboard.answer(("slice", step, start, end), build)

    @app.get("/api/spectra", summary="The latest diffraction patterns and absorption spectra")
    def spectra(
        step: StepQuery = None, last: Annotated[int, Query(ge=1, le=50)] = panels.SPECTRA_SHOWN
    ) -> Response:
        def build(snapshot: Snapshot) -> dict:
            at = dashboard.follower.state_at(snapshot, _step(snapshot, step))
            return panels.spectra(dashboard.store, at, last)

        return dashboard.answer(("spectra", step, last), build)

    @app.get("/api/stream", summary="Server-sent events: one `log` event each time the log grows")
    async def stream(request: Request) -> StreamingResponse:
        async def changes() -> AsyncIterator[str]:
            seen = -1
            quiet_since = time.monotonic()
            while not await request.is_disconnected():
                snapshot = dashboard.snapshot()
                if len(snapshot.events) != seen:
                    seen = len(snapshot.events)
                    quiet_since = time.monotonic()
                    news = {
                        "n_events": seen,
                        "n_observations": snapshot.n_steps,
                        "status": snapshot.state.status,
                        "last_seq": snapshot.events[-1].seq if snapshot.events else -1,
                    }
                    yield f"event: log\ndata: {json.dumps(news)}\n\n"
                elif time.monotonic() - quiet_since > STREAM_HEARTBEAT_S:
                    quiet_since = time.monotonic()
                    yield ": still here\n\n"
                await asyncio.sleep(STREAM_POLL_S)

        return StreamingResponse(
            changes(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/metrics", summary="Prometheus text format: observations, faults, decision latency, duty cycle")
    def metrics() -> Response:
        return Response(metrics_text(dashboard.registry), media_type="text/plain; version=0.0.4")

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        try:  # no token can be right while the store's own is unusable: say why, not just "401"
            matches = token_matches(dashboard.store.path, credentials.credentials if credentials else None)
        except ControlTokenError as exc:
            raise HTTPException(403, f"control is off for this campaign: {exc}") from None
        if not matches:
            raise HTTPException(
                401,
                "control needs the campaign's bearer token (printed when it started; in the store's "
                "control-token file)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.post(
        "/api/control",
        status_code=202,
        summary="Pause, resume, stop, inject a condition, approve or reject a proposal",
        responses={
            401: {"description": "no or wrong token: nothing changed"},
            403: {"description": "the store's token file is missing or readable by others: control is off"},
            409: {"description": "not now"},
            422: {"description": "never valid (a condition outside the design space, an unknown proposal)"},
            503: {"description": "the store cannot take the request (not writable)"},
        },
        dependencies=[Depends(authorised)],
    )
    def control(body: ControlBody) -> ControlAccepted:
        snapshot = dashboard.follower.refresh()
        request = ControlRequest(
            command=body.command,
            condition=body.condition,
            proposal_id=body.proposal_id,
            note=body.note or "from the dashboard",
        )
        refused = refusal(dashboard.spec, snapshot.state, dashboard.live(), dashboard.store.path, request)
        if refused is not None:
            raise HTTPException(409 if refused.kind == "conflict" else 422, refused.message)
        try:
            send(dashboard.store.path, request)
        except ControlError as exc:
            raise HTTPException(503, str(exc)) from None
        return ControlAccepted(
            request_id=request.request_id,
            command=body.command,
            message="sent; the campaign takes it at its next step (watch the event log)",
        )

    return app
