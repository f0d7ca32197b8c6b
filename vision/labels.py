"""Real labelled photographs: score the detector on them, or add them to a fit (reading: :mod:`vision.labels_read`).

Each photo is decoded upright (:func:`vision.labels_photo.read_photo`), resampled from its declared mm/px to the
model's, and covered with model-wide frames (one centred frame when it fits, else overlapping frames; a detection
counts in the frame that owns its centre, and two from neighbouring frames on one object count once). A labelled
object is found when a detection's centre lies in its box grown by MATCH_MARGIN_MM; a generic "foreign" box is found by
any foreign detection (:func:`vision.kind_decision.is_foreign`); detections on no box are false alarms; "ignore" boxes
are not scored and the detections on them are no false alarms. A photo that cannot be scored (unreadable, labels for
another size, or not inspected: the detector finds no belt or no ore in it, as the line would call the belt
uninspected) is listed with its reason, never counted as found or clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from vision.classify import NONE
from vision.detect import Detection, DetectorParams, FrameResult
from vision.errors import ImageFileError, VisionError
from vision.exposure import Gain, apply_gain, photo_gain
from vision.evaluate import MATCH_MARGIN_MM, SIZE_CLASSES, _poisson_upper95, size_class
from vision.fit import VisionModel, candidate_pool, finish_fit, one_fit_thread
from vision.frames import Frame
from vision.kind_decision import is_foreign
from vision.labels_names import FOREIGN, IGNORE
from vision.labels_photo import frame_image, read_photo, to_model_scale, windows
from vision.labels_read import Box, LabelError, LabelledImage, LabelledSet, NotScored, read_labelled
from vision.station_settings import EXPOSURE_NORM

__all__ = ["LabelError", "LabelledImage", "LabelledSet", "PhotoResult", "detect_photo", "evaluate_labelled", "fit_with_labelled",
           "read_labelled"]

#: Photos (resampled to the model's scale, spread over the set) the rendered-vs-real statistics are measured on.
REALISM_PHOTOS = 200


@dataclass
class PhotoResult:
    """The detections on one photo, their centres (x_px, y_px of the photo as labelled), per box the indices of the
    detections that find it, the photo at the model's scale (as taken: not gained) and its exposure gain (None: the
    normalisation off)."""

    detections: list[Detection]
    x_px: np.ndarray
    y_px: np.ndarray
    hits: list[np.ndarray]
    image: np.ndarray
    exposure: Gain | None = None


def _merge_overlaps(dets: list[Detection], x_mm: np.ndarray, y_mm: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Keep-mask: of two detections from neighbouring frames within half the longer's length (+ MATCH_MARGIN_MM) of
    each other, the longer (the more complete view) stays."""
    keep = np.ones(len(dets), bool)
    order = np.argsort([-d.length_mm for d in dets], kind="stable")
    for a_pos, a in enumerate(order):
        if not keep[a]:
            continue
        for b in order[a_pos + 1 :]:
            if keep[b] and window[b] != window[a] and (np.hypot(x_mm[a] - x_mm[b], y_mm[a] - y_mm[b])
                                                        <= dets[a].length_mm / 2 + MATCH_MARGIN_MM):
                keep[b] = False
    return keep


def _box_hits(boxes: tuple[Box, ...], x: np.ndarray, y: np.ndarray, margin_px: float) -> list[np.ndarray]:
    return [np.flatnonzero((x >= b.x0 - margin_px) & (x < b.x1 + margin_px) & (y >= b.y0 - margin_px) & (y < b.y1 + margin_px))
            for b in boxes]


class NotInspected(VisionError):
    """The detector could not inspect a photo (no belt or no ore found in it): neither found nor clean."""


def _check_inspected(result: FrameResult, photo_share: float, params: DetectorParams) -> None:
    """Raise NotInspected when the detector would call the photo's belt uninspected: belt found in fewer than
    ``params.min_belt_fraction`` of the photo's columns (``photo_share``: the photo's share of the frame), or ore
    on less than ``params.min_material_fraction`` of it, as the line's station rules."""
    belt = result.belt_fraction / photo_share
    if belt < params.min_belt_fraction:
        raise NotInspected(f"not inspected: the detector finds belt in {100 * belt:.0f} % of the photo "
                           f"(needs {100 * params.min_belt_fraction:.0f} %)")
    if result.material_fraction < params.min_material_fraction:
        raise NotInspected(f"not inspected: the detector finds ore on {100 * result.material_fraction:.1f} % of the "
                           f"belt (needs {100 * params.min_material_fraction:.0f} %; another cargo, or an empty belt)")


