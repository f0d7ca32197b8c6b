"""Real labelled photographs: read COCO json or YOLO txt labels, score the detector on them.

A labelled folder holds images and either one COCO json (``images``, ``annotations`` with ``bbox`` = [x, y, w, h]
in pixels, ``categories`` whose names are object kinds) or, per image, a YOLO ``<stem>.txt`` (``class cx cy w h``,
normalised to 0..1) with the class names in ``classes.txt`` (one per line) beside them. Category names must be
object kinds (:data:`vision.objects.KINDS`); a photo with no labels is a photo of normal ore. Categories
that label no box are ignored (exports often carry a parent category).

Bad input raises :class:`LabelError` naming the file: malformed json, a box outside its image, an unknown category
or class, a missing image.

Scoring (:func:`evaluate_labelled`): each photo is one frame (placed in the middle of a frame of the model's width,
the rest dark like the steel beyond the belt); a labelled object is found when a detection's centre lies in its box
(grown by MATCH_MARGIN_MM); detections on no box are false alarms. Recall per kind, precision per reported kind and
false alarms per image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.detect import Detection
from vision.errors import ImageFileError, VisionError
from vision.evaluate import MATCH_MARGIN_MM, _poisson_upper95
from vision.classify import NONE
from vision.fit import VisionModel, candidate_pool, train_classifier
from vision.frames import Frame
from vision.objects import KINDS
from vision.tiles import image_paths, read_rgb


class LabelError(VisionError, ValueError):
    """A labelled folder whose labels cannot be used (the message names the file)."""


@dataclass(frozen=True)
class Box:
    """A labelled object: kind and pixel box [x0, x1) x [y0, y1)."""

    kind: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    width_px: int
    height_px: int
    boxes: tuple[Box, ...]


def _check_box(box: Box, w: int, h: int, where: str) -> Box:
    if not (box.x1 > box.x0 and box.y1 > box.y0):
        raise LabelError(f"{where}: empty box {box}")
    tol = 1.0
    if box.x0 < -tol or box.y0 < -tol or box.x1 > w + tol or box.y1 > h + tol:
        raise LabelError(f"{where}: box ({box.x0:.0f}, {box.y0:.0f})-({box.x1:.0f}, {box.y1:.0f}) lies outside the {w}x{h} image")
    return box


def _kind(name: str, where: str) -> str:
    kind = str(name).strip().lower()
    if kind not in KINDS:
        raise LabelError(f"{where}: unknown category {name!r}; expected one of {', '.join(KINDS)}")
    return kind


def _read_coco(path: Path, folder: Path) -> list[LabelledImage]:
    try:
        doc = json.loads(path.read_text())
        images, anns, cats = doc["images"], doc.get("annotations", []), doc["categories"]
        names = {int(c["id"]): c["name"] for c in cats}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LabelError(f"{path}: not a usable COCO json ({type(exc).__name__}: {exc})") from exc
    by_image: dict[int, list[Box]] = {}
    out = []
    try:
        info = {int(im["id"]): (im["file_name"], int(im["width"]), int(im["height"])) for im in images}
        for a in anns:
            where = f"{path} annotation {a.get('id', '?')}"
            if int(a["category_id"]) not in names:
                raise LabelError(f"{where}: unknown category id {a['category_id']}")
            if int(a["image_id"]) not in info:
                raise LabelError(f"{where}: unknown image id {a['image_id']}")
            x, y, bw, bh = (float(v) for v in a["bbox"])
            _, w, h = info[int(a["image_id"])]
            box = _check_box(Box(_kind(names[int(a["category_id"])], where), x, y, x + bw, y + bh), w, h, where)
            by_image.setdefault(int(a["image_id"]), []).append(box)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, LabelError):
            raise
        raise LabelError(f"{path}: malformed COCO entry ({type(exc).__name__}: {exc})") from exc
    for iid, (name, w, h) in info.items():
        img = folder / name
        if not img.exists():
            raise LabelError(f"{path}: image {name!r} not found in {folder}")
        out.append(LabelledImage(img, w, h, tuple(by_image.get(iid, ()))))
    return out


def _read_yolo(folder: Path) -> list[LabelledImage]:
    classes_file = folder / "classes.txt"
    try:
        classes = [c.strip() for c in classes_file.read_text().splitlines() if c.strip()]
    except OSError as exc:
        raise LabelError(f"{classes_file}: YOLO labels need the class names, one per line ({exc})") from exc
    kinds = [_kind(c, str(classes_file)) for c in classes]
    out = []
    for img in image_paths(folder):
        try:
            h, w = read_rgb(img).shape[:2]
        except ImageFileError as exc:
            raise LabelError(str(exc)) from exc
        txt = img.with_suffix(".txt")
        boxes = []
        if txt.exists():
            for n, line in enumerate(txt.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                where = f"{txt} line {n}"
                parts = line.split()
                try:
                    cls, cx, cy, bw, bh = int(parts[0]), *(float(v) for v in parts[1:5])
                    if len(parts) != 5:
                        raise ValueError(f"{len(parts)} fields")
                except (ValueError, IndexError) as exc:
                    raise LabelError(f"{where}: expected 'class cx cy w h', got {line!r} ({exc})") from exc
                if not 0 <= cls < len(kinds):
                    raise LabelError(f"{where}: unknown class {cls}; {classes_file} names {len(kinds)} classes")
                box = Box(kinds[cls], (cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)
                boxes.append(_check_box(box, w, h, where))
        out.append(LabelledImage(img, w, h, tuple(boxes)))
    return out


def read_labelled(folder: str | Path) -> list[LabelledImage]:
    """The labelled photos of ``folder`` (COCO json if one is there, else YOLO txt). Raises LabelError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabelError(f"{folder}: not a folder of labelled images")
    jsons = sorted(folder.glob("*.json"))
    if len(jsons) > 1:
        raise LabelError(f"{folder}: expected one COCO json, found {', '.join(p.name for p in jsons)}")
    items = _read_coco(jsons[0], folder) if jsons else _read_yolo(folder)
    if not items:
        raise LabelError(f"{folder}: no labelled images found")
    return items


