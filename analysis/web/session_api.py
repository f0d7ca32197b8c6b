"""Logins, sessions and the audit trail over HTTP: ``/api/session``, ``/api/sessions``, ``/api/audit``.

- ``POST /api/session`` ``{"name", "password"}`` (people) or ``{"token"}`` (machine clients): opens a session
  (``oreline_session`` cookie: HttpOnly, SameSite=Strict, ``Secure`` over HTTPS). Wrong credentials: 401;
  a throttled client: 429 with ``Retry-After``. Every attempt is audited.
- ``DELETE /api/session``: ends the caller's own session.
- ``GET /api/sessions``, ``DELETE /api/sessions/{tag}`` (operator): the live sessions; end one (only an
  operator can end another's session, an operator's included).
- ``GET /api/audit`` (operator): the newest audit events.
"""

# No ``from __future__ import annotations``: FastAPI resolves the local alias ``Operator`` at definition time.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.security import APIKeyCookie

from analysis.model import to_dict
from analysis.web.audit import AuditTrail
from analysis.web.auth import SESSION_COOKIE, Authenticator, Identity, Throttled
from analysis.web.roles import Guards
from analysis.web.schemas import ErrorBody, LoginRequest, SessionInfo

_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Session from POST /api/session.")


def session_router(auth: Authenticator, audit: AuditTrail, guards: Guards, *, secure_cookies: bool) -> APIRouter:
    """The session and audit endpoints (``guards``: :class:`analysis.web.app.Guards`)."""
    router, identity = APIRouter(tags=["session"]), guards.role_of
    Operator = Annotated[Identity, Depends(guards.require_operator)]

    def info(role: str, person: str | None = None, session: str | None = None) -> SessionInfo:
        return SessionInfo(role=role, person=person or None, session=session or None,
                           commands_enabled=auth.commands_enabled,
                           open_viewing=auth.open_viewing)

    @router.get("/api/session", response_model=SessionInfo, response_model_exclude_none=True)
    def get_session(who: Annotated[Identity, Depends(identity)]) -> SessionInfo:
        """The caller's role and name, and whether commands and open viewing are configured."""
        return info(who.role, "" if who.via == "open" else who.person, who.session)

    @router.post("/api/session", response_model=SessionInfo, response_model_exclude_none=True,
                 responses={401: {"model": ErrorBody}, 429: {"model": ErrorBody}})
    def login(body: LoginRequest, request: Request, response: Response) -> SessionInfo:
        """Log in with a name and password (or a token): sets an HttpOnly, SameSite=Strict session cookie."""
        source = request.client.host if request.client else "unknown"
        person = body.name or "token"
        try:
            opened = auth.login(source, token=body.token, name=body.name, password=body.password)
        except Throttled as exc:
            audit.record("login", f"refused 429: {exc.reason} throttle", person=person, role="none", session="",
                         source=source)
            raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from None
        if opened is None:
            audit.record("login", "refused 401: wrong credentials", person=person, role="none", session="",
                         source=source)
            raise HTTPException(401, "expected a valid name and password (or token), got wrong ones")
        session, evicted = opened
        for old in evicted:
            audit.record("session_end", "ok", person=old.person, role=old.role, session=old.tag, source=old.source,
                         detail=f"oldest {old.role} session pushed out by a new login")
        audit.record("login", "ok", person=session.person, role=session.role, session=session.tag, source=source)
        response.set_cookie(SESSION_COOKIE, session.session_id, httponly=True, samesite="strict", path="/",
                            secure=secure_cookies)
        return info(session.role, session.person, session.tag)

    @router.delete("/api/session", response_model=SessionInfo)
    def logout(request: Request, response: Response, cookie: Annotated[str | None, Depends(_cookie)]) -> SessionInfo:
        """Log out: ends the caller's own session."""
        ended = auth.logout(cookie)
        if ended is not None:
            audit.record("logout", "ok", person=ended.person, role=ended.role, session=ended.tag,
                         source=request.client.host if request.client else "unknown")
        response.delete_cookie(SESSION_COOKIE, path="/", secure=secure_cookies, httponly=True, samesite="strict")
        return info("viewer" if auth.open_viewing else "none")

    @router.get("/api/sessions", response_model=list[dict[str, Any]], responses={401: {"model": ErrorBody},
                                                                                403: {"model": ErrorBody}})
    def list_sessions(_: Operator) -> list[dict[str, Any]]:
        """The live sessions: tag, person, role, source address, age and idle time, s (operator)."""
        return auth.sessions.listing()

    @router.delete("/api/sessions/{tag}", response_model=dict[str, Any],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})
    def end_session(who: Operator, tag: Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$")]) -> dict[str, Any]:
        """End someone's session by its tag (operator)."""
        ended = auth.sessions.end_by_tag(tag)
        if ended is None:
            raise HTTPException(404, f"no live session {tag}")
        audit.record("session_end", "ok", person=who.person, role=who.role, session=who.session, source=who.source,
                     detail=f"ended {ended.role} session {ended.tag} of {ended.person}")
        return {"ended": ended.tag, "person": ended.person, "role": ended.role}

    @router.get("/api/audit", response_model=list[dict[str, Any]], tags=["audit"],
                responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
    def get_audit(_: Operator, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        """The newest audit events (logins, refusals, commands), newest first (operator)."""
        return [to_dict(e) for e in audit.recent(limit)]

    return router


__all__ = ["session_router"]