def detect_photo(model: VisionModel, item: LabelledImage, photo_mm_per_px: float, *, report_all: bool = False,
                 exposure_norm: bool = EXPOSURE_NORM) -> PhotoResult:
    """Run the model's detector over one labelled photo declared at ``photo_mm_per_px``. ``report_all`` also returns
    candidates the classifier calls "none" (for training); ``exposure_norm``: the photo darkened into the fit's range
    by its own ore's median grey first (:func:`vision.exposure.photo_gain`). Raises ImageFileError when the photo cannot be decoded,
    LabelError when it is not the size its labels say, NotInspected when the detector finds no belt or no ore in it."""
    image = read_photo(item.path)
    if image.shape[:2] == (item.width_px, item.height_px) != (item.height_px, item.width_px):
        image = read_photo(item.path, upright=False)  # a COCO entry of the stored photo: its labels ignore the EXIF turn
    if image.shape[:2] != (item.height_px, item.width_px):
        raise LabelError(f"the photo is {image.shape[1]}x{image.shape[0]} (upright), its labels say {item.width_px}x{item.height_px}")
    mm = model.mm_per_px
    scaled, factor = to_model_scale(image, photo_mm_per_px, mm)
    det = model.detector()
    det.report_all = report_all
    gain = photo_gain(scaled, det.block) if exposure_norm else None
    shown = scaled if gain is None else apply_gain(scaled, gain.gain)
    dets: list[Detection] = []
    cols, rows, win = [], [], []
    for k, w in enumerate(windows(scaled.shape[1], model.width_px, mm)):
        frame = Frame.still(frame_image(shown, w, model.width_px), mm, frame_id=k)
        result = det.process(frame)
        _check_inspected(result, w.width / model.width_px, model.params)
        for d in result.detections + det.flush():
            col = d.lateral_m * 1000.0 / mm + model.width_px / 2 - w.pad + w.x0
            if w.own_x0 <= col < w.own_x1:
                dets.append(d)
                cols.append(col)
                rows.append(d.belt_m * 1000.0 / mm)
                win.append(k)
    x_mm, y_mm = np.array(cols) * mm, np.array(rows) * mm
    keep = _merge_overlaps(dets, x_mm, y_mm, np.array(win)) if dets else np.zeros(0, bool)
    dets = [d for d, k in zip(dets, keep) if k]
    x_px, y_px = x_mm[keep] / mm / factor, y_mm[keep] / mm / factor
    hits = _box_hits(item.boxes, x_px, y_px, MATCH_MARGIN_MM / photo_mm_per_px)
    return PhotoResult(dets, x_px, y_px, hits, scaled, gain)


def labelled_candidates(model: VisionModel, items: list[LabelledImage], photo_mm_per_px: float) -> tuple[list[np.ndarray], list[str], list[float]]:
    """Training candidates from labelled photos: features, label and measured length (mm) of every candidate the
    detector finds: in a box → the box's kind, on no box → "none" (a site's own ore). Candidates in a generic
    "foreign" or an "ignore" box are left out (no kind to learn). Photos that cannot be read or inspected are skipped."""
    x, y, length = [], [], []
    for item in items:
        try:
            res = detect_photo(model, item, photo_mm_per_px, report_all=True)
        except (ImageFileError, LabelError, NotInspected):
            continue
        kind = [NONE] * len(res.detections)
        for b, hit in zip(item.boxes, res.hits):
            for i in hit:
                kind[i] = b.kind
        for d, k in zip(res.detections, kind):
            if d.features is not None and k not in (FOREIGN, IGNORE):
                x.append(d.features)
                y.append(k)
                length.append(d.length_mm)
    return x, y, length


@one_fit_thread
def fit_with_labelled(items: list[LabelledImage], *, photo_mm_per_px: float, mm_per_px: float, width_px: int, seed: int = 0,
                      **fit_kw) -> tuple[VisionModel, dict]:
    """Fit a vision model as :func:`vision.fit.fit_vision_model` does, with the candidates of a site's labelled photos
    (declared at ``photo_mm_per_px``) added to the kind classifier's training (spread over the folds), on one BLAS
    thread throughout, the photos' detection included (:func:`vision.fit.one_fit_thread`). Returns the model and
    counts per label added."""
    model, pool = candidate_pool(mm_per_px=mm_per_px, width_px=width_px, seed=seed, **fit_kw)
    x, y, length = labelled_candidates(model, items, photo_mm_per_px)
    folds = sorted(set(pool.fold)) or [0]
    for i in range(len(x)):
        pool.add(([x[i]], [y[i]], [length[i]]), folds[i % len(folds)], False)
    added = {k: y.count(k) for k in sorted(set(y))}
    model = finish_fit(model, pool, seed=seed, scene=fit_kw.get("scene"), objects=fit_kw.get("objects"))
    model.fitted_on["labelled"] = {"photos": len(items), "photo_mm_per_px": photo_mm_per_px, "candidates_added": added}
    return model, added


