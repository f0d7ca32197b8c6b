"""Connection limits of the control-room server: a cap on open connections and a header-read timeout.

uvicorn's h11 protocol times out idle keep-alive connections only after a first response, and takes any number
of connections. :func:`guarded_protocol` subclasses it so that

- a connection beyond ``max_connections`` (or beyond ``max_per_client`` from one address; trusted proxies
  excepted) is answered 503 and closed at once;
- a connection that has not sent a complete request head within ``header_timeout_s`` of its first byte (or of
  connecting) is answered 408 and closed: idle and header-trickling (slowloris) clients cannot hold slots;
- the app can abort its own connection (a live stream whose client stopped reading): the protocol is in the
  request scope's state under :data:`CONNECTION_KEY`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from collections.abc import Iterable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

#: Key of the connection's protocol in ``scope["state"]``.
CONNECTION_KEY = "oreline.connection"
_REFUSED = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class ConnectionLimits:
    """Counts open connections overall and per address; thread-safe (the counters are read by tests)."""

    def __init__(self, *, max_connections: int, max_per_client: int, header_timeout_s: float,
                 trusted_proxies: Iterable[str] = ()) -> None:
        self.max_connections = int(max_connections)
        self.max_per_client = int(max_per_client)
        self.header_timeout_s = float(header_timeout_s)
        self._trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()
        self.refused = 0
        self.timed_out = 0

    def _exempt(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._trusted)

    def admit(self, address: str) -> bool:
        """Count a new connection from ``address``; False (not counted) when over a cap."""
        with self._lock:
            total = sum(self._open.values())
            mine = self._open.get(address, 0)
            if total >= self.max_connections or (mine >= self.max_per_client and not self._exempt(address)):
                self.refused += 1
                return False
            self._open[address] = mine + 1
            return True

    def release(self, address: str) -> None:
        with self._lock:
            n = self._open.get(address, 0) - 1
            if n > 0:
                self._open[address] = n
            else:
                self._open.pop(address, None)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(self._open.values())


def guarded_protocol(limits: ConnectionLimits) -> type[H11Protocol]:
    """An h11 protocol class enforcing ``limits`` (pass as uvicorn's ``http=``)."""

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.app_state = {**self.app_state, CONNECTION_KEY: self}  # per connection: the app can abort it
            self._counted = ""
            self._admitted = False
            self._header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's signature
            super().connection_made(transport)
            peer = self.client[0] if self.client else ""
            if not limits.admit(peer):
                log.warning("connection from %s refused: over the connection cap", peer)
                transport.write(_REFUSED)
                transport.close()
                return
            self._admitted, self._counted = True, peer
            self._arm()

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(limits.header_timeout_s, self._header_timeout)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timeout(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                limits.timed_out += 1
                self.transport.write(_TIMEOUT)
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            if not self._admitted:
                return
            if self.conn.their_state is h11.IDLE:
                self._arm()  # the first byte of a request head: it must be complete in time
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._admitted:
                limits.release(self._counted)
                self._admitted = False
            super().connection_lost(exc)

        def abort(self) -> None:
            """Drop the connection now, unsent data included (a stream whose client stopped reading)."""
            self._disarm()
            self.transport.abort()

    return GuardedH11Protocol


__all__ = ["CONNECTION_KEY", "ConnectionLimits", "guarded_protocol"]
