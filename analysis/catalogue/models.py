"""SQLAlchemy 2 table models of the lot catalogue: lots, alarms, events and operator commands.

One row per lot (``lots``), keyed by the lot id; the other tables are keyed by lot. Times are UNIX epoch
seconds (float, UTC) so SQLite and PostgreSQL sort and compare them alike. Migrations in
``analysis/catalogue/migrations`` create exactly these tables; ``tests/catalogue`` checks they agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the catalogue's tables."""


class LotRow(Base):
    """One lot: identity, tonnage, the line's and the lab's verdicts with their times, review, files, counts."""

    __tablename__ = "lots"

    lot_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(String(100), default="")
    vessel: Mapped[str] = mapped_column(String(200), default="", index=True)
    hold: Mapped[str] = mapped_column(String(50), default="")
    product: Mapped[str] = mapped_column(String(100), default="")
    supplier: Mapped[str] = mapped_column(String(200), default="")
    declared_mass_t: Mapped[float | None] = mapped_column(Float, nullable=True)
    tonnage_t: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | complete | aborted
    started_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    ended_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    line_verdict: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    line_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    line_verdict_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    lab_verdict: Mapped[str] = mapped_column(String(20), default="", index=True)
    lab_status: Mapped[str] = mapped_column(String(20), default="none", index=True)  # none | awaiting | complete
    lab_verdict_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    samples_awaiting: Mapped[int] = mapped_column(Integer, default=0)
    review_decision: Mapped[str] = mapped_column(String(40), default="")
    reviewer: Mapped[str] = mapped_column(String(200), default="")
    review_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    archive_path: Mapped[str] = mapped_column(Text, default="")
    report_html: Mapped[str] = mapped_column(Text, default="")
    report_pdf: Mapped[str] = mapped_column(Text, default="")
    segments_total: Mapped[int] = mapped_column(Integer, default=0)
    segments_by_class: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    uninspected_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    alarms: Mapped[int] = mapped_column(Integer, default=0)
    detections: Mapped[int] = mapped_column(Integer, default=0)
    updated_epoch_s: Mapped[float] = mapped_column(Float, default=0.0)


class AlarmRow(Base):
    """An alarm of a lot in its latest state (ISA-18.2 journal): ``alarm_id`` as the line numbered it."""

    __tablename__ = "alarms"
    __table_args__ = (UniqueConstraint("lot_id", "alarm_id", name="uq_alarms_lot_alarm"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lot_id: Mapped[str] = mapped_column(String(200), ForeignKey("lots.lot_id", ondelete="CASCADE"), index=True)
    alarm_id: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    key: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(40), default="", index=True)
    severity: Mapped[str] = mapped_column(String(20), default="", index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="raised", index=True)
    segment_index: Mapped[int] = mapped_column(Integer, default=-1)
    raised_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    acknowledged_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    acknowledged_by: Mapped[str] = mapped_column(String(200), default="")
    ack_comment: Mapped[str] = mapped_column(Text, default="")
    cleared_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    shelved_until_epoch_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    shelve_reason: Mapped[str] = mapped_column(Text, default="")


class EventRow(Base):
    """A line event (belt stop/start, scale or station fault, sampler skip, expected state such as warm-up)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_lot_time", "lot_id", "epoch_s"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lot_id: Mapped[str] = mapped_column(String(200), ForeignKey("lots.lot_id", ondelete="CASCADE"))
    epoch_s: Mapped[float] = mapped_column(Float)
    lot_t: Mapped[float | None] = mapped_column(Float, nullable=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    source: Mapped[str] = mapped_column(String(100), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CommandRow(Base):
    """An operator command (acknowledge, shelve, targeted sample, stop) with who, when and its result."""

    __tablename__ = "commands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lot_id: Mapped[str] = mapped_column(String(200), ForeignKey("lots.lot_id", ondelete="CASCADE"), index=True)
    epoch_s: Mapped[float] = mapped_column(Float)
    operator: Mapped[str] = mapped_column(String(200), default="")
    command: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[str] = mapped_column(Text, default="")
