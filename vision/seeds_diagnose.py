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

:func:`feature_loss` adds the measured length and area of the seeded region that matches the object (is the size
gate measuring a plank short, or is its region short?), and :func:`net_loss` the dense net's stage under the union
(:data:`NET_CAUSES`: its peak on the object below its level, its cells merged with a features' region, its own region
too small, or a frame cut); :func:`loss_details` gives both per object (``bench_vision_wood --causes``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from vision.classify import component_features
from vision.densenet import DenseSeeds, own_cells
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
NET_CAUSES = ("net below level", "net merged", "net too small", "net frame cut")


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


def _foot(cover: np.ndarray) -> np.ndarray:
    """The object's cells: over half covered (over a fifth when fewer than two are)."""
    foot = cover > 0.5
    return foot if foot.sum() >= 2 else cover > 0.2


def region_size(labels: np.ndarray, ids: list[int], maps: StageMaps, p: DetectorParams,
                cell_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(measured length mm, x ``p.length_scale`` as the gate sees it; area mm²; centre (n, 2) cells) of regions
    ``ids`` of ``labels``."""
    stats = component_features(labels, ids, maps.feats, maps.sm, cell_mm, core=maps.raw > p.threshold - p.grow_margin,
                               objectness=maps.objectness)
    area = np.bincount(labels.ravel(), minlength=int(labels.max()) + 1)[ids] * cell_mm**2
    return stats.length_mm * p.length_scale, area.astype(float), stats.centre_cells


def _centres_near(centre_cells: np.ndarray, obj: SceneObject, cell_mm: float, row0_mm: float, width_px: int,
                  mm_per_px: float) -> np.ndarray:
    """Whether each region centred at ``centre_cells`` (n, 2) lies within the match distance of ``obj``."""
    belt_mm = row0_mm + (centre_cells[:, 0] + 0.5) * cell_mm
    lat_mm = (centre_cells[:, 1] + 0.5) * cell_mm - width_px * mm_per_px / 2.0
    return np.hypot(belt_mm - obj.belt_mm, lat_mm - obj.lateral_mm) <= obj.length_mm / 2 + MATCH_MARGIN_MM


def _gate(length_mm: np.ndarray, area_mm2: np.ndarray, p: DetectorParams) -> np.ndarray:
    return (area_mm2 >= p.min_area_mm2) & (length_mm >= p.min_length_mm)


def feature_loss(maps: StageMaps, cover: np.ndarray, obj: SceneObject, p: DetectorParams, cell_mm: float,
                 row0_mm: float, width_px: int, mm_per_px: float) -> tuple[str, float, float]:
    """(the :data:`CAUSES` entry of ``obj``, the measured length mm and area mm² of the largest seeded region that
    matches it, NaN when none) on ``maps`` of a stretch starting at ``row0_mm`` along the belt; ``cover`` (h, w) its
    share per cell."""
    foot = _foot(cover)
    if not foot.any() or maps.belt[foot].mean() < 0.5:
        return "belt mask", np.nan, np.nan
    on = np.unique(maps.labels[foot & maps.seed])
    on = on[on > 0].tolist()
    if not on:
        lum = maps.feats[..., 2]
        tone = "dark" if float(np.median(lum[foot])) < float(np.median(lum[maps.belt])) else "bright"
        return (f"no seed, {tone}, thin" if obj.width_mm < THIN_MM else f"no seed, {tone}"), np.nan, np.nan
    length, area, centres = region_size(maps.labels, on, maps, p, cell_mm)
    near = _centres_near(centres, obj, cell_mm, row0_mm, width_px, mm_per_px)
    near &= area <= MERGE_AREA_RATIO * max(1, int(foot.sum())) * cell_mm**2
    if not near.any():
        return "seed merged into ore", np.nan, np.nan
    k = np.flatnonzero(near)[int(np.argmax(area[near]))]
    return ("frame cut" if (_gate(length, area, p) & near).any() else "size gate"), float(length[k]), float(area[k])


def object_cause(maps: StageMaps, cover: np.ndarray, obj: SceneObject, p: DetectorParams, cell_mm: float,
                 row0_mm: float, width_px: int, mm_per_px: float) -> str:
    """The :data:`CAUSES` entry of ``obj`` (cover (h, w) share per cell) on ``maps`` of a stretch starting at
    ``row0_mm`` along the belt (:func:`feature_loss`)."""
    return feature_loss(maps, cover, obj, p, cell_mm, row0_mm, width_px, mm_per_px)[0]


@dataclass
class NetLoss:
    """Why the dense net (the union's seeds) gives an object no size-passing candidate of its own: ``cause`` (one of
    :data:`NET_CAUSES`), its highest log-odds ``peak`` on the object's cells against its ``level``, and the measured
    length (mm, x length_scale) and area (mm²) of its largest own region on the object (NaN when none)."""

    cause: str
    peak: float
    level: float
    length_mm: float
    area_mm2: float


def net_loss(logit: np.ndarray, level: float, maps: StageMaps, cover: np.ndarray, p: DetectorParams, cell_mm: float) -> NetLoss:
    """The :class:`NetLoss` of an object (``cover`` (h, w) its share per cell) given the net's log-odds ``logit``
    (h, w) and ``level``, with the features' regions of ``maps``, as :meth:`vision.densenet.DenseSeeds.apply` makes
    the net's own regions under the union (cells at or above the level on the belt, APART_CELLS from every features'
    region): "net below level" (no cell of it reaches the level), "net merged" (its cells that do all lie next to a
    features' region, which judges them), "net too small" (its own region fails the size gate) or "net frame cut" (a
    size-passing own region on the whole stretch, none in the streaming run)."""
    foot = _foot(cover)
    peak = float(logit[foot].max()) if foot.any() else -np.inf
    if peak < level:
        return NetLoss("net below level", peak, level, np.nan, np.nan)
    alone = own_cells((logit >= level) & maps.belt, maps.labels > 0)  # as DenseSeeds.apply makes them
    own, _ = ndi.label(alone) if alone is not None else (None, 0)
    on = [] if own is None else [int(i) for i in np.unique(own[foot]) if i > 0]
    if own is None or not on:
        return NetLoss("net merged", peak, level, np.nan, np.nan)
    length, area, _ = region_size(own, on, maps, p, cell_mm)
    k = int(np.argmax(area))
    cause = "net frame cut" if _gate(length, area, p).any() else "net too small"
    return NetLoss(cause, peak, level, float(length[k]), float(area[k]))


def miss_causes(model: VisionModel, scene: BeltScene, img: np.ndarray, start_belt_m: float, missed: list[SceneObject],
                params: DetectorParams | None = None, bars: BarSeeds | None = None) -> list[str]:
    """The cause (:data:`CAUSES`) of each object of ``missed`` (no size-passing candidate in the streaming run) on
    the stretch ``img`` of ``scene`` that starts at ``start_belt_m`` (detector as :func:`stage_maps`)."""
    return [loss.cause for loss in loss_details(model, scene, img, start_belt_m, missed, params=params, bars=bars)]


@dataclass
class ObjectLoss:
    """Where an object without a size-passing candidate is lost: the features' stage (``cause``, :data:`CAUSES`)
    with the measured length (mm, x length_scale) and area (mm²) of the seeded region that matches it (NaN when
    none), and the dense net's (``net``; None without the net)."""

    cause: str
    length_mm: float
    area_mm2: float
    net: NetLoss | None


def loss_details(model: VisionModel, scene: BeltScene, img: np.ndarray, start_belt_m: float, missed: list[SceneObject],
                 seeds: DenseSeeds | None = None, params: DetectorParams | None = None,
                 bars: BarSeeds | None = None) -> list[ObjectLoss]:
    """The :class:`ObjectLoss` of each object of ``missed`` (no size-passing candidate in the streaming run) on the
    stretch ``img`` of ``scene`` from ``start_belt_m`` (detector as :func:`stage_maps`), with the dense net ``seeds``
    (the union's: its log-odds over the whole stretch)."""
    det = model.detector()
    p = params or det.params
    maps = stage_maps(model, img, p, bars)
    logit = seeds.logit_cells(maps.feats, maps.belt) if seeds is not None else None
    start_row = int(round(start_belt_m * 1000.0 / model.mm_per_px))
    out = []
    for o in missed:
        cover = cell_cover(scene, start_row, img.shape[0], o, det.block)
        cause, length, area = feature_loss(maps, cover, o, p, det.cell_mm, start_belt_m * 1000.0, model.width_px, model.mm_per_px)
        net = net_loss(logit, seeds.level, maps, cover, p, det.cell_mm) if seeds is not None and logit is not None else None
        out.append(ObjectLoss(cause, length, area, net))
    return out


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


__all__ = ["CAUSES", "MERGE_AREA_RATIO", "NET_CAUSES", "NetLoss", "ObjectLoss", "StageMaps", "THIN_MM", "cell_cover", "feature_loss",
           "loss_details", "miss_causes", "missed_objects", "net_loss", "object_cause", "region_size", "stage_maps"]
