"""Roles and logins of the control room: viewer and operator.

Credentials are a bearer token (``Authorization: Bearer <token>``, for API
clients) or a session cookie the page gets by posting the token to
``/api/session`` (browsers cannot put headers on ``EventSource`` or ``<img>``).
Sessions are random 128-bit ids held in a bounded table (oldest dropped first),
so a browser left open or a client logging in in a loop cannot grow memory.

- ``operator_token`` None: nobody is operator, commands are refused (403).
- ``viewer_token`` None: viewing needs no credentials.
"""

from __future__ import annotations

import collections
import hmac
import secrets
import threading
from typing import Literal

Role = Literal["none", "viewer", "operator"]
ROLE_RANK = {"none": 0, "viewer": 1, "operator": 2}
SESSION_COOKIE = "oreline_session"
MAX_SESSIONS = 256


class Authenticator:
    """Maps credentials to roles. Thread-safe."""

    def __init__(self, operator_token: str | None, viewer_token: str | None = None, *,
                 max_sessions: int = MAX_SESSIONS) -> None:
        self.operator_token = operator_token or None
        self.viewer_token = viewer_token or None
        self.max_sessions = max_sessions
        self._sessions: collections.OrderedDict[str, Role] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def open_viewing(self) -> bool:
        """True when viewing needs no credentials."""
        return self.viewer_token is None

    @property
    def commands_enabled(self) -> bool:
        return self.operator_token is not None

    def role_of_token(self, token: str | None) -> Role:
        """Role granted by a token (constant-time comparison); 'none' for a wrong or missing one."""
        if not token:
            return "none"
        tok = token.encode("utf-8", "replace")
        if self.operator_token and hmac.compare_digest(tok, self.operator_token.encode()):
            return "operator"
        if self.viewer_token and hmac.compare_digest(tok, self.viewer_token.encode()):
            return "viewer"
        return "none"

    def role_of(self, authorization: str | None, session_id: str | None, *, open_lift: bool = True) -> Role:
        """Role from an Authorization header and/or a session cookie.

        With ``open_lift`` (default), open viewing lifts 'none' to 'viewer'.
        """
        role: Role = "none"
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer":
                role = self.role_of_token(value.strip())
        if role == "none" and session_id:
            with self._lock:
                role = self._sessions.get(session_id, "none")
                if role != "none":
                    self._sessions.move_to_end(session_id)
        if role == "none" and open_lift and self.open_viewing:
            role = "viewer"
        return role

    def login(self, token: str) -> tuple[str, Role] | None:
        """Open a session for a valid token; returns (session id, role) or None for a wrong token."""
        role = self.role_of_token(token)
        if role == "none":
            return None
        session_id = secrets.token_urlsafe(16)
        with self._lock:
            self._sessions[session_id] = role
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session_id, role

    def logout(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)
