"""The report as one document model (:mod:`analysis.report.docmodel`), built from :class:`ReportData`.

Page 1 is what an analyst signs: lot identity, the line's verdict and the lab's side by side (all samples' rules
in the lab box), key figures that match the decision, the certificate and Tested / Checked / Approved signature
blocks. Then the lab's own numbers (landscape), amendments and reviews, gaps, the line's segments and figures,
detections, the sample record and chain of custody, alarms, operator commands, NIR identification evidence and the
provenance appendix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.decide import LabVerdict
from analysis.report.docmodel import (
    Boxes,
    Bullets,
    Col,
    Document,
    KeyFigures,
    Para,
    Section,
    Signatures,
    Table,
    VerdictBox,
)
from analysis.report.fmt import tonnes
from analysis.report.labsection import amendments_section, certificate_rows, lab_section
from analysis.report.linesection import (
    alarms_section,
    detections_section,
    gaps_section,
    nir_section,
    segments_section,
)
from analysis.report.read import ReportData, short_id
from analysis.report.records import (
    appendix_section,
    commands_section,
    nir_identification_section,
    sample_record_section,
)
from analysis.report.summaries import (
    coverage_gaps,
    line_lines,
    objects_counted,
    segment_counts,
)
from sampler.labrules import FAMILIES

SIGNATURE_ROLES = ("Tested", "Checked", "Approved")


def _identity(data: ReportData) -> list[dict[str, str]]:
    lot = data.lot
    items = [("vessel", str(lot.get("vessel", ""))), ("hold", str(lot.get("hold", ""))),
             ("declared product", str(lot.get("declared_product", ""))),
             ("supplier", str(lot.get("supplier", "") or "not stated")),
             ("declared mass", tonnes(lot.get("declared_mass_t", 0))), ("weighed mass", tonnes(data.lot_mass_t)),
             ("lot opened", str(data.provenance.get("opened_utc", ""))),
             ("lot ended", str(data.provenance.get("lot_end_utc", ""))),
             ("archive", f"{data.path.name}, {data.state}" + (" (open)" if data.live else ""))]
    return [{"item": a, "value": b} for a, b in items]


def lab_lines(data: ReportData) -> list[str]:
    """The lab box: basis, samples assayed, every sample's rules that fired, what is missing."""
    lab: LabVerdict | None = data.lab
    if lab is None:
        return ["no lab verdict"]
    n = len(lab.samples)
    out = [f"{lab.basis}; {n - len(lab.awaiting)} of {n} samples assayed"]
    if lab.verdict == "waste" and lab.line_verdict == "ore":
        out.append("the line called the lot ore: by-product material found by the lab")
    fired = [(sid, d) for sid, d in data.decisions.items() if d.fired]
    for sid, d in fired:
        fam = FAMILIES.get(d.family, d.family)
        out.append(f"{short_id(sid, lab.lot_id)}: {d.outcome}" + (f" ({fam})" if fam else "") + ", rules "
                   + " ".join(d.rule_ids))
    if data.decisions and not fired:
        out.append(f"no rule fired on any of the {len(data.decisions)} assayed samples")
    if not lab.evidence:
        out += list(lab.reasons)[:2]
    out += [f"missing: {m}" for m in lab.missing]
    return out


def key_figures(data: ReportData) -> list[tuple[str, str]]:
    """Figures on page 1, recomputed at lot end so that they match the segment decisions."""
    counts = segment_counts(data.segment_decisions)
    counted, _kinds = objects_counted(data.segment_decisions)
    lab = data.lab
    n_samples = len(lab.samples) if lab else 0
    v = data.verdict
    return [("segments decided", f"{len(data.segment_decisions)}"),
            ("contaminated segments", f"{counts.get('contaminated', 0)}"),
            ("waste-suspect segments", f"{counts.get('waste-suspect', 0)}"),
            ("uninspected share", f"{v.uninspected_fraction:.1%}" if v else "n/a"),
            ("foreign objects counted", f"{counted} (of {data.detections_total:,} camera detections)"),
            ("gaps in coverage", f"{len(coverage_gaps(data))}"),
            ("samples assayed", f"{len(data.latest)} of {n_samples}"),
            ("samples with by-product material", f"{len(lab.evidence) if lab else 0}"),
            ("alarms", f"{len(data.alarms)}")]


def summary_section(data: ReportData) -> Section:
    v, lab = data.verdict, data.lab
    sec = Section("Certificate of inspection", anchor="summary")
    sec.add(Table([Col("item", "lot"), Col("value", "")], _identity(data), cls="identity"))
    sec.add(Boxes([VerdictBox("1 line (NIR, camera, SPRT)", v.verdict if v else "none", line_lines(data)),
                   VerdictBox("2 lab (assays, phases)", lab.verdict if lab else "none", lab_lines(data))]))
    sec.add(KeyFigures(key_figures(data)))
    certs = certificate_rows(data)
    if certs:
        sec.add(Bullets([f"Lab: {c['lab']}; report {c['report']}; received {c['received'] or 'not stated'}; "
                         f"analysed {c['analysed'] or 'not stated'}; {c['samples']} sample(s) from {c['file']}"
                         for c in certs], "cert"))
    if data.reviews:
        last = data.reviews[-1]
        sec.add(Para(f"Last review: {last['reviewer']}, {last['decision']}, {last['time']} (all reviews under "
                     f"'Amendments and reviews')."))
    sec.add(Signatures(SIGNATURE_ROLES))
    return sec


def build_document(data: ReportData, figs: Mapping[str, Any]) -> Any:
    """The :class:`~analysis.report.docmodel.Document` of one lot (``figs`` from ``linesection.figures``)."""
    sections = [summary_section(data), lab_section(data), amendments_section(data), gaps_section(data),
                segments_section(data, figs), nir_section(data, figs)]
    nir_id = nir_identification_section(data)
    if nir_id is not None:
        sections.append(nir_id)
    sections += [detections_section(data), sample_record_section(data), alarms_section(data)]
    commands = commands_section(data)
    if commands is not None:
        sections.append(commands)
    sections.append(appendix_section(data))
    lot = data.lot
    subtitle = (f"{lot.get('vessel', '')}, hold {lot.get('hold', '')} — {lot.get('declared_product', '')}; "
                f"supplier {lot.get('supplier', '') or 'not stated'}")
    return Document(f"Lot {data.lot_id}", data.lot_id, subtitle, sections,
                    {"generated": data.provenance.get("generated_utc", "")})
