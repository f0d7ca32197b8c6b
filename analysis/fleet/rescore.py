"""One lot archive analysed (and re-scored with a new NIR model): the pure function the fleet maps.

:func:`analyse_archive` turns one archive path into one row. A bad archive (corrupt, truncated, other format
version, wrong wavelength grid) becomes a row with its error; it never raises. The fleet around it (dask
partitions, the scheduler) is :mod:`analysis.fleet.runner`; the tables :mod:`analysis.fleet.tables`.

Per archive (one row): lot identity (supplier, product...), the archived verdict
and segment classes, the archived NIR statistics, and with a model: every
segment re-scored in lot order by the line's own per-lot scorer
(``spectra.segment.LotSegmentScorer``), re-decided by the monitor's rule with the
archived coverage and camera detections (:func:`redecide`), and the verdict the
lot's sequential test then reaches with the lot's own verdict settings. Spectral drift: the angle between the mean
spectra of the first and last tenth of the lot, and between the lot's mean
spectrum and the fleet's median spectrum on the same grid.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import ModelError
from spectra.fingerprint import SignatureBuilder
from spectra.models.bundle import SpectraModel, validity
from spectra.segment import LotSegmentScorer
from spectra.segment_stats import MIN_VALID_SPECTRA, NirSegmentScore, log_odds, score_segment
from analysis.archive import ArchiveReader, open_archive, segment_positions
from analysis.decide import VERDICT_FIELDS, SequentialVerdict, segment_class
from analysis.errors import ArchiveError
from analysis.model import SEGMENT_CLASSES, SegmentDecision
from analysis.fleet.options import SEGMENT_SCORING as SEGMENT_SCORING
from vision.kind_decision import NOT_CONTAMINATION

BATCH_ROWS = 65536
#: Columns of the per-lot CSV, in order (rows may lack the rescore ones).
COLUMNS = (
    "file", "status", "error", "lot_id", "vessel", "hold", "supplier", "product", "declared_mass_t", "weighed_t",
    "state", "verdict", "confidence", "segments", "waste_segments", "contaminated_segments", "uninspected_segments",
    "spectra", "valid_spectra", "mean_p_waste", "model_version", "new_mean_p_waste", "new_waste_segments",
    "new_contaminated_segments", "new_uninspected_segments", "changed_segments", "new_verdict", "new_decided_at_t", "drift_within_deg",
    "drift_vs_fleet_deg", "fingerprint_check", "fingerprint_statistic", "fingerprint_threshold", "segment_scoring",
    "late_rows", "bytes", "seconds", "cpu_seconds", "path",
)


# ---- one archive ------------------------------------------------------------------------------------
def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Spectral angle between two spectra in degrees (NaN when either is missing)."""
    if a is None or b is None or a.shape != b.shape:
        return math.nan
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if not (na > 0 and nb > 0 and math.isfinite(na) and math.isfinite(nb)):
        return math.nan
    return math.degrees(math.acos(float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))))


def _verdict_section(reader: ArchiveReader) -> dict[str, Any]:
    section = {k: f.default for k, f in VERDICT_FIELDS.items()}
    archived = reader.config.get("verdict") if isinstance(reader.config, Mapping) else None
    if isinstance(archived, Mapping):
        section.update({k: v for k, v in archived.items() if k in section})
    return section


def _rescored_verdict(reader: ArchiveReader, decisions: Sequence[SegmentDecision], classes: Sequence[str]) -> Any:
    """Replay the lot's sequential test on the re-scored segment classes."""
    seq = SequentialVerdict.from_config(reader.lot_id, _verdict_section(reader))
    for d, cls_ in zip(decisions, classes):
        seq.update(dataclasses.replace(d, segment_class=cls_))
    weighed = max((d.end_t for d in decisions), default=0.0)
    return seq.finish(weighed)


