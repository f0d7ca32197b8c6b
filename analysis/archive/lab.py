"""The lab's part of a closed lot archive: results (with history), the lab verdict after the line's, reviews.

All three are append-only:

* ``/tables/lab_results`` — every imported result row, with its import time; a second result for a sample
  needs ``supersede`` and the earlier one stays (:func:`lab_history`); the latest per sample counts
  (:func:`latest_results`);
* ``/tables/lab_verdicts`` — the lab's verdict each time results arrive (``time_s`` = Unix time), after the
  line's verdicts in ``/tables/verdicts``, which are never touched;
* ``/tables/reviews`` — an analyst's review: name, decision, comment, Unix time.

``lab_verdicts`` and ``reviews`` are created on first use, so archives written before them read as before
(format version unchanged; older readers ignore the extra groups).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py

from analysis.archive.format import (
    STR,
    append_columns,
    create_columns,
    dumps,
    jsonable,
    loads,
    read_table,
)
from analysis.archive.reader import ArchiveReader, open_archive
from analysis.decide import LabVerdict, lab_verdict
from analysis.errors import ArchiveError
from sampler.lab import LabResult, load_lab_file
from sampler.labrules import SampleDecision, classify

#: Tables created on first use: name -> {column: (shape, dtype)}.
LAB_TABLES: dict[str, dict[str, tuple[tuple[int, ...], Any]]] = {
    "lab_verdicts": {"time_s": ((), "f8"), "verdict": ((), STR), "json": ((), STR)},
    "reviews": {"epoch_s": ((), "f8"), "reviewer": ((), STR), "decision": ((), STR), "json": ((), STR)},
}
REVIEW_DECISIONS = ("waste", "ore", "contaminated", "inconclusive", "retest")


@dataclass(frozen=True)
class Review:
    """An analyst's review of a lot: who, what they decided, why, when (Unix time)."""

    reviewer: str
    decision: str
    comment: str
    epoch_s: float
    lab_verdict: str = ""


def _optional_table(reader: ArchiveReader, name: str) -> dict[str, Any]:
    grp = reader.file["tables"].get(name)
    if grp is None:
        return {k: [] for k in LAB_TABLES[name]}
    return read_table(grp)


def lab_history(reader: ArchiveReader) -> list[dict[str, Any]]:
    """Every lab result row ever imported, oldest first, with ``imported_epoch_s``."""
    t = reader.table("lab_results")
    return [dict(loads(t["json"][i], "lab result"), imported_epoch_s=float(t["time_s"][i]))
            for i in range(len(t["json"]))]


def latest_results(reader: ArchiveReader) -> dict[str, LabResult]:
    """The result that counts for each sample: the last one imported."""
    out: dict[str, LabResult] = {}
    for row in lab_history(reader):
        out[str(row.get("sample_id", ""))] = LabResult.from_row(row)
    return out


def sample_decisions(reader: ArchiveReader) -> dict[str, SampleDecision]:
    """The lab decision of every analysed sample (latest result)."""
    return {sid: classify(r) for sid, r in latest_results(reader).items()}


def lot_samples(reader: ArchiveReader) -> list[dict[str, Any]]:
    """The lot's samples (custody "sample" rows, last state of each)."""
    last: dict[str, dict[str, Any]] = {}
    for row in reader.custody("sample"):
        last[str(row.get("sample_id"))] = row
    return list(last.values())


def lot_increments(reader: ArchiveReader) -> list[dict[str, Any]]:
    """Increments: the sampler stream's rows (absolute ``mark_t``) or, without one, the custody rows."""
    rows = []
    for info in reader.streams_of_kind("sampler"):
        t = reader.stream_table(info.name)
        for i in range(info.rows):
            d = {k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in t.items()}
            d["mark_t"] = float(t["tonnage_mark_t"][i])
            rows.append(d)
    return rows or reader.custody("increment")


def current_lab_verdict(reader: ArchiveReader, *, time_s: float = math.nan) -> LabVerdict:
    """The lab verdict from what the archive holds now (not stored; see :func:`store_lab_verdict`)."""
    return lab_verdict(reader.lot_id, reader.final_verdict(), reader.segments(), lot_samples(reader),
                       lot_increments(reader), reader.alarms(), sample_decisions(reader),
                       lot_start_mark_t=reader.lot_start_mark_t, time_s=time_s)


def lab_verdicts(reader: ArchiveReader) -> list[dict[str, Any]]:
    """Every stored lab verdict, oldest first (dicts as stored)."""
    t = _optional_table(reader, "lab_verdicts")
    return [loads(t["json"][i], "lab verdict") for i in range(len(t["json"]))]


def reviews(reader: ArchiveReader) -> list[Review]:
    """Every analyst review, oldest first."""
    t = _optional_table(reader, "reviews")
    out = []
    for i in range(len(t["json"])):
        d = loads(t["json"][i], "review")
        out.append(Review(d["reviewer"], d["decision"], d.get("comment", ""), float(d["epoch_s"]),
                          d.get("lab_verdict", "")))
    return out


def _append(path: Path, table: str, row: Mapping[str, Any]) -> None:
    try:
        with h5py.File(path, "r+", libver="latest") as f:
            tables = f["tables"]
            if table not in tables:
                create_columns(tables.create_group(table), LAB_TABLES[table], max_chunk_rows=64)
            append_columns(tables[table], {k: [v] for k, v in row.items()})
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot append to {table} ({exc})") from exc


def _check_closed(reader: ArchiveReader) -> None:
    if reader.live or reader.state == "open":
        raise ArchiveError(f"{reader.path}: lot still open; lab results and reviews go into a closed archive "
                           f"(`oreline archive close` a lot whose writer died)")


