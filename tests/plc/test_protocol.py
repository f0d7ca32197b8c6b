"""Modbus TCP to the Modbus Application Protocol spec, checked byte by byte over raw loopback sockets."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from plc.registers import MAP_MAGIC, ORELINE_MAP
from plc.server import OrelineModbusServer
from plc.tcp import ServerOptions


def frame(tid: int, unit: int, pdu: bytes, pid: int = 0, length: int | None = None) -> bytes:
    return struct.pack(">HHHB", tid, pid, len(pdu) + 1 if length is None else length, unit) + pdu


def recv_frame(sock: socket.socket) -> tuple[int, int, bytes]:
    head = _recv_exact(sock, 7)
    tid, pid, length, unit = struct.unpack(">HHHB", head)
    assert pid == 0
    return tid, unit, _recv_exact(sock, length - 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, f"connection closed after {len(data)} of {n} bytes"
        data += chunk
    return data


def closed_by_server(sock: socket.socket, timeout_s: float = 3.0) -> bool:
    sock.settimeout(timeout_s)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture
def srv():
    with OrelineModbusServer(device_id=255, link_debounce_s=0) as server:
        yield server


def conn(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=3)


def test_unit_id_255_is_configurable_and_other_units_get_0x0b(srv):
    with conn(srv) as s:
        s.sendall(frame(1, 255, b"\x03\x00\x00\x00\x01"))
        assert recv_frame(s) == (1, 255, b"\x03\x02" + struct.pack(">H", MAP_MAGIC))
        s.sendall(frame(2, 1, b"\x03\x00\x00\x00\x01"))
        assert recv_frame(s) == (2, 1, b"\x83\x0b")
    for bad in (-1, 256):
        with pytest.raises(Exception, match="device_id"):
            OrelineModbusServer(device_id=bad)


@pytest.mark.parametrize("fc, body", [(1, b"\x00\x00\x00\x08"), (2, b"\x00\x00\x00\x08"), (5, b"\x00\x00\xff\x00"),
                                      (15, b"\x00\x00\x00\x01\x01\x01"), (20, b"\x07\x06\x00\x01\x00\x00\x00\x01"),
                                      (21, b"\x09\x06\x00\x01\x00\x00\x00\x01\x00\x07"), (24, b"\x00\x00"),
                                      (8, b"\x00\x00\x12\x34"), (0x41, b""), (0x7F, b"\x00")])
def test_unsupported_function_codes_get_their_own_code_plus_0x80_and_0x01(srv, fc, body):
    with conn(srv) as s:
        s.sendall(frame(9, 255, bytes([fc]) + body))
        assert recv_frame(s) == (9, 255, bytes([fc | 0x80, 0x01]))  # no fake data, no pretend write


@pytest.mark.parametrize("fc, body", [(3, b"\x00\x00\x00\x00"), (3, b"\x00\x00\x00\x7e"), (4, b"\x00\x00\x00\x00"),
                                      (4, b"\x00\x00\x00\x7e")])
def test_bad_quantities_get_0x03(srv, fc, body):
    with conn(srv) as s:
        s.sendall(frame(3, 255, bytes([fc]) + body))
        assert recv_frame(s) == (3, 255, bytes([fc | 0x80, 0x03]))


def test_two_pipelined_requests_in_one_segment_are_both_answered_in_order(srv):
    with conn(srv) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(frame(11, 255, b"\x03\x00\x00\x00\x01") + frame(12, 255, b"\x03\x00\x01\x00\x02")
                  + frame(13, 255, b"\x01\x00\x00\x00\x01"))
        assert recv_frame(s)[0:2] == (11, 255)
        tid, _, pdu = recv_frame(s)
        assert tid == 12 and pdu[:2] == b"\x03\x04"
        assert recv_frame(s) == (13, 255, b"\x81\x01")


def test_a_request_split_over_segments_is_answered_once_complete(srv):
    with conn(srv) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        whole = frame(21, 255, b"\x03\x00\x00\x00\x01")
        s.sendall(whole[:4])
        time.sleep(0.05)
        s.sendall(whole[4:])
        assert recv_frame(s)[0] == 21


@pytest.mark.parametrize("bad", [frame(1, 255, b"", length=0), frame(1, 255, b"\x03", length=1),
                                 frame(1, 255, b"\x03\x00\x00\x00\x01", pid=1), frame(1, 255, b"\x03", length=255)])
def test_framing_errors_close_the_connection_and_the_server_keeps_serving(srv, bad):
    with conn(srv) as s:
        s.sendall(bad + frame(2, 255, b"\x03\x00\x00\x00\x01"))
        assert closed_by_server(s)
    with conn(srv) as s:
        s.sendall(frame(3, 255, b"\x03\x00\x00\x00\x01"))
        assert recv_frame(s)[0] == 3


def test_idle_connections_are_closed_and_keepalive_is_on():
    with OrelineModbusServer(options=ServerOptions(idle_timeout_s=0.3, keepalive_s=5)) as server, conn(server) as s:
        s.sendall(frame(1, 1, b"\x03\x00\x00\x00\x01"))
        recv_frame(s)
        deadline = time.monotonic() + 3
        while not server._runner._server.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        (connection,) = server._runner._server.connections
        sock = connection.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert closed_by_server(s)  # silent for 0.3 s


def test_connections_over_the_cap_are_refused():
    with OrelineModbusServer(options=ServerOptions(max_connections=2)) as server:
        a, b = conn(server), conn(server)
        try:
            for s in (a, b):
                s.sendall(frame(1, 1, b"\x03\x00\x00\x00\x01"))
                recv_frame(s)
            with conn(server) as c:
                assert closed_by_server(c)
            a.close()
            deadline = time.monotonic() + 3
            while server._runner.clients > 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            with conn(server) as d:  # a place is free again
                d.sendall(frame(2, 1, b"\x03\x00\x00\x00\x01"))
                assert recv_frame(d)[0] == 2
        finally:
            a.close()
            b.close()


def test_allow_list_refuses_other_addresses():
    with OrelineModbusServer(options=ServerOptions(allowed_clients=("127.0.0.2",))) as server, conn(server) as s:
        assert closed_by_server(s)
    with OrelineModbusServer(options=ServerOptions(allowed_clients=("127.0.0.1",))) as server, conn(server) as s:
        s.sendall(frame(4, 1, b"\x03\x00\x00\x00\x01"))
        assert recv_frame(s)[0] == 4


def test_write_then_read_back_through_fc23_and_device_identification(srv):
    watchdog = ORELINE_MAP["PLC_WATCHDOG"].address
    with conn(srv) as s:
        pdu = struct.pack(">BHHHHBH", 23, 0, 1, watchdog, 1, 2, 0x1234)
        s.sendall(frame(5, 255, pdu))
        assert recv_frame(s) == (5, 255, b"\x17\x02" + struct.pack(">H", MAP_MAGIC))
        s.sendall(frame(6, 255, b"\x03" + struct.pack(">HH", watchdog, 1)))
        assert recv_frame(s)[2] == b"\x03\x02\x12\x34"
        s.sendall(frame(7, 255, b"\x2b\x0e\x01\x00"))
        tid, _, pdu = recv_frame(s)
        assert tid == 7 and pdu[:2] == b"\x2b\x0e" and b"oreline" in pdu
