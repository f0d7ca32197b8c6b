"""A targeted request the real sampler would skip is refused at once (409 with the reason), through the server."""

from __future__ import annotations

import threading

from conveyor.clock import SimulatedClock
from conveyor.config import validate_section
from analysis.decide import VERDICT_FIELDS
from analysis.service import LineService
from analysis.web.server import ControlRoomServer
from tests.controlroom.conftest import OPERATOR
from tests.lines import build_line
from tests.lines.sampler import make_station
from tests.support import wait_until


def test_a_rate_limited_targeted_request_gets_409_with_the_reason_and_nothing_is_queued(tmp_path):
    clock = SimulatedClock(speedup=20.0)
    station = make_station(tmp_path, clock=clock, targeted_min_spacing_t=50.0)
    rig = build_line([station], clock=clock, mass_t=3000.0, speed_m_s=6.0, seed=3, decide=True,
                     verdict=validate_section({}, VERDICT_FIELDS, "verdict"), on_targeted=station.request_targeted,
                     keep_records=False, tick_s=1.0)
    service = LineService(rig.line, rig.monitor, rig.alarms, site={"line": {"name": "refusal"}},
                          request_targeted=station.request_targeted)
    server = ControlRoomServer(service, operator_token=OPERATOR).start()
    runner = threading.Thread(target=lambda: rig.run_lot("LOT9", vessel="MV T"), daemon=True)
    runner.start()
    import httpx

    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {OPERATOR}"}, timeout=10) as c:
            wait_until(lambda: (c.get("/api/state").json().get("state") or {}).get("lot_tonnage_t", 0) > 5,
                       timeout_s=60, what="the lot")
            first = c.post("/api/samples/targeted", json={"mark_t": 1500.0, "reason": "dark band"})
            assert first.status_code == 200, first.text
            second = c.post("/api/samples/targeted", json={"mark_t": 1520.0, "reason": "dark band, again"})
            assert second.status_code == 409, second.text
            assert "rate limited: 20.0 t from LOT9-T001 (minimum spacing 50 t)" in second.json()["detail"]
            # nothing was queued or recorded for the refused request; a request 50 t away is still taken
            assert [r.increment_id for r in station.custody.increments.values() if r.role == "targeted"] == []
            assert [i.increment_id for i in station._pending if i.role == "targeted"] == ["LOT9-T001"]
            third = c.post("/api/samples/targeted", json={"mark_t": 1560.0, "reason": "another band"})
            assert third.status_code == 200, third.text
    finally:
        rig.line.request_stop("test teardown")
        runner.join(30)
        server.stop()
        station.close()
