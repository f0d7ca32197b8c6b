"""The control room on the real composition of a line (``analysis.site.compose`` of the shipped site file)."""

from __future__ import annotations

import threading

import pytest

from analysis.web.server import ControlRoomServer
from tests.controlroom.conftest import OPERATOR
from tests.support import wait_until


@pytest.mark.e2e
@pytest.mark.slow
def test_served_composed_site_streams_and_stops(tmp_path):
    site_mod = pytest.importorskip("analysis.site")
    site = site_mod.load_site()
    site["simulation"]["speedup"] = 30.0
    plant = site_mod.compose(site, tmp_path)
    server = ControlRoomServer(plant.service, operator_token=OPERATOR).start()
    ends = []
    runner = threading.Thread(target=lambda: ends.append(plant.run_lot()), daemon=True)
    runner.start()
    import httpx

    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {OPERATOR}"}, timeout=10) as c:
            state = wait_until(lambda: (s := c.get("/api/state").json())["state"] and s["state"]["lot_tonnage_t"] > 5
                               and s, timeout_s=60, what="the composed line to move", interval_s=0.1)
            assert state["line"] == site["line"]["name"]
            assert {s["name"] for s in state["stations"]} == set(plant.stations)
            for det in c.get("/api/detections").json():
                if det["thumbnail_url"]:
                    assert c.get(det["thumbnail_url"]).headers["content-type"] == "image/png"
            r = c.post("/api/lot/stop", json={"reason": "test of the composed site", "confirm": True})
            assert r.status_code == 200, r.text
        runner.join(60)
        assert ends and ends[0].status == "aborted" and "composed site" in ends[0].reason
    finally:
        plant.line.request_stop("test teardown")
        runner.join(30)
        server.stop()
        plant.close()
