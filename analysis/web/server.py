"""The control-room HTTP server: uvicorn in a background thread, started and stopped with bounded waits.

>>> server = ControlRoomServer(service, operator_token="s3cret-token")   # doctest: +SKIP
>>> server.start(); print(server.url)                                   # doctest: +SKIP
>>> server.stop()                                                       # doctest: +SKIP

Binds 127.0.0.1 by default. ``port=0`` takes any free port (read ``.port``
after :meth:`start`). If the service's line accepts sinks, a
:class:`~analysis.web.evidence.SpectrumCache` is attached so the page can draw
each segment's mean spectrum.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Mapping

import uvicorn

from analysis.web.app import create_app
from analysis.web.errors import ServerStartError
from analysis.web.evidence import SpectrumCache
from analysis.web.settings import check_token, validate_control_room

log = logging.getLogger(__name__)


class ControlRoomServer:
    """Serves the control room of ``service`` (a LineService) on ``host:port``.

    ``operator_token``: grants commands (None or "": commands refused with 403).
    ``viewer_token``: needed to view (None or "": viewing open). Tokens shorter
    than 8 characters raise ConfigError. ``attach_spectra``: attach a
    SpectrumCache sink to ``service.line`` (skip when the caller attaches its own
    via ``spectra``).
    """

    def __init__(
        self,
        service: Any,
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
        history: Any = None,
    ) -> None:
        self.service = service
        self.host = host
        self._requested_port = int(port)
        operator_token = check_token("control_room.operator_token", operator_token)
        viewer_token = check_token("control_room.viewer_token", viewer_token)
        if spectra is None and attach_spectra and hasattr(getattr(service, "line", None), "add_sink"):
            spectra = SpectrumCache()
            service.line.add_sink(spectra)
        self.spectra = spectra
        self.app = create_app(service, operator_token=operator_token, viewer_token=viewer_token, spectra=spectra,
                              update_interval_s=update_interval_s, max_viewers=max_viewers, history=history)
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    @classmethod
    def from_config(cls, service: Any, section: Mapping[str, Any] | None) -> "ControlRoomServer":
        """Build from a ``[control_room]`` table (validated here; ConfigError names a bad key)."""
        cfg = validate_control_room(section)
        return cls(service, host=cfg["host"], port=cfg["port"], operator_token=cfg["operator_token"] or None,
                   viewer_token=cfg["viewer_token"] or None, max_viewers=cfg["max_viewers"],
                   update_interval_s=cfg["update_interval_s"])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout_s: float = 10.0) -> "ControlRoomServer":
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
        config = uvicorn.Config(self.app, log_level=self._log_level, access_log=False, lifespan="on",
                                timeout_graceful_shutdown=2, timeout_keep_alive=30, loop="asyncio", http="h11",
                                ws="none")
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

    def __enter__(self) -> "ControlRoomServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