class _Tally:
    """Recall rows per labelled kind and per size class of the box's longer side (the object's length when it lies
    square, 0.71-1.41 x it when tilted), precision per reported kind and false alarms, photo by photo."""

    def __init__(self, photo_mm_per_px: float) -> None:
        self.photo_mm_per_px = photo_mm_per_px
        self.rows: dict[str, dict] = {}
        self.reported: dict[str, list[int]] = {}
        self.false_alarms = 0

    def _count(self, key: str, found: bool, kind_correct: bool) -> None:
        r = self.rows.setdefault(key, {"objects": 0, "detected": 0, "kind_correct": 0})
        r["objects"] += 1
        r["detected"] += found
        r["kind_correct"] += kind_correct

    def add(self, boxes: tuple[Box, ...], res: PhotoResult) -> int:
        dets, used = res.detections, np.zeros(len(res.detections), bool)
        kinds = np.array([d.kind for d in dets], dtype=str)
        for b, hit in zip(boxes, res.hits):
            used[hit] = True
            if b.kind == IGNORE:
                continue
            found = bool(len(hit[is_foreign(kinds[hit])] if b.kind == FOREIGN and len(hit) else hit))
            correct = b.kind != FOREIGN and any(dets[i].kind == b.kind for i in hit)
            length_mm = max(b.x1 - b.x0, b.y1 - b.y0) * self.photo_mm_per_px
            for key in (f"kind:{b.kind}", f"size:{size_class(length_mm)}", "all:all") + (("size>=50:all",) if length_mm >= 50 else ()):
                self._count(key, found, correct)
            for i in hit if b.kind != FOREIGN else ():
                self.reported.setdefault(dets[i].kind, []).append(int(dets[i].kind == b.kind))
        for i in np.flatnonzero(~used):
            self.reported.setdefault(dets[i].kind, []).append(0)
        self.false_alarms += int((~used).sum())
        return int((~used).sum())

    def recall(self) -> dict:
        """Rows kind:*, size:* (in SIZE_CLASSES order), size>=50:all and all:all, each with its recall."""
        order = [k for k in sorted(self.rows) if k.startswith("kind:")] + [f"size:{c}" for c in SIZE_CLASSES] + ["size>=50:all", "all:all"]
        return {k: dict(self.rows[k], recall=self.rows[k]["detected"] / self.rows[k]["objects"]) for k in order if k in self.rows}


def evaluate_labelled(model: VisionModel, lset: LabelledSet, photo_mm_per_px: float, *,
                      progress: Callable[[int, int], None] | None = None, exposure_norm: bool = EXPOSURE_NORM) -> tuple[dict, list[np.ndarray]]:
    """Score the detector on a labelled set declared at ``photo_mm_per_px``. Returns the table (recall per labelled
    kind and per size class of the box's longer side, precision per reported kind, false alarms per scored photo with the 95 % upper bound, per-photo counts, the
    photos not scored with their reasons) and up to REALISM_PHOTOS photos at the model's scale, spread over the set,
    for the realism statistics. ``progress(done, total)`` is called after each photo; ``exposure_norm``: each photo
    darkened into the fit's range first (:func:`detect_photo`; per photo ``exposure_gain``, 1 when off)."""
    tally, per_image, sample = _Tally(photo_mm_per_px), [], []
    not_scored = list(lset.not_scored)
    n = len(lset.items)
    pick = set(np.linspace(0, n - 1, min(n, REALISM_PHOTOS)).round().astype(int).tolist()) if n else set()
    for k, item in enumerate(lset.items):
        try:
            res = detect_photo(model, item, photo_mm_per_px, exposure_norm=exposure_norm)
        except (ImageFileError, LabelError, NotInspected) as exc:
            not_scored.append(NotScored(item.path, str(exc)))
        else:
            fa = tally.add(item.boxes, res)
            per_image.append({"image": str(item.path), "objects": len(item.boxes), "detections": len(res.detections),
                              "false_alarms": fa, "object_free_no_label_file": not item.label_file,
                              "exposure_gain": 1.0 if res.exposure is None else res.exposure.gain})
            if k in pick:
                sample.append(res.image)
        if progress is not None:
            progress(k + 1, n)
    scored = len(per_image)
    return {
        "layout": lset.layout,
        "names": lset.names,
        "photo_mm_per_px": photo_mm_per_px,
        "model_mm_per_px": model.mm_per_px,
        "recall": tally.recall(),
        "precision_by_kind": {k: float(np.mean(v)) for k, v in sorted(tally.reported.items())},
        "images": scored,
        "object_free_no_label_file": sum(1 for p in per_image if p["object_free_no_label_file"]),
        "false_alarms": tally.false_alarms,
        "false_alarms_per_image": tally.false_alarms / scored if scored else float("nan"),
        "false_alarms_per_image_upper95": _poisson_upper95(tally.false_alarms) / scored if scored else float("nan"),
        "not_scored": [{"path": str(p.path), "reason": p.reason} for p in not_scored],
        "per_image": per_image,
        "exposure_norm": bool(exposure_norm),
    }, sample