def _frame(image: np.ndarray, width_px: int, mm_per_px: float, where: Path) -> tuple[Frame, int]:
    h, w = image.shape[:2]
    if w > width_px:
        raise LabelError(f"{where}: image is {w} px wide, the model's frames are {width_px} px")
    canvas = np.full((h, width_px, 3), 38, np.uint8)
    x0 = (width_px - w) // 2
    canvas[:, x0 : x0 + w] = image
    return Frame(canvas, 0, 0.0, 100.0, 0.0, 0.0, mm_per_px), x0


def detect_photo(model: VisionModel, item: LabelledImage, *, report_all: bool = False) -> tuple[list[Detection], list[np.ndarray]]:
    """Run the model's detector on one labelled photo. Returns the detections and, per box, the indices of the
    detections whose centre lies in it (grown by MATCH_MARGIN_MM). ``report_all`` also returns candidates the
    classifier calls "none" (for training). Raises LabelError when the photo does not match its labels."""
    mm = model.mm_per_px
    image = read_rgb(item.path)
    if image.shape[:2] != (item.height_px, item.width_px):
        raise LabelError(f"{item.path}: image is {image.shape[1]}x{image.shape[0]}, its labels say {item.width_px}x{item.height_px}")
    frame, x0 = _frame(image, model.width_px, mm, item.path)
    det = model.detector()
    det.report_all = report_all
    dets: list[Detection] = det.process(frame).detections + det.flush()
    margin = MATCH_MARGIN_MM / mm
    cx = np.array([d.lateral_m * 1000.0 / mm + model.width_px / 2 - x0 for d in dets])
    cy = np.array([d.belt_m * 1000.0 / mm for d in dets])
    hits = [np.flatnonzero((cx >= b.x0 - margin) & (cx < b.x1 + margin) & (cy >= b.y0 - margin) & (cy < b.y1 + margin))
            if dets else np.zeros(0, int) for b in item.boxes]
    return dets, hits


