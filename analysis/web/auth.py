"""Roles, people and logins of the control room: viewer and operator.

Credentials are, for people, a name and password from the accounts file (argon2, :mod:`analysis.web.accounts`)
posted to ``/api/session``, which opens a session (cookie; :mod:`analysis.web.sessions`); for machine
clients, a bearer token (``Authorization: Bearer <token>``), which may also open a session. Every credential
check goes through the login throttle (:mod:`analysis.web.throttle`): a client that sent too many wrong
credentials is refused (:class:`Throttled`, HTTP 429) before anything is checked.

- no operator token and no operator account: nobody is operator, commands are refused (403);
- ``open_viewing``: viewing needs no credentials (the server decides it: loopback binds only, by default).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from analysis.web.accounts import AccountBook
from analysis.web.errors import WebError
from analysis.web.sessions import Session, SessionTable
from analysis.web.throttle import LoginThrottle

Role = Literal["none", "viewer", "operator"]


def as_role(text: str) -> Role:
    """An account's or session's role as a :data:`Role` (account files are checked on reading: anything else is
    no role)."""
    if text == "operator":
        return "operator"
    if text == "viewer":
        return "viewer"
    return "none"
ROLE_RANK = {"none": 0, "viewer": 1, "operator": 2}
SESSION_COOKIE = "oreline_session"
#: Per-role session pools: a viewer login never pushes out an operator's session.
MAX_SESSIONS = {"viewer": 256, "operator": 32}


class Throttled(WebError, PermissionError):
    """A credential check refused by the login throttle; ``retry_after_s`` says when to try again."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        self.reason = reason
        self.retry_after_s = retry_after_s
        what = ("too many wrong credentials from this address" if reason == "client"
                else "too many logins on this server this second")
        super().__init__(f"{what}; retry in {retry_after_s} s")


@dataclass(frozen=True)
class Identity:
    """Who a request comes from: person (account name, ``token:<role>``, ``anonymous``), role, session tag,
    client address and how it was identified (``password``, ``token``, ``session``, ``open``, ``none``)."""

    person: str
    role: Role
    session: str
    source: str
    via: str


class Authenticator:
    """Maps credentials to identities, opens and ends sessions. Thread-safe."""

    def __init__(self, operator_token: str | None, viewer_token: str | None = None, *,
                 accounts: AccountBook | None = None, sessions: SessionTable | None = None,
                 throttle: LoginThrottle | None = None, open_viewing: bool | None = None) -> None:
        self.operator_token = operator_token or None
        self.viewer_token = viewer_token or None
        self.accounts = accounts or AccountBook()
        self.sessions = sessions or SessionTable(max_sessions=MAX_SESSIONS, idle_s=1800, absolute_s=12 * 3600)
        self.throttle = throttle or LoginThrottle()
        self._open_viewing = (self.viewer_token is None and not len(self.accounts)) if open_viewing is None \
            else bool(open_viewing)

    @property
    def open_viewing(self) -> bool:
        """True when viewing needs no credentials."""
        return self._open_viewing

    @property
    def commands_enabled(self) -> bool:
        return self.operator_token is not None or self.accounts.has_role("operator")

    def _token_role(self, token: str) -> Role:
        tok = token.encode("utf-8", "replace")
        if self.operator_token and hmac.compare_digest(tok, self.operator_token.encode()):
            return "operator"
        if self.viewer_token and hmac.compare_digest(tok, self.viewer_token.encode()):
            return "viewer"
        return "none"

    def _check(self, source: str) -> None:
        """Raise Throttled when ``source`` may not have a credential checked now."""
        reason = self.throttle.admit(source)
        if reason:
            raise Throttled(reason, self.throttle.retry_after_s(reason, source))

    def check_token(self, token: str, source: str) -> Role:
        """The role of a bearer token ('none' when wrong: counted against ``source``); raises Throttled."""
        if self.throttle.client_blocked(source):
            raise Throttled("client", self.throttle.retry_after_s("client", source))
        role = self._token_role(token)
        if role == "none":
            self.throttle.failed(source)
        return role

    def identify(self, authorization: str | None, session_id: str | None, source: str, *,
                 open_lift: bool = True) -> Identity:
        """Who sends a request with this Authorization header and session cookie; raises Throttled.

        A bearer token, when given, decides (a wrong one is 'none', never the session's role). With
        ``open_lift`` (default), open viewing lifts 'none' to 'viewer'.
        """
        if authorization:
            scheme, _, value = authorization.partition(" ")
            role = self.check_token(value.strip(), source) if scheme.lower() == "bearer" else "none"
            if role != "none":
                return Identity(f"token:{role}", role, "", source, "token")
        elif session_id:
            s = self.sessions.get(session_id)
            if s is not None:
                return Identity(s.person, as_role(s.role), s.tag, source, "session")
        if open_lift and self.open_viewing:
            return Identity("anonymous", "viewer", "", source, "open")
        return Identity("anonymous", "none", "", source, "none")

    def login(self, source: str, *, token: str | None = None, name: str | None = None,
              password: str | None = None) -> tuple[Session, list[Session]] | None:
        """Open a session for a right token or name and password; None when wrong. Raises Throttled.

        Returns the session and the sessions of its role it pushed out of the pool.
        """
        if token is not None:  # cheap to check: only the per-client lockout applies
            if self.throttle.client_blocked(source):
                raise Throttled("client", self.throttle.retry_after_s("client", source))
            role = self._token_role(token)
            person = f"token:{role}"
        else:
            self._check(source)  # an argon2 check: the overall limit too
            account = self.accounts.verify(name or "", password or "")
            role, person = (as_role(account.role), account.name) if account else ("none", name or "")
        if role == "none":
            self.throttle.failed(source)
            return None
        return self.sessions.open(person, role, source)

    def logout(self, session_id: str | None) -> Session | None:
        """End the caller's own session; returns it (None when there was none)."""
        return self.sessions.end(session_id)


__all__ = ["MAX_SESSIONS", "ROLE_RANK", "SESSION_COOKIE", "Authenticator", "Identity", "Role", "Throttled"]
