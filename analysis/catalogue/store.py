"""Reads and writes of the catalogue's rows (one function per question or change; sessions passed in).

Writers are idempotent: a lot row is upserted by lot id, an alarm by (lot id, alarm id), so replaying an
archive (``oreline lots reindex``) or a writer's retry never duplicates a row.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from analysis.catalogue.models import AlarmRow, CommandRow, EventRow, LotRow

LOT_COLUMNS = tuple(c.name for c in LotRow.__table__.columns)
ALARM_COLUMNS = tuple(c.name for c in AlarmRow.__table__.columns if c.name != "id")
LAB_STATUSES = ("none", "awaiting", "complete")


def _clean(value: Any) -> Any:
    """NaN → None (neither SQL nor JSON keeps NaN portably)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def ensure_lot(session: Session, lot_id: str) -> LotRow:
    """The lot's row, created empty when the catalogue has not seen the lot yet."""
    row = session.get(LotRow, lot_id)
    if row is None:
        row = LotRow(lot_id=lot_id, updated_epoch_s=time.time(), segments_by_class={})
        session.add(row)
        session.flush()
    return row


def upsert_lot(session: Session, lot_id: str, fields: Mapping[str, Any]) -> LotRow:
    """Set ``fields`` (columns of ``lots``) of the lot's row; unknown keys are an error."""
    unknown = set(fields) - set(LOT_COLUMNS)
    if unknown:
        raise KeyError(f"not columns of lots: {sorted(unknown)}")
    row = ensure_lot(session, lot_id)
    for key, value in fields.items():
        setattr(row, key, _clean(value))
    row.updated_epoch_s = time.time()
    return row


def upsert_alarm(session: Session, lot_id: str, fields: Mapping[str, Any]) -> AlarmRow:
    """Insert or update the alarm (``fields["alarm_id"]``) of a lot in its latest state."""
    ensure_lot(session, lot_id)
    alarm_id = int(fields["alarm_id"])
    row = session.scalars(select(AlarmRow).where(AlarmRow.lot_id == lot_id, AlarmRow.alarm_id == alarm_id)).first()
    if row is None:
        row = AlarmRow(lot_id=lot_id, alarm_id=alarm_id)
        session.add(row)
    for key, value in fields.items():
        if key in ALARM_COLUMNS and key not in ("lot_id", "alarm_id"):
            setattr(row, key, _clean(value))
    row.lot_id = lot_id
    return row


def add_event(session: Session, lot_id: str, fields: Mapping[str, Any]) -> EventRow:
    """Append a line event to the lot."""
    ensure_lot(session, lot_id)
    row = EventRow(lot_id=lot_id, epoch_s=float(fields.get("epoch_s") or time.time()),
                   lot_t=_clean(fields.get("lot_t")), kind=str(fields.get("kind", "")),
                   source=str(fields.get("source", "")), message=str(fields.get("message", "")),
                   detail=dict(fields.get("detail") or {}))
    session.add(row)
    return row


def add_command(session: Session, lot_id: str, fields: Mapping[str, Any]) -> CommandRow:
    """Append an operator command to the lot."""
    ensure_lot(session, lot_id)
    row = CommandRow(lot_id=lot_id, epoch_s=float(fields.get("epoch_s") or time.time()),
                     operator=str(fields.get("operator", "")), command=str(fields.get("command", "")),
                     detail=dict(fields.get("detail") or {}), result=str(fields.get("result", "")))
    session.add(row)
    return row


def add_missing_events(session: Session, lot_id: str, events: Sequence[Mapping[str, Any]]) -> int:
    """Add those of ``events`` the lot does not hold yet (by kind, source and message, counted): replaying an
    archive adds nothing twice and keeps the events only the live line saw (belt stops, warm-up)."""
    held = collections.Counter((r.kind, r.source, r.message) for r in
                               session.scalars(select(EventRow).where(EventRow.lot_id == lot_id)))
    added = 0
    for e in events:
        key = (str(e.get("kind", "")), str(e.get("source", "")), str(e.get("message", "")))
        if held[key] > 0:
            held[key] -= 1
            continue
        add_event(session, lot_id, e)
        added += 1
    return added


@dataclass(frozen=True)
class LotFilter:
    """Filters of the lot list; empty fields filter nothing. Dates are epoch seconds (UTC)."""

    since_epoch_s: float | None = None
    until_epoch_s: float | None = None
    vessel: str = ""
    verdict: str = ""      # line or lab verdict
    lab_status: str = ""   # none | awaiting | complete
    text: str = ""         # search in lot id, vessel, product
    limit: int = 200
    offset: int = 0


