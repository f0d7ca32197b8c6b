"""A past lot opened from its archive through a real control room (real HTTP client): segments, evidence,
increments, trends with their event markers; a missing or corrupt archive is a clear 410 and the row stays."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest

from analysis.decide import MARKER_KINDS
from tests.controlroom.pastlots import STOP_AT_S, STOP_FOR_S, past_lots_room
from tests.controlroom.test_browser import CHROMIUM, browser, page  # noqa: F401 (the Chromium fixtures)

CHROMIUM_OK = os.path.exists(CHROMIUM) and shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    served, catalogue = past_lots_room(tmp_path_factory.mktemp("past"))
    yield served
    served.server.stop()
    catalogue.close()


def _client(room) -> httpx.Client:
    return httpx.Client(base_url=room.url, timeout=20.0)


def test_past_segments_and_increments_are_those_the_line_decided_and_cut(room):
    with _client(room) as c:
        for lot in room.lots:
            segs = c.get(f"/api/lots/{lot.lot_id}/segments")
            assert segs.status_code == 200, segs.text
            got = [(s["index"], s["segment_class"], round(s["end_t"], 6)) for s in segs.json()]
            assert got == [(d.index, d.segment_class, round(d.end_t, 6)) for d in lot.snapshot.segments]
            incs = c.get(f"/api/lots/{lot.lot_id}/samples").json()
            assert incs["total"] == len(lot.snapshot.increments) > 0
            assert [(i["number"], i["role"], i["status"]) for i in incs["increments"]] == \
                [(i["number"], i["role"], i["status"]) for i in lot.snapshot.increments]
        first, second = (c.get(f"/api/lots/{lot.lot_id}/segments").json() for lot in room.lots)
        assert first != second, "each lot is read from its own archive"


def test_past_evidence_spectrum_identification_detections_and_thumbnails(room):
    lot = room.lots[0]
    with _client(room) as c:
        dets = c.get(f"/api/lots/{lot.lot_id}/detections", params={"limit": 1000}).json()
        assert len(dets) == len(lot.snapshot.detections) > 0
        assert [d["kind"] for d in dets] == [d["kind"] for d in lot.snapshot.detections]
        png = c.get(dets[0]["thumbnail_url"])
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        assert c.get(f"/api/lots/{lot.lot_id}/detections/{len(dets)}/thumbnail.png").status_code == 404
        seg = next(d.index for d in lot.snapshot.segments if d.nir_spectra > 0)
        sp = c.get(f"/api/lots/{lot.lot_id}/segments/{seg}/spectrum").json()
        expected = next(d for d in lot.snapshot.segments if d.index == seg)
        assert sp["segment"] == seg and sp["n_spectra"] == expected.nir_spectra
        assert len(sp["mean_reflectance"]) == len(sp["wavelength_nm"]) == len(sp["std_reflectance"]) > 8
        assert c.get(f"/api/lots/{lot.lot_id}/segments/9999/spectrum").status_code == 404


def test_past_trends_hold_the_whole_lot_the_belt_stop_and_the_event_markers(room):
    lot = room.lots[1]
    with _client(room) as c:
        t = c.get(f"/api/lots/{lot.lot_id}/trends").json()
    assert t["legend"] == MARKER_KINDS
    assert t["rate"][-1]["lot_t"] == pytest.approx(lot.snapshot.segments[-1].end_t, abs=1e-6)
    assert len(t["nir"]) > 100 and all(0.0 <= p["p_waste"] <= 1.0 for p in t["nir"])
    assert any(a <= STOP_AT_S + 10 and b >= STOP_AT_S + STOP_FOR_S - 10 for a, b in t["stops"]), t["stops"]
    kinds = [m["kind"] for m in t["markers"]]
    assert kinds.count("increment_taken") == len(lot.snapshot.increments)
    raised = [a for a in lot.alarms]
    assert kinds.count("alarm_raised") + kinds.count("station_fault") + kinds.count("scale_dropout") == len(raised) > 0
    assert all(m["time_s"] is not None for m in t["markers"])


def test_live_lot_markers_come_from_the_line(room):
    with _client(room) as c:
        body = c.get("/api/markers").json()
    snap = room.live.monitor.snapshot()
    assert body["lot_id"] == snap.lot_id
    assert [m["kind"] for m in body["markers"]].count("increment_taken") == len(snap.increments) > 0


def test_a_missing_or_corrupt_archive_is_a_clear_410_and_the_row_stays(room):
    with _client(room) as c:
        for lot_id, words in ((room.missing, "is missing"), (room.corrupt, "cannot be read")):
            for part in ("segments", "trends", "samples", "detections", "segments/0/spectrum"):
                r = c.get(f"/api/lots/{lot_id}/{part}")
                assert r.status_code == 410, (part, r.text)
                assert lot_id in r.json()["detail"] and words in r.json()["detail"]
            row = c.get(f"/api/lots/{lot_id}")
            assert row.status_code == 200 and row.json()["lot"]["lot_id"] == lot_id
        r = c.get("/api/lots/NO-SUCH-LOT/segments")
        assert r.status_code == 404 and "NO-SUCH-LOT" in r.json()["detail"]


@pytest.mark.e2e
@pytest.mark.skipif(not CHROMIUM_OK, reason=f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)")
def test_the_page_opens_past_lots_in_the_live_panels_read_only(room, request, tmp_path_factory):
    pg = request.getfixturevalue("page")
    pg.goto(room.url + "/")
    pg.wait_for_selector("#conn.conn-live")
    lot = room.lots[0]
    pg.click(f"#lots tr[data-lot='{lot.lot_id}']")
    pg.wait_for_selector("#past-banner:not([hidden])")
    assert lot.lot_id in pg.text_content("#past-text") and "read-only" in pg.text_content("#past-text")
    assert lot.lot_id in pg.text_content("#lot-id")
    n_segments = len(lot.snapshot.segments)
    pg.wait_for_function(f"() => document.querySelectorAll('#belt rect.seg').length === {n_segments}")
    classes = pg.eval_on_selector_all("#belt rect.seg", "els => els.map(e => e.dataset.class)")
    assert classes == [d.segment_class for d in lot.snapshot.segments]
    assert pg.is_hidden("#commands"), "a past lot is read-only: no commands"
    # evidence: a detection thumbnail from the archive, a segment's spectrum and NIR identification
    pg.wait_for_selector("#detections .det img[src*='/api/lots/']")
    pg.click("#belt rect.seg[data-index='1']")
    pg.wait_for_function("() => document.querySelectorAll('#spectrum path').length > 0")
    assert "segment 1" in pg.text_content("#evidence-title")
    rows = pg.eval_on_selector_all("#increments tr", "els => els.length")
    assert rows == min(10, len(lot.snapshot.increments))
    # trends: the whole lot, the belt stop and the event markers with their legend
    pg.wait_for_function("() => window.Trends.charts['trend-rate'].u.data[0].length > 100")
    markers = pg.evaluate("() => window.Trends.markers().length")
    with _client(room) as c:
        assert markers == len(c.get(f"/api/lots/{lot.lot_id}/trends").json()["markers"]) > len(lot.snapshot.increments)
    legend = pg.text_content("#trend-legend")
    for text in ("belt stop", "station fault", "scale dropout", "increment taken", "alarm raised", "alarm acknowledged"):
        assert text in legend
    pos = pg.evaluate("""() => { const u = window.Trends.charts['trend-rate'].u, m = window.Trends.markers()[0];
        const r = u.over.getBoundingClientRect(); return [r.left + u.valToPos(m.time_s, 'x'), r.top + 20]; }""")
    pg.mouse.move(*pos)
    pg.wait_for_function("() => document.getElementById('trend-marker-info').textContent.includes(' at ')")
    shot = tmp_path_factory.getbasetemp() / "past-lot.png"
    pg.screenshot(path=str(shot), full_page=True)
    # another lot, then a lot whose archive is gone: the banner says why, the record stays
    pg.click(f"#lots tr[data-lot='{room.lots[1].lot_id}']")
    pg.wait_for_function(f"() => document.getElementById('lot-id').textContent.includes('{room.lots[1].lot_id}')")
    pg.click(f"#lots tr[data-lot='{room.missing}']")
    pg.wait_for_selector("#past-banner.past-error")
    assert "is missing" in pg.text_content("#past-text")
    assert room.missing in pg.text_content("#lot-record")
    # back to the live lot
    pg.click("#past-live")
    live_id = room.live.monitor.snapshot().lot_id
    pg.wait_for_function(f"() => document.getElementById('lot-id').textContent === '{live_id}'")
    outside = [u for u in pg.requests_seen if not (u.startswith(room.url) or u.startswith("data:"))]
    assert not outside and not pg.errors_seen, (outside[:5], pg.errors_seen[:5])
