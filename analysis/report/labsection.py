"""The lab's part of the report: every analyte as the lab reported it (its text, precision, unit and qualifier),
the decision per sample, the rules that fired with the indicator values behind them, the certificate metadata,
methods and the lab's custody steps, amendments after ``--supersede`` and the reviews (stale ones marked)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from analysis.report.docmodel import Bullets, Col, Para, Section, Table
from analysis.report.fmt import utc
from analysis.report.read import ReportData, short_id
from analysis.report.summaries import sample_basis
from sampler.lab import ANALYTE_BY_KEY, ANALYTES, LabResult
from sampler.labrules import FAMILIES, RULES, qualified_value

_RULE_BY_ID = {r.rule_id: r for r in RULES}
OUTCOME_CLS = {"by-product": "o-by-product", "contaminated": "o-contaminated", "ore": "o-ore"}


def _sid(data: ReportData, sid: str) -> str:
    return short_id(sid, data.lot_id)


def _role(data: ReportData, sid: str) -> str:
    row = next((r for r in (data.lab.samples if data.lab else ()) if r["sample_id"] == sid), {})
    return str(row.get("role", "?"))


def reported_keys(results: list[LabResult]) -> list[str]:
    """Every analyte any sample reports, in the order of :data:`sampler.lab.ANALYTES`."""
    seen = {k for r in results for k in r.reported}
    return [a.key for a in ANALYTES if a.key in seen]


def _column_head(results: list[LabResult], key: str) -> tuple[str, str]:
    """(name as reported, the unit most samples give) of an analyte column."""
    forms = Counter(r.forms.get(key, ANALYTE_BY_KEY[key].label) for r in results if key in r.reported)
    units = Counter(r.units.get(key, "%") for r in results if key in r.reported)
    return forms.most_common(1)[0][0], units.most_common(1)[0][0]


def assay_table(data: ReportData) -> Table:
    """Samples × analytes, each cell the lab's own text (``61.24``, ``<0.005``, ``ND``)."""
    results = list(data.latest.values())
    keys = reported_keys(results)
    heads = {k: _column_head(results, k) for k in keys}
    cols = [Col("sample", "sample"), Col("role", "role")]
    cols += [Col(k, f"{heads[k][0]} {heads[k][1]}", "right") for k in keys]
    rows, row_cls = [], []
    for sid, res in data.latest.items():
        row = {"sample": _sid(data, sid), "role": _role(data, sid)}
        for k in keys:
            name, value, unit = res.as_reported(k)
            extra = [] if name == heads[k][0] else [f"as {name}"]
            extra += [] if unit == heads[k][1] else [unit]
            row[k] = value + (f" ({', '.join(extra)})" if extra and value else "")
        rows.append(row)
        row_cls.append(OUTCOME_CLS.get(data.decisions[sid].outcome, ""))
    return Table(cols, rows, caption="Assays as reported by the lab (dry basis; moisture of the wet sample); "
                                     "'<x' below the lab's limit x, ND not detected", cls="lab assays",
                 row_cls=row_cls, empty="no lab results imported")


def qualifier_notes(data: ReportData) -> list[str]:
    """How the rules took each qualified value (one line per analyte and limit)."""
    seen: dict[tuple[str, str], str] = {}
    for res in data.latest.values():
        for key, limit in res.qualified.items():
            name, value, unit = res.as_reported(key)
            treated = qualified_value(key, limit)
            how = ("taken as 0 by the rules (limit below every rule threshold on it)" if treated == 0.0
                   else "taken as not reported by the rules (limit not below a rule threshold)")
            seen[(name, value + ("" if unit == "%" else f" {unit}"))] = how
    return [f"{name} {value}: {how}" for (name, value), how in sorted(seen.items())]


def decision_table(data: ReportData) -> Table:
    cols = [Col("sample", "sample"), Col("role", "role"), Col("decision", "decision"), Col("family", "family"),
            Col("basis", "basis"), Col("reason", "reason")]
    rows, row_cls = [], []
    for sid, d in data.decisions.items():
        rows.append({"sample": _sid(data, sid), "role": _role(data, sid), "decision": d.outcome,
                     "family": FAMILIES.get(d.family, d.family) + (f" ({d.subtype})" if d.subtype else ""),
                     "basis": sample_basis(data, sid), "reason": d.reason})
        row_cls.append(OUTCOME_CLS.get(d.outcome, ""))
    return Table(cols, rows, caption="Decision per sample by the lab rule set (oreline sampler lab-rules)",
                 row_cls=row_cls, empty="no lab results imported")


def rules_table(data: ReportData) -> Table:
    """Every rule that fired on every sample, with the values it saw and its threshold."""
    cols = [Col("sample", "sample"), Col("rule", "rule"), Col("values", "values behind it"),
            Col("threshold", "rule (threshold)"), Col("family", "family"), Col("source", "source")]
    rows = []
    for sid, d in data.decisions.items():
        for f in d.fired:
            rule = _RULE_BY_ID.get(f.rule_id)
            rows.append({"sample": _sid(data, sid), "rule": f.rule_id, "values": f.evidence,
                         "threshold": rule.indicator_text() if rule else "",
                         "family": FAMILIES.get(f.family, f.family or "any by-product"), "source": f.source})
    return Table(cols, rows, caption="Rules that fired and the indicator values behind them (% or ratio)",
                 empty="no rule fired on any sample")


def findings_table(data: ReportData) -> Table:
    cols = [Col("sample", "sample"), Col("phases", "XRD phases"), Col("texture", "texture"),
            Col("findings", "findings")]
    rows = [{"sample": _sid(data, sid), "phases": "; ".join(str(p) for p in r.phases), "texture": r.texture,
             "findings": r.findings} for sid, r in data.latest.items() if r.phases or r.texture or r.findings]
    return Table(cols, rows, caption="Phases, texture and findings as reported", empty="none reported")


