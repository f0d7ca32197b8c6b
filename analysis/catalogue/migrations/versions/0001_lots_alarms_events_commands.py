"""Lots, alarms, events and operator commands.

Revision ID: 0001
Revises:
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_EPOCH: dict[str, Any] = {"nullable": True}


def upgrade() -> None:
    op.create_table(
        "lots",
        sa.Column("lot_id", sa.String(200), primary_key=True),
        sa.Column("line", sa.String(100), nullable=False),
        sa.Column("vessel", sa.String(200), nullable=False, index=True),
        sa.Column("hold", sa.String(50), nullable=False),
        sa.Column("product", sa.String(100), nullable=False),
        sa.Column("supplier", sa.String(200), nullable=False),
        sa.Column("declared_mass_t", sa.Float, **_EPOCH),
        sa.Column("tonnage_t", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("started_epoch_s", sa.Float, nullable=True, index=True),
        sa.Column("ended_epoch_s", sa.Float, **_EPOCH),
        sa.Column("line_verdict", sa.String(20), nullable=False, index=True),
        sa.Column("line_confidence", sa.Float, **_EPOCH),
        sa.Column("line_verdict_epoch_s", sa.Float, **_EPOCH),
        sa.Column("lab_verdict", sa.String(20), nullable=False, index=True),
        sa.Column("lab_status", sa.String(20), nullable=False, index=True),
        sa.Column("lab_verdict_epoch_s", sa.Float, **_EPOCH),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("samples_awaiting", sa.Integer, nullable=False),
        sa.Column("review_decision", sa.String(40), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("review_epoch_s", sa.Float, **_EPOCH),
        sa.Column("archive_path", sa.Text, nullable=False),
        sa.Column("report_html", sa.Text, nullable=False),
        sa.Column("report_pdf", sa.Text, nullable=False),
        sa.Column("segments_total", sa.Integer, nullable=False),
        sa.Column("segments_by_class", sa.JSON, nullable=False),
        sa.Column("uninspected_fraction", sa.Float, **_EPOCH),
        sa.Column("alarms", sa.Integer, nullable=False),
        sa.Column("detections", sa.Integer, nullable=False),
        sa.Column("updated_epoch_s", sa.Float, nullable=False),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lot_id", sa.String(200), sa.ForeignKey("lots.lot_id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("alarm_id", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False, index=True),
        sa.Column("severity", sa.String(20), nullable=False, index=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("segment_index", sa.Integer, nullable=False),
        sa.Column("raised_epoch_s", sa.Float, nullable=True, index=True),
        sa.Column("acknowledged_epoch_s", sa.Float, **_EPOCH),
        sa.Column("acknowledged_by", sa.String(200), nullable=False),
        sa.Column("ack_comment", sa.Text, nullable=False),
        sa.Column("cleared_epoch_s", sa.Float, **_EPOCH),
        sa.Column("shelved_until_epoch_s", sa.Float, **_EPOCH),
        sa.Column("shelve_reason", sa.Text, nullable=False),
        sa.UniqueConstraint("lot_id", "alarm_id", name="uq_alarms_lot_alarm"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lot_id", sa.String(200), sa.ForeignKey("lots.lot_id", ondelete="CASCADE"), nullable=False),
        sa.Column("epoch_s", sa.Float, nullable=False),
        sa.Column("lot_t", sa.Float, nullable=True),
        sa.Column("kind", sa.String(60), nullable=False, index=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Index("ix_events_lot_time", "lot_id", "epoch_s"),
    )
    op.create_table(
        "commands",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lot_id", sa.String(200), sa.ForeignKey("lots.lot_id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("epoch_s", sa.Float, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("command", sa.String(60), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("commands", "events", "alarms", "lots"):
        op.drop_table(table)
