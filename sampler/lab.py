"""Lab results import: a CSV with one row per sample id, validated before anything is attached.

Columns (header names, case-insensitive, spaces allowed): ``sample_id``, ``Fe``,
``SiO2``, ``Al2O3``, ``P``, ``S``, ``LOI``, ``moisture`` (all mass %, dry basis
except moisture) and optional ``findings`` (free text). A ``%`` or ``_pct``
suffix on a header is accepted. Every problem in the file is collected and
reported in one :class:`~sampler.errors.LabResultError` (row numbers are
1-based file lines), so nothing is half-imported.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from sampler.errors import LabResultError

#: Analyte → (attribute, lowest, highest) in mass %.
ANALYTE_RANGES_PCT: dict[str, tuple[str, float, float]] = {
    "fe": ("fe_pct", 0.0, 75.0),
    "sio2": ("sio2_pct", 0.0, 100.0),
    "al2o3": ("al2o3_pct", 0.0, 100.0),
    "p": ("p_pct", 0.0, 10.0),
    "s": ("s_pct", 0.0, 10.0),
    "loi": ("loi_pct", 0.0, 40.0),
    "moisture": ("moisture_pct", 0.0, 30.0),
}
MAX_ERRORS_SHOWN = 25


@dataclass(frozen=True)
class LabResult:
    """Assays of one sample in mass % and the lab's free-text findings."""

    sample_id: str
    fe_pct: float
    sio2_pct: float
    al2o3_pct: float
    p_pct: float
    s_pct: float
    loi_pct: float
    moisture_pct: float
    findings: str = ""
    source: str = ""

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


def _norm(header: str) -> str:
    h = "_".join(header.strip().lower().replace("%", " ").split())
    if h.endswith("_pct"):
        h = h[:-4]
    return h.strip("_")


def load_lab_results(path: str | Path, known_sample_ids: Iterable[str]) -> list[LabResult]:
    """Read and validate a lab CSV; return one :class:`LabResult` per row in file order.

    Raises :class:`LabResultError` (listing every problem) for a missing file or column,
    an empty, unknown (not in ``known_sample_ids``) or duplicate sample id, a value that is
    not a number, or a value outside its range (Fe 0–75 %, SiO2/Al2O3 0–100 %, P/S 0–10 %,
    LOI 0–40 %, moisture 0–30 %).
    """
    path = Path(path)
    known = set(known_sample_ids)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LabResultError(f"lab results file {path}: cannot read: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise LabResultError(f"lab results file {path}: expected a header row, got an empty file")
    columns = {_norm(h): h for h in reader.fieldnames if h is not None}
    required = ["sample_id", *ANALYTE_RANGES_PCT]
    missing = [c for c in required if c not in columns]
    if missing:
        raise LabResultError(
            f"lab results file {path}: expected columns {required} (+ optional findings), missing {missing}; "
            f"got {list(reader.fieldnames)}"
        )
    errors: list[str] = []
    results: list[LabResult] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if all((v or "").strip() == "" for k, v in row.items() if k is not None):
            continue  # blank line
        if None in row:
            errors.append(f"line {line}: expected {len(reader.fieldnames)} fields, got extra values {row[None]!r}")
            continue
        sid = (row[columns["sample_id"]] or "").strip()
        if not sid:
            errors.append(f"line {line}: empty sample_id")
            continue
        if sid in seen:
            errors.append(f"line {line}: duplicate sample_id {sid!r} (first on line {seen[sid]})")
            continue
        seen[sid] = line
        if sid not in known:
            errors.append(f"line {line}: unknown sample_id {sid!r} (not a sample of this lot)")
        values: dict[str, float] = {}
        for key, (attr, low, high) in ANALYTE_RANGES_PCT.items():
            raw = (row[columns[key]] or "").strip()
            try:
                value = float(raw)
            except ValueError:
                errors.append(f"line {line} ({sid}): {key} expected a number in %, got {raw!r}")
                continue
            if not (math.isfinite(value) and low <= value <= high):
                errors.append(f"line {line} ({sid}): {key} expected {low:g}..{high:g} %, got {raw}")
                continue
            values[attr] = value
        if len(values) == len(ANALYTE_RANGES_PCT):
            findings = (row.get(columns.get("findings", ""), "") or "").strip() if "findings" in columns else ""
            results.append(LabResult(sample_id=sid, findings=findings, source=str(path), **values))
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise LabResultError(f"lab results file {path}: {len(errors)} problem(s), nothing imported:\n  {shown}{more}")
    return results


def attach_results(
    sample_rows: Iterable[Mapping[str, Any]], results: Iterable[LabResult]
) -> list[dict[str, Any]]:
    """Sample rows (``Sample.to_row()``) with their lab result's fields added (empty when not analysed yet).

    Raises :class:`LabResultError` if a result names a sample that is not in ``sample_rows``.
    """
    by_id = {r.sample_id: r for r in results}
    rows = [dict(s) for s in sample_rows]
    ids = {r["sample_id"] for r in rows}
    stray = sorted(set(by_id) - ids)
    if stray:
        raise LabResultError(f"lab results for unknown samples {stray}")
    blank = {k: "" for k in LabResult.__dataclass_fields__ if k != "sample_id"}
    for row in rows:
        res = by_id.get(row["sample_id"])
        row.update(blank if res is None else {k: v for k, v in res.to_row().items() if k != "sample_id"})
    return rows
