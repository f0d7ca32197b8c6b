"""The batch report of one lot for lab analysts: self-contained HTML and a PDF, from the archive alone.

:func:`build_report_data` reads an archive (:func:`analysis.archive.open_archive`)
into a :class:`ReportData`: verdict, segment classes along tonnage, mean spectra
per segment class against USGS library references resampled onto the archive's
wavelength grid (``spectra.library``), abundances, a detection gallery, the
ISO 3082 sample record with lab results, alarms, provenance, and every gap
("NIR offline 120-240 t", "no lab results imported") spelled out.
:func:`write_report` writes ``<lot>-report.html`` (images inlined as base64 PNG,
no external links) and ``<lot>-report.pdf`` (matplotlib PdfPages).
``oreline report LOT.h5 [--out DIR] [--pdf/--no-pdf]`` is :func:`cli_report`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import html
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from conveyor.files import staged_folder
from spectra.grid import InstrumentGrid
from spectra.library import load_library
from analysis.archive import (
    ArchiveReader,
    current_lab_verdict,
    jsonable,
    latest_results,
    open_archive,
    reviews as lab_reviews,
    segment_positions,
    software_version,
)
from analysis.decide import LabVerdict
from analysis.errors import ArchiveError, ReportError
from analysis.model import SEGMENT_CLASSES, Alarm, LotVerdict
from analysis.report import plots
from analysis.report.pages import Column, first_page, table_pages
from sampler.labrules import FAMILIES, RULES, classify

GALLERY_MAX = 48
#: Uninspected pieces closer than this (t) are reported as one gap.
GAP_JOIN_T = 0.5
#: Shortest gap worth reporting (t); shorter ones (a tick of empty belt) are only counted.
GAP_MIN_T = 0.5
NIR_BATCH_ROWS = 65536


@dataclass
class NirSummary:
    """Spectra of one NIR stream condensed per segment class and per segment."""

    stream: str
    wavelength_nm: np.ndarray | None
    rows: int
    valid_rows: int
    class_means: dict[str, tuple[np.ndarray, int]]
    abundance_names: list[str]
    segment_abundance: np.ndarray | None  # (n_segments, k)
    class_abundance: dict[str, np.ndarray]
    #: simulation only: the archived true mass fractions (``true_abundances``) over ``truth_names``
    truth_names: list[str] | None = None
    segment_truth: np.ndarray | None = None  # (n_segments, k_truth)
    lot_abundance: np.ndarray | None = None  # (k,) mean over valid spectra
    lot_truth: np.ndarray | None = None  # (k_truth,)
    mean_residual: float = math.nan  # mean unmixing residual (albedo RMS) of valid spectra


@dataclass
class ReportData:
    """Everything the report shows, read from one archive."""

    path: Path
    size_bytes: int
    lot_id: str
    lot: dict[str, Any]
    start: dict[str, Any]
    state: str
    live: bool
    end: dict[str, Any] | None
    verdict: LotVerdict | None
    segments: dict[str, np.ndarray]
    segment_score: np.ndarray
    segment_threshold: float
    segment_reasons: list[str]
    lot_mass_t: float
    nir: NirSummary | None
    references: dict[str, np.ndarray] | None
    reference_note: str
    detections: list[dict[str, Any]]
    detections_total: int
    detection_marks_t: np.ndarray
    thumbnails: list[np.ndarray]
    increments: list[dict[str, Any]]
    sampling_plan: dict[str, Any]
    samples: list[dict[str, Any]]
    custody: list[dict[str, Any]]
    lab_results: list[dict[str, Any]]
    alarms: list[Alarm]
    gaps: list[tuple[str, float, float, str]]
    notes: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)
    lab: LabVerdict | None = None
    lab_rows: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    provenance_rows: list[dict[str, Any]] = field(default_factory=list)
    model_rows: list[dict[str, Any]] = field(default_factory=list)


# ---- reading -----------------------------------------------------------------------------------------
def _merge_gaps(station: str, start: np.ndarray, end: np.ndarray, reason: np.ndarray) -> list[tuple[str, float, float, str]]:
    """Merge uninspected pieces of one station into stretches: (station, start t, end t, reasons)."""
    keep = end - start > 0
    start, end, reason = start[keep], end[keep], reason[keep]
    if start.size == 0:
        return []
    order = np.argsort(start, kind="stable")
    start, end, reason = start[order], end[order], reason[order]
    reach = np.maximum.accumulate(end)
    new = np.ones(start.size, bool)
    new[1:] = start[1:] > reach[:-1] + GAP_JOIN_T
    out = []
    firsts = np.flatnonzero(new)
    lasts = np.append(firsts[1:], start.size)
    for g, (a, b) in enumerate(zip(firsts, lasts)):
        lo, hi = float(start[a]), float(reach[b - 1])
        if hi - lo < GAP_MIN_T:
            continue
        reasons = sorted(set(reason[a:b].tolist()) - {""})
        out.append((station, lo, hi, "; ".join(reasons[:3]) + (" ..." if len(reasons) > 3 else "")))
    return out


def _nir_summary(reader: ArchiveReader, stream: str, seg: Mapping[str, np.ndarray]) -> NirSummary:
    info = reader.streams[stream]
    n_seg = len(seg["index"])
    has_refl = "reflectance" in info.fields
    has_ab = "abundances" in info.fields
    keys = ["tonnage_mark_t"] + (["reflectance"] if has_refl else []) + (["abundances"] if has_ab else [])
    keys += ["valid"] if "valid" in info.fields else []
    has_truth = has_ab and "true_abundances" in info.fields
    has_res = has_ab and "unmix_residual" in info.fields
    keys += (["true_abundances"] if has_truth else []) + (["unmix_residual"] if has_res else [])
    n_ch = info.fields["reflectance"][0][0] if has_refl else 0
    k = info.fields["abundances"][0][0] if has_ab else 0
    kt = info.fields["true_abundances"][0][0] if has_truth else 0
    tr_sum = np.zeros((n_seg, kt))
    res_sum = 0.0
    sums = np.zeros((len(SEGMENT_CLASSES), n_ch))
    counts = np.zeros(len(SEGMENT_CLASSES), np.int64)
    ab_sum = np.zeros((n_seg, k))
    ab_n = np.zeros(n_seg)
    valid_rows = 0
    codes = seg["class_code"].astype(np.int64)
    for batch in reader.iter_stream(stream, keys, NIR_BATCH_ROWS):
        rel = reader.lot_tonnes(batch["tonnage_mark_t"])
        valid = batch["valid"].astype(bool) if "valid" in batch else np.ones(rel.shape, bool)
        if has_refl:
            valid &= np.all(np.isfinite(batch["reflectance"]), axis=1)
        valid_rows += int(valid.sum())
        pos = segment_positions(seg["start_t"], seg["end_t"], rel)
        cls = np.where(pos >= 0, codes[np.clip(pos, 0, None)] if n_seg else -1, -1)
        if has_refl:
            refl = batch["reflectance"]
            for c in range(len(SEGMENT_CLASSES)):
                sel = valid & (cls == c)
                if sel.any():
                    sums[c] += refl[sel].sum(axis=0, dtype=np.float64)
                    counts[c] += int(sel.sum())
        if has_ab and n_seg:
            sel = valid & (pos >= 0)
            p = pos[sel]
            ab = batch["abundances"][sel]
            for j in range(k):
                ab_sum[:, j] += np.bincount(p, weights=ab[:, j], minlength=n_seg)
            ab_n += np.bincount(p, minlength=n_seg)
            if has_truth:
                tr = batch["true_abundances"][sel]
                for j in range(kt):
                    tr_sum[:, j] += np.bincount(p, weights=np.nan_to_num(tr[:, j]), minlength=n_seg)
            if has_res:
                res_sum += float(np.nansum(batch["unmix_residual"][sel]))
    class_means = {SEGMENT_CLASSES[c]: (sums[c] / counts[c], int(counts[c])) for c in range(len(SEGMENT_CLASSES))
                   if counts[c] > 0}
    seg_ab = None
    class_ab: dict[str, np.ndarray] = {}
    names = [str(x) for x in info.metadata.get("endmembers", info.metadata.get("minerals", []))]
    if has_ab:
        names = names if len(names) == k else [f"endmember {j}" for j in range(k)]
        with np.errstate(invalid="ignore", divide="ignore"):
            seg_ab = ab_sum / ab_n[:, None]
        for c in range(len(SEGMENT_CLASSES)):
            sel = (codes == c) & (ab_n > 0)
            if sel.any():
                class_ab[SEGMENT_CLASSES[c]] = ab_sum[sel].sum(0) / ab_n[sel].sum()
    summary = NirSummary(stream, reader.wavelength_nm(stream), info.rows, valid_rows, class_means, names, seg_ab,
                         class_ab)
    if has_ab and ab_n.sum() > 0:
        summary.lot_abundance = ab_sum.sum(0) / ab_n.sum()
        summary.mean_residual = res_sum / ab_n.sum() if has_res else math.nan
        if has_truth:
            truth_names = [str(x) for x in info.metadata.get("truth_components", [])]
            summary.truth_names = truth_names if len(truth_names) == kt else [f"component {j}" for j in range(kt)]
            with np.errstate(invalid="ignore", divide="ignore"):
                summary.segment_truth = tr_sum / ab_n[:, None]
            summary.lot_truth = tr_sum.sum(0) / ab_n.sum()
    return summary


def abundance_check(nir: NirSummary) -> tuple[list[dict], float, float] | None:
    """Simulation only: per component the lot's estimated vs simulated mass fraction; the mean absolute error
    over components of the lot means and of the segment means. None without archived truth."""
    if nir.lot_truth is None or nir.lot_abundance is None or nir.truth_names is None:
        return None
    est_of = dict(zip(nir.abundance_names, nir.lot_abundance))
    rows = [{"component": n, "estimated": float(est_of.get(n, 0.0)), "simulated": float(t),
             "abs_error": abs(float(est_of.get(n, 0.0)) - float(t))} for n, t in zip(nir.truth_names, nir.lot_truth)]
    lot_mae = float(np.mean([r["abs_error"] for r in rows]))
    seg_mae = math.nan
    if nir.segment_abundance is not None and nir.segment_truth is not None:
        idx = [nir.abundance_names.index(n) if n in nir.abundance_names else -1 for n in nir.truth_names]
        est = np.where(np.array(idx) >= 0, nir.segment_abundance[:, np.clip(idx, 0, None)], 0.0)
        with np.errstate(invalid="ignore"):
            seg_mae = float(np.nanmean(np.abs(est - nir.segment_truth)))
    return rows, lot_mae, seg_mae


@functools.lru_cache(maxsize=4)
def _library_references(wavelength_key: tuple[float, ...], fwhm_key: tuple[float, ...] | None) -> tuple[dict[str, np.ndarray], str]:
    wl = np.asarray(wavelength_key)
    grid = InstrumentGrid.from_wavelengths(wl, None if fwhm_key is None else np.asarray(fwhm_key), name="archive")
    lib = load_library().resample(grid, skip_uncovered=True)
    refs = {}
    for klass in ("ore", "gangue", "waste", "contaminant"):
        idx = lib.indices(classes=[klass])
        if idx.size:
            refs[f"USGS {klass} (mean of {idx.size})"] = np.nanmean(lib.reflectance[idx], axis=0)
    note = f"USGS splib07 class means resampled onto the archive grid ({len(lib.entries)} spectra"
    note += f", {len(lib.skipped)} not covering the grid left out)" if lib.skipped else ")"
    return refs, note


def library_references(reader: ArchiveReader, stream: str) -> tuple[dict[str, np.ndarray] | None, str]:
    """Library class means on the stream's wavelength grid, or (None, why not)."""
    wl = reader.wavelength_nm(stream)
    if wl is None:
        return None, f"no reference spectra: stream {stream!r} stores no wavelength grid"
    meta = reader.streams[stream].metadata
    grid = meta.get("grid")
    fwhm = grid.get("fwhm_nm") if isinstance(grid, Mapping) else meta.get("fwhm_nm")
    try:
        refs, note = _library_references(tuple(float(x) for x in wl),
                                         None if fwhm is None else tuple(float(x) for x in np.broadcast_to(fwhm, wl.shape)))
    except Exception as exc:  # the library is reference material; its absence is a marked gap, not a failure
        return None, f"library reference spectra unavailable ({type(exc).__name__}: {exc})"
    return dict(refs), note


