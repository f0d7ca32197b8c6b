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
import math
import threading
from pathlib import Path
from typing import Annotated, Any, AsyncIterator, Literal, Mapping

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Path as PathParam, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from analysis.decide import AlarmLotError
from analysis.errors import AlarmError
from analysis.model import ControlRoomLine, to_dict
from analysis.web.audit import AuditTrail
from analysis.web.auth import ROLE_RANK, SESSION_COOKIE, Authenticator, Identity, Throttled
from analysis.web.errors import EvidenceError
from analysis.web.evidence import SpectrumCache, plain, thumbnail_array, thumbnail_png
from analysis.web.guard import HttpGuard
from analysis.web.lab import LabQueue, lab_router
from analysis.web.live import LiveFeed, dumps
from analysis.web.roles import Guards, Responses
from analysis.web.pastlots import past_lots_router
from analysis.web.lots import LotHistory, alarm_commands_router, history_router
from analysis.web.schemas import (
    AcknowledgeRequest, CommandResult, ErrorBody, SpectrumOut, StopLotRequest, TargetedSampleRequest,
)
from analysis.web.security import SecurityOptions
from analysis.web.session_api import session_router
from analysis.web.stream import StreamSlots, stream_router as live_stream_router

STATIC_DIR = Path(__file__).with_name("static")
#: Largest request body accepted, bytes.
MAX_BODY_BYTES = 16 * 1024
#: PNG thumbnails kept encoded.
THUMBNAIL_CACHE = 128
API_VERSION = "1"

_bearer = HTTPBearer(auto_error=False, description="Operator or viewer token.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Session from POST /api/session.")
_ERRORS: Responses = {401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody},
                      429: {"model": ErrorBody}}
_JSON_OBJ: dict[str, Any] = {"content": {"application/json": {"schema": {"type": "object"}}}}


