"""Raw HTTP/1.1 bytes at the control-room server (not through its OpenAPI spec): malformed request lines,
headers, bodies and plain junk get a 4xx or a closed connection, never a 5xx, and the server keeps serving."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.controlroom.conftest import VIEWER
from tests.faults.figures import record

#: payloads sent in this session (recorded for docs/reliability.md by the last test)
SENT: list[int] = []

MALFORMED = [
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /api/state HTTP/1.1\r\n\r\n",                                  # no Host header
    b"GET /api/state HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",        # header without colon
    b"GET /api/state HTTP/1.1\r\nHost: x\r\nX: \x00\x01\r\n\r\n",       # control bytes in a value
    b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",        # 100 kB target
    b"GET /api/state HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"b" * 100_000 + b"\r\n\r\n",
    b"POST /api/alarms/1/ack HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /api/alarms/1/ack HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /api/alarms/1/ack HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789",
    b"POST /api/alarms/1/ack HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
    b"POST /api/alarms/1/ack HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    b"POST /api/alarms/1/ack HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":\xff}",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)),  # a TLS ClientHello on the plain port
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",                                 # HTTP/2 preface
    b"GET /%zz%00/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
]


def _address(served) -> tuple[str, int]:
    u = urlsplit(served.url)
    return u.hostname, u.port


def _exchange(addr: tuple[str, int], payload: bytes, timeout_s: float = 10.0) -> bytes:
    """Send ``payload``, half-close, read until the server closes (or the timeout); return what came back."""
    with socket.create_connection(addr, timeout=timeout_s) as s:
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse before reading everything: that is an answer too
        chunks = []
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except (ConnectionResetError, socket.timeout):
            pass
    return b"".join(chunks)


def _assert_no_server_error(reply: bytes) -> None:
    statuses = [line.split()[1] for line in reply.split(b"\r\n")
                if line.startswith(b"HTTP/1.") and len(line.split()) >= 2]
    assert not any(code.startswith(b"5") for code in statuses), reply[:300]


@pytest.mark.parametrize("payload", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_requests_get_4xx_or_close(finished, payload):
    reply = _exchange(_address(finished), payload)
    SENT.append(len(payload))
    _assert_no_server_error(reply)
    if reply:
        assert reply.startswith(b"HTTP/1.1 4") or reply.startswith(b"HTTP/1.1 2") or reply.startswith(b"HTTP/1.1 3"), \
            reply[:200]
    with finished.client(VIEWER) as c:  # and the server still serves
        assert c.get("/api/state").status_code == 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=4096),
    st.builds(lambda method, path, junk: method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n" + junk + b"\r\n\r\n",
              st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"\x00", b""]),
              st.binary(min_size=0, max_size=200), st.binary(max_size=300)),
))
def test_random_bytes_never_get_a_server_error(finished, payload):
    SENT.append(len(payload))
    _assert_no_server_error(_exchange(_address(finished), payload, timeout_s=5.0))


def test_a_stalled_client_does_not_block_others(finished):
    """A client that sends half a request and waits must not hold up the next one (no head-of-line blocking)."""
    with socket.create_connection(_address(finished), timeout=5.0) as stalled:
        stalled.sendall(b"GET /api/state HTTP/1.1\r\nHost: x\r\n")  # the blank line never comes
        with finished.client(VIEWER) as c:
            assert c.get("/api/state").status_code == 200
    if len(SENT) > len(MALFORMED):  # the whole module ran: its figure for docs/reliability.md
        record("fuzz.http_raw", group="fuzz", fault="raw HTTP/1.1 bytes and malformed requests to the control room",
               injected=len(SENT) + 1, survived=True)
