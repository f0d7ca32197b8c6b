"""Reading the batch report's data from one archive: :func:`build_report_data` → :class:`ReportData`.

Verdict, segment classes along tonnage, mean spectra per segment class against USGS library references
resampled onto the archive's wavelength grid (``spectra.library``), abundances, a detection gallery, the ISO 3082
sample record with lab results (as the lab reported them), alarms, provenance, and every gap ("NIR offline
120-240 t", "no lab results imported") spelled out. What the report says about them is in
:mod:`analysis.report.document`; how it is printed in :mod:`analysis.report.html` and :mod:`analysis.report.pdf`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.archive import (
    ArchiveReader,
    current_lab_verdict,
    jsonable,
    lab_history,
    latest_results,
    operator_commands,
    segment_positions,
    software_version,
)
from analysis.archive import (
    reviews as lab_reviews,
)
from analysis.decide import LabVerdict
from analysis.errors import ArchiveError
from analysis.model import SEGMENT_CLASSES, Alarm, LotVerdict, SegmentDecision
from analysis.report.fmt import utc
from analysis.report.nir_identification import identification_plot, identification_rows, segment_identification
from analysis.report.plots import png_base64
from sampler.lab import LabResult
from sampler.labrules import FAMILIES, RULES, SampleDecision, classify
from spectra.grid import InstrumentGrid
from spectra.library import default_library_dir, load_library

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
    #: The result that counts per sample (as the lab reported it) and the rule set's decision on it.
    latest: dict[str, LabResult] = field(default_factory=dict)
    decisions: dict[str, SampleDecision] = field(default_factory=dict)
    #: Every lab row ever imported (oldest first, with ``imported_epoch_s``): amendments come from it.
    lab_history: list[dict[str, Any]] = field(default_factory=list)
    #: Segment decisions at lot end (class, reasons, evidence) and the archive's lot start/end clock times.
    segment_decisions: list[SegmentDecision] = field(default_factory=list)
    #: Operator commands recorded for the lot (audit), when the archive holds them.
    commands: list[dict[str, Any]] = field(default_factory=list)
    #: NIR identification per material group (:mod:`analysis.report.nir_identification`) and its figure (PNG base64).
    nir_identification: list[dict[str, Any]] = field(default_factory=list)
    nir_identification_png: str = ""
    #: Per segment: the identified groups with shares and the features detected in each group's spectra.
    nir_identification_segments: list[dict[str, Any]] = field(default_factory=list)


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
    for a, b in zip(firsts, lasts):
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
def _class_means(library_dir: Path, wavelength_key: tuple[float, ...],
                 fwhm_key: tuple[float, ...] | None) -> tuple[dict[str, np.ndarray], str]:
    """Library class means on a grid; cached per library folder and grid (a test or a site pointing
    ``$ORELINE_SHARED_DATA`` elsewhere gets its own entry)."""
    wl = np.asarray(wavelength_key)
    grid = InstrumentGrid.from_wavelengths(wl, None if fwhm_key is None else np.asarray(fwhm_key), name="archive")
    lib = load_library(library_dir).resample(grid, skip_uncovered=True)
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
        refs, note = _class_means(default_library_dir(), tuple(float(x) for x in wl),
                                         None if fwhm is None else tuple(float(x) for x in np.broadcast_to(fwhm, wl.shape)))
    except Exception as exc:  # reference material: any failure to load it is a marked gap
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
    thresholds = [t for d in decisions if (t := d.evidence.get("nir_threshold")) is not None]
    lot_mass_t = _lot_mass_t(reader, seg, notes)
    nir, references, ref_note = _nir_part(reader, seg, notes)
    if not reader.streams_of_kind("vision"):
        notes.append("no camera stream in this archive: no detection gallery")
    detections, det_marks, thumbs = _detections(reader)
    increments, plan, samples, custody, lab = _sampling_part(reader, notes)
    provenance = _provenance(reader)
    lab_v = current_lab_verdict(reader)
    prov_rows, model_rows = _provenance_rows(reader, provenance)
    latest = latest_results(reader)
    nir_id_rows, nir_id_png = _nir_identification(reader)
    return ReportData(
        latest=latest, decisions={sid: classify(r) for sid, r in latest.items()}, lab_history=lab_history(reader),
        segment_decisions=list(decisions), commands=_commands(reader),
        nir_identification=nir_id_rows, nir_identification_png=nir_id_png,
        nir_identification_segments=segment_identification(reader) if nir_id_rows else [],
        lab=lab_v, lab_rows=_lab_rows(latest, lab_v),
        reviews=[{"time": utc(r.epoch_s), "epoch_s": r.epoch_s, "reviewer": r.reviewer, "decision": r.decision,
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


def _commands(reader: ArchiveReader) -> list[dict[str, Any]]:
    """Operator commands carried out for the lot (the control room's audit trail); [] for older archives."""
    return [dataclasses.asdict(e) for e in operator_commands(reader)]


def _nir_identification(reader: ArchiveReader) -> tuple[list[dict[str, Any]], str]:
    """Per material group rows and the per-segment identification figure (PNG, base64; "" without one)."""
    rows = identification_rows(reader)
    fig = identification_plot(reader) if rows else None
    if fig is None:
        return rows, ""
    import matplotlib.pyplot as plt  # the plot is a pyplot figure (Agg backend)

    try:
        return rows, png_base64(fig)
    finally:
        plt.close(fig)


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


def _lot_end_utc(reader: ArchiveReader) -> str:
    """Clock time of the lot end: its Unix time, or its line-clock time placed by the lot start record."""
    lot_end = (reader.end or {}).get("lot_end") or {}
    if "epoch_s" in lot_end:
        return utc(lot_end["epoch_s"])
    closed = [h["epoch_s"] for h in reader.status_history() if h["state"] in ("complete", "aborted")]
    if closed:
        return utc(closed[0])
    start = reader.start
    if "time_s" in lot_end and "epoch_s" in start:
        return utc(float(start["epoch_s"]) + float(lot_end["time_s"]) - float(start.get("time_s", 0.0)))
    return "not recorded" if not lot_end else "unknown"


def _provenance(reader: ArchiveReader) -> dict[str, Any]:
    """Where the report comes from: archive, writer, software, times, streams, models, configuration."""
    streams = {n: {"station": s.station, "kind": s.kind, "rows": s.rows, "units": dict(s.units),
                   "metadata": _short(jsonable(s.metadata))} for n, s in reader.streams.items()}
    return {
        "archive": str(reader.path.resolve()), "archive_bytes": reader.size_bytes,
        "format_version": reader.format_version, "written_by": reader.software, "writer_host": reader.writer_host,
        "report_by": software_version(), "generated_utc": utc(time.time()), "generated_epoch_s": time.time(),
        "opened_utc": utc(next((h["epoch_s"] for h in reader.status_history() if h["state"] == "open"), None)),
        "lot_start_utc": utc(reader.start.get("time_s")),
        "lot_end_utc": _lot_end_utc(reader),
        "status_history": [{"state": h["state"], "utc": utc(h["epoch_s"]), "reason": h["reason"]}
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


def _model_version_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model: entries of the models table (one key each, or name/version/digest) merged by stream."""
    by_what: dict[str, dict[str, Any]] = {}
    for m in entries:
        what = str(m.get("name") or (f"model of stream {m['stream']}" if m.get("stream") else "model"))
        row = by_what.setdefault(what, {"what": what, "version": [], "digest": [], "detail": []})
        for key, value in m.items():
            if key in ("name", "stream") or value in (None, "", "{}", "[]"):
                continue
            text = str(value)
            if "digest" in key or "hash" in key or key == "sha256":
                row["digest"].append(text[:16])
            elif "version" in key:
                row["version"].append(text)
            else:
                row["detail"].append(f"{key} {text if len(text) <= 60 else '…' + text[-57:]}")
    return [{k: ("; ".join(v) if isinstance(v, list) else v) for k, v in row.items()} for row in by_what.values()]


def _provenance_rows(reader: ArchiveReader, prov: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The provenance appendix: (facts as item/value rows, models and instruments with versions and digests)."""
    items = [("archive", f"{reader.path.name} ({reader.size_bytes / 1e6:,.1f} MB, format v{reader.format_version})"),
             ("written by", f"{reader.software} on {reader.writer_host or 'unknown host'}"),
             ("report by", f"{prov['report_by']}, {prov['generated_utc']}"),
             ("archive opened / closed", f"{prov['opened_utc']} / " + utc(next((h["epoch_s"] for h in reversed(
                 reader.status_history()) if h["state"] in ("complete", "aborted")), None))),
             ("site configuration digest", f"sha256 {_digest(reader.config)}"),
             ("sampling plan digest", f"sha256 {_digest(reader.sampling_plan)}"),
             ("lab rule set digest", f"sha256 {_digest([r.__dict__ for r in RULES])}")]
    items += [(f"status: {h['state']}", f"{h['utc']} {h['reason']}") for h in prov["status_history"]]
    models = _model_version_rows(reader.model_versions())
    for name, s in reader.streams.items():
        meta = s.metadata
        found = {k: v for k, v in meta.items() if isinstance(v, (str, int, float)) and any(
            w in k.lower() for w in ("model", "version", "digest", "hash", "serial", "instrument", "backend"))}
        models.append({"what": f"stream {name} ({s.kind} @ {s.station})",
                       "version": "; ".join(f"{k} {v}" for k, v in found.items() if "digest" not in k and "hash" not in k),
                       "digest": "; ".join(str(v)[:16] for k, v in found.items() if "digest" in k or "hash" in k),
                       "detail": f"{s.rows:,} rows"})
    return [{"item": a, "value": b} for a, b in items], models



