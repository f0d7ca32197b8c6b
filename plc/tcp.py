"""Modbus TCP to the Modbus Application Protocol spec (V1.1b3), on asyncio, with pymodbus's PDU layer.

pymodbus 3.16 decodes and executes request PDUs well (``DecodePDU``, each request's ``datastore_update``, the
response encoders, device identification), and those are used here. Its TCP server side is not: it answers
one of two pipelined requests, answers unknown function codes with function code 0x80, serves FC 20/21/24
from its simulator, desynchronises on an MBAP length of 0 and waits forever on a bad protocol id, and has no
idle timeout, keepalive, connection cap or allow-list. So the MBAP framing and the connection handling are
ours (this module, ~150 lines), and nothing of pymodbus's internals is swapped.

Behaviour:

* every complete frame in a TCP segment is answered, in order;
* protocol id ≠ 0, or a length field outside 2..254, closes the connection (the stream cannot be trusted);
* a unit id the server does not answer to → exception 0x0B;
* a function code outside :data:`SUPPORTED_FUNCTIONS` → exception (request code + 0x80) 0x01;
* a request that does not decode (e.g. quantity 0 or > 125) → exception 0x03;
* connections beyond ``max_connections``, or from an address not in ``allowed_clients``, are closed at once;
  a connection silent for ``idle_timeout_s`` is closed; TCP keepalive is on.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu.device import ModbusControlBlock, ModbusDeviceIdentification

from plc.errors import ServerError

log = logging.getLogger(__name__)

SUPPORTED_FUNCTIONS = frozenset({3, 4, 6, 16, 22, 23, 43})
"""Function codes served: read holding/input registers, write single/multiple, mask write, read/write, device id."""

_MBAP = struct.Struct(">HHHB")
_READ = struct.Struct(">HH")
_MAX_QUEUED_FRAMES = 64


@dataclass(frozen=True)
class ServerOptions:
    """Connection policy of a Modbus TCP server.

    ``idle_timeout_s``: close a connection with no request for this long (0: never). ``max_connections``:
    connections beyond this are closed at once. ``allowed_clients``: client IP addresses allowed to connect
    (empty: any). ``keepalive_s``: TCP keepalive idle time (0: keepalive off).
    """

    idle_timeout_s: float = 300.0
    max_connections: int = 64
    allowed_clients: tuple[str, ...] = ()
    keepalive_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.idle_timeout_s >= 0:
            raise ServerError(f"idle_timeout_s must be >= 0 s, got {self.idle_timeout_s}")
        if not 1 <= self.max_connections <= 10000:
            raise ServerError(f"max_connections must be 1..10000, got {self.max_connections}")
        if not self.keepalive_s >= 0:
            raise ServerError(f"keepalive_s must be >= 0 s, got {self.keepalive_s}")
        object.__setattr__(self, "allowed_clients", tuple(self.allowed_clients))


class ModbusTcpService:
    """Answers Modbus TCP requests from a datastore (``device_ids``, ``async_getValues``, ``async_setValues``)."""

    def __init__(self, store: Any, options: ServerOptions | None = None,
                 identity: ModbusDeviceIdentification | None = None,
                 on_connect: Callable[[bool], None] | None = None) -> None:
        self.store = store
        self.options = options or ServerOptions()
        self.decoder = DecodePDU(True)
        self.on_connect = on_connect
        self.connections: set[_Connection] = set()
        self.refused = 0
        self._server: asyncio.base_events.Server | None = None
        if identity is not None:
            ModbusControlBlock().Identity.update(identity)

    async def listen(self, host: str, port: int) -> int:
        """Bind and listen; return the bound port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port, reuse_address=True)
        return self._server.sockets[0].getsockname()[1]

    async def shutdown(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    async def respond(self, unit: int, pdu: bytes) -> bytes:
        """The response PDU for one request PDU."""
        fc = pdu[0]
        if fc not in SUPPORTED_FUNCTIONS:
            return _exception(fc, ExcCodes.ILLEGAL_FUNCTION)
        if unit not in self.store.device_ids():
            return _exception(fc, ExcCodes.GATEWAY_NO_RESPONSE)
        if fc in (3, 4) and len(pdu) == 5:  # the PLC's cyclic read: no PDU objects on the hot path
            address, count = _READ.unpack_from(pdu, 1)
            values = await self.store.async_getValues(unit, fc, address, count)
            if isinstance(values, ExcCodes):
                return _exception(fc, values)
            return struct.pack(f">BB{len(values)}H", fc, 2 * len(values), *values)
        request = self.decoder.decode(pdu)
        if request is None:
            return _exception(fc, ExcCodes.ILLEGAL_VALUE)
        request.dev_id = unit
        try:
            response = await request.datastore_update(self.store, unit)
        except Exception as exc:  # a datastore failure is the device's, reported as 0x04
            log.warning("Modbus request FC %d failed: %s", fc, exc)
            return _exception(fc, ExcCodes.DEVICE_FAILURE)
        return bytes([response.function_code]) + response.encode()


def _exception(function_code: int, code: int) -> bytes:
    return bytes([(function_code | 0x80) & 0xFF]) + ExceptionResponse(function_code, int(code)).encode()


class _Connection(asyncio.Protocol):
    """One client connection: strict MBAP framing, requests answered in order."""

    def __init__(self, service: ModbusTcpService) -> None:
        self.service = service
        self.transport: asyncio.Transport  # set by connection_made, the first call asyncio makes
        self._buffer = bytearray()
        self._frames: collections.deque[tuple[int, int, bytes]] = collections.deque()
        self._worker: asyncio.Task | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):
            raise TypeError(f"expected a stream transport, got {type(transport).__name__}")
        self.transport = transport
        opts = self.service.options
        peer = transport.get_extra_info("peername") or ("?", 0)
        if len(self.service.connections) >= opts.max_connections or (
                opts.allowed_clients and peer[0] not in opts.allowed_clients):
            self.service.refused += 1
            log.warning("Modbus connection from %s refused (%d open, allow-list %s)", peer[0],
                        len(self.service.connections), list(opts.allowed_clients) or "any")
            self.transport.abort()
            return
        self.service.connections.add(self)
        self._counted = True
        _keepalive(transport.get_extra_info("socket"), opts.keepalive_s)
        self._arm_idle()
        if self.service.on_connect is not None:
            self.service.on_connect(True)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        if self._counted:
            self.service.connections.discard(self)
            self._counted = False
            if self.service.on_connect is not None:
                self.service.on_connect(False)

    def _arm_idle(self) -> None:
        timeout = self.service.options.idle_timeout_s
        if timeout > 0:
            if self._idle is not None:
                self._idle.cancel()
            self._idle = asyncio.get_running_loop().call_later(timeout, self._close, "idle timeout")

    def _close(self, why: str) -> None:
        log.info("Modbus connection %s closed: %s", self.transport.get_extra_info("peername"), why)
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if not self._counted:
            return
        self._arm_idle()
        buf = self._buffer
        buf += data
        while len(buf) >= 7:
            tid, pid, length, unit = _MBAP.unpack_from(buf)
            if pid != 0 or not 2 <= length <= 254:
                self._close(f"framing error (protocol id {pid}, length {length})")
                return
            if len(buf) < 6 + length:
                break
            self._frames.append((tid, unit, bytes(buf[7:6 + length])))
            del buf[:6 + length]
        if len(self._frames) > _MAX_QUEUED_FRAMES:
            self._close(f"more than {_MAX_QUEUED_FRAMES} requests waiting")
            return
        if self._frames and self._worker is None:
            self._worker = asyncio.ensure_future(self._answer())

    async def _answer(self) -> None:
        try:
            while self._frames:
                tid, unit, pdu = self._frames.popleft()
                response = await self.service.respond(unit, pdu)
                if self.transport.is_closing():
                    return
                self.transport.write(_MBAP.pack(tid, 0, len(response) + 1, unit) + response)
        finally:
            self._worker = None


def _keepalive(sock: socket.socket | None, idle_s: float) -> None:
    if sock is None or idle_s <= 0:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, max(1, int(idle_s)))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, int(idle_s) // 3))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError as exc:  # keepalive is best effort (e.g. not a TCP socket)
        log.debug("TCP keepalive not set: %s", exc)
