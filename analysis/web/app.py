"""The control-room FastAPI application: HTTP API, live stream and the page.

:func:`create_app` builds the app around a running :class:`~analysis.service.LineService`.
Read endpoints need the viewer role (open when no viewer token is configured);
commands need the operator role. Every bad request gets a 4xx with a ``detail``
saying what was expected, and changes nothing.

Endpoints (all JSON unless said): ``GET /api/state`` (line state, lot, verdict),
``/api/lot``, ``/api/segments``, ``/api/segments/{index}/spectrum``, ``/api/trend``,
``/api/nir-trend``, ``/api/alarms``, ``/api/alarms/{id}``,
``POST /api/alarms/{id}/acknowledge``, ``/api/detections``,
``/api/detections/{index}/thumbnail.png`` (PNG), ``/api/samples``,
``POST /api/samples/targeted``, ``POST /api/lot/stop``, ``/api/reports``,
``/api/reports/{lot_id}/{html|pdf}`` (file), ``/api/stream`` (server-sent events),
``/api/session`` (login/logout), ``/openapi.json``; ``/`` serves the page.
"""

# No ``from __future__ import annotations`` here: FastAPI resolves the local Annotated aliases
# (Viewer, Operator) at definition time.
import asyncio
import collections
import contextlib
import threading
from pathlib import Path
from typing import Annotated, Any, AsyncIterator, Literal, NamedTuple

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Path as PathParam, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from analysis.decide import AlarmLotError
from analysis.errors import AlarmError
from analysis.model import to_dict
from analysis.web.auth import ROLE_RANK, SESSION_COOKIE, Authenticator, Role
from analysis.web.errors import EvidenceError
from analysis.web.evidence import SpectrumCache, plain, thumbnail_array, thumbnail_png
from analysis.web.lab import LabQueue, lab_router
from analysis.web.live import LiveFeed, dumps
from analysis.web.lots import alarm_commands_router, history_router
from analysis.web.schemas import (
    AcknowledgeRequest, CommandResult, ErrorBody, LoginRequest, SessionInfo, SpectrumOut, StopLotRequest,
    TargetedSampleRequest,
)

STATIC_DIR = Path(__file__).with_name("static")
#: Largest request body accepted, bytes.
MAX_BODY_BYTES = 16 * 1024
#: Seconds between keep-alive comments on an idle live stream.
HEARTBEAT_S = 15.0
#: PNG thumbnails kept encoded.
THUMBNAIL_CACHE = 128
API_VERSION = "1"

_bearer = HTTPBearer(auto_error=False, description="Operator or viewer token.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Session from POST /api/session.")
_ERRORS = {401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}}
_JSON_OBJ = {"content": {"application/json": {"schema": {"type": "object"}}}}


