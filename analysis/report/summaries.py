"""What the report states about the lot, recomputed at lot end from the segment decisions (never copied from a
verdict taken earlier): segment counts and reasons, every uninspected stretch (warm-up included), the foreign
objects the decision counted, and the lab's wording ("lab-confirmed" vs "found by the lab", docs/report-guide.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.model import SegmentDecision
from analysis.report.read import ReportData

_OBJECTS_RE = re.compile(r"(\d+) foreign object\(s\)(?::\s*(.*))?")


@dataclass(frozen=True)
class Gap:
    """An uninspected stretch (t from lot start): who missed it and why."""

    station: str
    start_t: float
    end_t: float
    why: str


def segment_counts(segments: Sequence[SegmentDecision]) -> Counter[str]:
    return Counter(s.segment_class for s in segments)


def objects_counted(segments: Sequence[SegmentDecision]) -> tuple[int, Counter[str]]:
    """Foreign objects the segment decisions counted (their reasons), and their kinds."""
    total, kinds = 0, Counter[str]()
    for s in segments:
        for r in s.reasons:
            m = _OBJECTS_RE.search(r)
            if m:
                total += int(m.group(1))
                for k in (m.group(2) or "").split(","):
                    if k.strip():
                        kinds[k.strip()] += 1
    return total, kinds


def _stretches(segs: Sequence[SegmentDecision]) -> list[str]:
    """``100-200 t (wood)`` for each segment, in order."""
    return [f"{s.start_t:,.0f}-{s.end_t:,.0f} t" + (f" ({'; '.join(s.reasons)})" if s.reasons else "") for s in segs]


def line_lines(data: ReportData) -> list[str]:
    """The line box: confidence and when the verdict was taken, then counts and reasons recomputed at lot end."""
    v = data.verdict
    if v is None:
        return ["no verdict archived"]
    segs = data.segment_decisions
    out = [f"confidence {v.confidence:.3f}" + ("" if v.final else " (not final)")
           + (f"; verdict taken at {v.decided_at_t:,.0f} t" if math.isfinite(v.decided_at_t) else "")
           + f"; counts below at lot end ({data.lot_mass_t:,.0f} t)"]
    counts = segment_counts(segs)
    for cls in ("contaminated", "waste-suspect", "uninspected"):
        sel = [s for s in segs if s.segment_class == cls]
        if sel:
            shown = _stretches(sel)
            out.append(f"{len(sel)} {cls} segment(s): " + "; ".join(shown[:4]) + (" …" if len(shown) > 4 else ""))
    out.append(f"{counts.get('ore', 0)} of {len(segs)} segment(s) ore; uninspected share "
               f"{v.uninspected_fraction:.1%}")
    return out


def coverage_gaps(data: ReportData) -> list[Gap]:
    """Every stretch a station could not inspect (coverage table) and every segment the line left uninspected
    (NIR warm-up, station faults), in tonnage order."""
    gaps = [Gap(st, a, b, why or "uninspected") for st, a, b, why in data.gaps]
    for s in data.segment_decisions:
        if s.segment_class == "uninspected":
            gaps.append(Gap("line (segment decision)", s.start_t, s.end_t,
                            "; ".join(s.reasons) or "not inspected (NIR warm-up or a station fault)"))
    return sorted(gaps, key=lambda g: (g.start_t, g.station))


def sample_basis(data: ReportData, sample_id: str) -> str:
    """"lab-confirmed" for by-product material where the line had flagged it (a targeted sample of a flagged
    segment; a routine sample of a lot the line did not call ore); "found by the lab" where the line flagged
    nothing (a targeted sample of a segment classed ore, a routine sample of a lot called ore); "" when clean."""
    d = data.decisions.get(sample_id)
    if d is None or not d.waste_evidence:
        return ""
    row = next((r for r in (data.lab.samples if data.lab else ()) if r["sample_id"] == sample_id), {})
    seg = int(row.get("segment", -1) if row.get("segment") is not None else -1)
    flagged = {s.index for s in data.segment_decisions if s.segment_class in ("waste-suspect", "contaminated")}
    if row.get("role") == "targeted":
        if seg in flagged:
            return f"lab-confirmed (segment {seg} flagged by the line)"
        return "found by the lab (the line flagged nothing there)"
    line = data.verdict.verdict if data.verdict else "none"
    if line in ("waste", "contaminated", "inconclusive", "pending"):
        return f"lab-confirmed (the line called the lot {line})"
    return "found by the lab (the line called the lot ore)"
