"""HTTP guards of the control room, as one ASGI middleware: Host allowlist, same-origin writes, security headers.

- **Host allowlist** (DNS rebinding): a request whose ``Host`` is not one of the server's names is answered
  400 before any route runs. The names are the bind address, ``localhost`` and the loopback addresses, the
  machine's names and addresses when bound to a wildcard address, and ``allowed_hosts`` from the config.
- **Same origin for writes**: a POST, PUT, PATCH or DELETE with an ``Origin`` other than
  ``<scheme>://<host>`` of the request itself (scheme included: ``https://`` ≠ ``http://``), or marked
  ``Sec-Fetch-Site: cross-site``, is refused 403.
- **Headers** on every answer: ``Content-Security-Policy: default-src 'self'; frame-ancestors 'none'``,
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``;
  ``Cache-Control: no-store`` on ``/api``; ``Strict-Transport-Security`` over HTTPS.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from typing import Any

import psutil
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; frame-ancestors 'none'"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_BASE_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def host_name(host_header: str) -> str:
    """The name part of a Host header value, lower case, without port or IPv6 brackets."""
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def default_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The host names a server bound to ``bind_host`` answers to (see the module doc)."""
    names = set(_LOOPBACK_NAMES) | {host_name(bind_host) if bind_host.startswith("[") else bind_host.lower()}
    if bind_host in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        for addrs in psutil.net_if_addrs().values():
            names |= {a.address.split("%", 1)[0].lower() for a in addrs
                      if a.family in (socket.AF_INET, socket.AF_INET6)}
    names |= {host_name(h) for h in extra}
    return frozenset(n for n in names if n)


def _reject(status: int, detail: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"detail": detail}).encode()
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body})


class HttpGuard:
    """ASGI middleware: allowlisted Host, same-origin writes, security headers (see the module doc)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: frozenset[str], hsts_max_age_s: int = 31_536_000) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.hsts = f"max-age={int(hsts_max_age_s)}; includeSubDomains".encode()

    def refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        """(status, why) when the request must not reach the app."""
        host = headers.get(b"host", b"").decode("latin-1")
        if host_name(host) not in self.allowed_hosts:
            return 400, f"expected a Host this server answers to, got {host[:100]!r}"
        if scope["method"] in _UNSAFE:
            origin = headers.get(b"origin")
            if origin is not None:
                expected = f"{scope.get('scheme', 'http')}://{host}"
                got = origin.decode("latin-1")
                if got.lower() != expected.lower():
                    return 403, f"expected a same-origin request from {expected}, got Origin {got[:100]!r}"
            if headers.get(b"sec-fetch-site", b"").lower() == b"cross-site":
                return 403, "expected a same-origin request, got Sec-Fetch-Site: cross-site"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_BASE_HEADERS)
        if scope.get("path", "").startswith("/api"):
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", self.hsts))

        names = {k for k, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [h for h in message.get("headers", []) if h[0].lower() not in names] + extra
            await send(message)

        refused = self.refusal(scope, dict(scope.get("headers") or []))
        if refused is not None:
            for message in _reject(*refused):
                await send_with_headers(message)
            return
        await self.app(scope, receive, send_with_headers)


__all__ = ["CSP", "HttpGuard", "default_hosts", "host_name"]
