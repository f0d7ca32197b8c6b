"""Why an object is not a candidate: the stage of the detector that loses it (issue 27, the candidate ceiling).

The streaming detector (:class:`~vision.detect.Detector`) turns a frame into cell scores, seeds, grown regions and
size-gated components. :func:`stage_maps` computes the same maps for one whole stretch of belt rendered as a single
frame (no frame cuts), and :func:`miss_causes` sorts each truth object >= 50 mm that the streaming run left without a
size-passing candidate into one cause, in this order:

- ``belt mask``: under half of its cells lie in the belt columns;
- ``no seed``: no seed cell on it (split by ``dark`` / ``bright`` against the belt's median grey, and ``thin`` when
  it is under :data:`THIN_MM` wide): no seed source fires there;
- ``seed merged into ore``: it is seeded, but every seeded region on it is more than :data:`MERGE_AREA_RATIO` x its
  own area or centred too far away to match it: its region grew into the ore around it;
- ``size gate``: a seeded region on it matches it but is below the area or length gate;
- ``frame cut``: the whole-stretch maps give it a size-passing candidate; the streaming run, cutting the belt into
  frames, does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from vision.classify import component_features
from vision.detect import DetectorParams, Detection, frame_maps
from vision.evaluate import MATCH_MARGIN_MM
from vision.fit import VisionModel
from vision.scene import BeltScene, SceneObject
from vision.seeds_bars import BarSeeds

#: Objects narrower than this (mm) count as thin.
THIN_MM = 35.0
#: A seeded region more than this many times an object's own cells has grown into the ore.
MERGE_AREA_RATIO = 4.0
CAUSES = ("belt mask", "no seed, dark, thin", "no seed, dark", "no seed, bright, thin", "no seed, bright",
          "seed merged into ore", "size gate", "frame cut")


@dataclass
class StageMaps:
    """The detector's maps of one stretch (cells): features (h, w, 5), score, belt (bool), seeds, labelled regions,
    the smoothed score, the grown core and the objectness (or None)."""

    feats: np.ndarray
    raw: np.ndarray
    belt: np.ndarray
    seed: np.ndarray
    labels: np.ndarray
    n: int
    sm: np.ndarray
    objectness: np.ndarray | None


def stage_maps(model: VisionModel, img: np.ndarray, params: DetectorParams | None = None, bars: BarSeeds | None = None) -> StageMaps:
    """The maps :meth:`~vision.detect.Detector._components` makes of ``img`` (rows, width_px, 3) as one frame, with
    ``model``'s detector at ``params`` (default the model's own) and straight-dark-bar seeds ``bars`` (None: off)."""
    det = model.detector()
    p = params or det.params
    f = model.ore.features(img)
    raw = model.ore.score(f)
    cols = model.ore.belt_columns(f, raw)
    raw[:, ~cols] = 0.0
    feats = f.stack()
    belt = np.broadcast_to(cols, raw.shape)
    sm, region, seed, obj = frame_maps(raw, feats, f.rgb, belt, p, det.cell_mm, model.objectness, bars)
    labels, n = ndi.label(region)
    return StageMaps(feats, raw, np.asarray(belt), seed, labels, n, sm, obj)


def cell_cover(scene: BeltScene, start_row: int, n_rows: int, obj: SceneObject, block: int) -> np.ndarray:
    """Share (n_rows // block, width // block) of each cell under ``obj``."""
    px = scene.object_cover(start_row, n_rows, [obj])
    h, w = px.shape[0] // block, px.shape[1] // block
    return px[: h * block, : w * block].reshape(h, block, w, block).mean(axis=(1, 3))


def object_cause(maps: StageMaps, cover: np.ndarray, obj: SceneObject, p: DetectorParams, cell_mm: float,
                 row0_mm: float, width_px: int, mm_per_px: float) -> str:
    """The :data:`CAUSES` entry of ``obj`` (cover (h, w) share per cell) on ``maps`` of a stretch starting at
    ``row0_mm`` along the belt."""
    foot = cover > 0.5
    if foot.sum() < 2:
        foot = cover > 0.2
    if not foot.any():
        return "belt mask"
    if maps.belt[foot].mean() < 0.5:
        return "belt mask"
    on = np.unique(maps.labels[foot & maps.seed])
    on = on[on > 0]
    if on.size == 0:
        lum = maps.feats[..., 2]
        dark = float(np.median(lum[foot])) < float(np.median(lum[maps.belt]))
        tone = "dark" if dark else "bright"
        return f"no seed, {tone}, thin" if obj.width_mm < THIN_MM else f"no seed, {tone}"
    stats = component_features(maps.labels, on.tolist(), maps.feats, maps.sm, cell_mm, core=maps.raw > p.threshold - p.grow_margin,
                               objectness=maps.objectness)
    area = np.bincount(maps.labels.ravel(), minlength=maps.n + 1)[on]
    centre_mm = np.column_stack([row0_mm + (stats.centre_cells[:, 0] + 0.5) * cell_mm,
                                 (stats.centre_cells[:, 1] + 0.5) * cell_mm - width_px * mm_per_px / 2.0])
    near = np.hypot(centre_mm[:, 0] - obj.belt_mm, centre_mm[:, 1] - obj.lateral_mm) <= obj.length_mm / 2 + MATCH_MARGIN_MM
    near &= area <= MERGE_AREA_RATIO * max(1, int(foot.sum()))
    if not near.any():
        return "seed merged into ore"
    passing = (area * cell_mm**2 >= p.min_area_mm2) & (stats.length_mm * p.length_scale >= p.min_length_mm)
    return "frame cut" if (passing & near).any() else "size gate"


def miss_causes(model: VisionModel, scene: BeltScene, img: np.ndarray, start_belt_m: float, missed: list[SceneObject],
                params: DetectorParams | None = None, bars: BarSeeds | None = None) -> list[str]:
    """The cause (:data:`CAUSES`) of each object of ``missed`` (no size-passing candidate in the streaming run) on
    the stretch ``img`` of ``scene`` that starts at ``start_belt_m`` (detector as :func:`stage_maps`)."""
    det = model.detector()
    p = params or det.params
    maps = stage_maps(model, img, p, bars)
    b = det.block
    start_row = int(round(start_belt_m * 1000.0 / model.mm_per_px))
    return [object_cause(maps, cell_cover(scene, start_row, img.shape[0], o, b), o, p, det.cell_mm, start_belt_m * 1000.0,
                         model.width_px, model.mm_per_px) for o in missed]


def missed_objects(found: list[Detection], truth: list[SceneObject], min_length_mm: float, target_mm: float = 50.0) -> list[SceneObject]:
    """Truth objects >= ``target_mm`` long with no candidate of ``found`` at least ``min_length_mm`` long on them
    (the matching of :func:`vision.frontier.candidate_scores`)."""
    pos = np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in found if d.length_mm >= min_length_mm]).reshape(-1, 2)
    out = []
    for o in truth:
        if o.length_mm < target_mm:
            continue
        near = np.hypot(pos[:, 0] - o.belt_mm, pos[:, 1] - o.lateral_mm) <= o.length_mm / 2 + MATCH_MARGIN_MM
        if not near.any():
            out.append(o)
    return out


__all__ = ["CAUSES", "MERGE_AREA_RATIO", "StageMaps", "THIN_MM", "cell_cover", "miss_causes", "missed_objects", "object_cause", "stage_maps"]
