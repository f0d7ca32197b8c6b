"""The running line as the control room and the PLC see it: state, history and commands.

:class:`LineService` owns nothing of the line's work; it listens (tick listener,
monitor listeners, alarm listener), keeps a bounded history for trends and a
change counter for live streams, and turns operator or PLC commands into calls
on the line (acknowledge an alarm, request a targeted sample, stop the lot).
Everything here is thread-safe: the line runs in one thread, the web server and
the Modbus server in others.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Deque

from conveyor.runtime import Line, LineState
from analysis.decide import AlarmBook, LotMonitor
from analysis.model import Alarm, LotVerdict, SegmentDecision, to_dict

if TYPE_CHECKING:
    from analysis.catalogue import LineCatalogue

TREND_POINTS = 3600  # one hour of 1 s ticks


@dataclass(frozen=True)
class TrendPoint:
    time_s: float
    lot_t: float
    rate_t_h: float
    belt_speed_m_s: float
    nir_p_waste: float


class LineService:
    """Live view and command entry of one line."""

    def __init__(self, line: Line, monitor: LotMonitor, alarms: AlarmBook, *, site: dict[str, Any] | None = None,
                 request_targeted: Callable[..., Any] | None = None) -> None:
        self.line = line
        self.monitor = monitor
        self.alarms = alarms
        self.site = site or {}
        self._request_targeted = request_targeted
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.version = 0
        self.state: LineState | None = None
        self.trend: Deque[TrendPoint] = collections.deque(maxlen=TREND_POINTS)
        self.reports: dict[str, dict[str, str]] = {}
        self.run_dir = ""
        #: Folders of closed lot archives the control room's lab queue lists (besides ``run_dir``).
        self.lab_folders: list[str] = []
        self.sampler_status: Callable[[], dict[str, Any]] | None = None
        #: the lot's catalogue link (set by analysis.integration when a catalogue is configured)
        self.catalogue_link: LineCatalogue | None = None
        line.listeners.append(self._on_tick)
        monitor.segment_listeners.append(self._on_segment)
        monitor.verdict_listeners.append(self._on_verdict)
        alarms.listeners.append(self._on_alarm)

    # ---- listeners -----------------------------------------------------------------------------
    def _bump(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    def _on_tick(self, state: LineState) -> None:
        p_waste = self.monitor.nir_trend[-1][1] if self.monitor.nir_trend else float("nan")
        with self._lock:
            self.state = state
            self.trend.append(TrendPoint(state.time_s, state.lot_tonnage_t, state.rate_t_h, state.belt_speed_m_s, p_waste))
        self._bump()

    def _on_segment(self, _d: SegmentDecision) -> None:
        self._bump()

    def _on_verdict(self, _v: LotVerdict) -> None:
        self._bump()

    def _on_alarm(self, _action: str, _a: Alarm) -> None:
        self._bump()

    def wait_for_change(self, since_version: int, timeout_s: float) -> int:
        """Block until the version moves past ``since_version`` or the timeout; return the version."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.version <= since_version:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return self.version

    # ---- views ---------------------------------------------------------------------------------
    def line_state(self) -> dict[str, Any]:
        """The current line state, lot and verdict as JSON-ready data."""
        with self._lock:
            state = self.state
        verdict = self.monitor.verdict
        start = self.monitor.start
        return {
            "version": self.version,
            "line": self.site.get("line", {}).get("name", "oreline"),
            "state": to_dict(state) if state else None,
            "lot": to_dict(start.lot) if start else None,
            "verdict": to_dict(verdict) if verdict else None,
            "segments_decided": len(self.monitor.segments),
            "alarms_active": len(self.alarms.active()),
            "alarms_unacknowledged": sum(1 for a in self.alarms.active() if a.state == "raised"),
            "stations": [
                {"name": s.name, "position_m": s.position_m, "kind": type(s).__name__} for s in self.line.stations
            ],
            "sampler": self.sampler_status() if self.sampler_status else None,
            "run_dir": self.run_dir,
        }

    def segments(self, since_index: int = 0) -> list[dict[str, Any]]:
        return [to_dict(d) for d in self.monitor.segments[since_index:]]

    def trend_points(self, last_n: int = 600) -> list[dict[str, Any]]:
        with self._lock:
            points = list(self.trend)[-last_n:]
        return [to_dict(p) for p in points]

    # ---- commands ------------------------------------------------------------------------------
    def acknowledge(self, alarm_id: int, by: str, *, comment: str = "", lot_id: str | None = None) -> Alarm:
        return self.alarms.acknowledge(alarm_id, by, comment=comment, lot_id=lot_id)

    def request_targeted(self, mark_t: float, reason: str, *, refuse: bool = False) -> Any:
        """Operator- or PLC-requested targeted sample at a lot-relative mark.

        With ``refuse`` a request the sampler would skip raises (a ``ValueError``) with the reason instead of
        being queued and skipped later.
        """
        if self._request_targeted is None:
            raise RuntimeError("no sampler on this line")
        start = self.monitor.plan.lot_start_mark_t if self.monitor.plan else 0.0
        if refuse:
            return self._request_targeted(start + mark_t, reason, 0, refuse=True)
        return self._request_targeted(start + mark_t, reason, 0)

    def stop_lot(self, reason: str) -> None:
        self.line.request_stop(reason)