def segment_scorer(model: Any) -> Callable[[Mapping[str, np.ndarray]], Any]:
    """The line's per-lot NIR segment scorer for ``model`` (``spectra.segment.LotSegmentScorer``, stateful:
    call it once per segment, in lot order). A model without a lot detector falls back to the calibrated
    per-segment score (``spectra.segment_stats.score_segment``)."""
    try:
        return LotSegmentScorer(model).score
    except ModelError:
        def legacy(arrays: Mapping[str, np.ndarray]) -> Any:
            b = model.score(arrays["reflectance"], unmix=False)
            valid = b.valid & np.asarray(arrays["valid"], bool)
            return score_segment(b.p_waste, b.p_contaminant, b.novel, valid, model.calibration, p_ore=b.p_ore)
        return legacy


#: the lot detector clips reflectance at this floor before its features (``spectra.lotdetector``)
_DETECTOR_FLOOR = REFLECTANCE_FLOOR


def _signature_builder(model: Any) -> Any | None:
    """The lot's product-fingerprint signature builder (``spectra.fingerprint``), or None without a lot detector."""
    ld = getattr(model, "lot_detector", None)
    return SignatureBuilder(ld) if ld is not None else None


def _line_scorer(model: Any) -> Callable[..., Any] | None:
    """``LotSegmentScorer(model).score`` when the fleet may hand it precomputed features (the detector's
    features are the model's preprocessing, whose floor is at least the detector's clip); else None."""
    ld, pre = getattr(model, "lot_detector", None), getattr(model, "preprocessing", None)
    if ld is None or pre is None or ld.raw_features != pre.features \
            or not getattr(pre, "floor", -math.inf) >= _DETECTOR_FLOOR:
        return None
    try:
        return LotSegmentScorer(model).score
    except ModelError:
        return None
def _calibrated_scores(model: Any, sums: Mapping[str, np.ndarray]) -> dict[int, Any]:
    """Per-segment ``NirSegmentScore`` from summed per-spectrum log-odds and the model's static segment
    calibration (the maths of ``spectra.segment_stats.score_segment``, vectorised over segments)."""
    out = {}
    w, c = model.calibration.waste, model.calibration.contaminant
    for i in np.flatnonzero(sums["n"] > 0):
        n = int(sums["n"][i])
        thr_w, thr_c = w.threshold(n), c.threshold(n)
        if n < MIN_VALID_SPECTRA:
            out[int(i)] = NirSegmentScore(math.nan, math.nan, math.nan, n, False, False, thr_w, thr_c, False)
            continue
        ws, cs = sums["w"][i] / n, sums["c"][i] / n
        out[int(i)] = NirSegmentScore(float(ws), float(cs), float(sums["novel"][i] / n), n, bool(ws > thr_w),
                                      bool(cs > thr_c), thr_w, thr_c, True)
    return out


