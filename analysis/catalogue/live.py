"""The running line's side of the catalogue: listeners that queue catalogue changes as the lot goes.

:class:`LineCatalogue` listens to the monitor (segments, verdicts), the alarm book (raise/ack/clear, events)
and the line's records (line events, belt stop and start from the belt speed); each change goes through the
:class:`~analysis.catalogue.writer.CatalogueWriter`, so no listener waits on the database. At lot end the
closed archive is indexed whole (:func:`~analysis.catalogue.index.index_archive`), so the lot's row ends
exactly as ``oreline lots reindex`` would write it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from analysis.catalogue import store
from analysis.catalogue.index import index_into
from analysis.catalogue.writer import CatalogueWriter
from analysis.model import Alarm, LotVerdict, SegmentDecision
from conveyor.records import LineEvent

#: Belt speed below which the belt counts as stopped, m/s.
BELT_STOPPED_M_S = 0.05


def alarm_columns(alarm: Alarm, epoch_s: float) -> dict[str, Any]:
    """``alarms`` columns of a changed alarm; ``epoch_s`` stands in for a clock time the alarm does not carry."""
    def at(value: float, fallback: bool) -> float | None:
        return value if math.isfinite(value) else (epoch_s if fallback else None)
    return {
        "alarm_id": alarm.alarm_id, "key": alarm.key, "category": alarm.category, "severity": alarm.severity,
        "message": alarm.message, "state": alarm.state, "segment_index": alarm.segment_index,
        "parent_id": alarm.parent_id if alarm.parent_id >= 0 else None, "acknowledged_by": alarm.acknowledged_by,
        "ack_comment": alarm.ack_comment, "shelve_reason": alarm.shelve_reason,
        "shelved_until_epoch_s": at(alarm.shelved_until_epoch_s, False),
        "raised_epoch_s": at(alarm.raised_epoch_s, True),
        "acknowledged_epoch_s": at(alarm.acknowledged_epoch_s, alarm.state == "acknowledged"),
        "cleared_epoch_s": at(alarm.cleared_epoch_s, alarm.state == "cleared"),
    }


class LineCatalogue:
    """Queues the catalogue changes of one line's lots (attach with :meth:`attach`)."""

    def __init__(self, writer: CatalogueWriter, *, line: str = "", epoch: Callable[[], float] = time.time) -> None:
        self.writer, self.line, self._epoch = writer, line, epoch
        self.lot_id = ""
        self._belt_stopped: bool | None = None

    def _submit(self, change: Callable[[Session], object]) -> None:
        self.writer.submit(change)

    def attach(self, plant: Any, archive_path: Path | None) -> None:
        """Listen to ``plant`` (monitor, alarm book, line) for its current lot."""
        lot = plant.lot
        self.lot_id = lot.lot_id
        self._belt_stopped = None
        fields = {"line": self.line, "vessel": lot.vessel, "hold": str(lot.hold), "product": lot.declared_product,
                  "supplier": lot.supplier, "declared_mass_t": lot.declared_mass_t, "status": "open",
                  "started_epoch_s": self._epoch(), "line_verdict": "pending",
                  "archive_path": str(archive_path.resolve()) if archive_path else ""}
        lot_id = self.lot_id
        self._submit(lambda s: store.upsert_lot(s, lot_id, fields))
        plant.monitor.segment_listeners.append(self.on_segment)
        plant.monitor.verdict_listeners.append(self.on_verdict)
        plant.alarms.listeners.append(self.on_alarm)
        plant.alarms.event_listeners.append(self.on_event)
        plant.line.listeners.append(self.on_tick)
        plant.line.add_sink(self)

    def on_segment(self, d: SegmentDecision) -> None:
        lot_id, n, end_t = self.lot_id, d.index + 1, d.end_t

        def change(s: Session) -> None:
            row = store.ensure_lot(s, lot_id)
            row.segments_total = max(row.segments_total or 0, n)
            row.tonnage_t = max(row.tonnage_t or 0.0, end_t)
        self._submit(change)

    def on_verdict(self, v: LotVerdict) -> None:
        fields = {"line_verdict": v.verdict, "line_confidence": v.confidence, "segments_by_class":
                  dict(v.segments_by_class), "uninspected_fraction": v.uninspected_fraction}
        if v.final or v.verdict != "pending":
            fields["line_verdict_epoch_s"] = self._epoch()
        lot_id = self.lot_id
        self._submit(lambda s: store.upsert_lot(s, lot_id, fields))

    def on_alarm(self, _action: str, alarm: Alarm) -> None:
        lot_id = alarm.lot_id or self.lot_id
        columns = alarm_columns(alarm, self._epoch())
        self._submit(lambda s: store.upsert_alarm(s, lot_id, columns))

    def on_event(self, event: dict[str, Any]) -> None:
        """An event of the alarm book or the line (dict with kind, source, message, lot_t, detail)."""
        lot_id, row = event.get("lot_id") or self.lot_id, {"epoch_s": self._epoch(), **event}
        self._submit(lambda s: store.add_event(s, lot_id, row))

    def on_command(self, command: dict[str, Any]) -> None:
        """An operator command (operator, command, detail, result)."""
        lot_id, row = command.get("lot_id") or self.lot_id, {"epoch_s": self._epoch(), **command}
        self._submit(lambda s: store.add_command(s, lot_id, row))

    def on_tick(self, state: Any) -> None:
        """Belt stop and start as events, from the measured belt speed."""
        stopped = float(state.belt_speed_m_s) < BELT_STOPPED_M_S and getattr(state, "phase", "") != "ended"
        if self._belt_stopped is None:
            self._belt_stopped = stopped
            return
        if stopped != self._belt_stopped:
            self._belt_stopped = stopped
            kind = "belt_stop" if stopped else "belt_start"
            self.on_event({"kind": kind, "source": "belt", "lot_t": state.lot_tonnage_t,
                           "message": f"belt {'stopped' if stopped else 'running'} at {state.lot_tonnage_t:.1f} t",
                           "detail": {"speed_m_s": float(state.belt_speed_m_s), "line_time_s": state.time_s}})

    def handle(self, record: Any) -> None:
        """Line events (station and scale faults, sampler skips) as catalogue events (a record sink)."""
        if not isinstance(record, LineEvent):
            return
        mark = record.mark_t
        self.on_event({"kind": record.kind, "source": record.source, "message": record.message,
                       "lot_t": None, "detail": {"severity": record.severity,
                                                 "mark_t": mark if math.isfinite(mark) else None}})

    def finish(self, archive_path: Path | None, reports: dict[str, str] | None = None) -> None:
        """At lot end: index the closed archive (the lot's final row), then the report paths."""
        lot_id, line = self.lot_id, self.line
        paths = {f"report_{k}": str(v) for k, v in (reports or {}).items() if k in ("html", "pdf")}

        def change(s: Session) -> None:
            if archive_path is not None and archive_path.is_file():
                index_into(s, archive_path, line=line)
            if paths:
                store.upsert_lot(s, lot_id, paths)
        self._submit(change)
