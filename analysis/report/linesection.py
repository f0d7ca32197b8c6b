"""The line's part of the report: gaps (every uninspected stretch), segment classes along the lot with the reasons
at lot end, mean spectra against library references, abundances and the detections, as figures inside pages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from analysis.model import SEGMENT_CLASSES
from analysis.report import plots
from analysis.report.docmodel import Col, Figure, Gallery, Para, Section, Table
from analysis.report.fmt import text, tonnes
from analysis.report.read import ReportData, abundance_check
from analysis.report.summaries import coverage_gaps, objects_counted


def figures(data: ReportData) -> dict[str, Any]:
    """The matplotlib figures of the report (timeline, mean spectra, abundances) by name."""
    seg = data.segments
    figs: dict[str, Any] = {}
    figs["timeline"] = plots.timeline(
        seg["start_t"], seg["end_t"], seg["class_code"], lot_mass_t=data.lot_mass_t,
        nir_score=data.segment_score if data.nir is not None else None, nir_threshold=data.segment_threshold,
        detection_t=data.detection_marks_t, gaps=[(g.station, g.start_t, g.end_t) for g in coverage_gaps(data)])
    if data.nir is not None and data.nir.class_means and data.nir.wavelength_nm is not None:
        figs["spectra"] = plots.mean_spectra(data.nir.wavelength_nm, data.nir.class_means, data.references)
    if data.nir is not None and data.nir.segment_abundance is not None and len(seg["index"]):
        figs["abundances"] = plots.abundances(0.5 * (seg["start_t"] + seg["end_t"]), data.nir.segment_abundance,
                                              data.nir.abundance_names)
    return figs


def gaps_section(data: ReportData) -> Section:
    sec = Section("Gaps and missing data", anchor="gaps")
    rows = [{"station": g.station, "from": tonnes(g.start_t), "to": tonnes(g.end_t), "why": g.why}
            for g in coverage_gaps(data)]
    rows += [{"station": "", "from": "", "to": "", "why": n} for n in data.notes]
    sec.add(Para("Every stretch a station could not inspect, every segment the line left uninspected (NIR warm-up "
                 "included) and every missing part. Uninspected material is never counted as clean."),
            Table([Col("station", "station"), Col("from", "from", "right"), Col("to", "to", "right"),
                   Col("why", "what")], rows,
                  empty="none: every station saw the whole lot and all lab results are in"))
    return sec


def _class_rows(data: ReportData) -> list[dict[str, str]]:
    seg = data.segments
    width = seg["end_t"] - seg["start_t"]
    return [{"class": c, "segments": str(int((seg["class_code"] == i).sum())),
             "tonnes": tonnes(float(width[seg["class_code"] == i].sum()))} for i, c in enumerate(SEGMENT_CLASSES)]


def segments_section(data: ReportData, figs: Mapping[str, Any]) -> Section:
    sec = Section("Segment classes along the lot", anchor="segments")
    sec.add(Figure(plots.png_base64(figs["timeline"]), "segment timeline",
                   "Segment classes along lot tonnage, the NIR segment score and the camera's detections"))
    sec.add(Table([Col("class", "class"), Col("segments", "segments", "right"), Col("tonnes", "tonnes", "right")],
                  _class_rows(data), caption="At lot end"))
    flagged = [{"segment": str(s.index), "from": tonnes(s.start_t), "to": tonnes(s.end_t), "class": s.segment_class,
                "reasons": "; ".join(s.reasons)} for s in data.segment_decisions if s.segment_class != "ore"]
    sec.add(Table([Col("segment", "segment", "right"), Col("from", "from", "right"), Col("to", "to", "right"),
                   Col("class", "class"), Col("reasons", "reasons at lot end")], flagged,
                  caption="Segments not classed ore", empty="every segment classed ore"))
    return sec


def nir_section(data: ReportData, figs: Mapping[str, Any]) -> Section:
    sec = Section("NIR: mean spectra and mineral abundances", anchor="nir")
    if "spectra" in figs and data.nir is not None:
        sec.add(Figure(plots.png_base64(figs["spectra"]), "mean spectra",
                       f"Mean spectra per segment class against library references. {data.reference_note}; "
                       f"{data.nir.valid_rows:,} valid of {data.nir.rows:,} spectra."))
    else:
        sec.add(Para("no spectra to show", "gap"))
    if "abundances" in figs and data.nir is not None:
        nir = data.nir
        sec.add(Figure(plots.png_base64(figs["abundances"]), "abundances",
                       "Mass fractions of the wet material by unmixing each spectrum (Hapke albedo, NNLS on the "
                       f"model's end-members); mean unmixing residual {nir.mean_residual:.4f} (albedo RMS)"))
        sec.add(Table([Col("class", "class")] + [Col(n, n, "right") for n in nir.abundance_names],
                      [{"class": c, **{n: f"{float(x):.3f}" for n, x in zip(nir.abundance_names, ab)}}
                       for c, ab in nir.class_abundance.items()], caption="Mean abundance per segment class"))
        check = abundance_check(nir)
        if check is not None:
            rows, lot_mae, seg_mae = check
            sec.add(Table([Col("component", "component"), Col("estimated", "estimated", "right"),
                           Col("simulated", "simulated", "right"), Col("abs_error", "abs. error", "right")],
                          [{"component": r["component"], "estimated": f"{r['estimated']:.3f}",
                            "simulated": f"{r['simulated']:.3f}", "abs_error": f"{r['abs_error']:.3f}"}
                           for r in rows if r["estimated"] >= 0.005 or r["simulated"] >= 0.005],
                          caption=f"Estimated vs simulated mass fractions (simulation truth): mean absolute error "
                                  f"lot {lot_mae:.3f}, segments {seg_mae:.3f}"))
    else:
        sec.add(Para("no abundances archived", "gap"))
    return sec


def detections_section(data: ReportData) -> Section:
    counted, kinds = objects_counted(data.segment_decisions)
    sec = Section("Detections", anchor="detections")
    sec.add(Para(f"{counted} foreign object(s) counted by the segment decisions"
                 + (f" ({', '.join(f'{k} {n}' for k, n in kinds.items())})" if kinds else "")
                 + f"; the camera reported {data.detections_total:,} candidate detection(s) in all, the rest below "
                   f"the decision's size or probability limits"
                 + (f"; the {len(data.detections)} largest shown" if data.detections_total > len(data.detections)
                    else "") + "."))
    if data.thumbnails:
        caps = [f"{d.get('kind', '?')} {float(d.get('length_mm', math.nan)):.0f} mm, "
                f"p={float(d.get('probability', math.nan)):.2f}, {d['mark_t']:,.1f} t" for d in data.detections]
        sec.add(Gallery([plots.image_png_base64(img) for img in data.thumbnails], caps))
    return sec


def alarms_section(data: ReportData) -> Section:
    rows = [{"id": text(a.alarm_id), "category": a.category, "severity": a.severity, "state": a.state,
             "at": tonnes(a.mark_t), "message": a.message, "ack": a.acknowledged_by} for a in data.alarms]
    return Section("Alarms", anchor="alarms").add(Table(
        [Col("id", "id", "right"), Col("category", "category"), Col("severity", "severity"), Col("state", "state"),
         Col("at", "at", "right"), Col("message", "message"), Col("ack", "acknowledged by")], rows,
        empty="no alarm raised"))