def lots_query(f: LotFilter) -> Select[LotRow]:
    """The SELECT of the lot list, newest first."""
    q = select(LotRow)
    if f.since_epoch_s is not None:
        q = q.where(LotRow.started_epoch_s >= f.since_epoch_s)
    if f.until_epoch_s is not None:
        q = q.where(LotRow.started_epoch_s < f.until_epoch_s)
    if f.vessel:
        q = q.where(func.lower(LotRow.vessel).contains(f.vessel.lower()))
    if f.verdict:
        q = q.where(or_(LotRow.line_verdict == f.verdict, LotRow.lab_verdict == f.verdict))
    if f.lab_status:
        q = q.where(LotRow.lab_status == f.lab_status)
    if f.text:
        t = f.text.lower()
        q = q.where(or_(func.lower(LotRow.lot_id).contains(t), func.lower(LotRow.vessel).contains(t),
                        func.lower(LotRow.product).contains(t)))
    return q.order_by(LotRow.started_epoch_s.desc().nulls_last(), LotRow.lot_id.desc()).offset(f.offset).limit(f.limit)


def row_dict(row: Any) -> dict[str, Any]:
    """A row as JSON-ready data (every column)."""
    return {c.name: _clean(getattr(row, c.name)) for c in row.__table__.columns}


def list_lots(session: Session, f: LotFilter) -> list[dict[str, Any]]:
    return [row_dict(r) for r in session.scalars(lots_query(f))]


def get_lot(session: Session, lot_id: str) -> dict[str, Any] | None:
    row = session.get(LotRow, lot_id)
    return row_dict(row) if row is not None else None


def lot_alarms(session: Session, lot_id: str) -> list[dict[str, Any]]:
    q = select(AlarmRow).where(AlarmRow.lot_id == lot_id).order_by(AlarmRow.alarm_id)
    return [row_dict(r) for r in session.scalars(q)]


def lot_events(session: Session, lot_id: str, kinds: Sequence[str] = ()) -> list[dict[str, Any]]:
    q = select(EventRow).where(EventRow.lot_id == lot_id)
    if kinds:
        q = q.where(EventRow.kind.in_(list(kinds)))
    return [row_dict(r) for r in session.scalars(q.order_by(EventRow.epoch_s, EventRow.id))]


def lot_commands(session: Session, lot_id: str) -> list[dict[str, Any]]:
    q = select(CommandRow).where(CommandRow.lot_id == lot_id).order_by(CommandRow.epoch_s, CommandRow.id)
    return [row_dict(r) for r in session.scalars(q)]


@dataclass(frozen=True)
class AlarmFilter:
    """Filters of the alarm history; empty fields filter nothing."""

    lot_id: str = ""
    state: str = ""
    severity: str = ""
    category: str = ""
    since_epoch_s: float | None = None
    limit: int = 500


def alarm_history(session: Session, f: AlarmFilter) -> list[dict[str, Any]]:
    """Alarms across lots, newest first."""
    q = select(AlarmRow)
    for column, value in ((AlarmRow.lot_id, f.lot_id), (AlarmRow.state, f.state), (AlarmRow.severity, f.severity),
                          (AlarmRow.category, f.category)):
        if value:
            q = q.where(column == value)
    if f.since_epoch_s is not None:
        q = q.where(AlarmRow.raised_epoch_s >= f.since_epoch_s)
    q = q.order_by(AlarmRow.raised_epoch_s.desc().nulls_last(), AlarmRow.id.desc()).limit(f.limit)
    return [row_dict(r) for r in session.scalars(q)]


def lab_queue(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Every closed lot awaiting assays (or with no lab verdict yet), across lines and folders, oldest first."""
    q = (select(LotRow).where(LotRow.status != "open", LotRow.lab_status != "complete")
         .order_by(LotRow.ended_epoch_s.asc().nulls_last(), LotRow.lot_id).limit(limit))
    return [row_dict(r) for r in session.scalars(q)]


def max_alarm_id(session: Session) -> int:
    """The largest alarm id in the catalogue (0 when none)."""
    return int(session.scalar(select(func.max(AlarmRow.alarm_id))) or 0)


def counts(session: Session) -> dict[str, int]:
    """Rows per table (for ``oreline lots`` and tests)."""
    return {name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (("lots", LotRow), ("alarms", AlarmRow), ("events", EventRow),
                                ("commands", CommandRow))}