class _ArchivedNirStats:
    """What the line archived, summed over a stream: mean valid spectrum, drift head vs tail, mean p(waste)."""

    def __init__(self, n_rows: int, n_channels: int) -> None:
        self.n_rows, self.edge = n_rows, max(1, n_rows // 10)
        self.total, self.head, self.tail = np.zeros(n_channels), np.zeros(n_channels), np.zeros(n_channels)
        self.n_valid = self.n_head = self.n_tail = 0
        self.sum_pw, self.n_pw = 0.0, 0

    def add(self, first_row: int, refl: np.ndarray, valid: np.ndarray, p_waste: np.ndarray | None) -> None:
        rows = np.arange(first_row, first_row + len(refl))
        self.total += refl[valid].sum(0, dtype=np.float64)
        self.n_valid += int(valid.sum())
        h = valid & (rows < self.edge)
        t = valid & (rows >= self.n_rows - self.edge)
        self.head += refl[h].sum(0, dtype=np.float64)
        self.tail += refl[t].sum(0, dtype=np.float64)
        self.n_head += int(h.sum())
        self.n_tail += int(t.sum())
        if p_waste is not None:
            pw = p_waste[valid]
            ok = np.isfinite(pw)
            self.sum_pw += float(pw[ok].sum())
            self.n_pw += int(ok.sum())

    def fill(self, out: dict[str, Any]) -> None:
        out["valid_spectra"] = self.n_valid
        out["mean_spectrum"] = self.total / self.n_valid if self.n_valid else None
        out["drift_within_deg"] = (angle_deg(self.head / self.n_head, self.tail / self.n_tail)
                                   if self.n_head and self.n_tail else math.nan)
        out["mean_p_waste"] = self.sum_pw / self.n_pw if self.n_pw else math.nan


class _LineSegments:
    """Line-mode re-scoring: rows grouped by segment as they stream past, each segment scored in lot order.

    A segment is scored once rows of a later segment have been seen; rows arriving after their segment was
    scored are counted in ``late_rows``. With the line's fast scorer, features computed once per batch are
    handed over (``LotSegmentScorer.score(..., features=, validity_checked=True)``).
    """

    def __init__(self, seg: Mapping[str, np.ndarray], model: Any) -> None:
        self.order = np.argsort(seg["start_t"], kind="stable")
        self.rank_of = np.empty(len(self.order), np.int64)
        self.rank_of[self.order] = np.arange(len(self.order))
        self.fast = _line_scorer(model)
        self.signature = _signature_builder(model)
        self.score = self.fast or segment_scorer(model)
        # per segment rank: parts of (reflectance, valid[, features of the valid rows]) in row order
        self.pending: dict[int, list[tuple[np.ndarray, ...]]] = defaultdict(list)
        self.done_below = 0  # ranks below this are scored
        self.late_rows = 0
        self.scores: dict[int, Any] = {}

    def add(self, pos: np.ndarray, refl: np.ndarray, valid: np.ndarray, feats: np.ndarray | None) -> None:
        """One batch: ``pos`` each row's segment (-1: outside), ``feats`` the valid rows' features (fast mode)."""
        inside = pos >= 0
        ranks = self.rank_of[pos[inside]]
        late = ranks < self.done_below
        self.late_rows += int(late.sum())
        keep = np.flatnonzero(inside)[~late]
        r_in = ranks[~late]
        if not r_in.size:
            return
        cols = [refl[keep], valid[keep]]
        cuts = np.flatnonzero(np.diff(r_in)) + 1
        if self.fast is not None:  # features exist for valid rows only: their index among those
            k_ok = (np.cumsum(valid) - 1)[keep]
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, r_in.size]):
            part = tuple(c[a:b] for c in cols)
            if self.fast is not None:
                assert feats is not None, "fast mode scores features: add() needs them"
                part += (feats[k_ok[a:b][part[1]]],)
            self.pending[int(r_in[a])].append(part)
        self.flush(int(r_in.max()))

    def flush(self, upto: int | None = None) -> None:
        """Score every pending segment of rank below ``upto`` (None: all)."""
        upto = len(self.order) if upto is None else upto
        for r in sorted(k for k in self.pending if k < upto):
            parts = self.pending.pop(r)
            cols = [np.concatenate([p[j] for p in parts]) if len(parts) > 1 else parts[0][j]
                    for j in range(len(parts[0]))]
            arrays = {"reflectance": cols[0], "valid": cols[1]}
            if self.signature is not None and not self.signature.complete:
                self.signature.add(cols[0][cols[1]], cols[2] if self.fast is not None else None)
            self.scores[int(self.order[r])] = (self.fast(arrays, features=cols[2], validity_checked=True)
                                               if self.fast is not None else self.score(arrays))
        self.done_below = max(self.done_below, upto)


def _calibrated_sums(sums: dict[str, np.ndarray], pos: np.ndarray, scores: Any) -> None:
    """Add one batch's per-segment sums of log-odds, counts and novel flags (calibrated mode)."""
    n_seg = len(sums["n"])
    sel = scores.valid & (pos >= 0)
    ps = pos[sel]
    sums["w"] += np.bincount(ps, log_odds(scores.p_waste[sel], scores.p_ore[sel]), n_seg)
    sums["c"] += np.bincount(ps, log_odds(scores.p_contaminant[sel], scores.p_ore[sel]), n_seg)
    sums["n"] += np.bincount(ps, minlength=n_seg)
    sums["novel"] += np.bincount(ps, scores.novel[sel].astype(float), n_seg)


