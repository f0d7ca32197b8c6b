"""Tables of published compositions (ores and by-product families) and the rule set's score on them.

The table (``tests/resources/published_compositions.csv``) has one row per published composition:
``row_id``, ``family`` (a :data:`sampler.labrules.FAMILIES` key), ``subtype``, ``material``, ``source`` (keys of
:data:`sampler.labrules.SOURCES`), ``verified`` (how the figures were taken from the source), the analytes of
:mod:`sampler.lab` in mass %, ``phases`` and ``notes``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sampler.errors import LabResultError
from sampler.lab import ANALYTE_BY_KEY, LabResult, check_assays, parse_column, parse_phases, read_csv_text
from sampler.labrules import FAMILIES, SampleDecision, classify

META_COLUMNS = ("row_id", "family", "subtype", "material", "source", "verified", "notes")


@dataclass(frozen=True)
class CompositionRow:
    """One published composition and what the rule set makes of it."""

    meta: dict[str, str]
    result: LabResult
    decision: SampleDecision

    @property
    def family(self) -> str:
        return self.meta["family"]

    @property
    def correct(self) -> bool:
        """Ore rows must come out ``ore``; by-product rows ``by-product`` of their own family."""
        d = self.decision
        if self.family == "ore":
            return d.outcome == "ore"
        return d.outcome == "by-product" and d.family == self.family


def load_composition_table(path: str | Path) -> list[CompositionRow]:
    """Read a composition table and classify each row. Raises LabResultError for a bad table (every problem)."""
    path = Path(path)
    reader = csv.DictReader(read_csv_text(path, "composition table").splitlines())
    errors: list[str] = []
    rows: list[CompositionRow] = []
    header = reader.fieldnames or []
    for col in ("row_id", "family", "source"):
        if col not in header:
            errors.append(f"missing column {col!r}")
    analytes = {h: parse_column(h)[1] for h in header if parse_column(h)[0] == "analyte"}
    unknown = [h for h in header if h not in META_COLUMNS and h not in analytes and h != "phases"]
    if unknown:
        errors.append(f"unknown columns {unknown}")
    if errors:
        raise LabResultError(f"composition table {path}: " + "; ".join(errors))
    for line, row in enumerate(reader, start=2):
        if row.get("family") not in FAMILIES:
            errors.append(f"line {line}: family {row.get('family')!r} not one of {list(FAMILIES)}")
            continue
        assays: dict[str, float] = {}
        for h, key in analytes.items():
            raw = (row.get(h) or "").strip()
            if not raw:
                continue
            try:
                value = float(raw)
            except ValueError:
                errors.append(f"line {line}: {h} expected a number, got {raw!r}")
                continue
            a = ANALYTE_BY_KEY[key]
            if not a.min_pct <= value <= a.max_pct:
                errors.append(f"line {line}: {h} expected {a.min_pct:g}..{a.max_pct:g} %, got {raw}")
            assays[key] = value
        errors += [f"line {line} ({row['row_id']}): {p}" for p in check_assays(assays)]
        result = LabResult(row["row_id"], assays, parse_phases(row.get("phases") or ""), source=str(path))
        meta = {k: (row.get(k) or "") for k in META_COLUMNS}
        rows.append(CompositionRow(meta, result, classify(result)))
    if errors:
        raise LabResultError(f"composition table {path}: {len(errors)} problem(s):\n  " + "\n  ".join(errors))
    return rows


def chemistry_only(row: CompositionRow) -> CompositionRow:
    """The same row judged without its phases (XRF chemistry alone)."""
    r = LabResult(row.result.sample_id, row.result.assays_pct, (), source=row.result.source)
    return CompositionRow(row.meta, r, classify(r))


def score_rows(rows: list[CompositionRow]) -> dict[str, Any]:
    """Correct rows per family and overall."""
    per: dict[str, list[int]] = {}
    for r in rows:
        c = per.setdefault(r.family, [0, 0])
        c[0] += r.correct
        c[1] += 1
    return {"correct": sum(r.correct for r in rows), "total": len(rows), "per_family": per}
