"""Line events as trend markers (analysis.decide.markers): faults by alarm category, acknowledgements, increments."""

from __future__ import annotations

import math

from analysis.decide import MARKER_KINDS, trend_markers
from analysis.model import Alarm


def _alarm(i: int, category: str, t: float, **kw) -> Alarm:
    return Alarm(i, f"k{i}", category, "alarm", f"message {i}", t, lot_id="L", **kw)


def test_faults_alarms_acknowledgements_and_increments_become_markers_in_time_order():
    alarms = [_alarm(1, "scale_fault", 30.0), _alarm(2, "nir_fault", 10.0, mark_t=12.5),
              _alarm(3, "camera_fault", 40.0), _alarm(4, "contamination", 50.0, mark_t=80.0, state="acknowledged",
                                                     acknowledged_time_s=55.0, acknowledged_by="Ana")]
    increments = [{"time_s": 20.0, "mark_t": 30.0, "status": "cut", "role": "routine", "number": 1},
                  {"time_s": 25.0, "mark_t": 35.0, "status": "late", "role": "routine", "number": 2},
                  {"time_s": 26.0, "mark_t": 36.0, "status": "skipped", "role": "targeted", "number": 1,
                   "reason": "robot busy"},
                  {"time_s": 27.0, "mark_t": 37.0, "status": "missed", "role": "routine", "number": 3},
                  {"time_s": 28.0, "mark_t": 38.0, "status": "requested", "role": "targeted", "number": 2},
                  {"time_s": math.nan, "mark_t": 39.0, "status": "cut", "role": "routine", "number": 4}]
    markers = trend_markers(alarms, increments)
    assert [(m["kind"], m["time_s"]) for m in markers] == [
        ("station_fault", 10.0), ("increment_taken", 20.0), ("increment_late", 25.0), ("increment_skipped", 26.0),
        ("increment_skipped", 27.0), ("scale_dropout", 30.0), ("station_fault", 40.0), ("alarm_raised", 50.0),
        ("alarm_acknowledged", 55.0)]
    assert markers[0]["lot_t"] == 12.5 and markers[5]["lot_t"] is None
    assert "robot busy" in markers[3]["label"] and "Ana" in markers[-1]["label"]
    assert {m["kind"] for m in markers} <= set(MARKER_KINDS)