def _nir_pass(reader: ArchiveReader, stream: str, seg: Mapping[str, np.ndarray], model: Any,
              batch_rows: int, unmix: bool, segment_scoring: str = "line") -> dict[str, Any]:
    """One pass over a NIR stream: archived statistics and, with ``model``, every segment re-scored.

    ``segment_scoring="line"``: the line's stateful per-lot scorer, fed each segment in lot order
    (:class:`_LineSegments`). ``"calibrated"``: the model's static per-segment calibration on summed
    log-odds (fast, no lot baseline).
    """
    if segment_scoring not in SEGMENT_SCORING:
        raise ValueError(f"segment_scoring must be one of {SEGMENT_SCORING}, got {segment_scoring!r}")
    calibrated = segment_scoring == "calibrated"
    info = reader.streams[stream]
    keys = ["tonnage_mark_t", "reflectance"] + [k for k in ("valid", "p_waste") if k in info.fields]
    archived = _ArchivedNirStats(info.rows, info.fields["reflectance"][0][0])
    line = _LineSegments(seg, model) if model is not None and not calibrated else None
    sums = {k: np.zeros(len(seg["index"])) for k in ("w", "c", "n", "novel")}
    sum_pw_new, n_pw_new = 0.0, 0
    first_row = 0
    for batch in reader.iter_stream(stream, keys, batch_rows):
        refl = batch["reflectance"]
        valid = batch["valid"].astype(bool) if "valid" in batch else np.ones(len(refl), bool)
        valid &= np.all(np.isfinite(refl), axis=1)
        archived.add(first_row, refl, valid, batch.get("p_waste"))
        first_row += len(refl)
        if model is None:
            continue
        pos = segment_positions(seg["start_t"], seg["end_t"], reader.lot_tonnes(batch["tonnage_mark_t"]))
        feats = None
        if line is not None and line.fast is not None:
            # once per batch: validity, features and the classifier, as model.score does; rows keep their order
            refl, valid, feats, p_waste = _line_batch(model, refl, valid)
            sum_pw_new += float(np.nansum(p_waste))
            n_pw_new += int(p_waste.size)
        elif valid.any():
            scores = model.score(refl[valid], unmix=unmix)
            sum_pw_new += float(np.nansum(scores.p_waste[scores.valid]))
            n_pw_new += int(scores.valid.sum())
            if calibrated:
                _calibrated_sums(sums, pos[valid], scores)
        if line is not None:
            line.add(pos, refl, valid, feats)
    out: dict[str, Any] = {"spectra": info.rows, "late_rows": 0, "segment_scores": {}}
    if line is not None:
        line.flush()
        out["segment_scores"], out["late_rows"] = line.scores, line.late_rows
        if line.signature is not None and line.signature.complete:
            out["signature"] = line.signature.signature()
    elif model is not None:
        out["segment_scores"] = _calibrated_scores(model, sums)
    archived.fill(out)
    out["new_mean_p_waste"] = sum_pw_new / n_pw_new if n_pw_new else math.nan
    return out


#: rows per feature chunk in line mode: one chunk's temporaries stay in the CPU cache
_FEATURE_CHUNK_ROWS = 1024


def _line_batch(model: Any, refl: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, ...]:
    """One batch for line-mode scoring: reflectance (n, c) as float64; ``valid`` (n,) narrowed to spectra the
    model can score (``spectra.models.bundle.validity``); for those m valid rows, in order, the lot detector's
    features (m, c) and the classifier's p_waste (m,) — the numbers ``model.score(refl[valid])`` and the
    detector give. Validity and features are per-row functions, computed in cache-sized chunks; the
    classifier runs on the whole batch, as in ``model.score``."""
    r = np.asarray(refl, dtype=float)
    ok = valid.copy()
    feats = np.empty(r.shape)
    m = 0
    ld = model.lot_detector
    for a in range(0, len(r), _FEATURE_CHUNK_ROWS):
        b = min(len(r), a + _FEATURE_CHUNK_ROWS)
        sel = ok[a:b]
        if sel.any():
            sel[sel] = validity(r[a:b][sel])[0]
        k = int(sel.sum())
        if k:
            # = model.preprocessing.features(r[ok]) (its floor is at least the detector's clip)
            feats[m:m + k] = ld.raw_features(np.clip(r[a:b][sel], _DETECTOR_FLOOR, None))
            m += k
    feats = feats[:m]
    p_waste = (model.classifier.predict_proba(feats)[:, list(model.classes).index("waste")] if m
               else np.zeros(0))
    return r, ok, feats, p_waste


