"""HTTP hardening through the real server: headers, Host allowlist, Origin with scheme, NaN bodies, no paths
for viewers, closed-by-default viewing off loopback, connection cap, header timeout, stream slots and timeouts,
and the audit trail in the lot archive."""

from __future__ import annotations

import math
import os
import socket
import stat
import time
from urllib.parse import urlsplit

import httpx
import pytest

from analysis.archive import LotArchive, audit_events, open_archive, operator_commands
from tests.controlroom.conftest import OPERATOR, VIEWER, serve
from tests.controlroom.secure import ANNA, ANNA_PW, client_from, login, serve_secure
from tests.lines.service import build_sim_line
from tests.support import wait_until

CSP = "default-src 'self'; frame-ancestors 'none'"


def _addr(served) -> tuple[str, int]:
    u = urlsplit(served.url)
    return u.hostname, u.port


def _wait(predicate, what: str, timeout_s: float = 20.0) -> None:
    wait_until(predicate, timeout_s=timeout_s, what=what)


def test_security_headers_on_the_page_and_the_api(finished):
    with finished.client(VIEWER) as c:
        for path in ("/", "/static/app.js", "/api/state", "/api/alarms", "/openapi.json"):
            h = c.get(path).headers
            assert h["content-security-policy"] == CSP, path
            assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer", path
            assert h["x-frame-options"] == "DENY" and "server" not in h, path
            assert "strict-transport-security" not in h  # plain HTTP: no HSTS
        assert c.get("/api/state").headers["cache-control"] == "no-store"
        assert c.get("/api/detections/0/thumbnail.png").headers["cache-control"] == "no-store"
        assert c.get("/api/nope").headers["cache-control"] == "no-store"  # errors too


def test_a_foreign_host_is_refused_even_with_open_viewing():
    """DNS rebinding: a page of evil.example resolving to 127.0.0.1 must not read the line."""
    sim = build_sim_line(speedup=math.inf, lot_mass_t=200.0)
    served = serve(sim)
    try:
        with served.client() as c:
            assert c.get("/api/state").status_code == 200  # open viewing on loopback
            port = _addr(served)[1]
            for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", ""):
                r = c.get("/api/state", headers={"Host": host})
                assert r.status_code == 400 and "Host" in r.json()["detail"], host
            assert c.get("/api/state", headers={"Host": f"localhost:{port}"}).status_code == 200
    finally:
        served.server.stop()


