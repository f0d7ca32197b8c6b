"""Alarms with a lifecycle: raised → acknowledged → cleared, with history.

An alarm has a ``key`` (what it is about, e.g. ``"nir:fault"`` or
``"segment:12:waste"``); raising a key that is already active updates nothing
and returns the active alarm, so a condition that persists for many ticks makes
one alarm. Every change is appended to the history and told to listeners
(archive, PLC bits, control room). Thread-safe.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from typing import Any, Callable, Mapping

from analysis.errors import AlarmError
from analysis.model import Alarm

#: Alarm categories and the bit each sets in the PLC alarm words (documented in the register map).
ALARM_CATEGORIES: tuple[str, ...] = (
    "waste",            # a segment classed waste-suspect / lot verdict waste
    "contamination",    # foreign object or contaminant spectra
    "nir_fault",        # spectrometer dropout, saturation, reference drift
    "camera_fault",     # frame loss, disconnect
    "sampler_fault",    # robot jam, missed cut, e-stop
    "scale_fault",      # belt-scale disconnect, totaliser anomaly
    "plc_fault",        # PLC link
    "uninspected",      # a segment that no station could inspect
    "system",           # anything else (a failing record sink other than the archive)
    "archive",          # the lot archive failed (disk full, I/O error): the lot's record is incomplete
)
SEVERITIES: tuple[str, ...] = ("info", "warning", "alarm", "critical")


class AlarmBook:
    """Active alarms and their history."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._next_id = 1
        self._alarms: dict[int, Alarm] = {}
        self._active_by_key: dict[str, int] = {}
        self.history: list[tuple[float, str, Alarm]] = []
        self.listeners: list[Callable[[str, Alarm], None]] = []

    def _record(self, action: str, alarm: Alarm) -> Alarm:
        self._alarms[alarm.alarm_id] = alarm
        self.history.append((self._clock(), action, alarm))
        for listener in list(self.listeners):
            listener(action, alarm)
        return alarm

    def raise_alarm(
        self,
        key: str,
        category: str,
        severity: str,
        message: str,
        *,
        lot_id: str = "",
        mark_t: float = math.nan,
        segment_index: int = -1,
        evidence: Mapping[str, Any] | None = None,
    ) -> Alarm:
        """Raise an alarm (or return the active one with the same key)."""
        if category not in ALARM_CATEGORIES:
            raise AlarmError(f"alarm category must be one of {ALARM_CATEGORIES}, got {category!r}")
        if severity not in SEVERITIES:
            raise AlarmError(f"alarm severity must be one of {SEVERITIES}, got {severity!r}")
        with self._lock:
            active = self._active_by_key.get(key)
            if active is not None:
                return self._alarms[active]
            alarm = Alarm(
                alarm_id=self._next_id, key=key, category=category, severity=severity, message=message,
                raised_time_s=self._clock(), lot_id=lot_id, mark_t=mark_t, segment_index=segment_index,
                evidence=dict(evidence or {}),
            )
            self._next_id += 1
            self._active_by_key[key] = alarm.alarm_id
            return self._record("raised", alarm)

    def acknowledge(self, alarm_id: int, by: str) -> Alarm:
        """Acknowledge an alarm. Raises AlarmError for an unknown id; acknowledging twice is harmless."""
        with self._lock:
            alarm = self.get(alarm_id)
            if alarm.state != "raised":
                return alarm
            acked = dataclasses.replace(alarm, state="acknowledged", acknowledged_time_s=self._clock(), acknowledged_by=by)
            return self._record("acknowledged", acked)

    def clear(self, key: str) -> Alarm | None:
        """Clear the active alarm of ``key`` (the condition went away); None when none is active."""
        with self._lock:
            alarm_id = self._active_by_key.pop(key, None)
            if alarm_id is None:
                return None
            cleared = dataclasses.replace(self._alarms[alarm_id], state="cleared", cleared_time_s=self._clock())
            return self._record("cleared", cleared)

    def get(self, alarm_id: int) -> Alarm:
        with self._lock:
            try:
                return self._alarms[alarm_id]
            except KeyError:
                raise AlarmError(f"no alarm with id {alarm_id}") from None

    def is_active(self, key: str) -> bool:
        with self._lock:
            return key in self._active_by_key

    def all(self) -> list[Alarm]:
        """Every alarm in its current state, newest first."""
        with self._lock:
            return sorted(self._alarms.values(), key=lambda a: -a.alarm_id)

    def active(self) -> list[Alarm]:
        with self._lock:
            return [self._alarms[i] for i in sorted(self._active_by_key.values(), reverse=True)]

    def category_bits(self, *, unacknowledged_only: bool = False) -> int:
        """Bit word of categories with an active (optionally unacknowledged) alarm; bit i = ALARM_CATEGORIES[i]."""
        bits = 0
        for alarm in self.active():
            if unacknowledged_only and alarm.state != "raised":
                continue
            bits |= 1 << ALARM_CATEGORIES.index(alarm.category)
        return bits