def store_lab_verdict(path: str | os.PathLike[str], *, epoch_s: float | None = None) -> LabVerdict:
    """Compute the lab verdict from the archive and append it to ``lab_verdicts``; return it."""
    p = Path(path)
    now = time.time() if epoch_s is None else float(epoch_s)
    with open_archive(p, allow_live=False) as reader:
        _check_closed(reader)
        v = current_lab_verdict(reader, time_s=now)
    _append(p, "lab_verdicts", {"time_s": now, "verdict": v.verdict, "json": dumps(v)})
    return v


def import_lab_file(path: str | os.PathLike[str], csv_path: str | os.PathLike[str], *, supersede: bool = False,
                    epoch_s: float | None = None) -> tuple[int, LabVerdict]:
    """Validate a lab CSV against the lot and append it to a closed archive; store the new lab verdict.

    Returns (results added, the lab verdict). Raises :class:`LabResultError` (nothing imported) for any
    problem in the file, including a sample that already has a result without ``supersede``, and
    :class:`ArchiveError` for an archive that is open or unreadable.
    """
    added, verdict, _how = import_lab(path, csv_path, supersede=supersede, epoch_s=epoch_s,
                                      reason="superseded" if supersede else "")
    return added, verdict


def import_lab(path: str | os.PathLike[str], csv_path: str | os.PathLike[str], *, supersede: bool = False,
               reason: str = "", epoch_s: float | None = None) -> tuple[int, LabVerdict, str]:
    """:func:`import_lab_file` and a line on how the file was read (encoding guess, separator, SHA-256).

    The seals the lab reports are checked against the samples' seals; the file's SHA-256, certificate metadata
    and custody steps are stored with every result row. ``supersede`` needs a ``reason`` (kept with the amended
    rows; the report's amendment section shows it); ArchiveError without one.
    """
    if supersede and not reason.strip():
        raise ArchiveError("--supersede needs a reason (why the earlier results are replaced), e.g. --reason "
                           "'lab re-assay after a weighing error'")
    p = Path(path)
    now = time.time() if epoch_s is None else float(epoch_s)
    with open_archive(p, allow_live=False) as reader:
        _check_closed(reader)
        samples = lot_samples(reader)
        known = {str(s.get("sample_id")) for s in samples}
        known |= {str(r.get("sample_id")) for r in reader.custody("custody")}
        imported = set(latest_results(reader))
    seals = {str(s.get("sample_id")): str(s.get("seal") or "") for s in samples if s.get("seal")}
    results, lab = load_lab_file(csv_path, known - {""}, imported_sample_ids=imported, supersede=supersede,
                                 seals=seals)
    rows = [dict(jsonable(r.to_row()), supersede_reason=reason.strip() if r.supersedes else "") for r in results]
    try:
        with h5py.File(p, "r+", libver="latest") as f:
            append_columns(f["tables"]["lab_results"], {"time_s": [now] * len(rows),
                                                       "sample_id": [r["sample_id"] for r in rows],
                                                       "json": [dumps(r) for r in rows]})
    except OSError as exc:
        raise ArchiveError(f"{p}: cannot append lab results ({exc})") from exc
    return len(rows), store_lab_verdict(p, epoch_s=now), lab.describe()


def record_review(path: str | os.PathLike[str], reviewer: str, decision: str, comment: str = "", *,
                  epoch_s: float | None = None) -> Review:
    """Append an analyst's review to a closed archive. Raises ArchiveError for an empty name or an unknown
    decision (expected one of :data:`REVIEW_DECISIONS`)."""
    p = Path(path)
    reviewer, decision = reviewer.strip(), decision.strip().lower()
    if not reviewer:
        raise ArchiveError("a review needs the analyst's name")
    if decision not in REVIEW_DECISIONS:
        raise ArchiveError(f"review decision must be one of {REVIEW_DECISIONS}, got {decision!r}")
    now = time.time() if epoch_s is None else float(epoch_s)
    with open_archive(p, allow_live=False) as reader:
        _check_closed(reader)
        stored = lab_verdicts(reader)
    review = Review(reviewer, decision, comment.strip(), now, stored[-1]["verdict"] if stored else "")
    _append(p, "reviews", {"epoch_s": now, "reviewer": reviewer, "decision": decision,
                           "json": dumps(review.__dict__)})
    return review


def describe_lab(reader: ArchiveReader) -> list[str]:
    """Lines for ``oreline archive info``/``lab-status``: line verdict, lab verdict, awaiting, reviews."""
    line = reader.final_verdict()
    v = current_lab_verdict(reader)
    out = [f"  line verdict: {line.verdict if line else 'none'}",
           f"  lab verdict: {v.verdict} ({v.basis})"]
    out += [f"    - {r}" for r in v.reasons]
    out += [f"    missing: {m}" for m in v.missing]
    for rv in reviews(reader):
        out.append(f"  review {time.strftime('%Y-%m-%d %H:%M', time.gmtime(rv.epoch_s))} UTC by {rv.reviewer}: "
                   f"{rv.decision}" + (f" - {rv.comment}" if rv.comment else ""))
    return out


__all__ = [
    "LAB_TABLES",
    "REVIEW_DECISIONS",
    "Review",
    "current_lab_verdict",
    "describe_lab",
    "import_lab",
    "import_lab_file",
    "lab_history",
    "lab_verdicts",
    "latest_results",
    "lot_increments",
    "lot_samples",
    "record_review",
    "reviews",
    "sample_decisions",
    "store_lab_verdict",
]