class _BodyLimit:
    """ASGI middleware: 413 for a declared body over ``MAX_BODY_BYTES``, 411 for chunked request bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
    """What the app's endpoints share: the line, auth, audit trail, live feed and its slots, evidence caches."""

    def __init__(self, service: ControlRoomLine, auth: Authenticator, *, spectra: SpectrumCache | None,
                 update_interval_s: float, max_viewers: int, security: SecurityOptions | None = None) -> None:
        self.service = service
        self.auth = auth
        self.security = security or SecurityOptions()
        self.spectra = spectra
        self.audit = AuditTrail(lambda: service.monitor.snapshot().lot_id)
        self.feed = LiveFeed(service, min_interval_s=update_interval_s, on_refresh=self.audit.flush)
        self.slots = StreamSlots(viewer=max_viewers, operator=self.security.max_operator_streams)
        self.max_viewers = max_viewers
        self._state_cache: dict[bool, tuple[int, bytes]] = {}
        self._thumbs: collections.OrderedDict[tuple[str, int], bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def viewers(self) -> int:
        """Live streams open now (all roles)."""
        return self.slots.total

    def state_bytes(self, operator: bool = False) -> bytes:
        """``line_state()`` as JSON, re-serialised only when the service version moved.

        Viewers do not get the server's file paths (``run_dir``)."""
        version = self.service.version
        cached_version, body = self._state_cache.get(operator, (-1, b""))
        if version != cached_version or not body:
            state = self.service.line_state()
            if not operator:
                state.pop("run_dir", None)
            body = dumps(plain(state, max_list=1000)).encode()
            self._state_cache[operator] = (version, body)
        return body

    def thumbnail(self, index: int) -> bytes:
        snap = self.service.monitor.snapshot()
        key = (snap.lot_id, index)
        with self._lock:
            if key in self._thumbs:
                self._thumbs.move_to_end(key)
                return self._thumbs[key]
        detections = snap.detections
        if index >= len(detections):
            raise EvidenceError(f"no detection {index} in lot {snap.lot_id!r} ({len(detections)} detections)")
        image = thumbnail_array(detections[index])
        if image is None:
            raise EvidenceError(f"detection {index} carries no thumbnail image")
        png = thumbnail_png(image)
        with self._lock:
            self._thumbs[key] = png
            while len(self._thumbs) > THUMBNAIL_CACHE:
                self._thumbs.popitem(last=False)
        return png

    def command(self, who: Identity, action: str, outcome: str = "ok", detail: str = "") -> None:
        """Audit an operator command (or its refusal)."""
        self.audit.record(action, outcome, person=who.person, role=who.role, session=who.session,
                          source=who.source, detail=detail)


def _detection_view(index: int, det: Mapping[str, Any]) -> dict[str, Any]:
    image = thumbnail_array(det)
    out = {k: v for k, v in det.items() if not (hasattr(v, "ndim") and getattr(v, "ndim", 0) >= 1)}
    out = plain(out)
    out["index"] = index
    out["thumbnail_url"] = f"/api/detections/{index}/thumbnail.png" if image is not None else None
    return out


def client_address(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For only when the proxy is trusted: uvicorn decides)."""
    return request.client.host if request.client else "unknown"


def role_guards(auth: Authenticator, audit: AuditTrail | None = None) -> Guards:
    """Dependencies that resolve the caller from a bearer token or the session cookie.

    A throttled client gets 429 with ``Retry-After``; refused commands and wrong credentials are audited."""
    def refuse(who: Identity, status: int, detail: str, action: str = "command") -> HTTPException:
        if audit is not None:
            audit.record(action, f"refused {status}: {detail}", person=who.person, role=who.role,
                         session=who.session, source=who.source)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return HTTPException(status, detail, headers=headers)

    def identify(request: Request, bearer: HTTPAuthorizationCredentials | None, cookie: str | None,
                 open_lift: bool) -> Identity:
        source = client_address(request)
        authorization = f"Bearer {bearer.credentials}" if bearer is not None else None
        try:
            who = auth.identify(authorization, cookie, source, open_lift=open_lift)
        except Throttled as exc:
            raise refuse(Identity("anonymous", "none", "", source, "token"), 429, str(exc), "credentials") from None
        if authorization and who.via != "token" and audit is not None:
            audit.record("credentials", "refused: wrong bearer token", person="anonymous", role="none",
                         session="", source=source)
        return who

    def identity(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                 cookie: str | None = Depends(_cookie)) -> Identity:
        return identify(request, bearer, cookie, True)

    def viewer(who: Identity = Depends(identity)) -> Identity:
        if ROLE_RANK[who.role] < ROLE_RANK["viewer"]:
            raise HTTPException(401, "expected a viewer or operator login (Authorization: Bearer or session)",
                                headers={"WWW-Authenticate": "Bearer"})
        return who

    def operator(request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
                 cookie: str | None = Depends(_cookie)) -> Identity:
        who = identify(request, bearer, cookie, False)
        action = f"{request.method} {request.url.path}"[:120]
        if not auth.commands_enabled:
            raise refuse(who, 403, "commands are disabled: no operator account or token is configured", action)
        if who.role == "none":
            raise refuse(who, 401, "expected an operator login or token (Authorization: Bearer or session)", action)
        if who.role != "operator":
            raise refuse(who, 403, f"expected the operator role, got {who.role}", action)
        return who

    return Guards(identity, Annotated[Identity, Depends(viewer)], Annotated[Identity, Depends(operator)], viewer,
                  operator)


def line_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """The line state, the lot and its stop command."""
    router, service = APIRouter(), cr.service
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]
    Operator = Annotated[Identity, Depends(guards.require_operator)]

    @router.get("/api/state", responses={200: _JSON_OBJ, **_ERRORS}, tags=["line"])
    async def get_state(who: Viewer) -> Response:
        """Line state (belt, tonnage, phase), lot identity, forming verdict, counts, stations, sampler.

        The server's run folder (``run_dir``) only for operators."""
        return Response(cr.state_bytes(who.role == "operator"), media_type="application/json")

    @router.get("/api/lot", response_model=dict[str, Any], responses=_ERRORS, tags=["line"])
    async def get_lot(_: Viewer) -> dict[str, Any]:
        """The current lot: identity, tonnage so far, declared mass, verdict and segment counts."""
        monitor = service.monitor.snapshot()
        state = service.line_state().get("state") or {}
        start = monitor.start
        return plain({
            "lot": to_dict(start.lot) if start else None,
            "tonnage_t": state.get("lot_tonnage_t", 0.0),
            "declared_mass_t": start.lot.declared_mass_t if start else None,
            "segment_mass_t": start.segment_mass_t if start else None,
            "phase": state.get("phase", "idle"),
            "verdict": to_dict(monitor.verdict) if monitor.verdict else None,
            "ended": to_dict(monitor.end) if monitor.end else None,
        })

    @router.post("/api/lot/stop", response_model=CommandResult, responses={409: {"model": ErrorBody}, **_ERRORS},
              tags=["commands"])
    def stop_lot(body: StopLotRequest, who: Operator) -> CommandResult:
        """End the running lot as aborted after the current tick (operator)."""
        state = service.line_state().get("state") or {}
        snap = service.monitor.snapshot()
        if not state or state.get("phase") == "ended" or snap.end is not None:
            cr.command(who, "stop", "refused 409: no running lot", body.reason)
            raise HTTPException(409, "expected a running lot, got none")
        service.stop_lot(f"operator {who.person}: {body.reason}")
        cr.command(who, "stop", "ok", body.reason)
        return CommandResult(ok=True, message=f"stop requested: {body.reason}", detail={"lot_id": snap.lot_id})
    return router


def segments_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """Decided segments and their evidence: spectra, detections, thumbnails."""
    router, service = APIRouter(), cr.service
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]

    @router.get("/api/segments", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["segments"])
    async def get_segments(_: Viewer, since: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                           limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> list[dict[str, Any]]:
        """Decided segments from index ``since`` on (at most ``limit``), oldest first."""
        segments = service.monitor.snapshot().segments[since:since + limit]
        return plain([to_dict(d) for d in segments], max_list=1000)

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
        dets = service.monitor.snapshot().detections[since:since + limit]
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
    router, service = APIRouter(), cr.service
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]

    @router.get("/api/trend", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["line"])
    async def get_trend(_: Viewer, last_n: Annotated[int, Query(ge=1, le=3600)] = 600) -> list[dict[str, Any]]:
        """Last ``last_n`` ticks: time, lot tonnes, belt rate t/h, belt speed m/s, NIR p(waste)."""
        return plain(service.trend_points(last_n))

    @router.get("/api/nir-trend", response_model=list[dict[str, Any]], responses=_ERRORS, tags=["line"])
    async def get_nir_trend(_: Viewer, last_n: Annotated[int, Query(ge=1, le=20000)] = 2000) -> list[dict[str, Any]]:
        """Last ``last_n`` valid NIR measurements: lot tonnes, p(waste), Hotelling T²."""
        points = service.monitor.snapshot().nir_trend[-last_n:]
        return plain([{"lot_t": p[0], "p_waste": p[1], "t2": p[2]} for p in points])
    return router


