"""The lot verdict after the lab: the line's verdict, then the lab's, from the sample decisions (pure logic).

The line screens, the lab confirms. Given the line's final verdict, the lot's segments and alarms, its samples
(routine gross/partial samples and targeted samples) with their increments, and each analysed sample's
:class:`~sampler.labrules.SampleDecision`, :func:`lab_verdict` returns a :class:`LabVerdict`:

* ``waste`` — at least one sample is by-product-like or carries by-product material. Basis
  ``lab-confirmed`` when the line had flagged the lot (waste, inconclusive, pending), ``found by the lab``
  when the line had called it ore (the gross sample is the safety net for waste mixed in from the first
  tonne, which the lot-adaptive NIR baseline learns as normal);
* ``ore`` (``lab-cleared``) — every waste-suspect segment has a targeted sample, every routine and targeted
  sample is assayed and consistent with ore;
* ``contaminated`` — the line found foreign objects; the lab found no by-product material but cannot clear
  foreign objects;
* ``inconclusive`` — anything else, with what is missing (samples awaiting assays, suspect segments without
  a targeted sample, undetermined samples and what they lack).

The archive keeps this verdict *after* the line's (analysis/archive: ``lab_verdicts`` table); nothing is
overwritten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sampler.labrules import FAMILIES, SampleDecision
from analysis.model import Alarm, LotVerdict, SegmentDecision

LAB_VERDICTS = ("waste", "ore", "contaminated", "inconclusive")


@dataclass(frozen=True)
class LabVerdict:
    """The lab's verdict on a lot, next to the line's.

    ``awaiting`` are sample ids with no result yet; ``missing`` says what else keeps the lot from a decision;
    ``evidence`` the sample ids whose decision made a waste verdict; ``samples`` one row per sample
    (sample id, role, segment, outcome, family, rules).
    """

    lot_id: str
    line_verdict: str
    verdict: str
    basis: str
    reasons: tuple[str, ...]
    awaiting: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    samples: tuple[Mapping[str, Any], ...] = ()
    suspect_segments: tuple[int, ...] = ()
    time_s: float = math.nan

    @property
    def complete(self) -> bool:
        """True when every sample of the lot has a result."""
        return not self.awaiting


def _segment_of_mark(segments: Sequence[SegmentDecision], rel_t: float) -> int:
    """Index of the segment holding lot tonnage ``rel_t``; a mark on a boundary belongs to the segment it ends
    (targeted cuts are aimed at the end of the segment that raised them). -1 when none."""
    for s in segments:
        if s.start_t < rel_t <= s.end_t + 1e-6:
            return s.index
    for s in segments:
        if s.start_t <= rel_t < s.end_t:
            return s.index
    return -1


def sample_segments(samples: Sequence[Mapping[str, Any]], increments: Sequence[Mapping[str, Any]],
                    segments: Sequence[SegmentDecision], alarms: Sequence[Alarm],
                    lot_start_mark_t: float) -> dict[str, int]:
    """Targeted sample id → the segment it was taken for (from its alarm, else from its mark)."""
    alarm_segment = {a.alarm_id: a.segment_index for a in alarms}
    targeted = {str(s["sample_id"]) for s in samples if s.get("role") == "targeted"}
    out: dict[str, int] = {}
    for inc in increments:
        sid = str(inc.get("sample_id") or "")
        if sid not in targeted:
            continue
        seg = -1
        try:
            seg = alarm_segment.get(int(inc.get("alarm_id") or -1), -1)
        except (TypeError, ValueError):
            seg = -1
        if seg < 0:
            mark = float(inc.get("mark_t", math.nan))
            seg = _segment_of_mark(segments, mark - lot_start_mark_t) if math.isfinite(mark) else -1
        out[sid] = seg
    return out


def lab_verdict(lot_id: str, line: LotVerdict | None, segments: Sequence[SegmentDecision],
                samples: Sequence[Mapping[str, Any]], increments: Sequence[Mapping[str, Any]],
                alarms: Sequence[Alarm], decisions: Mapping[str, SampleDecision], *,
                lot_start_mark_t: float = 0.0, time_s: float = math.nan) -> LabVerdict:
    """The lab's verdict on a lot (see the module docstring). ``decisions`` are by sample id (latest result)."""
    line_v = line.verdict if line is not None else "none"
    seg_of = sample_segments(samples, increments, segments, alarms, lot_start_mark_t)
    suspect = tuple(s.index for s in segments if s.segment_class == "waste-suspect")
    rows = []
    for s in samples:
        sid = str(s["sample_id"])
        d = decisions.get(sid)
        rows.append({"sample_id": sid, "role": s.get("role", ""), "segment": seg_of.get(sid, -1),
                     "outcome": d.outcome if d else "awaiting assay", "family": d.family if d else "",
                     "rules": " ".join(d.rule_ids) if d else "", "reason": d.reason if d else ""})
    known = {r["sample_id"] for r in rows}
    for sid, d in decisions.items():  # results for samples the custody record does not hold
        if sid not in known:
            rows.append({"sample_id": sid, "role": "?", "segment": -1, "outcome": d.outcome, "family": d.family,
                         "rules": " ".join(d.rule_ids), "reason": d.reason})
    awaiting = tuple(r["sample_id"] for r in rows if r["outcome"] == "awaiting assay")
    waste = [r for r in rows if r["outcome"] in ("by-product", "contaminated")]
    common: dict[str, Any] = dict(lot_id=lot_id, line_verdict=line_v, awaiting=awaiting, samples=tuple(rows),
                  suspect_segments=suspect, time_s=time_s)
    if waste:
        fams = sorted({FAMILIES.get(r["family"], r["family"]) for r in waste})
        basis = "found by the lab" if line_v == "ore" else "lab-confirmed"
        reasons = tuple(f"{r['sample_id']} ({r['role']}): {r['outcome']}: {r['reason']}" for r in waste)
        if line_v == "ore":
            reasons = (f"the line called the lot ore; the lab found {', '.join(fams)} material",) + reasons
        return LabVerdict(verdict="waste", basis=basis, reasons=reasons, evidence=tuple(r["sample_id"] for r in waste),
                          **common)
    missing: list[str] = []
    if awaiting:
        missing.append(f"{len(awaiting)} sample(s) awaiting assay: {', '.join(awaiting)}")
    sampled = {seg for sid, seg in seg_of.items()}
    for idx in suspect:
        if idx not in sampled:
            missing.append(f"waste-suspect segment {idx}: no targeted sample taken")
    for r in rows:
        if r["outcome"] == "undetermined":
            missing.append(f"{r['sample_id']}: undetermined ({r['reason']})")
    if not any(r["role"] == "routine" for r in rows):
        missing.append("no routine (gross/partial) sample in the custody record")
    if missing:
        return LabVerdict(verdict="inconclusive", basis="lab incomplete", missing=tuple(missing),
                          reasons=("the lab cannot decide yet",), **common)
    if line_v == "contaminated":
        return LabVerdict(verdict="contaminated", basis="line (foreign objects)",
                          reasons=("every sample consistent with ore, but the line found foreign objects; "
                                   "the lab does not clear them",), **common)
    cleared = [f"all {len(rows)} samples assayed and consistent with ore"]
    if suspect:
        cleared.append(f"targeted samples of all {len(suspect)} waste-suspect segment(s) consistent with ore")
    if line_v == "waste":
        cleared.append("the line's waste verdict was not confirmed by the lab")
    return LabVerdict(verdict="ore", basis="lab-cleared", reasons=tuple(cleared), **common)
