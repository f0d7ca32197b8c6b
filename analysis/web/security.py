"""The control room's security settings as one object, and the authenticator they build.

:class:`SecurityOptions` holds every ``[control_room]`` key that is about who may do what and how the server
defends itself (defaults: the table in :mod:`analysis.web.settings`). ``SecurityOptions.from_config(cfg)``
takes a validated section; tests build one with keyword arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.web.accounts import AccountBook
from analysis.web.auth import Authenticator
from analysis.web.guard import default_hosts
from analysis.web.sessions import SessionTable
from analysis.web.settings import CONTROL_ROOM_FIELDS, is_loopback
from analysis.web.throttle import LoginThrottle


def _default(key: str) -> Any:
    return CONTROL_ROOM_FIELDS[key].default


@dataclass(frozen=True)
class SecurityOptions:
    """Who may do what, and the server's own limits (see docs/control-room.md, "Security")."""

    bind_host: str = "127.0.0.1"
    accounts_file: str = ""
    open_viewing: str = _default("open_viewing")
    allowed_hosts: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    tls: bool = False
    hsts_max_age_s: int = _default("hsts_max_age_s")
    session_idle_s: float = _default("session_idle_s")
    session_max_s: float = _default("session_max_s")
    max_operator_sessions: int = _default("max_operator_sessions")
    max_viewer_sessions: int = _default("max_viewer_sessions")
    max_operator_streams: int = _default("max_operator_streams")
    stream_write_timeout_s: float = _default("stream_write_timeout_s")
    login_failures_per_client: int = _default("login_failures_per_client")
    login_window_s: int = _default("login_window_s")
    logins_per_s: int = _default("logins_per_s")
    header_timeout_s: float = _default("header_timeout_s")
    keep_alive_s: float = _default("keep_alive_s")
    max_connections: int = _default("max_connections")
    max_connections_per_client: int = _default("max_connections_per_client")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> SecurityOptions:
        """From a validated ``[control_room]`` table."""
        names = {f.name for f in dataclasses.fields(cls)} - {"bind_host", "tls"}
        kw: dict[str, Any] = {k: (tuple(cfg[k]) if isinstance(cfg[k], list) else cfg[k]) for k in names if k in cfg}
        return cls(bind_host=cfg.get("host", "127.0.0.1"), tls=bool(cfg.get("tls_cert")), **kw)

    def hosts(self) -> frozenset[str]:
        """Host names the server answers to."""
        return default_hosts(self.bind_host, self.allowed_hosts)

    def viewing_is_open(self, has_viewer_credentials: bool) -> bool:
        """Whether viewing needs no login: 'always', or 'loopback' on a loopback bind without viewer credentials."""
        if self.open_viewing == "always":
            return True
        return self.open_viewing == "loopback" and is_loopback(self.bind_host) and not has_viewer_credentials

    def authenticator(self, operator_token: str | None, viewer_token: str | None) -> Authenticator:
        """The authenticator these options describe (accounts read now; AccountsError for a bad file)."""
        accounts = AccountBook.from_file(self.accounts_file or None)
        sessions = SessionTable(max_sessions={"viewer": self.max_viewer_sessions,
                                              "operator": self.max_operator_sessions},
                                idle_s=self.session_idle_s, absolute_s=self.session_max_s)
        throttle = LoginThrottle(client_failures=self.login_failures_per_client,
                                 client_window_s=self.login_window_s, overall_per_s=self.logins_per_s)
        open_viewing = self.viewing_is_open(bool(viewer_token) or accounts.has_role("viewer"))
        return Authenticator(operator_token, viewer_token, accounts=accounts, sessions=sessions, throttle=throttle,
                             open_viewing=open_viewing)


__all__ = ["SecurityOptions"]
