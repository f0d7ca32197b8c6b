"""Line events as markers on a lot's trends: station faults, scale dropouts, sampler increments, alarms.

One function serves the live lot (the alarm book and the monitor's increments) and a past lot (its archive):
both give :class:`~analysis.model.Alarm` objects and increment rows with the line-clock time ``time_s``, the
lot-relative mark ``mark_t`` and a ``status``. Belt stops are not markers: the page shades them from the belt
speed (live) or the tonnage that did not move (past lots).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from analysis.model import Alarm

#: Marker kinds and their legend text, in legend order.
MARKER_KINDS: dict[str, str] = {
    "station_fault": "station fault",
    "scale_dropout": "scale dropout",
    "increment_taken": "increment taken",
    "increment_late": "increment late",
    "increment_skipped": "increment skipped / missed",
    "alarm_raised": "alarm raised",
    "alarm_acknowledged": "alarm acknowledged",
}
_STATION_FAULTS = frozenset({"nir_fault", "camera_fault", "station_fault"})
_INCREMENT_KIND = {"cut": "increment_taken", "late": "increment_late"}
_PENDING = frozenset({"requested", "scheduled"})


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _marker(kind: str, time_s: Any, mark_t: Any, label: str) -> dict[str, Any] | None:
    t = _finite(time_s)
    if t is None:
        return None
    return {"kind": kind, "time_s": t, "lot_t": _finite(mark_t), "label": label}


def alarm_markers(alarm: Alarm) -> list[dict[str, Any]]:
    """A raised alarm (a scale dropout or station fault by its category) and its acknowledgement."""
    if alarm.category == "scale_fault":
        kind = "scale_dropout"
    elif alarm.category in _STATION_FAULTS:
        kind = "station_fault"
    else:
        kind = "alarm_raised"
    out = [_marker(kind, alarm.raised_time_s, alarm.mark_t, f"#{alarm.alarm_id} {alarm.severity}: {alarm.message}"),
           _marker("alarm_acknowledged", alarm.acknowledged_time_s, alarm.mark_t,
                   f"#{alarm.alarm_id} acknowledged by {alarm.acknowledged_by or '?'}")]
    return [m for m in out if m is not None]


def increment_marker(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """An increment row (``status``, ``time_s``, ``mark_t``, ``role``, ``number``) as a marker; None while pending."""
    status = str(row.get("status", ""))
    if status in _PENDING or not status:
        return None
    kind = _INCREMENT_KIND.get(status, "increment_skipped")
    reason = str(row.get("reason") or "")
    label = f"{row.get('role', '')} increment {row.get('number', '')} {status}" + (f": {reason}" if reason else "")
    return _marker(kind, row.get("time_s"), row.get("mark_t"), label[:200])


def trend_markers(alarms: Iterable[Alarm], increments: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every marker of a lot, oldest first: ``{"kind", "time_s", "lot_t" (or None), "label"}``."""
    out = [m for a in alarms for m in alarm_markers(a)]
    out += [m for m in (increment_marker(r) for r in increments) if m is not None]
    out.sort(key=lambda m: m["time_s"])
    return out


__all__ = ["MARKER_KINDS", "alarm_markers", "increment_marker", "trend_markers"]
