"""The control room's audit trail: who logged in, who was refused, who commanded what, from where, when.

:class:`AuditTrail` turns each login, logout, refusal and command into an
:class:`~analysis.model.AuditEvent`, logs it (logger ``oreline.audit``, one line, never a secret), keeps the
last ``MAX_KEPT`` for ``GET /api/audit`` and hands it to its sink: the lot archive's ``add_audit``
(:func:`analysis.integration` sets it per lot). An event the sink cannot take (no lot archive open yet, the lot
just closed) waits, bounded, and goes into the next archive with its own clock time (:meth:`AuditTrail.flush`
runs with every live-feed refresh).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from analysis.model import AuditEvent

log = logging.getLogger("oreline.audit")

#: Events kept in memory for ``GET /api/audit``.
MAX_KEPT = 1000
#: Events waiting for an archive (the oldest are dropped beyond this, with a warning).
MAX_PENDING = 5000
#: Refusals of one kind from one address are recorded at most once per this many seconds; the ones in between
#: are counted into the next ("+N similar"), so a guessing client cannot flood the log and the archive.
REFUSAL_INTERVAL_S = 1.0

AuditSink = Callable[[AuditEvent], None]


class AuditTrail:
    """Records audit events; ``lot_id`` gives the lot running now ('' between lots)."""

    def __init__(self, lot_id: Callable[[], str] = lambda: "") -> None:
        self._lot_id = lot_id
        self._kept: collections.deque[AuditEvent] = collections.deque(maxlen=MAX_KEPT)
        self._pending: collections.deque[AuditEvent] = collections.deque()
        self._sink: AuditSink | None = None
        self._lock = threading.Lock()
        self._last_refusal: dict[tuple[str, str, str], tuple[float, int]] = {}
        self.delivered = 0
        self.dropped = 0
        self.coalesced = 0

    def set_sink(self, sink: AuditSink | None) -> None:
        """Write events to ``sink`` from now on (the current lot archive's ``add_audit``); pending ones first."""
        with self._lock:
            self._sink = sink
        self.flush()

    def _coalesce(self, action: str, outcome: str, source: str, now: float) -> int | None:
        """None when this refusal is folded into a later one; else how many similar ones were folded before it."""
        key = (source, action, outcome[:12])
        with self._lock:
            last, folded = self._last_refusal.get(key, (-1e18, 0))
            if now - last < REFUSAL_INTERVAL_S:
                self._last_refusal[key] = (last, folded + 1)
                self.coalesced += 1
                return None
            if len(self._last_refusal) > 10_000:
                self._last_refusal.clear()
            self._last_refusal[key] = (now, 0)
            return folded

    def record(self, action: str, outcome: str, *, person: str, role: str, session: str, source: str,
               detail: str = "") -> AuditEvent | None:
        """Log, keep and archive one event; returns it (None for a refusal folded into a later one)."""
        now = time.time()
        if outcome != "ok":
            folded = self._coalesce(action, outcome, source, now)
            if folded is None:
                return None
            if folded:
                detail = f"{detail} (+{folded} similar refused in the {REFUSAL_INTERVAL_S:g} s before)".strip()
        try:
            lot_id = self._lot_id()
        except Exception:  # noqa: BLE001 - the line may be half built between lots; auditing never fails a request
            lot_id = ""
        event = AuditEvent(now, dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="milliseconds"),
                           action, outcome, person, role, session, source, lot_id, detail[:500])
        level = logging.INFO if outcome == "ok" else logging.WARNING
        log.log(level, "%s %s person=%s role=%s session=%s source=%s lot=%s%s", action, outcome, person, role,
                session or "-", source, lot_id or "-", f" detail={detail[:200]!r}" if detail else "")
        with self._lock:
            self._kept.append(event)
            self._pending.append(event)
            while len(self._pending) > MAX_PENDING:
                self._pending.popleft()
                self.dropped += 1
        self.flush()
        return event

    def flush(self) -> int:
        """Hand pending events to the sink, oldest first; stops at the first it refuses. Returns events written."""
        written = 0
        with self._lock:
            sink = self._sink
            while sink is not None and self._pending:
                try:
                    sink(self._pending[0])
                except Exception as exc:  # noqa: BLE001 - no archive open (between lots, before LotStart): keep it
                    log.debug("audit event kept for the next archive: %s", exc)
                    break
                self._pending.popleft()
                written += 1
            self.delivered += written
        return written

    def recent(self, limit: int = 200) -> list[AuditEvent]:
        """The newest ``limit`` events, newest first."""
        with self._lock:
            return list(reversed(self._kept))[:limit]

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)


__all__ = ["MAX_KEPT", "AuditSink", "AuditTrail"]