def test_origin_check_includes_the_scheme(finished):
    host, port = _addr(finished)
    alarm = next(a for a in finished.service.alarms.all() if a.state == "raised")
    path = f"/api/alarms/{alarm.alarm_id}/acknowledge"
    with finished.client(OPERATOR) as c:
        for origin in (f"https://{host}:{port}", f"http://{host}:{port + 1}", "http://evil.example", "null"):
            r = c.post(path, headers={"Origin": origin})
            assert r.status_code == 403 and "same-origin" in r.json()["detail"], origin
        assert c.post(path, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert c.post("/api/session", json={"token": OPERATOR}, headers={"Origin": "http://evil.example"}
                      ).status_code == 403  # login CSRF too
        assert finished.service.alarms.get(alarm.alarm_id).state == "raised"
        assert c.post(path, headers={"Origin": f"http://{host}:{port}"}).status_code == 200


@pytest.mark.parametrize("body", [b'{"mark_t": NaN, "reason": "x"}', b'{"mark_t": Infinity, "reason": "x"}',
                                  b'{"mark_t": -Infinity, "reason": "x"}', b'{"mark_t": 5, "reason": NaN}'])
def test_nan_and_infinity_in_bodies_get_422(finished, body):
    with finished.client(OPERATOR) as c:
        r = c.post("/api/samples/targeted", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.json()["detail"]  # says what was wrong, and is valid JSON
        assert c.post("/api/alarms/1/acknowledge", content=b'{"by": NaN}',
                      headers={"Content-Type": "application/json"}).status_code == 422


def test_viewers_get_no_server_paths(finished):
    with finished.client(VIEWER) as viewer, finished.client(OPERATOR) as op:
        state = viewer.get("/api/state").json()
        assert "run_dir" not in state and finished.service.run_dir not in viewer.get("/api/state").text
        assert op.get("/api/state").json()["run_dir"] == finished.service.run_dir
        with viewer.stream("GET", "/api/stream") as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    assert "run_dir" not in line and finished.service.run_dir not in line
                    break


def test_viewing_needs_a_login_when_not_bound_to_loopback():
    sim = build_sim_line(speedup=math.inf, lot_mass_t=200.0)
    served = serve(sim, host="0.0.0.0")
    try:
        base = f"http://127.0.0.1:{served.server.port}"
        with httpx.Client(base_url=base, timeout=10) as c:
            assert c.get("/api/state").status_code == 401
            assert c.get("/api/session").json()["open_viewing"] is False
            assert c.get("/api/state", headers={"Authorization": f"Bearer {OPERATOR}"}).status_code == 200
    finally:
        served.server.stop()


def test_header_trickling_and_idle_connections_are_closed(tmp_path):
    served = serve_secure(tmp_path, header_timeout_s=0.5)
    try:
        addr = _addr(served)
        with socket.create_connection(addr, timeout=10) as idle, socket.create_connection(addr, timeout=10) as slow:
            t0 = time.monotonic()
            for part in (b"GET /api/health HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n"):
                try:
                    slow.sendall(part)
                except OSError:
                    break
                time.sleep(0.2)
            assert idle.recv(1024).startswith(b"HTTP/1.1 408")
            reply = slow.recv(1024)
            assert reply.startswith(b"HTTP/1.1 408") and time.monotonic() - t0 < 5
        assert served.server.limits.timed_out >= 2
        with client_from(served) as c:  # and a normal client is served
            assert c.get("/api/health").status_code == 200
    finally:
        served.server.stop()


def test_connection_cap(tmp_path):
    served = serve_secure(tmp_path, max_connections=6, max_connections_per_client=4)
    try:
        addr = _addr(served)
        held = [socket.create_connection(addr, timeout=10) for _ in range(4)]
        _wait(lambda: served.server.limits.open_connections == 4, "4 open connections")
        fifth = socket.create_connection(addr, timeout=10)  # over the per-client cap
        assert fifth.recv(1024).startswith(b"HTTP/1.1 503")
        other = [socket.create_connection(addr, timeout=10, source_address=("127.0.0.2", 0)) for _ in range(2)]
        with client_from(served, "127.0.0.3") as c:  # over the total cap: 503 and closed
            try:
                answer: object = c.get("/api/health").status_code
            except httpx.HTTPError as exc:  # closed before the client read the 503
                answer = type(exc).__name__
            assert answer in (503, "RemoteProtocolError", "ReadError"), answer
        for s in held + other + [fifth]:
            s.close()
        _wait(lambda: served.server.limits.open_connections == 0, "connections released")
        with client_from(served, "127.0.0.3") as c:
            assert c.get("/api/health").status_code == 200
    finally:
        served.server.stop()


def test_fifty_viewer_streams_leave_the_operators_their_own(tmp_path):
    served = serve_secure(tmp_path, open_viewing="always", run=True, speedup=20.0, lot_mass_t=5000.0)
    streams = []
    try:
        addr = _addr(served)
        for _ in range(50):
            s = socket.create_connection(addr, timeout=10)
            s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            streams.append(s)
        _wait(lambda: served.server.app.state.controlroom.slots.used["viewer"] == 50, "50 viewer streams")
        with client_from(served) as viewer:
            assert viewer.get("/api/stream").status_code == 429
        with client_from(served) as op:
            login(op, ANNA, ANNA_PW)
            with op.stream("GET", "/api/stream") as r:
                assert r.status_code == 200
                assert any(line.startswith("event: state") for line in r.iter_lines())
    finally:
        for s in streams:
            s.close()
        served.sim.stop()
        served.server.stop()


def test_a_stream_nobody_reads_is_closed_and_frees_its_slot(tmp_path):
    served = serve_secure(tmp_path, open_viewing="always", stream_write_timeout_s=0.5, run=True, speedup=50.0,
                          lot_mass_t=50_000.0)
    try:
        slots = served.server.app.state.controlroom.slots
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.connect(_addr(served))
        s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # and never read
        _wait(lambda: slots.used["viewer"] == 1, "the stream to open")
        _wait(lambda: slots.timed_out == 1 and slots.used["viewer"] == 0, "the unread stream to time out", 120)
        s.close()
    finally:
        served.sim.stop()
        served.server.stop()


def test_logins_refusals_and_commands_are_audited_into_the_lot_archive(tmp_path):
    served = serve_secure(tmp_path, server_kw={"viewer_token": VIEWER}, speedup=5.0, lot_mass_t=3000.0)
    archive = LotArchive(tmp_path / "lot.h5", flush_interval_s=0.5)
    served.sim.line.add_sink(archive)
    served.server.audit.set_sink(archive.add_audit)
    try:
        with client_from(served, "127.0.0.2") as c:
            assert login(c, ANNA, "not-her-password").status_code == 401  # before the lot: waits for the archive
            served.sim.start(lots=1)
            _wait(lambda: served.service.monitor.snapshot().start is not None
                  and bool(served.service.line_state().get("state")), "the lot to start and tick")
            assert login(c, ANNA, ANNA_PW).status_code == 200
            tag = c.get("/api/session").json()["session"]
            r = c.post("/api/samples/targeted", json={"mark_t": 50.0, "reason": "audit test"})
            assert r.status_code == 200, r.text
            assert c.post("/api/lot/stop", json={"reason": "audit test", "confirm": True}).status_code == 200
        with client_from(served, "127.0.0.3", token=VIEWER) as v:
            assert v.post("/api/lot/stop", json={"reason": "x", "confirm": True}).status_code == 403
        served.sim.stop()
        _wait(lambda: served.server.audit.pending == 0, "the audit trail to reach the archive")
        archive.close()
        assert stat.S_IMODE(os.stat(archive.path).st_mode) == 0o640
        with open_archive(archive.path) as reader:
            events = audit_events(reader)
            commands = operator_commands(reader)
        kinds = [(e.action, e.outcome.split(":")[0], e.person) for e in events]
        assert kinds[:2] == [("login", "refused 401", ANNA), ("login", "ok", ANNA)]
        assert [(e.action, e.person, e.role, e.session, e.source) for e in commands] == [
            ("targeted_sample", ANNA, "operator", tag, "127.0.0.2"), ("stop", ANNA, "operator", tag, "127.0.0.2")]
        refused = [e for e in events if e.person == "token:viewer"]
        assert refused and refused[0].outcome.startswith("refused 403") and refused[0].source == "127.0.0.3"
        assert all(e.clock.endswith("+00:00") and e.lot_id == events[-1].lot_id != "" for e in events[1:])
    finally:
        served.sim.stop()
        served.server.stop()


def test_commands_reach_the_catalogue_with_the_operators_name(tmp_path):
    """The audit sink of a lot (analysis.integration.audit_sink): archive first, then the catalogue's commands."""
    from types import SimpleNamespace

    from analysis import integration
    from analysis.catalogue import (
        CatalogueQueries,
        CatalogueWriter,
        LineCatalogue,
        open_catalogue,
    )

    catalogue = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.sqlite'}")
    writer = CatalogueWriter(catalogue)
    served = serve_secure(tmp_path, speedup=5.0, lot_mass_t=3000.0)
    archive = LotArchive(tmp_path / "lot.h5", flush_interval_s=0.5)
    served.sim.line.add_sink(archive)
    try:
        served.sim.start(lots=1)
        _wait(lambda: served.service.monitor.snapshot().start is not None, "the lot to start")
        lot = served.service.monitor.snapshot().start.lot
        link = LineCatalogue(writer, line="simline")
        link.attach(SimpleNamespace(lot=lot, monitor=served.sim.monitor, alarms=served.sim.alarms,
                                    line=served.sim.line), archive.path)
        served.server.audit.set_sink(integration.audit_sink(SimpleNamespace(archive=archive, catalogue_link=link)))
        with client_from(served, "127.0.0.2") as c:
            login(c, ANNA, ANNA_PW)
            assert c.post("/api/samples/targeted", json={"mark_t": 40.0, "reason": "catalogue"}).status_code == 200
        assert writer.flush()
        commands = CatalogueQueries(catalogue).lot(lot.lot_id)["commands"]
        assert [(k["operator"], k["command"], k["result"]) for k in commands] == [(ANNA, "targeted_sample", "ok")]
        assert commands[0]["detail"]["source"] == "127.0.0.2"
    finally:
        served.sim.stop()
        served.server.stop()
        archive.close()
        writer.close()
        catalogue.close()
