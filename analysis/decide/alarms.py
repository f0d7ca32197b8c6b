"""Alarms with a lifecycle (ISA-18.2): raised → acknowledged → cleared, with shelving, grouping and history.

An alarm has a ``key`` (what it is about, e.g. ``"nir:fault"`` or ``"segment:12:waste"``); raising a key that
is already active updates nothing and returns the active alarm, so a condition that persists for many ticks
makes one alarm. Alarm ids come from an :class:`AlarmIds` counter that a control room shares across lots, so
an id names one alarm of one lot. A follow-on alarm (the contaminated segment and the contaminated lot verdict
after a foreign object) is raised as the child of its cause (``parent_id``): acknowledging the cause
acknowledges its children, and only causes count as unacknowledged. Expected states (the NIR baseline's
warm-up) are recorded with :meth:`AlarmBook.note_event` as events, not alarms. Every change is appended to
the history and told to listeners (archive, catalogue, PLC bits, control room); a listener that fails is
logged and never stops an acknowledgement. Thread-safe.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from analysis.errors import AlarmError
from analysis.model import Alarm

log = logging.getLogger(__name__)

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
#: Longest shelving accepted, s (ISA-18.2: shelving is temporary).
MAX_SHELVE_S = 24 * 3600.0


class AlarmIds:
    """Alarm ids that never repeat within one journal (shared by the alarm books of successive lots)."""

    def __init__(self, first: int = 1) -> None:
        self._count = itertools.count(max(1, int(first)))
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return next(self._count)


def _cause_of(alarms: Mapping[int, Alarm], category: str, segment_index: int, key: str) -> int:
    """The active alarm a new one follows on from (-1: none).

    A segment or verdict alarm of category ``contamination``/``waste`` follows the first active alarm of the
    same category raised earlier in the same segment (a verdict alarm: anywhere in the lot)."""
    if category not in ("contamination", "waste"):
        return -1
    is_verdict = key.startswith("verdict:")
    if not (is_verdict or key.startswith("segment:")):
        return -1
    for alarm_id in sorted(alarms):
        a = alarms[alarm_id]
        if a.parent_id >= 0 or a.category != category or a.key == key or not a.active:
            continue
        if is_verdict or a.segment_index == segment_index:
            return alarm_id
    return -1


class AlarmBook:
    """Active alarms and their history for one lot."""

    def __init__(self, clock: Callable[[], float], *, ids: AlarmIds | None = None,
                 epoch: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._epoch = epoch
        self._lock = threading.RLock()
        self._ids = ids or AlarmIds()
        self._alarms: dict[int, Alarm] = {}
        self._active_by_key: dict[str, int] = {}
        self.history: list[tuple[float, str, Alarm]] = []
        self.listeners: list[Callable[[str, Alarm], None]] = []
        #: Listeners of expected-state events (dicts: kind, source, message, lot_id, lot_t, detail).
        self.event_listeners: list[Callable[[dict[str, Any]], None]] = []
        self.events: list[dict[str, Any]] = []

    def use_ids(self, ids: AlarmIds) -> None:
        """Number this book's alarms from ``ids`` (a journal shared across lots); before the first alarm."""
        with self._lock:
            if self._alarms:
                raise AlarmError("alarm ids can only be shared before the first alarm is raised")
            self._ids = ids

    def _tell(self, listeners: list[Callable[..., None]], *args: Any) -> None:
        for listener in list(listeners):
            try:
                listener(*args)
            except Exception as exc:  # a closed archive of an earlier lot must not stop an acknowledgement
                log.debug("alarm listener %r failed: %s", listener, exc)

    def _record(self, action: str, alarm: Alarm) -> Alarm:
        self._alarms[alarm.alarm_id] = alarm
        self.history.append((self._clock(), action, alarm))
        self._tell(self.listeners, action, alarm)
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
        code: str = "",
    ) -> Alarm:
        """Raise an alarm (or return the active one with the same key); ``code`` refines the category and a
        follow-on alarm gets its cause."""
        if category not in ALARM_CATEGORIES:
            raise AlarmError(f"alarm category must be one of {ALARM_CATEGORIES}, got {category!r}")
        if severity not in SEVERITIES:
            raise AlarmError(f"alarm severity must be one of {SEVERITIES}, got {severity!r}")
        with self._lock:
            active = self._active_by_key.get(key)
            if active is not None:
                return self._alarms[active]
            alarm = Alarm(
                alarm_id=self._ids(), key=key, category=category, severity=severity, message=message,
                raised_time_s=self._clock(), lot_id=lot_id, mark_t=mark_t, segment_index=segment_index,
                evidence=dict(evidence or {}), code=code, raised_epoch_s=self._epoch(),
                parent_id=_cause_of(self._alarms, category, segment_index, key),
            )
            self._active_by_key[key] = alarm.alarm_id
            return self._record("raised", alarm)

    def note_event(self, kind: str, message: str, *, source: str = "line", lot_id: str = "",
                   lot_t: float = math.nan, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Record an expected state (e.g. the NIR warm-up) as an event: logged, not an alarm to act on."""
        event = {"kind": kind, "source": source, "message": message, "lot_id": lot_id,
                 "lot_t": lot_t if math.isfinite(lot_t) else None, "epoch_s": self._epoch(),
                 "detail": dict(detail or {})}
        with self._lock:
            self.events.append(event)
        self._tell(self.event_listeners, event)
        return event

    def _check_lot(self, alarm: Alarm, lot_id: str | None) -> None:
        if lot_id is not None and lot_id != alarm.lot_id:
            raise AlarmLotError(f"alarm {alarm.alarm_id} belongs to lot {alarm.lot_id!r}, not {lot_id!r}")

    def acknowledge(self, alarm_id: int, by: str, *, comment: str = "", lot_id: str | None = None) -> Alarm:
        """Acknowledge an alarm and its follow-on alarms.

        Raises AlarmError for an unknown id, or when ``lot_id`` is given and the alarm belongs to another lot.
        Acknowledging twice is harmless (the first acknowledgement stands)."""
        with self._lock:
            alarm = self.get(alarm_id)
            self._check_lot(alarm, lot_id)
            out = self._ack_one(alarm, by, comment)
            for child in [a for a in self._alarms.values() if a.parent_id == alarm_id]:
                self._ack_one(child, by, comment or f"with its cause, alarm {alarm_id}")
            return out

    def _ack_one(self, alarm: Alarm, by: str, comment: str) -> Alarm:
        if alarm.state != "raised":
            return alarm
        acked = dataclasses.replace(alarm, state="acknowledged", acknowledged_time_s=self._clock(),
                                    acknowledged_by=by, ack_comment=comment, acknowledged_epoch_s=self._epoch())
        return self._record("acknowledged", acked)

    def acknowledge_all(self, by: str, *, comment: str = "") -> list[Alarm]:
        """Acknowledge every raised alarm that is not shelved; return those acknowledged."""
        now = self._epoch()
        with self._lock:
            todo = [a for a in self._alarms.values() if a.state == "raised" and not a.shelved(now)]
            return [self._ack_one(a, by, comment) for a in sorted(todo, key=lambda a: a.alarm_id)]

    def shelve(self, alarm_id: int, by: str, *, reason: str, duration_s: float, lot_id: str | None = None) -> Alarm:
        """Shelve an alarm for ``duration_s`` (0 < d <= MAX_SHELVE_S) with a reason; 0 s unshelves it."""
        if not reason.strip() and duration_s > 0:
            raise AlarmError("shelving needs a reason")
        if not 0 <= duration_s <= MAX_SHELVE_S:
            raise AlarmError(f"shelve duration: expected 0..{MAX_SHELVE_S:.0f} s, got {duration_s}")
        with self._lock:
            alarm = self.get(alarm_id)
            self._check_lot(alarm, lot_id)
            until = self._epoch() + duration_s if duration_s > 0 else math.nan
            shelved = dataclasses.replace(alarm, shelved_until_epoch_s=until,
                                          shelve_reason=f"{reason} ({by})" if duration_s > 0 else "")
            return self._record("shelved" if duration_s > 0 else "unshelved", shelved)

    def clear(self, key: str) -> Alarm | None:
        """Clear the active alarm of ``key`` (the condition went away); None when none is active."""
        with self._lock:
            alarm_id = self._active_by_key.pop(key, None)
            if alarm_id is None:
                return None
            cleared = dataclasses.replace(self._alarms[alarm_id], state="cleared", cleared_time_s=self._clock(),
                                          cleared_epoch_s=self._epoch())
            return self._record("cleared", cleared)

    def get(self, alarm_id: int) -> Alarm:
        with self._lock:
            try:
                return self._alarms[alarm_id]
            except KeyError:
                raise AlarmError(f"no alarm with id {alarm_id}") from None

    def has(self, alarm_id: int) -> bool:
        with self._lock:
            return alarm_id in self._alarms

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

    def unacknowledged(self) -> list[Alarm]:
        """Alarms that still need an operator: raised, not shelved, not a follow-on of another alarm."""
        now = self._epoch()
        with self._lock:
            return [a for a in self.all() if a.state == "raised" and a.parent_id < 0 and not a.shelved(now)]

    def category_bits(self, *, unacknowledged_only: bool = False) -> int:
        """Bit word of categories with an active (optionally unacknowledged) alarm; bit i = ALARM_CATEGORIES[i]."""
        bits = 0
        now = self._epoch()
        for alarm in self.active():
            if unacknowledged_only and (alarm.state != "raised" or alarm.shelved(now)):
                continue
            bits |= 1 << ALARM_CATEGORIES.index(alarm.category)
        return bits


class AlarmLotError(AlarmError):
    """An alarm id that names an alarm of another lot than the one the caller meant."""


class AlarmJournal:
    """The alarm books of successive lots as one journal (what a control room that outlives lots shows).

    The current lot's book takes new alarms; books of earlier lots stay while they hold alarms not yet
    acknowledged, so those carry across lots until an operator acknowledges them. Ids are unique across the
    journal (one :class:`AlarmIds`), so an acknowledgement by id can only reach the alarm meant.
    """

    def __init__(self, current: AlarmBook, ids: AlarmIds | None = None) -> None:
        self.ids = ids or AlarmIds()
        current.use_ids(self.ids)
        self.current = current
        self._earlier: list[AlarmBook] = []
        self._lock = threading.Lock()

    def switch(self, book: AlarmBook) -> None:
        """The next lot's book becomes current; the previous one is kept while it has unacknowledged alarms."""
        book.use_ids(self.ids)
        with self._lock:
            self._earlier = [b for b in [*self._earlier, self.current] if b.unacknowledged()]
            self.current = book

    def _books(self) -> list[AlarmBook]:
        with self._lock:
            return [self.current, *self._earlier]

    def book_of(self, alarm_id: int) -> AlarmBook:
        for book in self._books():
            if book.has(alarm_id):
                return book
        raise AlarmError(f"no alarm with id {alarm_id} in this lot or in the unacknowledged alarms of earlier lots")

    def get(self, alarm_id: int) -> Alarm:
        return self.book_of(alarm_id).get(alarm_id)

    def acknowledge(self, alarm_id: int, by: str, *, comment: str = "", lot_id: str | None = None) -> Alarm:
        """Acknowledge by journal id; AlarmLotError when ``lot_id`` is given and the alarm is of another lot."""
        book = self.book_of(alarm_id)
        alarm = book.get(alarm_id)
        if lot_id is not None and lot_id != alarm.lot_id:
            raise AlarmLotError(f"alarm {alarm_id} belongs to lot {alarm.lot_id!r}, not {lot_id!r}")
        return book.acknowledge(alarm_id, by, comment=comment)

    def acknowledge_all(self, by: str, *, comment: str = "") -> list[Alarm]:
        return [a for book in self._books() for a in book.acknowledge_all(by, comment=comment)]

    def shelve(self, alarm_id: int, by: str, *, reason: str, duration_s: float) -> Alarm:
        return self.book_of(alarm_id).shelve(alarm_id, by, reason=reason, duration_s=duration_s)

    def all(self) -> list[Alarm]:
        """The current lot's alarms and the carried unacknowledged ones, newest first."""
        carried = [a for b in self._books()[1:] for a in b.all() if a.state == "raised"]
        return sorted([*self.current.all(), *carried], key=lambda a: -a.alarm_id)

    def active(self) -> list[Alarm]:
        carried = [a for b in self._books()[1:] for a in b.active() if a.state == "raised"]
        return sorted([*self.current.active(), *carried], key=lambda a: -a.alarm_id)

    def unacknowledged(self) -> list[Alarm]:
        return sorted([a for b in self._books() for a in b.unacknowledged()], key=lambda a: -a.alarm_id)

    def is_active(self, key: str) -> bool:
        return self.current.is_active(key)

    def category_bits(self, *, unacknowledged_only: bool = False) -> int:
        bits = 0
        for book in self._books():
            bits |= book.category_bits(unacknowledged_only=unacknowledged_only)
        return bits

    def __getattr__(self, name: str) -> Any:  # listeners, history, raise_alarm...: the current lot's book
        return getattr(self.current, name)