def alarms_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """Alarms and their acknowledgement."""
    router, service = APIRouter(), cr.service
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]
    Operator = Annotated[Identity, Depends(guards.require_operator)]

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
    def acknowledge(who: Operator, alarm_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
                    body: Annotated[AcknowledgeRequest | None, Body()] = None) -> dict[str, Any]:
        """Acknowledge an alarm (operator). Acknowledging twice is harmless.

        A logged-in operator is recorded by account name (``by`` is ignored); a token client by its ``by``
        text (the audit trail records the token)."""
        req = body or AcknowledgeRequest()
        by = who.person if who.via == "session" else req.by
        try:
            alarm = service.acknowledge(alarm_id, by, comment=req.comment, lot_id=req.lot_id)
        except AlarmLotError as exc:
            cr.command(who, "acknowledge", f"refused 409: {exc}", f"alarm {alarm_id}")
            raise HTTPException(409, str(exc)) from None
        except AlarmError as exc:
            cr.command(who, "acknowledge", "refused 404: no such alarm", f"alarm {alarm_id}")
            raise HTTPException(404, str(exc)) from None
        cr.command(who, "acknowledge", "ok", f"alarm {alarm_id}: {alarm.message}")
        return plain(to_dict(alarm))
    return router


def samples_router(cr: ControlRoomState, guards: Guards) -> APIRouter:
    """The sampler's increments and targeted samples."""
    router, service = APIRouter(), cr.service
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]
    Operator = Annotated[Identity, Depends(guards.require_operator)]

    @router.get("/api/samples", response_model=dict[str, Any], responses=_ERRORS, tags=["samples"])
    async def get_samples(_: Viewer, since: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                          limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> dict[str, Any]:
        """Sampler status and the lot's increments (routine and targeted) from index ``since``."""
        status = service.sampler_status() if service.sampler_status else None
        all_increments = service.monitor.snapshot().increments
        return plain({"status": status, "increments": list(all_increments[since:since + limit]),
                      "total": len(all_increments)}, max_list=5000)

    @router.post("/api/samples/targeted", response_model=CommandResult,
              responses={409: {"model": ErrorBody}, **_ERRORS}, tags=["samples", "commands"])
    def targeted(body: TargetedSampleRequest, who: Operator) -> CommandResult:
        """Request a targeted sample at a lot-relative mark (operator)."""
        snap = service.monitor.snapshot()
        start, what = snap.start, f"{body.mark_t:g} t: {body.reason}"
        if start is None or snap.end is not None:
            cr.command(who, "targeted_sample", "refused 409: no running lot", what)
            raise HTTPException(409, "expected a running lot, got none")
        if body.mark_t > start.lot.declared_mass_t:
            cr.command(who, "targeted_sample", "refused 422: mark beyond the lot", what)
            raise HTTPException(422, f"expected a mark within the lot (0..{start.lot.declared_mass_t:g} t), "
                                     f"got {body.mark_t:g} t")
        try:
            result = service.request_targeted(body.mark_t, f"operator {who.person}: {body.reason}", refuse=True)
        except (RuntimeError, ValueError, LookupError) as exc:  # no sampler, refused by the plan/robot
            cr.command(who, "targeted_sample", f"refused 409: {exc}", what)
            raise HTTPException(409, f"targeted sample refused: {exc}") from None
        cr.command(who, "targeted_sample", "ok", what)
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
    router, service = APIRouter(), cr.service
    Viewer = Annotated[Identity, Depends(guards.require_viewer)]

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
    """The live stream (server-sent events, slots per role) and the health check."""
    router = live_stream_router(cr.feed, cr.slots, guards.require_viewer, cr.security.stream_write_timeout_s,
                                _ERRORS)

    @router.get("/api/health", tags=["line"])
    async def health() -> dict[str, Any]:
        """Liveness (no login needed): server up, live-feed version, viewers."""
        return {"ok": not cr.feed.closed, "version": cr.feed.version, "viewers": cr.viewers}
    return router


def _json_safe(obj: Any) -> Any:
    """``obj`` with NaN and infinities as strings (a 422 must be able to echo ``{"mark_t": NaN}``)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with pydantic's error list, JSON-safe (NaN, Infinity and bytes in the input are echoed as text)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else [{"msg": str(exc)}]
    return JSONResponse({"detail": _json_safe(jsonable_encoder(errors))}, status_code=422)


def create_app(
    service: ControlRoomLine,
    *,
    operator_token: str | None,
    viewer_token: str | None = None,
    spectra: SpectrumCache | None = None,
    update_interval_s: float = 0.1,
    max_viewers: int = 50,
    history: LotHistory | None = None,
    security: SecurityOptions | None = None,
) -> FastAPI:
    """Build the control-room app for ``service`` (a LineService).

    ``spectra`` is the SpectrumCache attached to the line (None: the spectrum
    endpoint answers 404). ``security``: accounts, open viewing, hosts, sessions,
    throttling and stream limits (default: ``SecurityOptions()``, a loopback bind).
    The live feed thread starts with the app (lifespan) and stops with it.
    """
    security = security or SecurityOptions()
    auth = security.authenticator(operator_token, viewer_token)
    cr = ControlRoomState(service, auth, spectra=spectra, update_interval_s=update_interval_s,
                          max_viewers=max_viewers, security=security)

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
                   413: {"model": ErrorBody, "description": f"Body over {MAX_BODY_BYTES} bytes"},
                   429: {"model": ErrorBody, "description": "Too many wrong credentials from this address, or "
                                                            "too many logins this second (Retry-After)"}},
        # no docs_url/redoc_url: the stock doc pages load JS from a CDN; the spec is at /openapi.json
        description="Line state, lots, segments, alarms, samples, reports and a live stream of one oreline line.",
    )
    app.state.controlroom = cr
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(_BodyLimit)
    app.add_middleware(HttpGuard, allowed_hosts=security.hosts(), hsts_max_age_s=security.hsts_max_age_s)

    guards = role_guards(auth, cr.audit)
    app.include_router(session_router(auth, cr.audit, guards, secure_cookies=security.tls))
    app.include_router(alarm_commands_router(service, guards, _ERRORS, audit=cr.command))  # before /api/alarms/{id}
    for router in (line_router, segments_router, trends_router, alarms_router, samples_router,
                   lab_queue_router, reports_router, stream_router):
        app.include_router(router(cr, guards))
    app.include_router(history_router(history, guards, _ERRORS))
    app.include_router(past_lots_router(history, service, guards, _ERRORS))

    # ---- the page ----------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon (a data: icon would break the CSP)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


__all__ = ["create_app", "ControlRoomState", "MAX_BODY_BYTES", "Guards", "role_guards", "client_address"]
