"""Index lot archives into the catalogue: one archive → its lot row, alarms and events (``oreline lots reindex``).

The archive is the record of a lot; this reads it and writes what the catalogue keeps about it. Indexing the
same archive twice gives the same rows (lot and alarms are upserted, the lot's events replaced).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from analysis.archive import ArchiveReader, current_lab_verdict, open_archive, reviews
from analysis.catalogue import store
from analysis.catalogue.db import Catalogue
from analysis.catalogue.models import LotRow
from analysis.errors import AnalysisError
from analysis.model import Alarm

log = logging.getLogger(__name__)

#: Alarm columns only the live journal knows (the archive does not store them); reindex keeps them.
KEEP_FROM_JOURNAL = ("ack_comment", "shelve_reason", "shelved_until_epoch_s", "parent_id")


def _epoch_of(reader: ArchiveReader) -> tuple[float, float]:
    """(epoch at lot start, line clock at lot start): line-clock seconds → epoch by their difference."""
    history = reader.status_history()
    epoch0 = history[0]["epoch_s"] if history else os.path.getmtime(reader.path)
    return float(epoch0), float(reader.start.get("time_s") or 0.0)


def lab_fields(reader: ArchiveReader) -> dict[str, Any]:
    """Lab verdict, lab status and sample counts of a closed lot."""
    v = current_lab_verdict(reader)
    status = "complete" if v.samples and not v.awaiting else ("awaiting" if v.samples or v.awaiting else "none")
    out: dict[str, Any] = {"lab_verdict": v.verdict, "lab_status": status, "samples": len(v.samples),
                           "samples_awaiting": len(v.awaiting)}
    out["lab_verdict_epoch_s"] = None if status != "complete" else max(
        (h["epoch_s"] for h in reader.status_history()), default=None)
    revs = reviews(reader)
    if revs:
        out.update(review_decision=revs[-1].decision, reviewer=revs[-1].reviewer, review_epoch_s=revs[-1].epoch_s)
    return out


def lot_fields(reader: ArchiveReader, line: str = "") -> dict[str, Any]:
    """The ``lots`` columns of one archive."""
    lot, end, verdict = reader.lot, reader.end, reader.final_verdict()
    epoch0, clock0 = _epoch_of(reader)
    out: dict[str, Any] = {
        "line": line or str((reader.config.get("line") or {}).get("name", "")),
        "vessel": lot.get("vessel", ""), "hold": str(lot.get("hold", "")), "product": lot.get("declared_product", ""),
        "supplier": lot.get("supplier", ""), "declared_mass_t": lot.get("declared_mass_t"),
        "status": reader.state, "started_epoch_s": epoch0, "archive_path": str(Path(reader.path).resolve()),
        "ended_epoch_s": end.get("epoch_s") if end else None,
    }
    segments = reader.segment_table()
    out["segments_total"] = len(segments["index"])
    out["tonnage_t"] = float(segments["end_t"].max()) if len(segments["end_t"]) else 0.0
    if verdict is not None:
        out.update(line_verdict=verdict.verdict, line_confidence=verdict.confidence,
                   tonnage_t=max(out["tonnage_t"], verdict.tonnage_t),
                   segments_by_class=dict(verdict.segments_by_class),
                   uninspected_fraction=verdict.uninspected_fraction)
        times = reader.table("verdicts")["time_s"]
        if len(times):
            out["line_verdict_epoch_s"] = epoch0 + float(times[-1]) - clock0
    out["alarms"] = len(reader.alarms())
    out["detections"] = sum(s.detections for s in reader.segments())
    for fmt in ("html", "pdf"):
        report = Path(reader.path).with_suffix(f".{fmt}")
        out[f"report_{fmt}"] = str(report.resolve()) if report.is_file() else ""
    if reader.state != "open":
        out.update(lab_fields(reader))
    return out


def alarm_fields(alarm: Alarm, epoch_of: Any) -> dict[str, Any]:
    """The ``alarms`` columns of an alarm in its latest state; ``epoch_of`` maps line-clock seconds to epoch."""
    def at(t: float) -> float | None:
        return None if not math.isfinite(t) else epoch_of(t)
    return {"alarm_id": alarm.alarm_id, "key": alarm.key, "category": alarm.category, "severity": alarm.severity,
            "message": alarm.message, "state": alarm.state, "segment_index": alarm.segment_index,
            "parent_id": alarm.parent_id if alarm.parent_id >= 0 else None, "raised_epoch_s": at(alarm.raised_time_s),
            "acknowledged_epoch_s": at(alarm.acknowledged_time_s), "acknowledged_by": alarm.acknowledged_by,
            "ack_comment": alarm.ack_comment, "cleared_epoch_s": at(alarm.cleared_time_s)}


def event_rows(reader: ArchiveReader, epoch_of: Any) -> Iterable[dict[str, Any]]:
    """The archive's line events as ``events`` rows."""
    t = reader.events()
    start = reader.lot_start_mark_t
    for i in range(len(t["time_s"])):
        mark = float(t["mark_t"][i])
        yield {"epoch_s": epoch_of(float(t["time_s"][i])), "lot_t": mark - start if math.isfinite(mark) else None,
               "kind": str(t["kind"][i]), "source": str(t["source"][i]), "message": str(t["message"][i]),
               "detail": {"severity": str(t["severity"][i])}}


def index_into(session: Session, path: str | os.PathLike[str], *, line: str = "") -> LotRow:
    """Write one archive's lot, alarms and events through ``session`` (the caller commits)."""
    with open_archive(path, allow_live=True) as reader:
        fields = lot_fields(reader, line)
        epoch0, clock0 = _epoch_of(reader)

        def epoch_of(t: float) -> float:
            return epoch0 + t - clock0
        alarms = [alarm_fields(a, epoch_of) for a in reader.alarms()]
        events = list(event_rows(reader, epoch_of))
        lot_id = reader.lot_id
    row = store.upsert_lot(session, lot_id, fields)
    known = {a["alarm_id"]: a for a in store.lot_alarms(session, lot_id)}
    for a in alarms:  # the journal's own fields (comment, shelving, parent) are not in the archive: keep them
        old = known.get(a["alarm_id"], {})
        store.upsert_alarm(session, lot_id, {**a, **{k: old[k] for k in KEEP_FROM_JOURNAL if old.get(k)}})
    store.add_missing_events(session, lot_id, events)
    return row


def index_archive(catalogue: Catalogue, path: str | os.PathLike[str], *, line: str = "") -> dict[str, Any]:
    """Write one archive's lot, alarms and events into the catalogue (one transaction); return the lot row."""
    with catalogue.session() as session, session.begin():
        return store.row_dict(index_into(session, path, line=line))


@dataclass
class ReindexResult:
    """What a reindex did: lots written, archives that could not be read (path → reason)."""

    lots: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def reindex(catalogue: Catalogue, folders: Iterable[str | os.PathLike[str]]) -> ReindexResult:
    """Index every ``*.h5`` archive under ``folders`` (recursively). Unreadable archives are listed, not fatal."""
    result = ReindexResult()
    for folder in folders:
        root = Path(folder)
        paths = [root] if root.is_file() else sorted(root.rglob("*.h5"))
        for path in paths:
            try:
                result.lots.append(index_archive(catalogue, path)["lot_id"])
            except (AnalysisError, OSError, KeyError, ValueError) as exc:
                log.warning("reindex: %s: %s", path, exc)
                result.failed[str(path)] = f"{type(exc).__name__}: {exc}"[:300]
    return result