def _detections(reader: ArchiveReader) -> tuple[list[dict[str, Any]], np.ndarray, list[np.ndarray]]:
    """The gallery's detections (largest ``GALLERY_MAX``), every detection's lot tonnage, the gallery thumbnails."""
    rows: list[dict[str, Any]] = []
    for info in reader.streams_of_kind("vision"):
        keys = [k for k in ("time_s", "tonnage_mark_t") + tuple(info.fields) if k != "thumbnail"]
        t = reader.stream_table(info.name, keys)
        for i in range(info.rows):
            d = {k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in t.items()}
            d["stream"], d["row"], d["mark_t"] = info.name, i, float(t["tonnage_mark_t"][i]) - reader.lot_start_mark_t
            rows.append(d)
    marks = np.array([d["mark_t"] for d in rows], float)

    def weight(d: dict[str, Any]) -> float:
        return float(d.get("probability", 1.0) or 0.0) * float(d.get("length_mm", 1.0) or 0.0)

    shown = sorted(rows, key=weight, reverse=True)[:GALLERY_MAX]
    shown.sort(key=lambda d: d["mark_t"])
    thumbs = []
    by_stream: dict[str, list[int]] = {}
    for d in shown:
        by_stream.setdefault(d["stream"], []).append(d["row"])
    images: dict[tuple[str, int], np.ndarray] = {}
    for stream, idx in by_stream.items():
        if "thumbnail" not in reader.streams[stream].fields:
            continue
        idx_sorted = sorted(set(idx))
        ds = reader._stream_ds(stream, "thumbnail")
        try:
            block = ds[idx_sorted]
        except (OSError, ValueError) as exc:
            raise ArchiveError(f"{reader.path}: thumbnails of {stream} cannot be read ({exc})") from exc
        for r, img in zip(idx_sorted, block):
            images[(stream, r)] = img
    for d in shown:
        thumbs.append(images.get((d["stream"], d["row"]), np.full((64, 64, 3), 200, np.uint8)))
    return shown, marks, thumbs