class _BodyLimit:
    """ASGI middleware: 413 for a declared body over ``MAX_BODY_BYTES``, 411 for chunked request bodies."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length")
            status, detail = 0, ""
            if length is not None:
                try:
                    n = int(length)
                except ValueError:
                    n = -1
                if n < 0:
                    status, detail = 400, f"expected a non-negative integer Content-Length, got {length[:20]!r}"
                elif n > MAX_BODY_BYTES:
                    status, detail = 413, f"expected a body of at most {MAX_BODY_BYTES} bytes, got {n}"
            elif b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                status, detail = 411, "expected a Content-Length header, got a chunked body"
            if status:
                await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ControlRoomState:
    """What the app's endpoints share: the service, auth, live feed, evidence caches."""

    def __init__(self, service: Any, auth: Authenticator, *, spectra: SpectrumCache | None,
                 update_interval_s: float, max_viewers: int) -> None:
        self.service = service
        self.auth = auth
        self.spectra = spectra
        self.feed = LiveFeed(service, min_interval_s=update_interval_s)
        self.max_viewers = max_viewers
        self.viewers = 0
        self._state_cache: tuple[int, bytes] = (-1, b"")
        self._thumbs: collections.OrderedDict[tuple[str, int], bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    def state_bytes(self) -> bytes:
        """``line_state()`` as JSON, re-serialised only when the service version moved."""
        version = self.service.version
        cached_version, body = self._state_cache
        if version != cached_version or not body:
            body = dumps(plain(self.service.line_state(), max_list=1000)).encode()
            self._state_cache = (version, body)
        return body

    def thumbnail(self, index: int) -> bytes:
        monitor = self.service.monitor
        key = (monitor.lot_id, index)
        with self._lock:
            if key in self._thumbs:
                self._thumbs.move_to_end(key)
                return self._thumbs[key]
        detections = monitor.detections
        if index >= len(detections):
            raise EvidenceError(f"no detection {index} in lot {monitor.lot_id!r} ({len(detections)} detections)")
        image = thumbnail_array(detections[index])
        if image is None:
            raise EvidenceError(f"detection {index} carries no thumbnail image")
        png = thumbnail_png(image)
        with self._lock:
            self._thumbs[key] = png
            while len(self._thumbs) > THUMBNAIL_CACHE:
                self._thumbs.popitem(last=False)
        return png


def _detection_view(index: int, det: dict[str, Any]) -> dict[str, Any]:
    image = thumbnail_array(det)
    out = {k: v for k, v in det.items() if not (hasattr(v, "ndim") and getattr(v, "ndim", 0) >= 1)}
    out = plain(out)
    out["index"] = index
    out["thumbnail_url"] = f"/api/detections/{index}/thumbnail.png" if image is not None else None
    return out


class Guards(NamedTuple):
    """The role dependencies every router shares: the caller's role, and the viewer and operator guards.

    Routers bind them to the local names ``Viewer`` and ``Operator``: FastAPI resolves those annotations."""

    role_of: Any
    viewer: Any
    operator: Any
    require_viewer: Any  # the viewer dependency itself, for routers that take ``Depends(...)``


def role_guards(auth: Authenticator) -> Guards:
    """Dependencies that resolve the caller's role from a bearer token or the session cookie."""
    def credentials(bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                    cookie: str | None = Depends(_cookie)) -> tuple[str | None, str | None]:
        return (f"Bearer {bearer.credentials}" if bearer is not None else None), cookie

    def role_of(creds: tuple[str | None, str | None] = Depends(credentials)) -> Role:
        return auth.role_of(*creds)

    def viewer(role: Role = Depends(role_of)) -> Role:
        if ROLE_RANK[role] < ROLE_RANK["viewer"]:
            raise HTTPException(401, "expected a viewer or operator token (Authorization: Bearer or session)",
                                headers={"WWW-Authenticate": "Bearer"})
        return role

    def operator(request: Request, creds: tuple[str | None, str | None] = Depends(credentials)) -> Role:
        if not auth.commands_enabled:
            raise HTTPException(403, "commands are disabled: no operator_token is configured")
        role = auth.role_of(*creds, open_lift=False)
        if role == "none":
            raise HTTPException(401, "expected the operator token (Authorization: Bearer or session)",
                                headers={"WWW-Authenticate": "Bearer"})
        if role != "operator":
            raise HTTPException(403, f"expected the operator role, got {role}")
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            raise HTTPException(403, f"expected a same-origin request, got Origin {origin[:100]!r}")
        return role

    return Guards(role_of, Annotated[Role, Depends(viewer)], Annotated[Role, Depends(operator)], viewer)

def session_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """Log in and out; the caller's role."""
    router, auth, role_of = APIRouter(), cr.auth, guards.role_of

    @router.get("/api/session", response_model=SessionInfo, tags=["session"])
    def get_session(role: Role = Depends(role_of)) -> SessionInfo:
        """The caller's role, and whether commands and open viewing are configured."""
        return SessionInfo(role=role, commands_enabled=auth.commands_enabled, open_viewing=auth.open_viewing)

    @router.post("/api/session", response_model=SessionInfo, responses={401: {"model": ErrorBody}}, tags=["session"])
    def login(body: LoginRequest, response: Response) -> SessionInfo:
        """Log in with a token: sets an HttpOnly, SameSite=Strict session cookie."""
        result = auth.login(body.token)
        if result is None:
            raise HTTPException(401, "expected a valid operator or viewer token, got an unknown one")
        session_id, role = result
        response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", path="/")
        return SessionInfo(role=role, commands_enabled=auth.commands_enabled, open_viewing=auth.open_viewing)

    @router.delete("/api/session", response_model=SessionInfo, tags=["session"])
    def logout(response: Response, cookie: str | None = Depends(_cookie)) -> SessionInfo:
        """Log out: forgets the session."""
        auth.logout(cookie)
        response.delete_cookie(SESSION_COOKIE, path="/")
        role: Role = "viewer" if auth.open_viewing else "none"
        return SessionInfo(role=role, commands_enabled=auth.commands_enabled, open_viewing=auth.open_viewing)
    return router


def line_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """The line state, the lot and its stop command."""
    router, service, Viewer, Operator = APIRouter(), cr.service, guards.viewer, guards.operator  # noqa: N806

    @router.get("/api/state", responses={200: _JSON_OBJ, **_ERRORS}, tags=["line"])
    async def get_state(_: Viewer) -> Response:
        """Line state (belt, tonnage, phase), lot identity, forming verdict, counts, stations, sampler."""
        return Response(cr.state_bytes(), media_type="application/json")

    @router.get("/api/lot", response_model=dict[str, Any], responses=_ERRORS, tags=["line"])
    async def get_lot(_: Viewer) -> dict[str, Any]:
        """The current lot: identity, tonnage so far, declared mass, verdict and segment counts."""
        monitor = service.monitor
        state = service.state
        start = monitor.start
        return plain({
            "lot": to_dict(start.lot) if start else None,
            "tonnage_t": state.lot_tonnage_t if state else 0.0,
            "declared_mass_t": start.lot.declared_mass_t if start else None,
            "segment_mass_t": start.segment_mass_t if start else None,
            "phase": state.phase if state else "idle",
            "verdict": to_dict(monitor.verdict) if monitor.verdict else None,
            "ended": to_dict(monitor.end) if monitor.end else None,
        })

    @router.post("/api/lot/stop", response_model=CommandResult, responses={409: {"model": ErrorBody}, **_ERRORS},
              tags=["commands"])
    def stop_lot(body: StopLotRequest, role: Operator) -> CommandResult:
        """End the running lot as aborted after the current tick (operator)."""
        state = service.state
        if state is None or state.phase == "ended" or service.monitor.end is not None:
            raise HTTPException(409, "expected a running lot, got none")
        service.stop_lot(f"operator: {body.reason}")
        return CommandResult(ok=True, message=f"stop requested: {body.reason}", detail={"lot_id": state.lot_id})
    return router


def segments_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """Decided segments and their evidence: spectra, detections, thumbnails."""
    router, service, Viewer = APIRouter(), cr.service, guards.viewer  # noqa: N806

    @router.get("/api/segments", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["segments"])
    async def get_segments(_: Viewer, since: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                           limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> list[dict[str, Any]]:
        """Decided segments from index ``since`` on (at most ``limit``), oldest first."""
        return plain(service.segments(since)[:limit], max_list=1000)

    @router.get("/api/segments/{index}/spectrum", response_model=SpectrumOut,
             responses={404: {"model": ErrorBody}, **_ERRORS}, tags=["segments"])
    async def get_spectrum(_: Viewer, index: Annotated[int, PathParam(ge=0, le=10_000_000)]) -> dict[str, Any]:
        """Mean and standard deviation of a segment's NIR reflectance spectra."""
        if cr.spectra is None:
            raise HTTPException(404, "no spectrum cache attached to this line")
        try:
            return cr.spectra.spectrum(index)
        except EvidenceError as exc:
            raise HTTPException(404, str(exc)) from None

    @router.get("/api/detections", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["segments"])
    async def get_detections(_: Viewer, since: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                             limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        """Vision detections of the lot from index ``since`` (metadata; thumbnails by URL)."""
        dets = service.monitor.detections[since:since + limit]
        return [_detection_view(since + i, d) for i, d in enumerate(dets)]

    @router.get("/api/detections/{index}/thumbnail.png", response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorBody}, **_ERRORS},
             tags=["segments"])
    def get_thumbnail(_: Viewer, index: Annotated[int, PathParam(ge=0, le=10_000_000)]) -> Response:
        """The detection's thumbnail as PNG."""
        try:
            png = cr.thumbnail(index)
        except EvidenceError as exc:
            raise HTTPException(404, str(exc)) from None
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
    return router


def trends_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """Trends of the line and of the NIR scores."""
    router, service, Viewer = APIRouter(), cr.service, guards.viewer  # noqa: N806

    @router.get("/api/trend", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["line"])
    async def get_trend(_: Viewer, last_n: Annotated[int, Query(ge=1, le=3600)] = 600) -> list[dict[str, Any]]:
        """Last ``last_n`` ticks: time, lot tonnes, belt rate t/h, belt speed m/s, NIR p(waste)."""
        return plain(service.trend_points(last_n))

    @router.get("/api/nir-trend", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["line"])
    async def get_nir_trend(_: Viewer, last_n: Annotated[int, Query(ge=1, le=20000)] = 2000) -> list[dict[str, Any]]:
        """Last ``last_n`` valid NIR measurements: lot tonnes, p(waste), Hotelling T²."""
        points = service.monitor.nir_trend[-last_n:]
        return plain([{"lot_t": p[0], "p_waste": p[1], "t2": p[2]} for p in points])
    return router


def alarms_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """Alarms and their acknowledgement."""
    router, service, Viewer, Operator = APIRouter(), cr.service, guards.viewer, guards.operator  # noqa: N806

    @router.get("/api/alarms", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["alarms"])
    async def get_alarms(_: Viewer, active_only: bool = False,
                         limit: Annotated[int, Query(ge=1, le=10000)] = 500) -> list[dict[str, Any]]:
        """Alarms newest first (``active_only``: raised or acknowledged, not cleared)."""
        alarms = service.alarms.active() if active_only else service.alarms.all()
        return plain([to_dict(a) for a in alarms[:limit]])

    @router.get("/api/alarms/{alarm_id}", response_model=dict[str, Any],
             responses={404: {"model": ErrorBody}, **_ERRORS}, tags=["alarms"])
    async def get_alarm(_: Viewer, alarm_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
        """One alarm in its current state."""
        try:
            return plain(to_dict(service.alarms.get(alarm_id)))
        except AlarmError as exc:
            raise HTTPException(404, str(exc)) from None

    @router.post("/api/alarms/{alarm_id}/acknowledge", response_model=dict[str, Any],
              responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, **_ERRORS}, tags=["alarms", "commands"])
    def acknowledge(role: Operator, alarm_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
                    body: Annotated[AcknowledgeRequest | None, Body()] = None) -> dict[str, Any]:
        """Acknowledge an alarm (operator). Acknowledging twice is harmless."""
        req = body or AcknowledgeRequest()
        try:
            return plain(to_dict(service.acknowledge(alarm_id, req.by, comment=req.comment, lot_id=req.lot_id)))
        except AlarmLotError as exc:
            raise HTTPException(409, str(exc)) from None
        except AlarmError as exc:
            raise HTTPException(404, str(exc)) from None
    return router


def samples_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """The sampler's increments and targeted samples."""
    router, service, Viewer, Operator = APIRouter(), cr.service, guards.viewer, guards.operator  # noqa: N806

    @router.get("/api/samples", response_model=dict[str, Any], responses=_ERRORS, tags=["samples"])
    async def get_samples(_: Viewer, since: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                          limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> dict[str, Any]:
        """Sampler status and the lot's increments (routine and targeted) from index ``since``."""
        status = service.sampler_status() if service.sampler_status else None
        increments = service.monitor.increments[since:since + limit]
        return plain({"status": status, "increments": increments,
                      "total": len(service.monitor.increments)}, max_list=5000)

    @router.post("/api/samples/targeted", response_model=CommandResult,
              responses={409: {"model": ErrorBody}, **_ERRORS}, tags=["samples", "commands"])
    def targeted(body: TargetedSampleRequest, role: Operator) -> CommandResult:
        """Request a targeted sample at a lot-relative mark (operator)."""
        start = service.monitor.start
        if start is None or service.monitor.end is not None:
            raise HTTPException(409, "expected a running lot, got none")
        if body.mark_t > start.lot.declared_mass_t:
            raise HTTPException(422, f"expected a mark within the lot (0..{start.lot.declared_mass_t:g} t), "
                                     f"got {body.mark_t:g} t")
        try:
            result = service.request_targeted(body.mark_t, f"operator: {body.reason}")
        except (RuntimeError, ValueError, LookupError) as exc:  # no sampler, refused by the plan/robot
            raise HTTPException(409, f"targeted sample refused: {exc}") from None
        detail = plain(to_dict(result)) if result is not None else {}
        return CommandResult(ok=True, message=f"targeted sample requested at {body.mark_t:g} t",
                             detail=detail if isinstance(detail, dict) else {"result": detail})
    return router


def lab_queue_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """The lab queue: closed lots of the line's archive folders and the samples awaiting assays."""
    service = cr.service
    return lab_router(LabQueue(lambda: [service.run_dir, *service.lab_folders]), guards.require_viewer, _ERRORS)


def reports_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """Lot reports."""
    router, service, Viewer = APIRouter(), cr.service, guards.viewer  # noqa: N806

    @router.get("/api/reports", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["reports"])
    async def get_reports(_: Viewer) -> list[dict[str, Any]]:
        """Lots with reports and the links to each format."""
        out = []
        for lot_id, files in list(service.reports.items()):
            links = {fmt: f"/api/reports/{lot_id}/{fmt}" for fmt, p in files.items()
                     if fmt in ("html", "pdf") and p and Path(p).is_file()}
            out.append({"lot_id": lot_id, "links": links})
        return out

    @router.get("/api/reports/{lot_id}/{fmt}", response_class=FileResponse,
             responses={200: {"content": {"text/html": {}, "application/pdf": {}}}, 404: {"model": ErrorBody},
                        **_ERRORS}, tags=["reports"])
    def get_report(_: Viewer, lot_id: Annotated[str, PathParam(max_length=200)],
                   fmt: Literal["html", "pdf"]) -> FileResponse:
        """A lot report file (only files the line registered are served)."""
        files = service.reports.get(lot_id)
        path = files.get(fmt) if files else None
        if not path or not Path(path).is_file():
            raise HTTPException(404, f"no {fmt} report for lot {lot_id[:80]!r}")
        media = "text/html" if fmt == "html" else "application/pdf"
        return FileResponse(path, media_type=media, filename=f"{lot_id}.{fmt}")
    return router


def stream_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """The live stream (server-sent events) and the health check."""
    router, Viewer = APIRouter(), guards.viewer  # noqa: N806

    @router.get("/api/stream", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}, 429: {"model": ErrorBody}, **_ERRORS},
             tags=["line"])
    async def stream(_: Viewer) -> StreamingResponse:
        """Server-sent events: ``state`` events carry the shared snapshot after each change (coalesced)."""
        with cr._lock:
            if cr.viewers >= cr.max_viewers:
                raise HTTPException(429, f"expected at most {cr.max_viewers} live viewers, already serving "
                                         f"{cr.viewers}")
            cr.viewers += 1

        async def events() -> AsyncIterator[str]:
            try:
                yield "retry: 2000\n\n"
                version = -1
                while not cr.feed.closed:
                    snap = await cr.feed.next_after(version, HEARTBEAT_S)
                    if snap is None:
                        if cr.feed.closed:
                            break
                        yield ": keep-alive\n\n"
                        continue
                    version, payload = snap
                    yield f"id: {version}\nevent: state\ndata: {payload}\n\n"
            finally:
                with cr._lock:
                    cr.viewers -= 1

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @router.get("/api/health", tags=["line"])
    async def health() -> dict[str, Any]:
        """Liveness (no login needed): server up, live-feed version, viewers."""
        return {"ok": not cr.feed.closed, "version": cr.feed.version, "viewers": cr.viewers}
    return router