def certificate_rows(data: ReportData) -> list[dict[str, str]]:
    """One row per lab certificate (file) the counted results come from."""
    certs: dict[str, dict[str, str]] = {}
    for r in data.latest.values():
        c = r.certificate
        key = c.get("sha256", "") or r.source
        certs.setdefault(key, {"lab": c.get("lab_name", "not stated in the file"),
                               "report": c.get("report_no", "not stated"), "received": c.get("received", ""),
                               "analysed": c.get("analysed", ""), "file": c.get("file", r.source),
                               "sha256": c.get("sha256", "not recorded (imported before hashes were kept)"),
                               "read as": c.get("encoding", ""), "samples": "0"})
        certs[key]["samples"] = str(int(certs[key]["samples"]) + 1)
    return list(certs.values())


def methods_table(data: ReportData) -> Table:
    """One row per method with the analytes it measured."""
    by_method: dict[str, list[str]] = {}
    for r in data.latest.values():
        for k, m in r.methods.items():
            name = r.forms.get(k, ANALYTE_BY_KEY[k].label)
            if name not in by_method.setdefault(m, []):
                by_method[m].append(name)
    rows = [{"method": m, "analytes": ", ".join(a)} for m, a in by_method.items()]
    return Table([Col("method", "method"), Col("analytes", "analytes")], rows, caption="Method per analyte",
                 empty="the lab file names no methods")


def lab_custody_table(data: ReportData) -> Table:
    cols = [Col("sample", "sample"), Col("dispatched", "dispatched (by)"), Col("received", "received (by)"),
            Col("seal", "seal on receipt"), Col("analysed", "analysed (by)")]
    rows = []
    for sid, r in data.latest.items():
        c = {k: v for k, v in r.custody.items() if r.certificate.get(k) != v}  # the certificate's dates are above

        def step(name: str, c: dict[str, str] = c) -> str:
            return " ".join(x for x in (c.get(name, ""), f"({c[name + '_by']})" if c.get(name + "_by") else "") if x)

        seal = " ".join(x for x in (c.get("seal", ""), c.get("seal_intact", ""), c.get("seal_checked", "")) if x)
        if any((step("dispatched"), step("received"), step("analysed"), seal)):
            rows.append({"sample": _sid(data, sid), "dispatched": step("dispatched"), "received": step("received"),
                         "seal": seal, "analysed": step("analysed")})
    return Table(cols, rows, caption="Custody steps reported by the lab", empty="the lab file gives no custody steps")


def lab_section(data: ReportData) -> Section:
    if not data.latest:
        return Section("Lab results: the lab's own numbers", anchor="lab").add(
            Para("no lab results imported (oreline archive import-lab LOT.h5 FILE)", "gap"))
    sec = Section("Lab results: the lab's own numbers", anchor="lab", wide=True, new_page=True)
    certs = certificate_rows(data)
    sec.add(Table([Col(k, k) for k in ("lab", "report", "received", "analysed", "file", "sha256", "read as",
                                       "samples")], certs, caption="Certificate", empty="no lab results imported"))
    sec.add(assay_table(data))
    notes = qualifier_notes(data)
    if notes:
        sec.add(Para("Values below the limit or not detected are stored as written. Treatment by the rules:"),
                Bullets(notes))
    sec.add(decision_table(data), rules_table(data), findings_table(data), methods_table(data),
            lab_custody_table(data))
    return sec


def _changed(old: dict[str, Any], new: dict[str, Any]) -> str:
    o, n = LabResult.from_row(old), LabResult.from_row(new)
    diffs = [f"{n.as_reported(k)[0] or o.as_reported(k)[0]} {o.reported.get(k, '—')} → {n.reported.get(k, '—')}"
             for k in dict.fromkeys([*o.reported, *n.reported]) if o.reported.get(k) != n.reported.get(k)]
    return "; ".join(diffs) or "no assay changed"


def amendments_section(data: ReportData) -> Section:
    """Results that replaced earlier ones (with the reason) and every review, stale ones marked."""
    sec = Section("Amendments and reviews", anchor="amendments")
    first: dict[str, dict[str, Any]] = {}
    rows = []
    for row in data.lab_history:
        sid = str(row.get("sample_id", ""))
        if sid in first and row.get("supersedes"):
            rows.append({"sample": _sid(data, sid), "imported": utc(row.get("imported_epoch_s")),
                         "changes": _changed(first[sid], row),
                         "reason": str(row.get("supersede_reason") or "no reason recorded (imported before reasons "
                                                                      "were required)")})
        first[sid] = row
    sec.add(Table([Col("sample", "sample"), Col("imported", "amended at"), Col("changes", "changed (old → new)"),
                   Col("reason", "reason")], rows, caption="Amended results (the earlier ones stay in the archive)",
                  empty="no result was amended"))
    last_import = max((float(r.get("imported_epoch_s", math.nan)) for r in data.lab_history), default=math.nan)
    reviews = []
    for rv in data.reviews:
        stale = math.isfinite(last_import) and rv["epoch_s"] < last_import
        reviews.append({"time": utc(rv["epoch_s"]), "reviewer": rv["reviewer"], "decision": rv["decision"],
                        "lab verdict then": rv["lab_verdict"], "comment": rv["comment"],
                        "status": f"STALE: results amended at {utc(last_import)}" if stale else "current"})
    sec.add(Table([Col(k, k) for k in ("time", "reviewer", "decision", "lab verdict then", "comment", "status")],
                  reviews, caption="Reviews", row_cls=["stale" if r["status"] != "current" else "" for r in reviews],
                  empty="no review recorded (oreline archive review LOT.h5 --name ... --decision ...)"))
    return sec
