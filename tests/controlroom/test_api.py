"""The HTTP API against a real server serving a real (simulated) line: content, roles, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.web.app import MAX_BODY_BYTES
from tests.controlroom.conftest import OPERATOR, VIEWER, serve
from tests.lines.service import build_sim_line
from tests.support import wait_until


def test_state_matches_the_line(finished):
    with finished.client(VIEWER) as c:
        body = c.get("/api/state").json()
    service = finished.service
    assert body["version"] == service.version
    assert body["state"]["lot_id"] == service.monitor.lot_id
    assert body["state"]["lot_tonnage_t"] == pytest.approx(service.state.lot_tonnage_t)
    assert body["state"]["phase"] == "ended"
    assert body["verdict"]["verdict"] == service.monitor.verdict.verdict
    assert body["segments_decided"] == len(service.monitor.segments) == 10
    assert [s["name"] for s in body["stations"]] == ["nir", "camera", "sampler"]
    assert body["sampler"]["routine_cut"] == finished.sim.sampler.status()["routine_cut"] > 0


def test_segments_since_and_limit(finished):
    with finished.client(VIEWER) as c:
        all_segs = c.get("/api/segments").json()
        tail = c.get("/api/segments", params={"since": 7}).json()
        two = c.get("/api/segments", params={"since": 2, "limit": 2}).json()
    assert [s["index"] for s in all_segs] == list(range(10))
    assert [s["index"] for s in tail] == [7, 8, 9]
    assert [s["index"] for s in two] == [2, 3]
    classes = {s["segment_class"] for s in all_segs}
    assert classes <= {"ore", "waste-suspect", "contaminated", "uninspected"}
    assert "waste-suspect" in classes or "contaminated" in classes  # the lot carries slag from 300 t


def test_spectrum_is_the_mean_of_the_segment_spectra(finished):
    # Recompute segment 1's mean from the NIR measurements' own station: the simulated spectra are
    # (1 - f) * ore + f * waste + noise, so the segment mean must sit close to the ore spectrum there.
    nir = finished.sim.line.stations[0]
    with finished.client(VIEWER) as c:
        sp = c.get("/api/segments/1/spectrum").json()
    assert sp["axis"] == "wavelength_nm"
    assert len(sp["wavelength_nm"]) == len(sp["mean_reflectance"]) == nir.ore.size
    assert sp["n_spectra"] > 10
    assert np.allclose(sp["mean_reflectance"], nir.ore, atol=0.01)
    assert all(s >= 0 for s in sp["std_reflectance"])


def test_detections_and_png_thumbnails(finished):
    with finished.client(VIEWER) as c:
        dets = c.get("/api/detections").json()
        assert len(dets) == len(finished.service.monitor.detections) > 0
        assert "thumbnail" not in dets[0] and dets[0]["thumbnail_url"].endswith("/thumbnail.png")
        r = c.get(dets[0]["thumbnail_url"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
        from io import BytesIO

        from PIL import Image

        img = np.asarray(Image.open(BytesIO(r.content)))
        assert np.array_equal(img, finished.service.monitor.detections[0]["thumbnail"])
        assert c.get(f"/api/detections/{len(dets)}/thumbnail.png").status_code == 404


def test_trends_and_samples(finished):
    with finished.client(VIEWER) as c:
        trend = c.get("/api/trend", params={"last_n": 3600}).json()
        nir = c.get("/api/nir-trend", params={"last_n": 5}).json()
        samples = c.get("/api/samples").json()
    assert len(trend) == len(finished.service.trend)
    assert {"time_s", "lot_t", "rate_t_h", "belt_speed_m_s", "nir_p_waste"} <= set(trend[0])
    assert len(nir) == 5 and all(0.0 <= p["p_waste"] <= 1.0 for p in nir)
    assert samples["total"] == len(finished.service.monitor.increments) > 0
    assert {inc["role"] for inc in samples["increments"]} >= {"routine"}


def test_viewer_token_required_when_configured(finished):
    with finished.client() as anon, finished.client("wrong-token-000") as wrong:
        for path in ("/api/state", "/api/segments", "/api/alarms", "/api/stream", "/api/detections/0/thumbnail.png"):
            assert anon.get(path).status_code == 401, path
            assert wrong.get(path).status_code == 401, path
        assert anon.get("/api/health").status_code == 200
        assert anon.get("/").status_code == 200  # the page itself (it shows the login)
        assert anon.get("/openapi.json").status_code == 200


def test_acknowledge_needs_operator_and_changes_only_that_alarm(finished):
    service = finished.service
    alarm = next(a for a in service.alarms.all() if a.state == "raised")
    before = [(a.alarm_id, a.state) for a in service.alarms.all()]
    path = f"/api/alarms/{alarm.alarm_id}/acknowledge"
    with finished.client() as anon, finished.client(VIEWER) as viewer, finished.client(OPERATOR) as op:
        assert anon.post(path, json={"by": "x"}).status_code == 401
        r = viewer.post(path, json={"by": "x"})
        assert r.status_code == 403 and "operator" in r.json()["detail"]
        assert [(a.alarm_id, a.state) for a in service.alarms.all()] == before  # nothing changed
        r = op.post(path, json={"by": "shift lead"})
        assert r.status_code == 200 and r.json()["state"] == "acknowledged"
        assert op.post(path).status_code == 200  # twice is harmless; body optional
        assert op.post("/api/alarms/999999/acknowledge").status_code == 404
    after = service.alarms.get(alarm.alarm_id)
    assert after.state == "acknowledged" and after.acknowledged_by == "shift lead"
    changed = [i for (i, s), a in zip(before, service.alarms.all()) if a.state != s]
    assert changed == [alarm.alarm_id]


def test_session_cookie_login_grants_role(finished):
    with finished.client() as c:
        assert c.post("/api/session", json={"token": "not-a-token"}).status_code == 401
        r = c.post("/api/session", json={"token": OPERATOR})
        assert r.status_code == 200 and r.json()["role"] == "operator"
        assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
        assert c.get("/api/session").json()["role"] == "operator"
        assert c.get("/api/state").status_code == 200
        c.delete("/api/session")
        c.cookies.clear()
        assert c.get("/api/state").status_code == 401


def test_cross_origin_command_refused(finished):
    alarm = next(a for a in finished.service.alarms.all() if a.state == "raised")
    with finished.client(OPERATOR) as op:
        r = op.post(f"/api/alarms/{alarm.alarm_id}/acknowledge", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert finished.service.alarms.get(alarm.alarm_id).state == "raised"


@pytest.mark.parametrize("path, body, status", [
    ("/api/alarms/0/acknowledge", None, 422),
    ("/api/alarms/abc/acknowledge", None, 422),
    ("/api/alarms/1/acknowledge", {"by": ""}, 422),
    ("/api/alarms/1/acknowledge", {"by": "x" * 65}, 422),
    ("/api/alarms/1/acknowledge", {"by": "ok", "extra": 1}, 422),
    ("/api/alarms/1/acknowledge", {"by": "bell\x07"}, 422),
    ("/api/samples/targeted", {"mark_t": -1, "reason": "x"}, 422),
    ("/api/samples/targeted", {"mark_t": "NaN", "reason": "x"}, 422),
    ("/api/samples/targeted", {"mark_t": 5}, 422),
    ("/api/lot/stop", {"reason": "x"}, 422),
    ("/api/lot/stop", {"reason": "x", "confirm": False}, 422),
    ("/api/lot/stop", [1, 2], 422),
])
def test_malformed_commands_get_4xx_and_change_nothing(finished, path, body, status):
    before = [(a.alarm_id, a.state) for a in finished.service.alarms.all()]
    pending = finished.sim.sampler.status()["targeted_pending"]
    with finished.client(OPERATOR) as op:
        r = op.post(path, json=body) if body is not None else op.post(path)
    assert r.status_code == status, r.text
    assert "detail" in r.json()
    assert [(a.alarm_id, a.state) for a in finished.service.alarms.all()] == before
    assert finished.sim.sampler.status()["targeted_pending"] == pending


def test_not_json_and_oversized_bodies(finished):
    with finished.client(OPERATOR) as op:
        r = op.post("/api/lot/stop", content=b"reason=x&confirm=true",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422
        r = op.post("/api/lot/stop", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 422
        r = op.post("/api/session", content=b"x" * (MAX_BODY_BYTES + 1), headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "at most" in r.json()["detail"]

        def chunks():
            yield b'{"token": "'
            yield b'abc"}'

        r = op.post("/api/session", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 411


@pytest.mark.parametrize("query", ["/api/segments?since=-1", "/api/segments?limit=0", "/api/trend?last_n=0",
                                   "/api/trend?last_n=99999", "/api/alarms?limit=x", "/api/segments/x/spectrum",
                                   "/api/reports/lot/exe"])
def test_bad_queries_are_422(finished, query):
    with finished.client(VIEWER) as c:
        assert c.get(query).status_code == 422


def test_commands_on_an_ended_lot_are_409(finished):
    with finished.client(OPERATOR) as op:
        r = op.post("/api/lot/stop", json={"reason": "test", "confirm": True})
        assert r.status_code == 409
        r = op.post("/api/samples/targeted", json={"mark_t": 10.0, "reason": "test"})
        assert r.status_code == 409


def test_reports_only_registered_files(finished, tmp_path):
    lot_id = finished.service.monitor.lot_id
    html = tmp_path / "r.html"
    html.write_text("<html><body>report</body></html>")
    finished.service.reports[lot_id] = {"html": str(html), "pdf": str(tmp_path / "missing.pdf")}
    try:
        with finished.client(VIEWER) as c:
            listing = c.get("/api/reports").json()
            assert listing == [{"lot_id": lot_id, "links": {"html": f"/api/reports/{lot_id}/html"}}]
            r = c.get(f"/api/reports/{lot_id}/html")
            assert r.status_code == 200 and "report" in r.text
            assert c.get(f"/api/reports/{lot_id}/pdf").status_code == 404
            assert c.get("/api/reports/..%2F..%2Fetc%2Fpasswd/html").status_code == 404
            assert c.get("/api/reports/nolot/html").status_code == 404
    finally:
        finished.service.reports.pop(lot_id)


def test_commands_disabled_without_operator_token():
    sim = build_sim_line(speedup=math.inf, lot_mass_t=200.0)
    served = serve(sim, operator_token=None)
    try:
        with served.client("anything-at-all") as c:
            r = c.post("/api/lot/stop", json={"reason": "x", "confirm": True})
            assert r.status_code == 403 and "disabled" in r.json()["detail"]
            assert c.get("/api/session").json() == {"role": "viewer", "commands_enabled": False,
                                                    "open_viewing": True}
    finally:
        served.server.stop()


def test_targeted_sample_and_stop_on_a_running_lot(live):
    wait_until(lambda: live.service.state is not None and live.service.state.lot_tonnage_t >= 20, timeout_s=30,
               what="the line to start")
    lot_id = live.service.state.lot_id
    with live.client(OPERATOR) as op:
        r = op.post("/api/samples/targeted", json={"mark_t": 150.0, "reason": "suspicious colour"})
        assert r.status_code == 200, r.text
        assert r.json()["detail"]["pending"] >= 1
        r = op.post("/api/samples/targeted", json={"mark_t": 1e6, "reason": "beyond the lot"})
        assert r.status_code == 422
        r = op.post("/api/lot/stop", json={"reason": "test stop", "confirm": True})
        assert r.status_code == 200
    wait_until(lambda: live.sim.ends and live.sim.ends[0].lot_id == lot_id, timeout_s=30, what="the lot to stop")
    end = live.sim.ends[0]
    assert end.status == "aborted" and "test stop" in end.reason
