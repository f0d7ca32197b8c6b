"""The control-room HTTP server: uvicorn in a background thread, started and stopped with bounded waits.

>>> server = ControlRoomServer(service, operator_token="s3cret-token")   # doctest: +SKIP
>>> server.start(); print(server.url)                                   # doctest: +SKIP
>>> server.stop()                                                       # doctest: +SKIP

Binds 127.0.0.1 by default. ``port=0`` takes any free port (read ``.port``
after :meth:`start`). If the service's line accepts sinks, a
:class:`~analysis.web.evidence.SpectrumCache` is attached so the page can draw
each segment's mean spectrum. With ``tls_cert`` and ``tls_key`` it serves HTTPS
(uvicorn's ``ssl``); connections are capped and must send their request head in
time (:mod:`analysis.web.connections`); ``X-Forwarded-*`` headers are believed only
from ``trusted_proxies``.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any, Self

import uvicorn

from analysis.model import ControlRoomLine
from analysis.web.app import create_app
from analysis.web.audit import AuditTrail
from analysis.web.connections import ConnectionLimits, guarded_protocol
from analysis.web.errors import ServerStartError
from analysis.web.evidence import SpectrumCache
from analysis.web.lots import LotHistory
from analysis.web.security import SecurityOptions
from analysis.web.settings import check_token, resolve_secrets, validate_control_room

log = logging.getLogger(__name__)


class ControlRoomServer:
    """Serves the control room of ``service`` (a LineService) on ``host:port``.

    ``operator_token``: grants commands to machine clients (None or "": none).
    ``viewer_token``: grants viewing to machine clients. Tokens shorter than 8
    characters raise ConfigError. ``security``: accounts, open viewing, hosts,
    sessions, throttling, TLS and connection limits (:class:`SecurityOptions`;
    ``tls_cert``/``tls_key`` are the PEM files). ``attach_spectra``: attach a
    SpectrumCache sink to ``service.line`` (skip when the caller attaches its own
    via ``spectra``).
    """

    def __init__(
        self,
        service: ControlRoomLine,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        operator_token: str | None,
        viewer_token: str | None = None,
        max_viewers: int = 50,
        update_interval_s: float = 0.1,
        spectra: SpectrumCache | None = None,
        attach_spectra: bool = True,
        log_level: str = "warning",
        history: LotHistory | None = None,
        security: SecurityOptions | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        self.service = service
        self.host = host
        self.security = security = dataclasses.replace(security or SecurityOptions(), bind_host=host,
                                                       tls=bool(tls_cert))
        self._tls = (tls_cert, tls_key) if tls_cert else None
        self.limits = ConnectionLimits(max_connections=security.max_connections,
                                       max_per_client=security.max_connections_per_client,
                                       header_timeout_s=security.header_timeout_s,
                                       trusted_proxies=security.trusted_proxies)
        self._requested_port = int(port)
        operator_token = check_token("control_room.operator_token", operator_token)
        viewer_token = check_token("control_room.viewer_token", viewer_token)
        add_sink = getattr(getattr(service, "line", None), "add_sink", None)
        if spectra is None and attach_spectra and add_sink is not None:
            spectra = SpectrumCache()
            add_sink(spectra)
        self.spectra = spectra
        self.app = create_app(service, operator_token=operator_token, viewer_token=viewer_token, spectra=spectra,
                              update_interval_s=update_interval_s, max_viewers=max_viewers, history=history,
                              security=security)
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    @classmethod
    def from_config(cls, service: ControlRoomLine, section: Mapping[str, Any] | None,
                    environ: Mapping[str, str] | None = None, *, history: LotHistory | None = None) -> ControlRoomServer:
        """Build from a ``[control_room]`` table (validated here; ConfigError names a bad key).

        Tokens come from ``$ORELINE_OPERATOR_TOKEN`` / ``$ORELINE_VIEWER_TOKEN``, else ``secrets_file``, else
        the table; AccountsError for a bad accounts file."""
        cfg = validate_control_room(section)
        secrets = resolve_secrets(cfg, environ)
        return cls(service, host=cfg["host"], port=cfg["port"], operator_token=secrets["operator_token"],
                   viewer_token=secrets["viewer_token"], max_viewers=cfg["max_viewers"],
                   update_interval_s=cfg["update_interval_s"], security=SecurityOptions.from_config(cfg),
                   tls_cert=cfg["tls_cert"] or None, tls_key=cfg["tls_key"] or None, history=history)

    @property
    def audit(self) -> AuditTrail:
        """The audit trail (``audit.set_sink(archive.add_audit)`` writes it to a lot archive)."""
        return self.app.state.controlroom.audit

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self._tls else 'http'}://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout_s: float = 10.0) -> Self:
        """Bind, start uvicorn in a daemon thread and return once it is listening.

        Raises ServerStartError when the address cannot be bound or the server is not up within ``timeout_s``.
        """
        if self.running:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it, headers and body go out as two small segments and
        # Nagle + delayed ACK make every keep-alive request wait ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise ServerStartError(f"cannot bind the control room to {self.host}:{self._requested_port}: {exc}") from exc
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        sec = self.security
        cert, key = self._tls or (None, None)
        config = uvicorn.Config(self.app, log_level=self._log_level, access_log=False, lifespan="on",
                                timeout_graceful_shutdown=2, timeout_keep_alive=int(max(1, sec.keep_alive_s)),
                                loop="asyncio", http=guarded_protocol(self.limits), ws="none", server_header=False,
                                proxy_headers=bool(sec.trusted_proxies),
                                forwarded_allow_ips=list(sec.trusted_proxies) or None,
                                ssl_certfile=cert, ssl_keyfile=key)
        try:
            config.load()  # reads the certificate and key now, so a bad one is a clear error here
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            sock.close()
            self._socket = None
            raise ServerStartError(f"cannot load the TLS certificate {cert} / key {key}: {exc}") from exc
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"controlroom-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"control room did not start listening on {self.url} within {timeout_s} s")
            time.sleep(0.01)
        log.info("control room serving on %s", self.url)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close live streams, stop uvicorn and join its thread (bounded); safe to call twice."""
        server, thread = self._server, self._thread
        self.app.state.controlroom.feed.close(timeout_s=1.0)
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout_s / 2)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout_s / 2)
            if thread.is_alive():
                log.warning("control-room server thread did not stop within %.1f s", timeout_s)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
