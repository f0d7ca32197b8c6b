"""The record part of the report: the ISO 3082 sample record and chain of custody (clock times, people, seals),
operator commands, NIR identification evidence, and the provenance appendix."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from analysis.archive import jsonable
from analysis.report.docmodel import Col, Figure, Para, Section, Table
from analysis.report.fmt import clock, text, tonnes, utc
from analysis.report.read import ReportData, short_id


def epoch_offset_s(data: ReportData) -> float:
    """Unix time of line-clock zero (from the lot start record), NaN when the archive does not say."""
    try:
        return float(data.start["epoch_s"]) - float(data.start.get("time_s", 0.0))
    except (KeyError, TypeError, ValueError):
        return math.nan


def plan_rows(plan: Mapping[str, Any]) -> list[dict[str, str]]:
    """The sampling plan as (item, value) rows; long lists (increment offsets) are summarised."""
    rows = []
    for key, value in jsonable(plan).items():
        if isinstance(value, list) and len(value) > 6:
            nums = [v for v in value if isinstance(v, (int, float))]
            value = (f"{len(value)} values, {min(nums):,.1f} … {max(nums):,.1f}" if len(nums) == len(value)
                     else f"{len(value)} values")
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)
        rows.append({"item": key.replace("_", " "), "value": text(value)})
    return rows


def sample_record_section(data: ReportData) -> Section:
    sec = Section("Sample record (ISO 3082) and chain of custody", anchor="samples")
    sec.add(Table([Col("item", "item"), Col("value", "value")], plan_rows(data.sampling_plan),
                  caption="Sampling plan", empty="no sampling plan recorded"))
    outcome = {sid: d.outcome for sid, d in data.decisions.items()}
    samples = [{"sample": short_id(str(s.get("sample_id")), data.lot_id), "role": text(s.get("role")),
                "sublot": text(s.get("sublot")), "incr": text(s.get("n_increments")),
                "mass": f"{float(s.get('mass_kg') or math.nan):.1f}", "container": text(s.get("container")),
                "seal": text(s.get("seal")), "status": text(s.get("status")),
                "lab": outcome.get(str(s.get("sample_id")), "awaiting assay")} for s in data.samples]
    sec.add(Table([Col("sample", "sample"), Col("role", "role"), Col("sublot", "sub-lot", "right"),
                   Col("incr", "incr.", "right"), Col("mass", "mass kg", "right"), Col("container", "container"),
                   Col("seal", "seal"), Col("status", "status"), Col("lab", "lab decision")], samples,
                  caption="Samples", empty="no samples recorded"))
    offset = epoch_offset_s(data)
    custody = [{"sample": short_id(str(r.get("sample_id")), data.lot_id), "status": text(r.get("status")),
                "time": clock(r.get("epoch_s", r.get("time_s")), offset), "by": text(r.get("by")),
                "note": text(r.get("note"))} for r in data.custody]
    sec.add(Table([Col("sample", "sample"), Col("status", "step"), Col("time", "time"), Col("by", "by"),
                   Col("note", "note")], custody, caption="Chain of custody (each step with its time and person)",
                  empty="no custody steps recorded"))
    incs = [{"no": text(r.get("number")), "role": text(r.get("role")), "at": tonnes(r.get("mark_t")),
             "time": clock(r.get("actual_time_s", r.get("time_s")), offset), "status": text(r.get("status")),
             "mass": text(r.get("mass_kg")), "sample": short_id(str(r.get("sample_id") or ""), data.lot_id),
             "reason": text(r.get("reason"))} for r in data.increments]
    sec.add(Table([Col("no", "no", "right"), Col("role", "role"), Col("at", "at", "right"), Col("time", "cut at"),
                   Col("status", "status"), Col("mass", "mass kg", "right"), Col("sample", "sample"),
                   Col("reason", "reason")], incs, caption="Increments", empty="no increments recorded"))
    return sec


def commands_section(data: ReportData) -> Section | None:
    """Operator commands carried out for the lot (the control room's audit trail), when the archive holds them."""
    if not data.commands:
        return None
    rows = [{"time": text(r.get("clock")) or clock(r.get("epoch_s")), "who": text(r.get("person")),
             "role": text(r.get("role")), "from": text(r.get("source")), "command": text(r.get("action")),
             "detail": text(r.get("detail"))} for r in data.commands]
    return Section("Operator commands", anchor="commands").add(
        Table([Col("time", "time (UTC)"), Col("who", "who"), Col("role", "role"), Col("from", "from"),
               Col("command", "command"), Col("detail", "detail")], rows))


def nir_identification_section(data: ReportData) -> Section | None:
    """What the NIR spectra were identified as, by absorption features against real references (material group,
    class, share, fit and the features seen), with the per-segment class shares; None without identification."""
    if not data.nir_identification:
        return None
    rows = [{"group": text(r["group"]), "class": text(r["class"]), "spectra": f"{r['spectra']:,}",
             "share": f"{100 * r['share']:.1f} %", "fit": f"{r['median_fit']:.2f}", "features": text(r["features"])}
            for r in data.nir_identification]
    sec = Section("NIR identification by absorption features", anchor="nir-identification")
    sec.add(Para("Each spectrum's continuum-removed absorption features fitted against real reference spectra. "
                 "Unknown means no reference fits: it never counts toward ore."),
            Table([Col("group", "material group"), Col("class", "class"), Col("spectra", "spectra", "right"),
                   Col("share", "share", "right"), Col("fit", "median fit", "right"), Col("features", "features seen")],
                  rows))
    if data.nir_identification_png:
        sec.add(Figure(data.nir_identification_png, "NIR identification per segment",
                       "Share of the spectra of each segment identified as ore, waste, contaminant or unknown."))
    if data.nir_identification_segments:
        seg_rows = [{"segment": str(s["segment"]), "spectra": f"{s['spectra']:,}", "groups": text(s["label"]),
                     "features": text("; ".join(f"{g['group']}: {g['features']}" for g in s["groups"]
                                                if g["share"] >= 0.05))}
                    for s in data.nir_identification_segments]
        sec.add(Para("Per segment: the groups the spectra were identified as, with their shares, and the features "
                     "detected in each group's spectra (band depth above 2 % and above the spectra's noise)."),
                Table([Col("segment", "segment", "right"), Col("spectra", "spectra", "right"),
                       Col("groups", "groups"), Col("features", "features detected per group")], seg_rows))
    return sec


def _model_rows(data: ReportData) -> list[dict[str, str]]:
    """Models and instruments with every cell filled: what is not recorded says so."""
    rows = []
    for m in data.model_rows:
        rows.append({"what": text(m.get("what")) or "unnamed",
                     "version": text(m.get("version")) or "no version recorded",
                     "digest": text(m.get("digest")) or "no digest recorded",
                     "detail": text(m.get("detail")) or "-"})
    return rows


def appendix_section(data: ReportData) -> Section:
    sec = Section("Appendix: provenance, models and instruments", anchor="provenance")
    sec.add(Table([Col("item", "item"), Col("value", "value")],
                  [{"item": text(r["item"]), "value": text(r["value"])} for r in data.provenance_rows],
                  caption="Provenance"))
    sec.add(Table([Col("what", "stream / model"), Col("version", "versions"), Col("digest", "digest"),
                   Col("detail", "detail")], _model_rows(data), caption="Models and instruments",
                  empty="no models or streams recorded"))
    sec.add(Para(f"Report generated {utc(data.provenance.get('generated_epoch_s'))} from {data.path.name}.", "muted"))
    return sec