def create_app(
    service: Any,
    *,
    operator_token: str | None,
    viewer_token: str | None = None,
    spectra: SpectrumCache | None = None,
    update_interval_s: float = 0.1,
    max_viewers: int = 50,
    history: Any = None,
) -> FastAPI:
    """Build the control-room app for ``service`` (a LineService).

    ``spectra`` is the SpectrumCache attached to the line (None: the spectrum
    endpoint answers 404). The live feed thread starts with the app (lifespan)
    and stops with it.
    """
    auth = Authenticator(operator_token, viewer_token)
    cr = ControlRoomState(service, auth, spectra=spectra, update_interval_s=update_interval_s,
                          max_viewers=max_viewers)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        cr.feed.start(asyncio.get_running_loop())
        try:
            yield
        finally:
            cr.feed.close()

    app = FastAPI(
        title="oreline control room", version=API_VERSION, lifespan=lifespan,
        docs_url=None, redoc_url=None,
        responses={400: {"model": ErrorBody, "description": "Malformed request (bad JSON, bad Content-Length)"},
                   411: {"model": ErrorBody, "description": "Chunked request body"},
                   413: {"model": ErrorBody, "description": f"Body over {MAX_BODY_BYTES} bytes"}},  # the stock doc pages load JS from a CDN; the spec is at /openapi.json
        description="Line state, lots, segments, alarms, samples, reports and a live stream of one oreline line.",
    )
    app.state.controlroom = cr
    app.add_middleware(_BodyLimit)

    guards = role_guards(auth)
    app.include_router(alarm_commands_router(service, guards, _ERRORS))  # before /api/alarms/{id} routes
    for router in (session_router, line_router, segments_router, trends_router, alarms_router, samples_router,
                   lab_queue_router, reports_router, stream_router):
        app.include_router(router(cr, guards))
    app.include_router(history_router(history, guards, _ERRORS))

    # ---- the page ----------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


__all__ = ["create_app", "ControlRoomState", "MAX_BODY_BYTES", "Guards", "role_guards"]