def _increments(reader: ArchiveReader) -> list[dict[str, Any]]:
    rows = []
    for info in reader.streams_of_kind("sampler"):
        t = reader.stream_table(info.name)
        for i in range(info.rows):
            d = {k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in t.items()}
            d["mark_t"] = float(t["tonnage_mark_t"][i]) - reader.lot_start_mark_t
            rows.append(d)
    return rows or reader.custody("increment")


def _short(value: Any, limit: int = 8) -> Any:
    """Metadata for people: long lists become '[n values a … b]'."""
    if isinstance(value, Mapping):
        return {k: _short(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and len(value) > limit:
        head, tail = value[0], value[-1]
        return f"[{len(value)} values {head} … {tail}]"
    return value


def build_report_data(reader: ArchiveReader) -> ReportData:
    """Read everything the report needs from an open archive. Raises ArchiveError for unreadable parts."""
    notes = _status_notes(reader)
    seg = reader.segment_table()
    decisions = reader.segments()
    thresholds = [d.evidence.get("nir_threshold") for d in decisions if d.evidence.get("nir_threshold") is not None]
    lot_mass_t = _lot_mass_t(reader, seg, notes)
    nir, references, ref_note = _nir_part(reader, seg, notes)
    if not reader.streams_of_kind("vision"):
        notes.append("no camera stream in this archive: no detection gallery")
    detections, det_marks, thumbs = _detections(reader)
    increments, plan, samples, custody, lab = _sampling_part(reader, notes)
    provenance = _provenance(reader)
    lab_v = current_lab_verdict(reader)
    prov_rows, model_rows = _provenance_rows(reader, provenance)
    return ReportData(
        lab=lab_v, lab_rows=_lab_rows(latest_results(reader), lab_v),
        reviews=[{"time": _utc(r.epoch_s), "reviewer": r.reviewer, "decision": r.decision,
                  "lab_verdict": r.lab_verdict, "comment": r.comment} for r in lab_reviews(reader)],
        provenance_rows=prov_rows, model_rows=model_rows,
        path=reader.path, size_bytes=reader.size_bytes, lot_id=reader.lot_id, lot=reader.lot, start=reader.start,
        state=reader.state, live=reader.live, end=reader.end, verdict=reader.final_verdict(), segments=seg,
        segment_score=np.array([d.nir_waste_score for d in decisions], float),
        segment_threshold=float(thresholds[-1]) if thresholds else math.nan,
        segment_reasons=["; ".join(d.reasons) for d in decisions], lot_mass_t=lot_mass_t, nir=nir,
        references=references, reference_note=ref_note, detections=detections, detections_total=len(det_marks),
        detection_marks_t=det_marks, thumbnails=thumbs, increments=increments, sampling_plan=plan, samples=samples,
        custody=custody, lab_results=lab, alarms=reader.alarms(), gaps=_coverage_gaps(reader), notes=notes,
        provenance=provenance,
    )


def _status_notes(reader: ArchiveReader) -> list[str]:
    """Notes on a lot still open for writing, or aborted."""
    notes: list[str] = []
    if reader.live:
        alive = reader.writer_alive()
        notes.append("archive still open for writing" + (" (its writer is gone: data up to its last flush; "
                     "close it with `oreline archive close`)" if alive is False else " (lot in progress?)"))
    if reader.state == "aborted":
        notes.append(f"lot aborted: {(reader.end or {}).get('reason') or 'no reason given'}")
    return notes


def _lot_mass_t(reader: ArchiveReader, seg: Mapping[str, np.ndarray], notes: list[str]) -> float:
    """Tonnes of the lot (weighed when it ended, else declared); notes segments not decided."""
    end = reader.end
    lot_mass_t = float(reader.lot.get("declared_mass_t") or 0.0)
    end_mark = (end or {}).get("lot_end", {}).get("end_mark_t") if end else None
    if end_mark is not None:
        lot_mass_t = max(0.0, float(end_mark) - reader.lot_start_mark_t)
    decided_t = float(seg["end_t"].max()) if len(seg["end_t"]) else 0.0
    if len(seg["index"]) == 0:
        notes.append("no segment decisions archived")
    elif decided_t < lot_mass_t - 1e-6:
        notes.append(f"segments decided up to {decided_t:,.0f} t of {lot_mass_t:,.0f} t")
    return lot_mass_t


def _coverage_gaps(reader: ArchiveReader) -> list[tuple[str, float, float, str]]:
    """Uninspected stretches per station, merged (station, start_t, end_t, reason)."""
    cov = reader.coverage()
    gaps: list[tuple[str, float, float, str]] = []
    if len(cov["station"]):
        rel0 = reader.lot_tonnes(cov["start_mark_t"])
        rel1 = reader.lot_tonnes(cov["end_mark_t"])
        un = ~cov["inspected"].astype(bool)
        for st in sorted(set(cov["station"][un].tolist())):
            sel = un & (cov["station"] == st)
            gaps += _merge_gaps(st, rel0[sel], rel1[sel], cov["reason"][sel])
    return gaps


def _nir_part(reader: ArchiveReader, seg: Mapping[str, np.ndarray],
              notes: list[str]) -> tuple[NirSummary | None, dict[str, np.ndarray] | None, str]:
    """The NIR summary of the first NIR stream and the library references for its grid."""
    nir_streams = reader.streams_of_kind("nir")
    if not nir_streams:
        notes.append("no NIR stream in this archive: no spectra, abundances or NIR scores")
        return None, None, ""
    references, ref_note = None, ""
    nir = _nir_summary(reader, nir_streams[0].name, seg)
    if len(nir_streams) > 1:
        notes.append(f"{len(nir_streams)} NIR streams; spectra shown for {nir.stream}")
    if nir.valid_rows == 0:
        notes.append(f"NIR stream {nir.stream}: no valid spectra")
    if nir.wavelength_nm is not None and "reflectance" in reader.streams[nir.stream].fields:
        references, ref_note = library_references(reader, nir.stream)
        if references is None:
            notes.append(ref_note)
    return nir, references, ref_note


def _sampling_part(reader: ArchiveReader, notes: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                                    list[Any], list[Any], list[Any]]:
    """Increments, sampling plan, samples, chain of custody and lab results; notes what is missing."""
    increments = _increments(reader)
    plan = dict(reader.sampling_plan or {})
    for info in reader.streams_of_kind("sampler"):  # the sampler station describes its plan
        if not plan and isinstance(info.metadata.get("plan"), Mapping):
            plan = dict(info.metadata["plan"])
    samples = reader.custody("sample")
    custody = reader.custody("custody")
    lab = reader.lab_results()
    if not lab:
        notes.append("no lab results imported")
    else:
        ids = {str(s.get("sample_id")) for s in samples} | {str(r.get("sample_id")) for r in increments
                                                            if r.get("sample_id")}
        missing = sorted(ids - {str(r.get("sample_id")) for r in lab} - {""})
        if missing:
            notes.append(f"no lab result yet for {len(missing)} sample(s): {', '.join(missing[:10])}"
                         + (" ..." if len(missing) > 10 else ""))
    if not increments and not samples:
        notes.append("no sampling record in this archive")
    return increments, plan, samples, custody, lab


def _provenance(reader: ArchiveReader) -> dict[str, Any]:
    """Where the report comes from: archive, writer, software, times, streams, models, configuration."""
    end = reader.end
    streams = {n: {"station": s.station, "kind": s.kind, "rows": s.rows, "units": dict(s.units),
                   "metadata": _short(jsonable(s.metadata))} for n, s in reader.streams.items()}
    return {
        "archive": str(reader.path.resolve()), "archive_bytes": reader.size_bytes,
        "format_version": reader.format_version, "written_by": reader.software, "writer_host": reader.writer_host,
        "report_by": software_version(), "generated_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "opened_utc": _utc(next((h["epoch_s"] for h in reader.status_history() if h["state"] == "open"), None)),
        "lot_start_utc": _utc(reader.start.get("time_s")),
        "lot_end_utc": _utc((end or {}).get("lot_end", {}).get("time_s") if end else None),
        "status_history": [{"state": h["state"], "utc": _utc(h["epoch_s"]), "reason": h["reason"]}
                           for h in reader.status_history()],
        "streams": streams, "models": reader.model_versions(), "config": _short(jsonable(reader.config), 16),
    }


#: Analytes shown in the lab results table, in this order.
LAB_TABLE_ANALYTES = ("tfe", "feo", "mfe", "sio2", "al2o3", "cao", "mgo", "mno", "tio2", "p", "s", "zn", "pb",
                      "cr2o3", "na2o")


def short_id(sample_id: str, lot_id: str) -> str:
    """A sample id without its lot prefix (``<lot>-G1`` → ``G1``) for tables of one lot."""
    return sample_id[len(lot_id) + 1:] if sample_id.startswith(lot_id + "-") else sample_id


def _lab_rows(results: Mapping[str, Any], lab: LabVerdict) -> list[dict[str, Any]]:
    """One row per analysed sample: role, assays (%), CaO/SiO2, phases, the lab decision and the rules that fired."""
    role = {str(r["sample_id"]): r for r in lab.samples}
    rows = []
    for sid, res in results.items():
        d = classify(res)
        row: dict[str, Any] = {"sample_id": short_id(sid, lab.lot_id), "role": role.get(sid, {}).get("role", "?"),
                               "segment": role.get(sid, {}).get("segment", -1)}
        row.update({k: res.get(k) for k in LAB_TABLE_ANALYTES})
        sio2, cao = res.get("sio2"), res.get("cao")
        row["basicity"] = cao / sio2 if sio2 and sio2 > 0 else math.nan
        row["phases"] = "; ".join(str(p) for p in res.phases)
        row["outcome"] = d.outcome
        row["family"] = FAMILIES.get(d.family, d.family) + (f" ({d.subtype})" if d.subtype else "")
        row["rules"] = " ".join(d.rule_ids)
        row["reason"] = d.reason
        row["_colour"] = {"by-product": "#c62828", "contaminated": "#ef6c00", "ore": "#2e7d32"}.get(d.outcome, "#424242")
        rows.append(row)
    return rows


def _digest(obj: Any) -> str:
    """Short SHA-256 of the canonical JSON of ``obj``."""
    return hashlib.sha256(json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _provenance_rows(reader: ArchiveReader, prov: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The provenance appendix: (facts as item/value rows, models and instruments with versions and digests)."""
    items = [("archive", f"{reader.path.name} ({reader.size_bytes / 1e6:,.1f} MB, format v{reader.format_version})"),
             ("written by", f"{reader.software} on {reader.writer_host or 'unknown host'}"),
             ("report by", f"{prov['report_by']}, {prov['generated_utc']}"),
             ("archive opened / closed", f"{prov['opened_utc']} / " + _utc(next((h["epoch_s"] for h in reversed(
                 reader.status_history()) if h["state"] in ("complete", "aborted")), None))),
             ("site configuration digest", f"sha256 {_digest(reader.config)}"),
             ("sampling plan digest", f"sha256 {_digest(reader.sampling_plan)}"),
             ("lab rule set digest", f"sha256 {_digest([r.__dict__ for r in RULES])}")]
    items += [(f"status: {h['state']}", f"{h['utc']} {h['reason']}") for h in prov["status_history"]]
    models = []
    for m in reader.model_versions():
        models.append({"what": m.get("name", ""), "version": m.get("version", ""),
                       "digest": str(m.get("digest") or m.get("sha256") or "")[:16], "detail": ""})
    for name, s in reader.streams.items():
        meta = s.metadata
        found = {k: v for k, v in meta.items() if isinstance(v, (str, int, float)) and any(
            w in k.lower() for w in ("model", "version", "digest", "hash", "serial", "instrument", "backend"))}
        models.append({"what": f"stream {name} ({s.kind} @ {s.station})",
                       "version": "; ".join(f"{k} {v}" for k, v in found.items() if "digest" not in k and "hash" not in k),
                       "digest": "; ".join(str(v)[:16] for k, v in found.items() if "digest" in k or "hash" in k),
                       "detail": f"{s.rows:,} rows"})
    return [{"item": a, "value": b} for a, b in items], models


def _utc(epoch_s: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(epoch_s)))
    except (TypeError, ValueError, OverflowError):
        return "unknown"


# ---- figures -----------------------------------------------------------------------------------------
def _figures(data: ReportData) -> dict[str, Any]:
    seg = data.segments
    figs: dict[str, Any] = {}
    figs["timeline"] = plots.timeline(
        seg["start_t"], seg["end_t"], seg["class_code"], lot_mass_t=data.lot_mass_t,
        nir_score=data.segment_score if data.nir is not None else None, nir_threshold=data.segment_threshold,
        detection_t=data.detection_marks_t, gaps=[(s, a, b) for s, a, b, _ in data.gaps])
    if data.nir is not None and data.nir.class_means and data.nir.wavelength_nm is not None:
        figs["spectra"] = plots.mean_spectra(data.nir.wavelength_nm, data.nir.class_means, data.references)
    if data.nir is not None and data.nir.segment_abundance is not None and len(seg["index"]):
        figs["abundances"] = plots.abundances(0.5 * (seg["start_t"] + seg["end_t"]), data.nir.segment_abundance,
                                              data.nir.abundance_names)
    return figs


# ---- HTML --------------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.verdict{font-size:20px;font-weight:bold;padding:8px 12px;display:inline-block;border-radius:4px;color:#fff}
.v-ore{background:#2e7d32}.v-waste{background:#ef6c00}.v-contaminated{background:#c62828}.v-inconclusive,.v-pending{background:#757575}
.gap{color:#b71c1c}.gallery{display:flex;flex-wrap:wrap;gap:8px}.gallery figure{margin:0;width:112px;font-size:10px}
.gallery img{width:112px;height:112px;image-rendering:pixelated}pre{font-size:11px;background:#f7f7f7;padding:8px;overflow-x:auto}
img.fig{max-width:100%}.muted{color:#666}
.boxes{display:flex;gap:16px;margin:12px 0}.vbox{flex:1;border:2px solid;border-radius:6px;overflow:hidden}
.vbox .vhead{display:flex;justify-content:space-between;align-items:center;color:#fff;padding:6px 10px}
.vbox .vhead b{font-size:20px}.vbox ul{font-size:12px;margin:6px 0;padding-left:22px}
.b-ore{border-color:#2e7d32}.b-waste{border-color:#ef6c00}.b-contaminated{border-color:#c62828}
.b-inconclusive,.b-none,.b-pending{border-color:#616161}.v-none{background:#9e9e9e}
.figures{display:grid;grid-template-columns:repeat(3,1fr);gap:6px 16px;margin:8px 0}
.figures b{display:block;font-size:18px}.figures span{font-size:11px;color:#555}
tr.o-by-product td{color:#c62828}tr.o-contaminated td{color:#ef6c00}tr.o-ore td:first-child{color:#2e7d32}
"""


CELL_MAX_CHARS = 120


def _e(value: Any) -> str:
    if isinstance(value, float):
        return "" if not math.isfinite(value) else html.escape(f"{value:,.3f}".rstrip("0").rstrip("."))
    return html.escape(str(value))


def _cell(value: Any) -> str:
    """A table cell; long text is cut (full text in the tooltip)."""
    text = _e(value)
    if len(str(value)) <= CELL_MAX_CHARS:
        return f"<td>{text}</td>"
    return f"<td title='{text}'>{_e(str(value)[:CELL_MAX_CHARS])}…</td>"


def _plan_rows(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The sampling plan as (item, value) rows; long lists (increment offsets) are summarised."""
    rows = []
    for key, value in jsonable(plan).items():
        if isinstance(value, list) and len(value) > 6:
            nums = [v for v in value if isinstance(v, (int, float))]
            value = (f"{len(value)} values, {min(nums):,.1f} … {max(nums):,.1f}" if len(nums) == len(value)
                     else f"{len(value)} values")
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)
        rows.append({"item": key.replace("_", " "), "value": value})
    return rows


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, limit: int = 2000) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_cell(r.get(c, "")) for c in cols) + "</tr>" for r in rows[:limit])
    more = f'<p class="muted">{len(rows) - limit:,} more rows not shown</p>' if len(rows) > limit else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _img(fig: Any, alt: str) -> str:
    return f'<img class="fig" alt="{html.escape(alt)}" src="data:image/png;base64,{plots.png_base64(fig)}">'


def _sample_record(data: ReportData) -> list[dict[str, Any]]:
    """Samples joined with their lab results (one row per sample)."""
    lab = {str(r.get("sample_id")): r for r in data.lab_results}
    rows = []
    for s in data.samples:
        row = dict(s)
        r = lab.get(str(s.get("sample_id")))
        if r is None:
            row["lab"] = "no result"
        else:
            row.update({k: v for k, v in r.items() if k not in ("sample_id",)})
        rows.append(row)
    known = {str(s.get("sample_id")) for s in data.samples}
    rows += [dict(r, note="result for a sample not in the custody record") for sid, r in lab.items() if sid not in known]
    return rows


def _lab_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return '<p class="gap">no lab results imported</p>'
    cols = ["sample_id", "role", *LAB_TABLE_ANALYTES, "basicity", "phases", "outcome", "family", "rules", "reason"]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join(f"<tr class='o-{_e(str(r['outcome']))}'>" + "".join(_cell(r.get(c, "")) for c in cols) + "</tr>"
                   for r in rows)
    return f"<table class='lab'><tr>{head}</tr>{body}</table>"


def render_html(data: ReportData, figs: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML document."""
    lot, v = data.lot, data.verdict
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Lot report {_e(data.lot_id)}</title>"
           f"<style>{_CSS}</style></head><body>"]
    out.append(f"<h1>Lot {_e(data.lot_id)}</h1><p>{_e(lot.get('vessel', ''))}, hold {_e(lot.get('hold', ''))} — "
               f"{_e(lot.get('declared_product', ''))}, supplier {_e(lot.get('supplier', '') or 'not stated')}, "
               f"{_e(float(lot.get('declared_mass_t', 0)))} t declared, {_e(data.lot_mass_t)} t weighed. "
               f"Archive state: <b>{_e(data.state)}</b>.</p>")
    v, lab = data.verdict, data.lab
    out.append("<h2>Verdict: the line's, then the lab's</h2><div class='boxes'>")
    for label, verdict, lines in (("1 line (NIR, camera, SPRT)", v.verdict if v else "none", _line_lines(v)),
                                  ("2 lab (assays, phases)", lab.verdict if lab else "none", _lab_lines(lab))):
        out.append(f"<div class='vbox b-{_e(verdict)}'><div class='vhead v-{_e(verdict)}'><span>{_e(label)}</span>"
                   f"<b>{_e(verdict.upper())}</b></div><ul>" + "".join(f"<li>{_e(x)}</li>" for x in lines)
                   + "</ul></div>")
    out.append("</div><div class='figures'>" + "".join(
        f"<div><b>{_e(val)}</b><span>{_e(label)}</span></div>" for label, val in _key_figures(data)) + "</div>")
    out.append("<h2>Review</h2>" + (_table(data.reviews, ["time", "reviewer", "decision", "lab_verdict", "comment"])
                                    if data.reviews else "<p class='muted'>no review recorded "
                                    "(<code>oreline archive review LOT.h5 --name ... --decision ...</code>)</p>"))
    if v is not None:
        out.append(_table([{"segments": v.segments_total, **{k: n for k, n in v.segments_by_class.items()},
                            "uninspected share": f"{v.uninspected_fraction:.1%}", "alpha": v.alpha, "beta": v.beta}]))
    out.append("<h2>Gaps and missing data</h2>")
    gap_lines = [f"{st}: {why or 'uninspected'} {a:,.0f}-{b:,.0f} t" for st, a, b, why in data.gaps] + data.notes
    out.append("<ul>" + "".join(f"<li class='gap'>{_e(g)}</li>" for g in gap_lines) + "</ul>" if gap_lines
               else "<p>none: every station saw the whole lot and all lab results are in</p>")
    out.append("<h2>Segment classes along the lot</h2>" + _img(figs["timeline"], "segment timeline"))
    seg = data.segments
    tons = {c: float((seg["end_t"] - seg["start_t"])[seg["class_code"] == i].sum()) for i, c in enumerate(SEGMENT_CLASSES)}
    out.append(_table([{"class": c, "segments": int((seg["class_code"] == i).sum()), "tonnes": tons[c]}
                       for i, c in enumerate(SEGMENT_CLASSES)]))
    flagged = [{"segment": int(seg["index"][i]), "from t": float(seg["start_t"][i]), "to t": float(seg["end_t"][i]),
                "class": SEGMENT_CLASSES[int(seg["class_code"][i])], "reasons": data.segment_reasons[i]}
               for i in range(len(seg["index"])) if int(seg["class_code"][i]) != SEGMENT_CLASSES.index("ore")]
    out.append("<p>Segments not classed ore:</p>" + _table(flagged, limit=500))
    out.append("<h2>Mean spectra against library references</h2>")
    if "spectra" in figs:
        out.append(_img(figs["spectra"], "mean spectra") + f"<p class='muted'>{_e(data.reference_note)}; "
                   f"{data.nir.valid_rows:,} valid of {data.nir.rows:,} spectra.</p>")
    else:
        out.append("<p class='gap'>no spectra to show</p>")
    out.append("<h2>Mineral abundances</h2>")
    if "abundances" in figs:
        out.append(_img(figs["abundances"], "abundances"))
        out.append(_table([{"class": c, **{n: float(x) for n, x in zip(data.nir.abundance_names, ab)}}
                           for c, ab in data.nir.class_abundance.items()]))
        out.append(f"<p class='muted'>Mass fractions of the wet material by unmixing each spectrum (Hapke albedo, "
                   f"NNLS on the model's mineral end-members; water from the moisture calibration); mean unmixing "
                   f"residual {data.nir.mean_residual:.4f} (albedo RMS).</p>")
        check = abundance_check(data.nir)
        if check is not None:
            rows, lot_mae, seg_mae = check
            out.append("<h3>Estimated vs simulated mass fractions (simulation truth)</h3>")
            out.append(_table([r for r in rows if r["estimated"] >= 0.005 or r["simulated"] >= 0.005]))
            out.append(f"<p>Mean absolute error over {len(rows)} components: lot means {lot_mae:.3f}, segment "
                       f"means {seg_mae:.3f}; largest component error {max(r['abs_error'] for r in rows):.3f}. "
                       f"<span class='muted'>'other' is mass the unmixer has no end-member for (waste, "
                       f"contaminant, samples of no listed mineral).</span></p>")
    else:
        out.append("<p class='gap'>no abundances archived</p>")
    out.append(f"<h2>Detections</h2><p>{data.detections_total:,} detection(s)"
               + (f"; the {len(data.detections)} largest shown" if data.detections_total > len(data.detections) else "")
               + "</p><div class='gallery'>")
    for d, img in zip(data.detections, data.thumbnails):
        cap = f"{d.get('kind', '?')} {float(d.get('length_mm', math.nan)):.0f} mm, p={float(d.get('probability', math.nan)):.2f}, {d['mark_t']:,.1f} t"
        out.append(f"<figure><img alt='{_e(cap)}' src='data:image/png;base64,{plots.image_png_base64(img)}'>"
                   f"<figcaption>{_e(cap)}</figcaption></figure>")
    out.append("</div>")
    out.append("<h2>Sample record (ISO 3082)</h2><p>Sampling plan:</p>")
    out.append(_table(_plan_rows(data.sampling_plan))
               if data.sampling_plan else "<p class='gap'>no sampling plan recorded</p>")
    out.append("<p>Samples:</p>" + _table(_samples_with_decision(data), [c.key for c in SAMPLE_COLUMNS]))
    out.append("<p>Increments:</p>" + _table(data.increments, limit=3000))
    out.append("<p>Chain of custody:</p>" + _table(data.custody, limit=3000))
    out.append("<h2>Lab results and the rule that fired</h2><p class='muted'>Assays in mass % (dry basis); "
               "decision per sample by the lab rule set (<code>oreline sampler lab-rules</code>).</p>"
               + _lab_table(data.lab_rows))
    out.append("<h2>Alarms</h2>" + _table(
        [{"id": a.alarm_id, "category": a.category, "severity": a.severity, "state": a.state,
          "at t": a.mark_t, "message": a.message, "acknowledged by": a.acknowledged_by} for a in data.alarms]))
    out.append("<h2>Provenance (appendix)</h2>" + _table(data.provenance_rows, ["item", "value"])
               + _table(data.model_rows, ["what", "version", "digest", "detail"]))
    out.append("</body></html>")
    return "".join(out)


# ---- PDF ---------------------------------------------------------------------------------------------
def _identity(data: ReportData) -> list[tuple[str, str]]:
    lot = data.lot
    return [("vessel", str(lot.get("vessel", ""))), ("hold", str(lot.get("hold", ""))),
            ("declared product", str(lot.get("declared_product", ""))),
            ("supplier", str(lot.get("supplier", "") or "not stated")),
            ("declared mass", f"{float(lot.get('declared_mass_t', 0)):,.0f} t"),
            ("weighed mass", f"{data.lot_mass_t:,.0f} t"),
            ("lot opened", data.provenance.get("opened_utc", "")),
            ("archive", f"{data.path.name}, {data.state}" + (" (open)" if data.live else ""))]


def _line_lines(v: LotVerdict | None) -> list[str]:
    if v is None:
        return ["no verdict archived"]
    out = [f"confidence {v.confidence:.3f}" + ("" if v.final else " (not final)")
           + (f", decided at {v.decided_at_t:,.0f} t" if math.isfinite(v.decided_at_t) else "")]
    out += list(v.reasons)
    return out


def _lab_lines(lab: LabVerdict | None) -> list[str]:
    """The lab box: basis, then a short account (every sample is in the lab results table)."""
    if lab is None:
        return ["no lab verdict"]
    n = len(lab.samples)
    done = n - len(lab.awaiting)
    out = [f"{lab.basis}; {done} of {n} samples assayed"]
    if lab.evidence:
        fams = sorted({r["family"] for r in lab.samples if r["sample_id"] in lab.evidence})
        ids = [short_id(s, lab.lot_id) for s in lab.evidence]
        out.append(f"by-product material in {len(ids)} sample(s): " + ", ".join(ids[:6]) + (" …" if len(ids) > 6 else ""))
        out.append("family: " + ", ".join(FAMILIES.get(f, f) for f in fams))
        first = next(r for r in lab.samples if r["sample_id"] == lab.evidence[0])
        out.append(f"{short_id(first['sample_id'], lab.lot_id)}: {first['outcome']}, rules {first['rules']}")
        if lab.line_verdict == "ore":
            out.insert(1, "the line called the lot ore: found by the lab")
    else:
        out += list(lab.reasons)[:2]
    out += [f"missing: {m}" for m in lab.missing][:4]
    return out


def _key_figures(data: ReportData) -> list[tuple[str, str]]:
    v, lab = data.verdict, data.lab
    by = dict(v.segments_by_class) if v else {}
    analysed = sum(1 for r in (lab.samples if lab else ()) if r["outcome"] != "awaiting assay")
    n_samples = len(lab.samples) if lab else 0
    return [("segments decided", f"{v.segments_total if v else 0}"),
            ("waste-suspect segments", f"{by.get('waste-suspect', 0)}"),
            ("uninspected share", f"{v.uninspected_fraction:.1%}" if v else "n/a"),
            ("samples assayed", f"{analysed} of {n_samples}"),
            ("samples with by-product material", f"{len(lab.evidence) if lab else 0}"),
            ("alarms", f"{len(data.alarms)}"),
            ("foreign objects detected", f"{data.detections_total}"),
            ("gaps in coverage", f"{len(data.gaps)}"),
            ("lab results", f"{len(data.lab_rows)}")]


LAB_COLUMNS = [Column("sample_id", "sample", 1.0), Column("role", "role", 0.8),
               Column("tfe", "TFe", 0.55, "right", ".1f"), Column("feo", "FeO", 0.55, "right", ".1f"),
               Column("sio2", "SiO2", 0.55, "right", ".2f"), Column("al2o3", "Al2O3", 0.6, "right", ".2f"),
               Column("cao", "CaO", 0.55, "right", ".2f"), Column("mgo", "MgO", 0.55, "right", ".2f"),
               Column("basicity", "C/S", 0.55, "right", ".2f"), Column("zn", "Zn", 0.55, "right", ".3f"),
               Column("outcome", "decision", 1.1), Column("family", "family", 1.9), Column("rules", "rules fired", 2.4)]
SAMPLE_COLUMNS = [Column("sample_id", "sample", 1.5), Column("role", "role", 0.8), Column("sublot", "sub-lot", 0.6, "right"),
                  Column("n_increments", "incr.", 0.5, "right"), Column("mass_kg", "mass kg", 0.8, "right", ".1f"),
                  Column("container", "container", 2.0), Column("seal", "seal", 1.4), Column("status", "status", 0.9),
                  Column("outcome", "lab decision", 1.2)]
ALARM_COLUMNS = [Column("id", "id", 0.4, "right"), Column("category", "category", 1.0),
                 Column("severity", "severity", 0.8), Column("state", "state", 1.0), Column("at t", "at t", 0.7, "right", ",.0f"),
                 Column("message", "message", 5.0), Column("acknowledged by", "ack. by", 1.0)]


def _samples_with_decision(data: ReportData) -> list[dict[str, Any]]:
    outcome = {r["sample_id"]: r["outcome"] for r in (data.lab.samples if data.lab else ())}
    return [dict(s, sample_id=short_id(str(s.get("sample_id")), data.lot_id), container=short_id(
        str(s.get("container", "")).replace(f"OL-{data.lot_id}-", "OL-…-"), data.lot_id),
        outcome=outcome.get(str(s.get("sample_id")), "")) for s in data.samples]


def _alarm_rows(data: ReportData) -> list[dict[str, Any]]:
    return [{"id": a.alarm_id, "category": a.category, "severity": a.severity, "state": a.state, "at t": a.mark_t,
             "message": a.message, "acknowledged by": a.acknowledged_by} for a in data.alarms]


def render_pdf(data: ReportData, figs: Mapping[str, Any], path: Path) -> Path:
    """The report as a PDF: the page an analyst signs, the plots, typeset tables, a provenance appendix."""
    from matplotlib.backends.backend_pdf import PdfPages

    v, lab = data.verdict, data.lab
    pages = [first_page(lot_id=data.lot_id, identity=_identity(data), line_verdict=v.verdict if v else "none",
                        line_lines=_line_lines(v), lab_verdict=lab.verdict if lab else "none",
                        lab_lines=_lab_lines(lab), key_figures=_key_figures(data), reviews=data.reviews,
                        generated=data.provenance.get("generated_utc", "") + " UTC")]
    gap_rows = [{"station": st, "from t": a, "to t": b, "why": why} for st, a, b, why in data.gaps]
    gap_rows += [{"station": "", "why": n} for n in data.notes]
    pages += table_pages("Gaps and missing data", [Column("station", "station", 1.0), Column("from t", "from t", 0.8, "right"),
                                                   Column("to t", "to t", 0.8, "right"), Column("why", "what", 6.0)],
                         gap_rows, intro="Every stretch a station could not inspect and every missing part. "
                                         "Uninspected material is never counted as clean.", max_rows=200)
    pages += [figs[k] for k in ("timeline", "spectra", "abundances") if k in figs]
    check = abundance_check(data.nir) if data.nir is not None else None
    if check is not None:
        rows, lot_mae, seg_mae = check
        lines = [f"{'component':<14}{'estimated':>11}{'simulated':>11}{'abs error':>11}"]
        lines += [f"{r['component']:<14}{r['estimated']:>11.3f}{r['simulated']:>11.3f}{r['abs_error']:>11.3f}"
                  for r in rows]
        lines += ["", f"mean absolute error over {len(rows)} components: lot means {lot_mae:.3f}, "
                      f"segment means {seg_mae:.3f}",
                  f"mean unmixing residual {data.nir.mean_residual:.4f} (albedo RMS)",
                  "'other': mass without an end-member (waste, contaminant, unlisted samples)"]
        pages.append(plots.text_page("Mineral abundances: estimated vs simulated (mass fraction, wet basis)", lines,
                                     font_size=9))
    if data.thumbnails:
        caps = [f"{d.get('kind', '?')} {float(d.get('length_mm', math.nan)):.0f}mm\n{d['mark_t']:,.0f} t"
                for d in data.detections]
        pages.append(plots.gallery(data.thumbnails, caps))
    pages += table_pages("Lab results and the rule that fired", LAB_COLUMNS, data.lab_rows, size=6.5,
                         intro="Assays in mass % (dry basis); C/S = CaO/SiO2. Decision per sample by the lab rule set "
                               "(sampler/labrules.py; rules and sources: oreline sampler lab-rules).")
    pages += table_pages("Sample record (ISO 3082)", SAMPLE_COLUMNS, _samples_with_decision(data),
                         intro=f"Plan: {data.sampling_plan.get('n_total', '?')} increments, "
                               f"{data.sampling_plan.get('sublots', '?')} sub-lot(s), "
                               f"{data.sampling_plan.get('basis', '?')} basis, {data.sampling_plan.get('method', '?')}; "
                               f"{len(data.increments)} increments and the chain of custody are in the HTML report.")
    pages += table_pages("Alarms", ALARM_COLUMNS, _alarm_rows(data), size=6.5, max_rows=300)
    pages += table_pages("Appendix: provenance", [Column("item", "item", 1.5), Column("value", "value", 5.0)],
                         data.provenance_rows)
    pages += table_pages("Appendix: models and instruments", [Column("what", "stream / model", 2.2),
                                                              Column("version", "versions", 3.6),
                                                              Column("digest", "digest", 1.4),
                                                              Column("detail", "", 0.8)], data.model_rows, size=6.5)
    with PdfPages(path, metadata={"Title": f"Lot report {data.lot_id}", "Creator": software_version()}) as pdf:
        for fig in pages:
            pdf.savefig(fig)
    return path


# ---- entry points ------------------------------------------------------------------------------------
def write_report(archive_path: str | Path, out_dir: str | Path | None = None, *, pdf: bool = True,
                 progress: bool = False) -> dict[str, Path]:
    """Write ``<lot>-report.html`` (and ``.pdf``) for an archive into ``out_dir`` (default: beside it).

    Returns {"html": path, "pdf": path}. Raises ArchiveError for an unreadable archive and
    ReportError when the output cannot be written.
    """
    def step(msg: str) -> None:
        if progress:
            print(f"report: {msg}", file=sys.stderr, flush=True)

    archive_path = Path(archive_path)
    out = Path(out_dir) if out_dir is not None else archive_path.parent
    step(f"reading {archive_path}")
    with open_archive(archive_path) as reader:
        data = build_report_data(reader)
    step("drawing figures")
    figs = _figures(data)
    try:
        with staged_folder(out) as stage:  # a failure leaves no half-written report behind
            paths = {"html": stage.dir / f"{data.lot_id}-report.html"}
            step(f"writing {stage.final(paths['html'])}")
            paths["html"].write_text(render_html(data, figs), encoding="utf-8")
            if pdf:
                paths["pdf"] = stage.dir / f"{data.lot_id}-report.pdf"
                step(f"writing {stage.final(paths['pdf'])}")
                render_pdf(data, figs, paths["pdf"])
            paths = {kind: stage.final(p) for kind, p in paths.items()}
    except OSError as exc:
        raise ReportError(f"cannot write the report of {archive_path} into {out}: {exc}") from exc
    return paths


def cli_report(argv: Sequence[str]) -> int:
    """``oreline report LOT.h5 [--out DIR] [--pdf/--no-pdf]``: regenerate the batch report from an archive."""
    parser = argparse.ArgumentParser(prog="oreline report", description="Write the batch report of a lot archive.")
    parser.add_argument("archive", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: beside the archive)")
    parser.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=True, help="also write the PDF")
    args = parser.parse_args(list(argv))
    try:
        paths = write_report(args.archive, args.out, pdf=args.pdf, progress=True)
    except (ArchiveError, ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for kind, p in paths.items():
        print(f"{kind}: {p}")
    return 0
