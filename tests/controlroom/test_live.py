"""The live stream (server-sent events) against a running line: updates, viewer limit, bounded memory."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import psutil
import pytest

from tests.lines.service import build_sim_line
from tests.controlroom.conftest import serve
from tests.support import wait_until


def read_events(client: httpx.Client, n: int, *, timeout_s: float = 60.0) -> list[dict]:
    """Read ``n`` ``state`` events from /api/stream; returns their decoded payloads."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout_s
    with client.stream("GET", "/api/stream") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "state":
                events.append(json.loads(line[6:]))
                if len(events) >= n:
                    break
            assert time.monotonic() < deadline, f"only {len(events)} events before the deadline"
    return events


@pytest.mark.e2e
def test_stream_carries_changing_state(live):
    with live.client() as c:
        events = read_events(c, 8)
    versions = [e["version"] for e in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    times = [e["state"]["time_s"] for e in events if e["state"]]
    assert times[-1] > times[0]
    assert {"trend", "nir_trend", "alarms", "counts", "verdict"} <= set(events[-1])
    assert len(events[-1]["trend"]) <= 30


@pytest.mark.e2e
def test_stream_shows_a_new_alarm_and_its_acknowledgement(live):
    with live.client() as c:
        read_events(c, 1)
        alarm = live.service.alarms.raise_alarm("test:probe", "system", "warning", "probe alarm from the test")
        seen = read_events(c, 50)
        assert any(any(a["alarm_id"] == alarm.alarm_id and a["state"] == "raised" for a in e["alarms"]) for e in seen)
        live.service.acknowledge(alarm.alarm_id, "test")
        seen = read_events(c, 3)
        mine = [a for a in seen[-1]["alarms"] if a["alarm_id"] == alarm.alarm_id]
        assert mine and mine[0]["state"] == "acknowledged"


@pytest.mark.e2e
def test_viewer_limit_gives_429_and_frees_on_disconnect():
    sim = build_sim_line(speedup=50.0, lot_mass_t=3000.0)
    served = serve(sim, max_viewers=2)
    sim.start()
    try:
        with served.client() as a, served.client() as b, served.client() as c:
            with a.stream("GET", "/api/stream") as ra, b.stream("GET", "/api/stream") as rb:
                assert ra.status_code == rb.status_code == 200
                r = c.get("/api/stream")
                assert r.status_code == 429 and "at most 2" in r.json()["detail"]
            wait_until(lambda: c.get("/api/health").json()["viewers"] == 0, timeout_s=30, what="viewers to be released")
            assert len(read_events(c, 2)) == 2
    finally:
        sim.stop()
        served.server.stop()


@pytest.mark.e2e
@pytest.mark.slow
def test_many_viewers_share_one_snapshot_and_memory_stays_bounded():
    """20 viewers plus one that never reads: snapshots are built once per change, RSS does not follow traffic."""
    sim = build_sim_line(speedup=200.0, lot_mass_t=20000.0, objects_per_1000_t=2.0)
    served = serve(sim, update_interval_s=0.02)
    proc = psutil.Process()
    sim.start()
    stalled = socket.create_connection(("127.0.0.1", served.server.port))
    stalled.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # and never reads
    received = [0] * 20
    stop = threading.Event()

    def viewer(i: int) -> None:
        with served.client() as c, c.stream("GET", "/api/stream") as r:
            for chunk in r.iter_bytes():
                received[i] += len(chunk)
                if stop.is_set():
                    break

    threads = [threading.Thread(target=viewer, args=(i,), daemon=True) for i in range(20)]
    try:
        for t in threads:
            t.start()
        feed = served.server.app.state.controlroom.feed
        wait_until(lambda: feed.snapshots_built >= 30, timeout_s=30, what="warm-up snapshots")
        rss0, built0, bytes0 = proc.memory_info().rss, feed.snapshots_built, sum(received)
        wait_until(lambda: feed.snapshots_built >= built0 + 150, timeout_s=90, what="150 more snapshots")
        rss1, built1, bytes1 = proc.memory_info().rss, feed.snapshots_built, sum(received)
        stop.set()
        # One snapshot per change, whatever the number of viewers: 20 viewers received ~20× what was built.
        assert built1 - built0 >= 150
        assert bytes1 - bytes0 > 20 * 100 * 1000  # ≥ 2 MB went out to the viewers in the window
        # The process did not grow with the traffic (the line itself adds a little per tick).
        assert rss1 - rss0 < 25 * 1024 * 1024, f"RSS grew {(rss1 - rss0) / 1e6:.1f} MB"
    finally:
        stop.set()
        stalled.close()
        sim.stop()
        served.server.stop()
        for t in threads:
            t.join(5)
    assert served.server.app.state.controlroom.viewers == 0 or not served.server.running
