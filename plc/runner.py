"""A Modbus TCP server (:mod:`plc.tcp`) on its own thread and asyncio loop, so the synchronous line runtime can use it.

:class:`ModbusServerThread` serves a :class:`~plc.store.RegisterStore`.
``start()`` returns once the socket listens (port 0 picks a free port; read
``.port``); ``stop()`` is idempotent and bounded in time. Connected clients
and disconnects are counted for link supervision.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Self

from pymodbus.pdu.device import ModbusDeviceIdentification

from plc.errors import ServerError
from plc.store import RegisterStore
from plc.tcp import ModbusTcpService, ServerOptions

log = logging.getLogger(__name__)


class ModbusServerThread:
    """Serve ``store`` over Modbus TCP on ``host:port`` from a background thread.

    Raises :class:`ServerError` from :meth:`start` when the address cannot be bound.
    """

    def __init__(
        self,
        store: RegisterStore,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "modbus",
        identity: ModbusDeviceIdentification | None = None,
        options: ServerOptions | None = None,
    ) -> None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ServerError(f"port must be an integer in 0..65535, got {port!r}")
        self.store = store
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.name = name
        self.identity = identity
        self.options = options or ServerOptions()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpService | None = None
        self._lock = threading.Lock()
        self.connects = 0
        self.disconnects = 0
        self.last_disconnect_monotonic: float | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def clients(self) -> int:
        """Modbus TCP connections open right now."""
        server = self._server
        return len(server.connections) if server is not None and self.running else 0

    def _on_connect(self, connected: bool) -> None:
        if connected:
            self.connects += 1
        else:
            self.disconnects += 1
            self.last_disconnect_monotonic = time.monotonic()

    def start(self, timeout_s: float = 5.0) -> None:
        """Start listening; return once the port is bound. A second call while running does nothing.

        After :meth:`stop`, a restart binds the same port again (so clients can reconnect).
        """
        with self._lock:
            if self.running:
                return
            ready = threading.Event()
            outcome: dict[str, Any] = {}
            loop = asyncio.new_event_loop()
            port = self.port if self.port is not None else self._requested_port

            async def serve() -> None:
                server = ModbusTcpService(self.store, self.options, self.identity, self._on_connect)
                outcome["port"] = await server.listen(self.host, port)
                outcome["server"] = server

            def run() -> None:
                asyncio.set_event_loop(loop)
                try:
                    loop.run_until_complete(serve())
                except Exception as exc:
                    outcome["error"] = exc
                    ready.set()
                    loop.close()
                    return
                ready.set()
                try:
                    loop.run_forever()
                finally:
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()

            thread = threading.Thread(target=run, name=f"oreline-{self.name}-{self.host}:{port}", daemon=True)
            thread.start()
            if not ready.wait(timeout_s):
                raise ServerError(f"{self.name}: server on {self.host}:{port} did not start within {timeout_s} s")
            if "error" in outcome:
                thread.join(timeout_s)
                raise ServerError(f"{self.name}: cannot listen on {self.host}:{port}: {outcome['error']}")
            self._server, self._loop, self._thread = outcome["server"], loop, thread
            self.port = outcome["port"]
            log.info("%s Modbus TCP server listening on %s:%d", self.name, self.host, self.port)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close every connection and the listening socket; idempotent, returns within about ``timeout_s``."""
        with self._lock:
            loop, server, thread = self._loop, self._server, self._thread
            self._loop = self._server = self._thread = None
            if loop is None or server is None or thread is None or not thread.is_alive():
                return
            try:
                fut = asyncio.run_coroutine_threadsafe(server.shutdown(), loop)
                fut.result(timeout_s)
            except Exception as exc:
                log.warning("%s: server shutdown reported %s", self.name, exc)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("%s: server thread did not end within %.1f s", self.name, timeout_s)


class ThreadServed:
    """Lifecycle of a Modbus server that runs on a :class:`ModbusServerThread` held in ``self._runner``."""

    _runner: ModbusServerThread

    @property
    def host(self) -> str:
        return self._runner.host

    @property
    def port(self) -> int | None:
        """The bound TCP port (None before the first :meth:`start`)."""
        return self._runner.port

    @property
    def running(self) -> bool:
        return self._runner.running

    def start(self, timeout_s: float = 5.0) -> Self:
        """Listen; returns ``self`` once bound (a restart after :meth:`stop` reuses the same port).

        Raises :class:`ServerError` if the address cannot be bound.
        """
        self._runner.start(timeout_s)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Drop every client and stop listening (idempotent, bounded by ``timeout_s``)."""
        self._runner.stop(timeout_s)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