def _vision_contaminated(reader: ArchiveReader, seg: Mapping[str, np.ndarray], config: Mapping[str, Any]) -> np.ndarray:
    """Per segment: does a detection count as a foreign object (the monitor's rule and thresholds)?"""
    flags = np.zeros(len(seg["index"]), bool)
    for info in reader.streams_of_kind("vision"):
        keys = [k for k in ("kind", "length_mm", "probability") if k in info.fields]
        t = reader.stream_table(info.name, ["tonnage_mark_t", *keys])
        kind = t.get("kind", np.full(info.rows, "", object)).astype(str)
        length = t.get("length_mm", np.zeros(info.rows)).astype(float)
        prob = t.get("probability", np.zeros(info.rows)).astype(float)
        counts = (~np.isin(kind, list(NOT_CONTAMINATION)) & (length >= config["min_object_length_mm"])
                  & (prob >= config["min_object_probability"]))
        pos = segment_positions(seg["start_t"], seg["end_t"], reader.lot_tonnes(t["tonnage_mark_t"]))
        flags[pos[counts & (pos >= 0)]] = True
    return flags


def redecide(d: SegmentDecision, nir: Any | None, vision_contaminated: bool, nir_stations: set[str],
             vision_stations: set[str], min_coverage: float) -> str:
    """A segment's class with a new NIR score, by the monitor's rule (:func:`analysis.decide.segment.segment_class`).

    ``nir`` is the new ``NirSegmentScore`` (None: NIR had no spectra there); coverage comes from the
    archived decision.
    """
    seen_by = {c.station for c in d.coverage if c.fraction >= min_coverage}
    return segment_class(seen_by=seen_by, nir_stations=nir_stations, vision_stations=vision_stations, nir=nir,
                         foreign_objects=int(vision_contaminated))


def _check_grid(reader: ArchiveReader, stream: str, model: Any) -> None:
    wl = reader.wavelength_nm(stream)
    mwl = np.asarray(model.grid.wavelength_nm, float)
    if wl is None:
        raise ArchiveError(f"{reader.path}: stream {stream!r} stores no wavelength grid; cannot re-score")
    if wl.shape != mwl.shape or not np.allclose(wl, mwl, atol=0.01):
        raise ArchiveError(
            f"{reader.path}: wavelength grid mismatch: archive {wl.size} ch {wl[0]:.1f}-{wl[-1]:.1f} nm, "
            f"model {model.grid.name!r} {mwl.size} ch {mwl[0]:.1f}-{mwl[-1]:.1f} nm")