def labelled_candidates(model: VisionModel, items: list[LabelledImage]) -> tuple[list[np.ndarray], list[str], list[float]]:
    """Training candidates from labelled photos: features, label and measured length (mm) of every candidate the
    detector finds: in a box → the box's kind, on no box → "none" (a site's own ore)."""
    x, y, length = [], [], []
    for item in items:
        dets, hits = detect_photo(model, item, report_all=True)
        kind = [NONE] * len(dets)
        for b, hit in zip(item.boxes, hits):
            for i in hit:
                kind[i] = b.kind
        for d, k in zip(dets, kind):
            if d.features is not None:
                x.append(d.features)
                y.append(k)
                length.append(d.length_mm)
    return x, y, length


def fit_with_labelled(items: list[LabelledImage], *, mm_per_px: float, width_px: int, seed: int = 0, **fit_kw) -> tuple[VisionModel, dict]:
    """Fit a vision model as :func:`vision.fit.fit_vision_model` does, with the candidates of a site's labelled photos
    added to the kind classifier's training (spread over the folds). Returns the model and counts per label added."""
    model, pool = candidate_pool(mm_per_px=mm_per_px, width_px=width_px, seed=seed, **fit_kw)
    x, y, length = labelled_candidates(model, items)
    folds = sorted(set(pool.fold)) or [0]
    for i in range(len(x)):
        pool.add(([x[i]], [y[i]], [length[i]]), folds[i % len(folds)], False)
    model.classifier, decision = train_classifier(pool, model.params, seed)
    model.fitted_on = dict(model.fitted_on, decision=decision.as_dict())
    return model, {k: y.count(k) for k in sorted(set(y))}


def evaluate_labelled(model: VisionModel, items: list[LabelledImage]) -> dict:
    """Score the detector on labelled photos at the model's scale. Returns recall per kind, precision per reported
    kind, false alarms per image (with the 95 % upper bound) and per-image counts."""
    rows: dict[str, dict] = {}
    reported: dict[str, list[int]] = {}
    false_alarms, per_image = 0, []
    for item in items:
        dets, hits = detect_photo(model, item)
        used = np.zeros(len(dets), bool)
        for b, hit in zip(item.boxes, hits):
            r = rows.setdefault(b.kind, {"objects": 0, "detected": 0, "kind_correct": 0})
            r["objects"] += 1
            if len(hit):
                r["detected"] += 1
                r["kind_correct"] += any(dets[i].kind == b.kind for i in hit)
                for i in hit:
                    reported.setdefault(dets[i].kind, []).append(int(dets[i].kind == b.kind))
                used[hit] = True
        fa = int((~used).sum())
        for i in np.flatnonzero(~used):
            reported.setdefault(dets[i].kind, []).append(0)
        false_alarms += fa
        per_image.append({"image": item.path.name, "objects": len(item.boxes), "detections": len(dets), "false_alarms": fa})
    for r in rows.values():
        r["recall"] = r["detected"] / r["objects"]
    n_obj = sum(r["objects"] for r in rows.values())
    n = len(items)
    return {
        "recall": {f"kind:{k}": v for k, v in sorted(rows.items())} | ({"all:all": {
            "objects": n_obj, "detected": sum(r["detected"] for r in rows.values()),
            "kind_correct": sum(r["kind_correct"] for r in rows.values()),
            "recall": sum(r["detected"] for r in rows.values()) / n_obj}} if n_obj else {}),
        "precision_by_kind": {k: float(np.mean(v)) for k, v in sorted(reported.items())},
        "images": n,
        "false_alarms": false_alarms,
        "false_alarms_per_image": false_alarms / n,
        "false_alarms_per_image_upper95": _poisson_upper95(false_alarms) / n,
        "per_image": per_image,
    }
