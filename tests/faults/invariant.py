"""The coverage invariant of the fault suite, computed from the Coverage records themselves (the
:class:`tests.lines.site.RecordLog` on the line), not from the monitor's bookkeeping: a segment whose inspecting
stations (nir, vision) did not each cover at least ``min_coverage`` of it must never be classed "ore"."""

from __future__ import annotations

import math

from tests.lines.site import SiteRun


def invariant_violations(run: SiteRun) -> list[str]:
    """Segments classed "ore" although an inspecting station covered less than ``min_coverage`` of them
    (from our own Coverage log); also gaps/overlaps in the decided segments. Empty list = invariant holds."""
    min_cov = run.plant.site["verdict"]["min_coverage"]
    out: list[str] = []
    stations = run.log.inspecting
    prev_end = 0.0
    for seg in sorted(run.segments, key=lambda s: s.index):
        if not math.isclose(seg.start_t, prev_end, abs_tol=1e-6):
            out.append(f"segment {seg.index} starts at {seg.start_t} t, previous ended at {prev_end} t")
        prev_end = seg.end_t
        if seg.segment_class != "ore":
            continue
        if not stations:
            out.append(f"segment {seg.index} ore with no inspecting station")
        for st in stations:
            f = run.log.fraction(st, seg.start_t, seg.end_t)
            if f < min_cov - 1e-9:
                out.append(f"segment {seg.index} ({seg.start_t:.0f}-{seg.end_t:.0f} t) ore but {st} covered {f:.0%}")
    lot_t = run.end.end_mark_t - run.log.start.start_mark_t
    if run.end.status == "complete" and not math.isclose(prev_end, lot_t, abs_tol=1e-6):
        out.append(f"decided segments end at {prev_end} t, lot at {lot_t} t")
    return out


def uncovered_segments(run: SiteRun) -> list[int]:
    """Indices of segments some inspecting station covered less than ``min_coverage`` of (our own log)."""
    min_cov = run.plant.site["verdict"]["min_coverage"]
    return [s.index for s in run.segments
            if any(run.log.fraction(st, s.start_t, s.end_t) < min_cov - 1e-9 for st in run.log.inspecting)]


def nir_scoring_available() -> bool:
    """True when spectra provides the per-lot segment scorer the monitor needs to class a segment ore."""
    import spectra.segment

    return hasattr(spectra.segment, "LotSegmentScorer")