def analyse_archive(path: str | os.PathLike[str], model: Any | None = None, *, batch_rows: int = BATCH_ROWS,
                    unmix: bool = False, segment_scoring: str = "line") -> dict[str, Any]:
    """One row about one archive (see ``COLUMNS``); with ``model`` (a ``spectra`` SpectraModel) re-scored.

    Never raises: a failure gives ``status="error"`` and the reason in ``error``. ``seconds`` is wall-clock
    time, ``cpu_seconds`` the CPU time of the process meanwhile (unaffected by other load). The lot's mean
    spectrum is returned under ``_mean_spectrum`` / ``_grid`` for fleet drift.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    p = Path(path)
    row: dict[str, Any] = {"path": str(p), "file": p.name, "status": "ok", "error": ""}
    try:
        with open_archive(p) as reader:
            row["bytes"] = reader.size_bytes
            _fill_row(row, reader, model, batch_rows, unmix, segment_scoring)
    except Exception as exc:  # one bad archive is a row, never the end of the fleet run
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - t0, 4)
    row["cpu_seconds"] = round(time.process_time() - c0, 4)  # of the whole worker process: other load excluded
    return row


def _fill_row(row: dict[str, Any], reader: ArchiveReader, model: Any | None, batch_rows: int, unmix: bool,
              segment_scoring: str) -> None:
    lot = reader.lot
    end = reader.end or {}
    end_mark = end.get("lot_end", {}).get("end_mark_t") if end else None
    row.update(lot_id=reader.lot_id, vessel=lot.get("vessel", ""), hold=lot.get("hold", ""),
               supplier=lot.get("supplier", "") or "(none)", product=lot.get("declared_product", ""),
               declared_mass_t=float(lot.get("declared_mass_t") or math.nan),
               weighed_t=float(end_mark) - reader.lot_start_mark_t if end_mark is not None else math.nan,
               state=reader.state + (" (writer gone)" if reader.live and reader.writer_alive() is False else ""))
    v = reader.final_verdict()
    row.update(verdict=v.verdict if v else "none", confidence=v.confidence if v else math.nan)
    seg = reader.segment_table()
    codes = seg["class_code"].astype(int)
    row.update(segments=len(codes), waste_segments=int((codes == SEGMENT_CLASSES.index("waste-suspect")).sum()),
               contaminated_segments=int((codes == SEGMENT_CLASSES.index("contaminated")).sum()),
               uninspected_segments=int((codes == SEGMENT_CLASSES.index("uninspected")).sum()))
    nirs = [s for s in reader.streams_of_kind("nir") if "reflectance" in s.fields]
    if not nirs:
        if model is not None:
            raise ArchiveError(f"{reader.path}: no NIR stream with reflectance; nothing to re-score")
        row.update(spectra=0, valid_spectra=0)
        return
    stream = nirs[0].name
    if model is not None:
        _check_grid(reader, stream, model)
    stats = _nir_pass(reader, stream, seg, model, batch_rows, unmix, segment_scoring)
    row.update(spectra=stats["spectra"], valid_spectra=stats["valid_spectra"], mean_p_waste=stats["mean_p_waste"],
               drift_within_deg=stats["drift_within_deg"])
    wl = reader.wavelength_nm(stream)
    if stats["mean_spectrum"] is not None and wl is not None:
        row["_mean_spectrum"] = stats["mean_spectrum"].tolist()
        row["_grid"] = f"{wl.size}:{wl[0]:.2f}:{wl[-1]:.2f}"
    if model is None:
        return
    if "signature" in stats:
        s = stats["signature"]
        row["_signature"] = {"features": s.features.tolist(), "reflectance": s.reflectance.tolist(),
                             "segments": s.segments, "spectra": s.spectra, "within": s.within.tolist()}
    decisions = reader.segments()
    section = _verdict_section(reader)
    vision = _vision_contaminated(reader, seg, section)
    nir_st = {s.station for s in reader.streams_of_kind("nir")}
    vis_st = {s.station for s in reader.streams_of_kind("vision")}
    new = [redecide(d, stats["segment_scores"].get(i), bool(vision[i]), nir_st, vis_st, section["min_coverage"])
           for i, d in enumerate(decisions)]
    nv = _rescored_verdict(reader, decisions, new)
    row.update(model_version=getattr(model, "model_version", ""), segment_scoring=segment_scoring,
               new_mean_p_waste=stats["new_mean_p_waste"],
               new_waste_segments=new.count("waste-suspect"), new_contaminated_segments=new.count("contaminated"),
               new_uninspected_segments=new.count("uninspected"),
               changed_segments=sum(1 for d, c in zip(decisions, new) if d.segment_class != c),
               new_verdict=nv.verdict, new_decided_at_t=nv.decided_at_t, late_rows=stats["late_rows"])


def load_model(model_path: str | os.PathLike[str]) -> Any:
    """The spectra model in ``model_path`` (raises the model's errors)."""
    return SpectraModel.load(Path(model_path))
