"""Foreign-object detection on a stream of frames.

Per frame: cell features (:mod:`vision.features`) → anomaly score per cell from the
normal-ore model → box-smoothed score → threshold → connected components → size in mm,
kind with probability, thumbnail. Objects that run over a frame boundary are held back
and completed with the next frame, so each object is reported once. A frame whose belt
carries (almost) no ore is reported as *no material*, never as clean ore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from vision.appearance import frame_unusual_share, unusual_level
from vision.classify import COMPONENT_FEATURES, ComponentStats, KindClassifier, component_features
from vision.split import MIN_LUM_STD, MIN_PARENT_CELLS, merged_pieces
from vision.densenet import DenseSeeds
from vision.decision import LOAD_EDGE
from vision.decision_kind import CONDITIONS, FULL_BURDEN, PART_LOADED, SHIPPED_FULL_BURDEN, KindEvidence, evidence_for, kind_levels
from vision.decision_wood import shipped_wood
from vision.densenet_stream import DenseStream
from vision.errors import FrameError
from vision.exposure import ExposureNorm
from vision.kind_decision import NONE, reported_kinds
from vision.lump_judge import LumpJudge, judged_kinds
from vision.lump_judge import judge_for as lump_judge_for
from vision.station_settings import LUMP_JUDGE
from vision.features import FEATURES, CellFeatures
from vision.decision_groups import GroupJudge, group_inputs
from vision.decision_groups import judge_for as group_judge_for
from vision.fragments import SCREEN_ABOVE_SEED, ObjectGroups, any_full_burden, complete_groups, gap_cells, object_groups, object_like_components
from vision.filters import box_mean, box_means, edge_padded, gaussians
from vision.frames import Frame, check_image
from vision.model import NormalOreModel
from vision.objectness import ObjectnessModel, context_cells, objectness_features, to_cells
from vision.patchnet import patch_of
from vision.per_classifier import PerClassifier
from vision.kind_decision import LUMP, UNCERTAIN
from vision.matched import MatchedRegion, MatchedStream
from vision.pixelnet import PixelRegion, PixelStream
from vision.metal_bars import MetalBarStream
from vision.planks import PlankParams, PlankRegion, PlankStream
from vision.regime import judged_load, local_load, row_load, windowed
from vision.station_settings import FULL_BURDEN_JUDGE, GROUP_FRAGMENTS, KIND_EVIDENCE, LOCAL_LOAD, SPLIT_MERGED, WOOD_EVIDENCE, WOOD_JUDGE
from vision.station_settings import THIN_STICKS
from vision.sticks import STICK_MM_PER_PX, StickFinder, StickRegion, near_candidates
from vision.scene import ore_mask
from vision.wood_judge import WOOD, WoodJudge, judge_for
from vision.wood_judge import candidates as wood_candidates
from vision.wood_judge import reports as wood_reports
from vision.seeds_bars import BarSeeds, bar_seeds

THUMB_PX = 64
#: The larger ridge scale as a multiple of ``DetectorParams.ridge_sigma_cells``.
RIDGE_SCALE_RATIO = 2.5
SCORE_MAX = COMPONENT_FEATURES.index("score_max")
LUM_STD = COMPONENT_FEATURES.index("lum_std")
#: Belt load (share of ore-coloured belt over 4 m, :mod:`vision.regime`) from which dark-bar seeds fire: today's
#: patchwork of loaded and bare belt reaches 0.92 over 4 m, a full burden of ore 0.93-1.00.
DARK_RIDGE_MIN_LOAD = 0.95
#: Object log-odds given to cells off the belt (never seeds).
OFF_BELT_LOGODDS = -30.0


@dataclass(frozen=True)
class Detection:
    """One detected object. Positions: ``belt_m`` (odometer of its centre), ``lateral_m`` from the image centre line."""

    kind: str
    probability: float
    length_mm: float
    width_mm: float
    area_mm2: float
    belt_m: float
    lateral_m: float
    tonnage_mark_t: float
    time_s: float
    anomaly_score: float
    thumbnail: np.ndarray
    frame_id: int
    features: np.ndarray | None = None
    p_none: float = 0.0
    #: The belt's load around it (:mod:`vision.regime`) and the decision applied there (largest p(none) reported).
    #: With ``Detector.local_load`` on, the load it was judged at (:func:`vision.regime.judged_load`).
    load: float = float("nan")
    #: The whole belt's load around it (:func:`vision.regime.windowed`): ``load`` unless the local load lowered it.
    belt_load: float = float("nan")
    none_max: float = float("nan")
    #: Made by the dense net alone (its own region, :meth:`vision.densenet.DenseSeeds.apply`), not by the features.
    dense_own: bool = False
    #: Judged (kind, probability, p(none), decision) by ``Detector.dense_classifier``: the net's own, or with
    #: ``dense_union`` a features' candidate that ``Detector.classifier`` left unreported and the second reports, or
    #: one at full burden with ``Detector.full_burden_judge`` (the second alone judges it, reported or not).
    second_judge: bool = False
    #: A plank region's score (:mod:`vision.planks`, ``Detector.planks``): reported as wood by the plank evidence
    #: alone (NaN: a candidate of the features or the net). Its p(none) is 0 and its decision 1 when it reaches the
    #: plank level, -1 when not (shown with ``report_all`` only), so that p_none <= none_max says reported here too.
    plank_score: float = float("nan")
    #: A metal bar region's score (:mod:`vision.metal_bars`, ``Detector.metal_bars``): reported as metal by that
    #: evidence alone, p(none) and decision as ``plank_score``'s (NaN: not such a region).
    metal_score: float = float("nan")
    #: A matched-filter region's score (:mod:`vision.matched`, ``Detector.matched``): reported by that evidence alone
    #: as :data:`vision.kind_decision.UNCERTAIN` (NaN: not such a region).
    matched_score: float = float("nan")
    #: A pixel-net region's peak log-odds (:mod:`vision.pixelnet`, ``Detector.pixelnet``): reported by the net alone as
    #: :data:`vision.kind_decision.UNCERTAIN` (NaN: not such a region).
    pixelnet_score: float = float("nan")
    #: A thin stick's line score (:mod:`vision.sticks`, ``Detector.thin_sticks``): reported as wood by that evidence
    #: alone, p(none) and decision as ``plank_score``'s (NaN: not such a region).
    stick_score: float = float("nan")
    #: Its centre lies off the belt (``Detector.belt_width_m``): never reported as an object (shown with ``report_all``
    #: only, flagged here); the classifier's reports among them are counted in ``FrameResult.off_belt``.
    off_belt: bool = False
    #: A piece of a candidate merged with the belt around it, split by colour and judged by itself
    #: (``Detector.split_merged``, :mod:`vision.split`); its candidate was left unreported.
    piece: bool = False
    #: Components judged together as this one candidate (``Detector.group_fragments``, :mod:`vision.fragments`: the
    #: visible pieces of one partly buried object); 0: one component.
    fragments: int = 0


@dataclass
class FrameResult:
    """What one frame yielded: detections completed in it, the ore cover of its belt, whether it was inspected."""

    frame_id: int
    detections: list[Detection]
    material_fraction: float
    belt_fraction: float
    inspected: bool
    reason: str = ""
    #: how unusual the belt looks as a whole (:func:`vision.appearance.frame_unusual_share`; NaN: not measured)
    unusual_share: float = float("nan")
    #: candidates the classifier reported whose centre lay off the belt (``Detector.belt_width_m``), completed in this
    #: call (a flush's too): counted here, not reported as objects; the frame's inspection does not change with them
    off_belt: int = 0


@dataclass
class DetectorParams:
    """Tuning of the detector. A candidate is a region of smoothed score > ``threshold - grow_margin`` that
    contains a cell > ``threshold`` (hysteresis); it is reported when the classifier's p(none) is at most its
    ``none_max`` and it measures at least ``min_length_mm``. Measured lengths are multiplied by ``length_scale``
    (the bias of the moment estimate, calibrated on fit scenes). Areas in mm²; ``max_carry_m`` in m.

    The smoothed score is the box mean of the cell score over ``smooth_cells``. With ``fine_cells`` > 0 a cell whose
    box mean over the finer ``fine_cells`` exceeds ``fine_threshold`` is a seed too (and part of its region): thin
    objects that the wider box dilutes below ``threshold`` still become candidates. Likewise ``broad_cells`` /
    ``broad_threshold`` for large objects that are only mildly unusual everywhere, and, with ``ridge_sigma_cells`` > 0,
    cells on a bright bar (:func:`ridge_score` > ``ridge_threshold``): planks and rods whose colour passes for pale
    ore. All thresholds are the same quantile of the normal-belt value at their scale (calibrated on fit scenes).
    With a learned objectness map, cells whose box mean over ``objectness_cells`` exceeds ``objectness_threshold``
    are seeds and those above min(``objectness_threshold``, ``objectness_grow``) part of regions: objects whose
    cells are each ordinary but whose extent is not (grey concrete on grey rock, a thin plank).
    """

    threshold: float = 5.0
    grow_margin: float = 1.0
    smooth_cells: int = 5
    fine_cells: int = 0
    fine_threshold: float = np.inf
    broad_cells: int = 0
    broad_threshold: float = np.inf
    ridge_sigma_cells: float = 0.0
    ridge_threshold: float = np.inf
    #: Seeds on a dark bar (:func:`ridge_score` of the negated grey above it): wet planks, darker than the ore and
    #: a cell or two wide (inf: off; calibrated on fit scenes like ``ridge_threshold``). They fire only on rows whose
    #: belt load (:mod:`vision.regime`) is at least ``dark_ridge_min_load``: a full burden, not a patchwork of loaded
    #: and bare belt, whose bare gaps between ore tiles are dark bars too.
    dark_ridge_threshold: float = np.inf
    dark_ridge_min_load: float = DARK_RIDGE_MIN_LOAD
    #: Learned objectness (:mod:`vision.objectness`): box width (cells) of its smoothing, seed threshold on the
    #: smoothed log-odds (calibrated out of fold on normal belt), the level down to which its regions grow, and the
    #: larger of its context boxes (cells; 0 = no objectness).
    objectness_cells: int = 3
    objectness_threshold: float = np.inf
    objectness_grow: float = 0.0
    objectness_context_cells: int = 0
    min_area_mm2: float = 300.0
    min_length_mm: float = 40.0
    length_scale: float = 1.0
    min_material_fraction: float = 0.04
    min_belt_fraction: float = 0.3
    max_carry_m: float = 2.0


@dataclass
class _Carry:
    raw: np.ndarray
    feats: np.ndarray
    rgb: np.ndarray
    image: np.ndarray
    belt: np.ndarray
    start_belt_m: float
    start_mark_t: float
    start_time_s: float
    done: np.ndarray
    #: leading rows carried as context only: their maps (smoothed score, region, seed, objectness or None), computed in
    #: the frame before with the rows above them, replace the joined block's (whose first rows have nothing above)
    context: int = 0
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None = None


def with_features(found: list[Detection]) -> list[Detection]:
    """The detections of ``found`` that carry component features: the candidates a fit learns from and sets its levels
    on; an evidence's own detections (thin sticks, planks, the matched filter, the pixel net) carry none."""
    return [d for d in found if d.features is not None]


def ridge_score(lum: np.ndarray, sigmas_cells: tuple[float, ...]) -> np.ndarray:
    """Bright-ridge strength (h, w) float32 of the relative log grey ``lum`` (h, w) (cells): per Gaussian scale
    sigma (cells) the scale-normalised Hessian eigenvalues l1 <= l2 give sigma² x max(0, -l1 - |l2|) — large along
    a bright bar (a plank, a rod: strongly curved across, flat along), small on round rocks and flat ground;
    the maximum over the scales. The Hessian is taken by central differences of the Gaussian-smoothed grey
    (two filter passes per scale instead of six)."""
    out = np.zeros(lum.shape, np.float32)
    for s, smooth in zip(sigmas_cells, gaussians(lum, tuple(sigmas_cells), truncate=3.0)):
        g = edge_padded(smooth)
        c2 = 2 * g[1:-1, 1:-1]
        hyy = g[2:, 1:-1] + g[:-2, 1:-1]
        hyy -= c2
        hxx = g[1:-1, 2:] + g[1:-1, :-2]
        hxx -= c2
        hxy = g[2:, 2:] - g[2:, :-2]
        hxy -= g[:-2, 2:]
        hxy += g[:-2, :-2]
        hxy *= 0.25
        # -l1 - |l2| with l1,2 = tr/2 -+ d is min(-tr, 2d); in place, in the order of min(-(hxx + hyy), sqrt((hxx - hyy)² + 4 hxy hxy))
        r = hxx + hyy
        np.negative(r, out=r)
        d = hxx - hyy
        d *= d
        hxy4 = 4 * hxy
        hxy4 *= hxy
        d += hxy4
        np.sqrt(d, out=d)
        np.minimum(r, d, out=r)
        r *= np.float32(s * s)
        np.maximum(out, r, out=out)
    return out


def belt_ridge(lum: np.ndarray, p: DetectorParams, belt: np.ndarray | None = None) -> np.ndarray:
    """:func:`ridge_score` (h, w) float32 of the relative grey ``lum`` (h, w) over the belt cells (``belt`` (h, w)
    bool, default all; zero elsewhere), or zeros when ``p.ridge_sigma_cells`` is 0."""
    if p.ridge_sigma_cells <= 0:
        return np.zeros(lum.shape, np.float32)
    if belt is None:
        return ridge_score(lum, ridge_sigmas(p))
    # only the columns from one left of the first belt column to one right of the last: beyond them the input is 0, as
    # the filters' edge mode repeats it, so the maps there are the same numbers, and the cells left out are off the belt
    on = np.flatnonzero(belt.any(axis=0))
    out = np.zeros(lum.shape, np.float32)
    if not on.size:
        return out
    cols = slice(max(0, int(on[0]) - 1), int(on[-1]) + 2)
    part = belt[:, cols]
    out[:, cols] = ridge_score(np.where(part, lum[:, cols], np.float32(0.0)), ridge_sigmas(p))
    out[~belt] = 0.0
    return out


def candidate_maps(raw: np.ndarray, p: DetectorParams, lum: np.ndarray | None = None,
                   belt: np.ndarray | None = None, *, ridge: np.ndarray | None = None,
                   objectness: np.ndarray | None = None, load: np.ndarray | None = None,
                   bars: BarSeeds | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(smoothed score, region mask, seed mask), each (h, w), of the cell score ``raw`` (h, w) float32: the box mean
    over ``p.smooth_cells``; regions are cells above ``threshold - grow_margin``, seeds cells above ``threshold``,
    and cells whose box mean at the fine or broad scale (``fine_cells``, ``broad_cells`` > 0) exceeds that scale's
    threshold are both. With ``p.ridge_sigma_cells`` > 0 and ``lum`` (h, w) given, belt cells (``belt`` (h, w) bool,
    default all) whose :func:`ridge_score` exceeds ``p.ridge_threshold`` are both too (``ridge``: that map computed
    before, :func:`belt_ridge`). ``objectness`` (h, w): the learned object log-odds (off-belt cells very low), seeds
    and regions as :class:`DetectorParams` says. Dark-bar seeds need ``load`` (h,: the belt load of each row,
    :func:`vision.regime.load_at`) at or above ``p.dark_ridge_min_load`` (none without ``load``); so do the
    straight-dark-bar seeds of ``bars`` (:func:`vision.seeds_bars.bar_seeds`; None: off)."""
    boxes = [c for c in (p.smooth_cells, p.fine_cells, p.broad_cells) if c > 1]
    means = dict(zip(boxes, box_means(raw, tuple(boxes)))) if boxes else {}  # one transposed copy for every box
    sm = means.get(p.smooth_cells, raw)
    region = sm > p.threshold - p.grow_margin
    seed = sm > p.threshold
    for cells, thr in ((p.fine_cells, p.fine_threshold), (p.broad_cells, p.broad_threshold)):
        if cells > 0:
            extra = means.get(cells, raw) > thr
            region |= extra
            seed |= extra
    if p.ridge_sigma_cells > 0 and ridge is None and lum is not None:
        ridge = belt_ridge(lum, p, belt)
    if p.ridge_sigma_cells > 0 and ridge is not None:
        extra = ridge > p.ridge_threshold
        if belt is not None:
            extra &= belt
        region |= extra
        seed |= extra
    full = None if load is None else np.nan_to_num(np.asarray(load, float), nan=0.0) >= p.dark_ridge_min_load
    if p.ridge_sigma_cells > 0 and np.isfinite(p.dark_ridge_threshold) and lum is not None and full is not None and full.any():
        extra = (belt_ridge(-lum, p, belt) > p.dark_ridge_threshold) & full[:, None]
        region |= extra
        seed |= extra
    if bars is not None and lum is not None and full is not None and full.any():
        extra = bar_seeds(lum, np.ones(lum.shape, bool) if belt is None else np.asarray(belt), full, bars)
        region |= extra
        seed |= extra
    if objectness is not None and np.isfinite(p.objectness_threshold):
        osm = box_mean(objectness, p.objectness_cells) if p.objectness_cells > 1 else objectness
        seed |= osm > p.objectness_threshold
        region |= osm > min(p.objectness_threshold, p.objectness_grow)
    return sm, region, seed


def ridge_sigmas(p: DetectorParams) -> tuple[float, ...]:
    """The ridge scales (cells): ``ridge_sigma_cells`` and RIDGE_SCALE_RATIO times it."""
    return (p.ridge_sigma_cells, RIDGE_SCALE_RATIO * p.ridge_sigma_cells)


def cell_context(cells: np.ndarray, raw: np.ndarray, belt: np.ndarray, p: DetectorParams, cell_mm: float,
                 with_objectness: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(ridge (h, w) or None, objectness features (h, w, F) or None) of cell features ``cells`` (h, w, 5) and
    scores ``raw`` (h, w, zero off the belt) over ``belt`` (h, w) bool. The detector and the objectness fit
    compute their inputs here, so they are the same."""
    ridge = belt_ridge(cells[..., 2], p, belt) if p.ridge_sigma_cells > 0 else None
    if not with_objectness or raw.shape[0] == 0:
        return ridge, None
    x = objectness_features(cells, raw, np.zeros(raw.shape, np.float32) if ridge is None else ridge,
                            np.asarray(belt.any(axis=0)), context_cells(2.0 * cell_mm))
    return ridge, x


def object_logodds(objectness: ObjectnessModel, x: np.ndarray, belt: np.ndarray) -> np.ndarray:
    """The learned object log-odds (h, w) float32 per cell of objectness features ``x`` (F, h/2, w/2) (blocks of
    2 x 2 cells); OFF_BELT_LOGODDS off ``belt`` (h, w) bool."""
    z = to_cells(objectness.score(x), *belt.shape)
    z[~belt] = OFF_BELT_LOGODDS
    return z


def frame_maps(raw: np.ndarray, feats: np.ndarray, rgb: np.ndarray, belt: np.ndarray, p: DetectorParams, cell_mm: float,
               objectness: ObjectnessModel | None, bars: BarSeeds | None = None, *, row_loads: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(smoothed score, region mask, seed mask, objectness log-odds or None), each (h, w), of a frame's cell scores
    ``raw``, cell features ``feats`` (h, w, 5), mean colours ``rgb`` and ``belt`` (h, w) bool, as the detector makes
    them: the ridge and objectness context (:func:`cell_context`), the belt load where the dark-bar seeds or
    ``bars`` need it (:func:`vision.regime.load_at`), then :func:`candidate_maps`. The detector and the miss
    diagnosis (:mod:`vision.seeds_diagnose`) both call it, so they see the same maps. ``row_loads``: the rows' loads
    (:func:`vision.regime.row_load` of ``rgb`` and ``belt``) when the caller has them (computed here when needed)."""
    use = objectness is not None and bool(np.isfinite(p.objectness_threshold))
    ridge, x = cell_context(feats, raw, belt, p, cell_mm, use)
    obj = object_logodds(objectness, x, belt) if objectness is not None and x is not None else None
    need_load = bool(np.isfinite(p.dark_ridge_threshold)) or bars is not None
    if need_load:
        rows_load = windowed(row_load(rgb, belt) if row_loads is None else row_loads, np.arange(raw.shape[0]), cell_mm)
    else:
        rows_load = None
    sm, region, seed = candidate_maps(raw, p, feats[..., 2], belt, ridge=ridge, objectness=obj, load=rows_load, bars=bars)
    return sm, region, seed, obj


def _column_run(cols: np.ndarray) -> slice | np.ndarray:
    """The columns ``cols`` (w,) bool as a slice when they are one run (as belt detection gives), else as they are."""
    idx = np.flatnonzero(cols)
    return slice(int(idx[0]), int(idx[-1]) + 1) if idx.size and idx[-1] - idx[0] + 1 == idx.size else cols


class _Rows:
    """An image (rows, width, 3) held as consecutive pieces (the rows carried from the last frame, the frame's), joined
    only for the rows that are read."""

    def __init__(self, *parts: np.ndarray) -> None:
        self.parts = parts
        self.starts = np.cumsum([0] + [p.shape[0] for p in parts])

    def rows(self, start: int, stop: int | None = None) -> np.ndarray:
        """Rows ``start`` up to ``stop`` (clipped to the image, as a slice would be): a view of one piece or a copy."""
        stop = int(self.starts[-1]) if stop is None else min(stop, int(self.starts[-1]))
        pieces = [p[max(start - a, 0) : max(stop - a, 0)] for p, a in zip(self.parts, self.starts[:-1]) if a < stop and a + p.shape[0] > start]
        if len(pieces) == 1:
            return pieces[0]
        return np.concatenate(pieces) if pieces else self.parts[-1][:0]


def _join_carry(c: _Carry | None, raw: np.ndarray, feats: np.ndarray | CellFeatures, rgb: np.ndarray, img: np.ndarray,
                belt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, "_Rows", np.ndarray, np.ndarray]:
    """The carried rows ``c`` (or none) above a frame's maps: (raw, feats (h, w, 5), rgb, image rows, belt, done). The
    cell features (:class:`CellFeatures` or stacked) are stacked under the carried ones in one copy; the image is
    joined only where a thumbnail or the next carry reads it."""
    stacked = feats.stack(above=None if c is None else c.feats) if isinstance(feats, CellFeatures) else (
        feats if c is None else np.concatenate([c.feats, feats]))
    if c is None:
        return raw, stacked, rgb, _Rows(img), belt, np.zeros(raw.shape, bool)
    raw = np.concatenate([c.raw, raw])
    done = np.concatenate([c.done, np.zeros((raw.shape[0] - c.done.shape[0], raw.shape[1]), bool)])
    return raw, stacked, np.concatenate([c.rgb, rgb]), _Rows(c.image, img), np.concatenate([c.belt, belt]), done


def _pending(labels: np.ndarray, from_row: int, final: bool, max_rows: int) -> tuple[np.ndarray, int]:
    """Components (n,) bool of ``labels`` (h, w) that reach row ``from_row`` or later (not complete yet: held for the
    next frame; none when ``final``) and begin within ``max_rows`` of the end (a longer one is reported as it is), and
    the first row of any of them (h when none)."""
    pending = _pending_ids(labels, from_row, final, max_rows)
    return pending, _first_row(labels, pending, max_rows)


def _pending_ids(labels: np.ndarray, from_row: int, final: bool, max_rows: int) -> np.ndarray:
    """The components (n,) bool that :func:`_pending` holds back."""
    n, h = int(labels.max(initial=0)), labels.shape[0]
    pending = np.zeros(n, bool)
    if final or not n:
        return pending
    pending = np.bincount(labels[max(0, from_row):].ravel(), minlength=n + 1)[1:] > 0
    lo = max(0, h - max_rows)
    if lo and pending.any():  # those with a cell above row lo began too long ago: reported as they are
        pending &= np.bincount(labels[:lo].ravel(), minlength=n + 1)[1:] == 0
    return pending


def _first_row(labels: np.ndarray, which: np.ndarray, max_rows: int) -> int:
    """The first row (h when none) with a cell of the components ``which`` (n,) bool, all of which begin within
    ``max_rows`` of the end of ``labels`` (h, w)."""
    h = labels.shape[0]
    if not which.any():
        return h
    lo = max(0, h - max_rows)
    mark = np.zeros(which.size + 1, bool)
    mark[1:] = which
    return lo + int(np.argmax(mark[labels[lo:]].any(axis=1)))  # the first row with a cell of one of them


def _context_start(keep_from: int, guard: int, start_belt_m: float, cell_m: float) -> int:
    """The first row carried: ``guard`` rows above ``keep_from`` (the filters' reach, so that the next block's maps of
    the kept rows see the rows above them as one long image does), moved up to an even row of the belt (the objectness
    features are taken on blocks of 2 x 2 cells from the block's first row), not above row 0."""
    row = max(0, keep_from - guard)
    if row and (int(round(start_belt_m / cell_m)) + row) % 2:
        row -= 1
    return row


def _context_maps(c: _Carry | None, sm: np.ndarray, region: np.ndarray, seed: np.ndarray, obj: np.ndarray | None) -> None:
    """Put the carried context rows' maps of ``c`` (computed in the frame before, with the rows above them) over the
    joined block's first rows, in place."""
    if c is None or not c.context or c.maps is None:
        return
    k = c.context
    for out, kept in zip((sm, region, seed, obj), c.maps):
        if out is not None and kept is not None:
            out[:k] = kept


def _bounding_boxes(labels: np.ndarray, which: list[int], n: int) -> dict[int, tuple[slice, slice]]:
    """Bounding boxes (as ``ndi.find_objects`` gives them) of the components ``which`` (0-based) of ``labels`` (h, w)
    with ``n`` components: only these, from one pass over their cells."""
    if not which:
        return {}
    mark = np.zeros(n + 1, bool)
    mark[np.asarray(which) + 1] = True
    rows, cols = np.divmod(np.flatnonzero(mark[labels]), labels.shape[1])  # np.nonzero's, without its 2-D pass
    ids = labels[rows, cols]
    lo_r, lo_c = np.full(n + 1, labels.shape[0]), np.full(n + 1, labels.shape[1])
    hi_r, hi_c = np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64)
    np.minimum.at(lo_r, ids, rows)
    np.minimum.at(lo_c, ids, cols)
    np.maximum.at(hi_r, ids, rows)
    np.maximum.at(hi_c, ids, cols)
    return {i: (slice(int(lo_r[i + 1]), int(hi_r[i + 1]) + 1), slice(int(lo_c[i + 1]), int(hi_c[i + 1]) + 1)) for i in which}


def _on_reported(shown: list[Detection], belt_m: float, lateral_m: float, length_mm: float) -> bool:
    """Whether a reported detection of ``shown`` lies on a region of ``length_mm`` centred at (``belt_m``,
    ``lateral_m``): centres apart by at most half their lengths added, along and across the belt."""
    return any(d.p_none <= d.none_max and abs(d.belt_m - belt_m) <= (d.length_mm + length_mm) / 2000.0
               and abs(d.lateral_m - lateral_m) <= (d.length_mm + length_mm) / 2000.0 for d in shown)


def _near_lump(shown: list[Detection], belt_m: float, lateral_m: float, length_mm: float, margin_mm: float) -> bool:
    """Whether a detection of ``shown`` called a lump or uncertain lies within ``margin_mm`` of a region of
    ``length_mm`` centred at (``belt_m``, ``lateral_m``): centres apart by at most half their lengths added and the
    margin, along and across the belt."""
    return any(d.kind in (LUMP, UNCERTAIN) and abs(d.belt_m - belt_m) <= (d.length_mm + length_mm) / 2000.0 + margin_mm / 1000.0
               and abs(d.lateral_m - lateral_m) <= (d.length_mm + length_mm) / 2000.0 + margin_mm / 1000.0 for d in shown)


def _own_components(labels: np.ndarray, own: np.ndarray, n: int) -> np.ndarray:
    """(n,) bool: which of the ``n`` labelled components hold a cell of the net's own regions ``own``."""
    return np.bincount(labels[own], minlength=n + 1)[1:] > 0


def _group_stats(parts: list[ComponentStats]) -> ComponentStats:
    """The statistics of groups of components measured apart (each group's ring of ore its own: the hybrid measures
    the features' components as without the net's), one after the other."""
    if len(parts) == 1:
        return parts[0]
    return ComponentStats(*(np.concatenate([getattr(q, f) for q in parts]) for f in ("matrix", "length_mm", "width_mm", "centre_cells")))


def _pending_hybrid(labels: np.ndarray, own: np.ndarray, n: int, from_row: int, final: bool, max_rows: int) -> tuple[np.ndarray, int]:
    """:func:`_pending` of the features' components alone (the rows carried as with the net off), with the net's own
    components (those with a cell of ``own``) that reach ``from_row`` marked pending too but not carried for: left to
    the next block, which sees their rows from the features' carry on. (A component is the net's own or the features'
    whole: the net's own regions lie apart from the features'; so the ids, counts and rows are those of ``labels``.)"""
    pending = _pending_ids(labels, from_row, final, max_rows)
    return pending, _first_row(labels, pending & ~_own_components(labels, own, n), max_rows)


#: A block's maps for :meth:`Detector._fragment_detections`: cell features, smoothed score, core cells, objectness, the
#: dense net's map, the rows' loads, ore-coloured cells, image rows.
_BlockMaps = tuple[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None", "np.ndarray | None", np.ndarray, np.ndarray, "_Rows"]


def _joined_ore(rgb: np.ndarray, ore: np.ndarray | None, carry: _Carry | None) -> np.ndarray:
    """The ore-coloured cells (:func:`~vision.scene.ore_mask`) of the block joined to ``carry`` (``rgb`` its cells'
    colours): ``ore`` (the new frame's, where the caller has it) below the carried rows'."""
    if ore is None:
        return ore_mask(rgb)
    return ore if carry is None else np.concatenate([ore_mask(carry.rgb), ore])


def _evidence_by_condition(clf: KindClassifier) -> dict[str, tuple[KindEvidence, ...]]:
    """The shipped kind evidence set for ``clf`` (:data:`vision.decision_wood.SHIPPED_WOOD` and
    :data:`vision.decision_kind.SHIPPED_FULL_BURDEN`), by belt condition (every one of :data:`CONDITIONS`)."""
    found = evidence_for(clf, shipped_wood() + SHIPPED_FULL_BURDEN)
    return {c: tuple(ev for ev in found if ev.condition == c) for c in CONDITIONS}


class Detector:
    """Streaming detector for one camera. ``width_px`` and ``mm_per_px`` must match the model's scale.
    ``objectness``: the learned per-cell object score (:mod:`vision.objectness`), when the model has one.

    ``split_merged`` (with the union model, ``dense_union``): a features' candidate at a part-loaded load (< ``LOAD_EDGE``; NaN is not) that the decision leaves
    unreported and whose cells fall into two colour groups (one merged with the belt around it: a thin object touching
    a strip of bare belt on today's patchwork) is split into the connected pieces of each group, each judged as a
    candidate by the same classifiers and decisions and reported by itself (:mod:`vision.split`; ``Detection.piece``;
    the station's ``split_merged`` key; default :data:`vision.station_settings.SPLIT_MERGED`)."""

    #: Seeded components (any size) within :data:`vision.fragments.GAP_MM` of each other at full burden also judged
    #: together as one candidate, reported unless a reported detection lies on it (:mod:`vision.fragments`;
    #: ``Detection.fragments``; the station's ``group_fragments`` key; default :data:`vision.station_settings.GROUP_FRAGMENTS`;
    #: an instance's own value, set by the station or a benchmark, overrides it).
    group_fragments: bool = GROUP_FRAGMENTS
    #: Thin sticks on part-loaded belt seen at pixel scale also reported as wood, unless a reported detection of the
    #: frame lies on one (:mod:`vision.sticks`; ``Detection.stick_score``; the station's ``thin_sticks`` key; default
    #: :data:`vision.station_settings.THIN_STICKS`; at the scale its level was set for only, 4 mm/px).
    thin_sticks: bool = THIN_STICKS
    _sticks: StickFinder | None = None  # an instance's own, made at its first frame with thin_sticks on
    #: With ``dense_union`` on: a features' candidate at a part-loaded load left unreported is also reported as wood when
    #: the wood judge (:mod:`vision.wood_judge`, only for the second judge it was fitted for) reaches its level (the
    #: station's ``wood_judge`` key; default :data:`vision.station_settings.WOOD_JUDGE`; an instance's own value overrides it).
    wood_judge: bool = WOOD_JUDGE
    #: A reported candidate the kind rule calls a foreign kind is reported as uncertain instead when the lump judge
    #: (:mod:`vision.lump_judge`, only for the classifiers it was fitted for) reaches its level; never as lump (the
    #: station's ``lump_judge`` key; default :data:`vision.station_settings.LUMP_JUDGE`; an instance's own value overrides it).
    #: It does not judge thin sticks (they have no component features; :meth:`_stick_detections`).
    lump_judge: bool = LUMP_JUDGE

    def __init__(self, model: NormalOreModel, classifier: KindClassifier | None, params: DetectorParams | None = None, *, width_px: int = 2048,
                 objectness: ObjectnessModel | None = None) -> None:
        self.model = model
        self.classifier = classifier
        self.objectness = objectness
        self.params = params or DetectorParams()
        self.width_px = int(width_px)
        self.block = model.block_px
        self.cell_mm = self.block * model.mm_per_px
        #: cell score above which 1 % of the fitted density lies (the appearance measure's level)
        self.unusual_level = unusual_level(model)
        #: Report every candidate, also those the classifier calls "none" (for training and diagnostics).
        self.report_all = False
        #: Seeds on straight dark bars (:mod:`vision.seeds_bars`), switched on at run time (None: off, as in every
        #: fitted model).
        self.bar_seeds: BarSeeds | None = None
        #: Seeds and regions from the dense learned detector (:class:`vision.densenet.DenseSeeds`), switched on at run
        #: time (None: off, as in every fitted model; docs/vision.md "Dense learned detector").
        self.dense_seeds: DenseSeeds | None = None
        self._dense: DenseStream | None = None  # the net over the stream of blocks (while dense_seeds is on)
        #: With ``dense_seeds`` on, a second classifier (fitted with the DENSE_FEATURE column) that alone judges the
        #: net's own components, with its own decision (:meth:`KindClassifier.levels`); the features' components are
        #: then judged by ``classifier`` exactly as with the net off (the net seeds none of their regions). None: every
        #: component is judged by ``classifier`` (docs/vision.md, "Hybrid: the net's own candidates, their own classifier").
        self.dense_classifier: KindClassifier | None = None
        #: With ``dense_classifier`` set: it also judges the features' components, and a component is reported when
        #: ``classifier`` or it reports it (what ``classifier`` reports stays exactly as without it; docs/vision.md,
        #: "Union: either classifier reports"). False: the net's own components only.
        self.dense_union = False
        #: Plank evidence at pixel scale (:class:`vision.planks.PlankStream`), switched on at run time (None: off, as in
        #: every fitted model): its regions at its level are reported as wood by themselves, unless an object reported
        #: in the same frame lies on them; nothing the union reports changes (docs/vision.md "Pixel-scale plank evidence").
        self.planks: PlankStream | None = None
        #: Metal bar evidence (:class:`vision.metal_bars.MetalBarStream`: the plank evidence on 4 mm cells), switched on
        #: at run time (None: off): its regions at its level on a full burden are reported as metal, unless an object
        #: reported in the same frame lies on them (docs/vision-experiments.md "Metal bars on the realistic belt").
        self.metal_bars: MetalBarStream | None = None
        #: Colour-contrast matched filter (:class:`vision.matched.MatchedStream`), switched on at run time (None: off):
        #: its regions at its level are reported as uncertain objects, unless an object reported in the same frame lies
        #: on them; nothing the union reports changes (docs/vision.md "Colour-contrast matched filter").
        self.matched: MatchedStream | None = None
        #: Pixel net (:class:`vision.pixelnet.PixelStream`), switched on at run time (None: off), as ``matched``: its
        #: regions at its level are reported as uncertain objects unless a reported object lies on them (docs/vision.md
        #: "Pixel net").
        self.pixelnet: PixelStream | None = None
        #: The belt's width (m), centred on the image's centre line, where the line knows it (the station's
        #: ``belt_width_m``; the simulated camera's belt): a candidate centred beyond its edge lies on the spillage or
        #: the frame beside the belt and is not reported as an object, only counted (``off_belt_seen``,
        #: ``FrameResult.off_belt``; docs/vision.md "Candidates off the belt"). None: not known, every candidate as on
        #: the belt (as before).
        self.belt_width_m: float | None = None
        #: Reported candidates centred off the belt so far (not reported as objects).
        self.off_belt_seen = 0
        #: Run-time exposure normalisation (:class:`vision.exposure.ExposureNorm`; None: off): each frame darkened by
        #: ``min(1, ref / m)``, ``m`` the ore's median grey over a running stretch of belt, before anything else
        #: (docs/vision.md "Exposure normalisation"); kept over a reset (the camera's exposure, not the belt's).
        self.exposure: ExposureNorm | None = None
        #: Judge each candidate at the lower of the whole belt's load and the ore's share in its neighbourhood
        #: (:func:`vision.regime.local_load`: every cell in view over 4 m along and +-LOCAL_LOAD_HALF_MM across), so a
        #: candidate beside the bare strip at the belt's side falls under the part-loaded decision (docs/vision.md
        #: "Local load"; the station's ``local_load`` key; default :data:`vision.station_settings.LOCAL_LOAD`). False:
        #: the whole belt's load (as before).
        self.local_load = LOCAL_LOAD
        #: With ``dense_union`` on: a features' candidate judged at a full burden's load (>= ``LOAD_EDGE``; NaN is not)
        #: is judged by ``dense_classifier`` alone, not first by ``classifier`` (docs/vision-experiments.md "The base
        #: classifier only on part-loaded belt"; the station's ``full_burden_judge`` key; default
        #: :data:`vision.station_settings.FULL_BURDEN_JUDGE`). False: both judge it, either reports (the union).
        self.full_burden_judge = FULL_BURDEN_JUDGE
        #: With ``dense_union`` on: a features' candidate at a part-loaded load that the second judge judges after
        #: ``classifier`` is also reported on the judge's odds of wood against "none" (:mod:`vision.decision_wood`;
        #: only for the judge its level was set for; the station's ``wood_evidence`` key; default
        #: :data:`vision.station_settings.WOOD_EVIDENCE`).
        self.wood_evidence = WOOD_EVIDENCE
        #: With ``dense_union`` on: a candidate at full burden that the second judge judges alone is also reported on its
        #: odds of a kind against "none" (:mod:`vision.decision_kind`; only for the judge its levels were set for; the
        #: station's ``kind_evidence`` key; default :data:`vision.station_settings.KIND_EVIDENCE`).
        self.kind_evidence = KIND_EVIDENCE
        self.split_merged = SPLIT_MERGED  # unreported candidates merged with the belt split by colour (see the class)
        self._shipped = PerClassifier()  # the shipped artefacts (wood, group, lump judges, kind evidence) per classifier
        self.reset()

    def reset(self) -> None:
        """Forget carried rows (after a gap in the belt)."""
        self._carry: _Carry | None = None
        self._left: np.ndarray | None = None
        self._belt_cols: np.ndarray | None = None
        self._last_ref: float | None = None  # the last frame's last band median grey (its lum reference)
        if self._dense is not None:
            self._dense.reset()
        if self.planks is not None:
            self.planks.reset()
        if self.matched is not None:
            self.matched.reset()
        if self.metal_bars is not None:
            self.metal_bars.reset()
        if self.pixelnet is not None:
            self.pixelnet.reset()
        if self._sticks is not None:
            self._sticks.reset()
        #: (belt row of its first row, component labels, which labels are candidates) of the last block, thin sticks on
        self._candidate_cells: tuple[int, np.ndarray, np.ndarray] | None = None
        self._plank_ref: tuple[float, float, Frame | None] = (0.0, 0.0, None)

    def _expected_belt_m(self) -> float | None:
        if self._carry is None:
            return None
        rows = self._carry.raw.shape[0] * self.block + (0 if self._left is None else self._left.shape[0])
        return self._carry.start_belt_m + rows * self.model.mm_per_px / 1000.0

    def process(self, frame: Frame) -> FrameResult:
        """Detect objects in ``frame``; returns the objects completed so far, with how many candidates completed here lay
        off the belt (``FrameResult.off_belt``). Raises FrameError on a bad frame."""
        seen = self.off_belt_seen
        if self.exposure is not None:  # a bad frame refused before it is measured
            check_image(frame.image, self.width_px)
            frame = self.exposure.apply(frame)
        result = self._process(frame)
        result.off_belt = self.off_belt_seen - seen
        return result

    def off_belt(self, lateral_m: float) -> bool:
        """Whether a candidate centred ``lateral_m`` from the image's centre line lies off the belt (beyond half of
        ``belt_width_m`` from it); never when ``belt_width_m`` is None."""
        return self.belt_width_m is not None and abs(lateral_m) > self.belt_width_m / 2.0

    def _lateral_m(self, col_c: float) -> float:
        """Metres from the image's centre line of the centre of cell column ``col_c`` (fractional: a centroid)."""
        return ((col_c + 0.5) * self.block - self.width_px / 2.0) * self.model.mm_per_px / 1000.0

    def _dropped_off_belt(self, col_c: float, reported: bool) -> bool:
        """Whether a candidate centred at cell column ``col_c`` lies off the belt (:meth:`off_belt`), counted in
        ``off_belt_seen`` when the classifier ``reported`` it, is left out (not with ``report_all``: shown, flagged)."""
        off = self.off_belt(self._lateral_m(col_c))
        self.off_belt_seen += off and reported
        return off and not self.report_all

    def _process(self, frame: Frame) -> FrameResult:
        img = check_image(frame.image, self.width_px)
        if abs(frame.mm_per_px - self.model.mm_per_px) > 1e-9:
            raise FrameError(f"expected frames at {self.model.mm_per_px} mm/px, got {frame.mm_per_px}")
        expected = self._expected_belt_m()
        out: list[Detection] = []
        if expected is not None and abs(frame.start_belt_m - expected) > self.cell_mm / 1000.0:
            out += self.flush()  # gap or overlap in the belt: finish what we have, start afresh
        if self._left is not None:
            img = np.concatenate([self._left, img])
            start_belt_m = frame.start_belt_m - self._left.shape[0] * self.model.mm_per_px / 1000.0
        else:
            start_belt_m = frame.start_belt_m
        n = img.shape[0] // self.block
        self._left = img[n * self.block :] if img.shape[0] % self.block else None
        if n == 0:
            return FrameResult(frame.frame_id, out, 0.0, 0.0, False, "frame too short")
        img = img[: n * self.block]
        prev_cols = self._belt_cols
        ref_start = self._last_ref if self._carry is not None else None
        feats = self.model.features(img, ref_start=ref_start)
        raw = self.model.score(feats)
        cols = self.model.belt_columns(feats, raw)
        if cols.mean() < self.params.min_belt_fraction and prev_cols is not None and n < 16:
            if self.model.belt_test == "chroma":  # the score test's features do not depend on the columns
                feats = self.model.features(img, prev_cols, ref_start)
                raw = self.model.score(feats)
            cols = prev_cols
        self._belt_cols = cols
        self._last_ref = feats.last_ref
        belt_fraction = float(cols.mean())
        unusual = frame_unusual_share(raw, cols, self.unusual_level, self.params.min_belt_fraction)
        raw[:, ~cols] = 0.0
        ore = ore_mask(feats.rgb)  # the cells that look like ore: the material share and the rows' belt load
        material = self._material(feats, raw, cols, ore)
        mark0 = frame.start_mark_t - (frame.start_belt_m - start_belt_m) * frame.t_per_m
        belt = np.broadcast_to(cols, raw.shape)
        out += self._components(raw, feats, feats.rgb, img, belt, start_belt_m, mark0, frame, final=False, ore=ore)
        if self.planks is not None:
            found = self.planks.push(feats.rgb, belt, self._stream_row(start_belt_m))
            self._plank_ref = (start_belt_m, mark0, frame)  # the odometer, mark and clock of the regions left at a flush
            out += self._plank_detections(found, out, _Rows(img), start_belt_m, mark0, frame)
        if self.metal_bars is not None:
            self._plank_ref = (start_belt_m, mark0, frame)
            found = self.metal_bars.push_frame(img, np.repeat(cols, self.block), int(round(start_belt_m * 1000.0 / self.model.mm_per_px)), material)
            out += self._plank_detections(self.metal_bars.in_cells(found, self.cell_mm), out, _Rows(img), start_belt_m, mark0, frame,
                                          self.metal_bars.params, "metal", "metal_score")
        if self.matched is not None:
            self._plank_ref = (start_belt_m, mark0, frame)
            out += self._matched_detections(self.matched.push(feats.rgb, belt, self._stream_row(start_belt_m)), out, start_belt_m, mark0, frame)
        if self.pixelnet is not None:
            self._plank_ref = (start_belt_m, mark0, frame)
            pn = self.pixelnet.push(img, feats, cols, self._stream_row(start_belt_m))
            out += self._matched_detections(pn, out, start_belt_m, mark0, frame, "pixelnet_score")
        if self.thin_sticks and abs(self.model.mm_per_px - STICK_MM_PER_PX) < 1e-9:
            out += self._stick_detections(img, feats.g, cols, ore, material if self.model.belt_test == "chroma" else None, out,
                                          start_belt_m, mark0, frame)
        if belt_fraction < self.params.min_belt_fraction:
            return FrameResult(frame.frame_id, out, material, belt_fraction, False, "belt not found in image", unusual)
        if material < self.params.min_material_fraction:
            return FrameResult(frame.frame_id, out, material, belt_fraction, False, "no material", unusual)
        return FrameResult(frame.frame_id, out, material, belt_fraction, True, "", unusual)

    def _material(self, feats, raw: np.ndarray, cols: np.ndarray, ore: np.ndarray) -> float:
        """Share of the belt's cells that show cargo: ore-coloured cells (chroma test; ``ore``: ``ore_mask`` of the
        cells' colours) or, for a cargo found by its score, cells that score as the fitted ore (below the candidate
        threshold)."""
        if not cols.any():
            return 0.0
        on = _column_run(cols)  # the belt is one run of columns: a slice, no copy
        if self.model.belt_test == "score":
            return float((raw[:, on] < self.params.threshold).mean())
        return float(ore[:, on].mean())

    def flush(self) -> list[Detection]:
        """Report objects still held back (end of lot, gap in the belt) and reset."""
        out: list[Detection] = []
        if self._carry is not None and self._carry.raw.shape[0]:
            c = self._carry
            self._carry = None
            out = self._components(np.empty((0, c.raw.shape[1]), np.float32), np.empty((0,) + c.feats.shape[1:], np.float32),
                                   np.empty((0,) + c.rgb.shape[1:], np.float32), np.empty((0,) + c.image.shape[1:], np.uint8),
                                   np.empty((0, c.raw.shape[1]), bool), c.start_belt_m, c.start_mark_t, None, final=True, carry=c)
        if self.planks is not None:
            out += self._plank_detections(self.planks.flush(), out, None, *self._plank_ref)
        if self.metal_bars is not None:
            out += self._plank_detections(self.metal_bars.in_cells(self.metal_bars.flush(), self.cell_mm), out, None, *self._plank_ref,
                                          self.metal_bars.params, "metal", "metal_score")
        if self.matched is not None:
            out += self._matched_detections(self.matched.flush(), out, *self._plank_ref)
        if self.pixelnet is not None:
            out += self._matched_detections(self.pixelnet.flush(), out, *self._plank_ref, "pixelnet_score")
        self.reset()
        return out

    def _stick_detections(self, img: np.ndarray, green: np.ndarray, cols: np.ndarray, ore: np.ndarray, share: float | None,
                          shown: list[Detection], start_belt_m: float, mark0: float, frame: Frame) -> list[Detection]:
        """Detections of the thin sticks (:class:`vision.sticks.StickFinder`) of the block ``img`` (its cells' green
        chromaticity ``green``, belt columns ``cols``, ore cells ``ore``, the belt's ore share ``share`` or None) that
        its params report (stick-like: :meth:`vision.sticks.StickRegion.reported`), except those on a reported detection
        of ``shown``: as wood, or as :data:`vision.kind_decision.UNCERTAIN` (a warning and a targeted increment, not
        contamination) when on or within the params' ``candidate_margin_mm`` of a candidate of the last block (reported or
        not: ``_candidate_cells``) or of a detection called a lump or uncertain (:func:`_near_lump`): an ore lump's
        side-lit face shows such lines too. The lump judge does not judge sticks (lump58: making every stick uncertain
        with it on, as lump57 did, cost real wood found by a stick alone its contaminating kind; docs/vision-experiments.md
        "lump57", "lump58")."""
        if self._sticks is None:
            self._sticks = StickFinder(self.model.mm_per_px, self.block)
        row0, params, out = self._stream_row(start_belt_m), self._sticks.params, []
        found = [s for s in self._sticks.find(img, green, cols, ore, row0, ore_share=share) if s.reported(params)]
        near = np.zeros(len(found), bool)
        if found and self._candidate_cells is not None:  # on or near an 8 mm candidate of the block, reported or not
            first, labels, candidate = self._candidate_cells
            near = near_candidates(found, candidate[labels], row0 - first, self.cell_mm, params.candidate_margin_mm)
        for s, by_candidate in zip(found, near):
            lateral_m = self._region_lateral_m(s)
            belt_m = (row0 + s.row + 0.5) * self.cell_mm / 1000.0
            if _on_reported(shown, belt_m, lateral_m, s.length_mm) or self._region_off_belt(s, True):
                continue
            doubtful = by_candidate or _near_lump(shown, belt_m, lateral_m, s.length_mm, params.candidate_margin_mm)
            rc, cc, half = int(round(s.row)), int(s.col), max(2, int(s.length_mm / self.cell_mm / 2))
            thumb = self._thumbnail(_Rows(img), (slice(max(0, rc - half), rc + half), slice(max(0, cc - half), cc + half)))
            out.append(self._region_detection(UNCERTAIN if doubtful else "wood", s, row0, thumb, start_belt_m, mark0, frame,
                                              none_max=1.0, off_belt=self.off_belt(lateral_m), stick_score=s.score))
        return out

    def _region_detection(self, kind: str, r: PlankRegion | MatchedRegion | PixelRegion | StickRegion, row0: float, thumb: np.ndarray, start_belt_m: float,
                          mark0: float, frame: Frame | None, **fields: Any) -> Detection:
        """The detection of an evidence's region ``r`` (its cells from belt row ``row0`` of its block) as ``kind``,
        placed on the odometer from ``start_belt_m`` (tonnage mark ``mark0``) and ``frame``'s clock; ``fields``: the
        evidence's own (its score, ``none_max``)."""
        belt_m = (row0 + r.row + 0.5) * self.cell_mm / 1000.0
        speed = frame.belt_speed_m_s if frame is not None else 0.0
        return Detection(
            kind=kind, probability=1.0, length_mm=r.length_mm, width_mm=r.width_mm, area_mm2=r.length_mm * r.width_mm,
            belt_m=belt_m, lateral_m=self._region_lateral_m(r),
            tonnage_mark_t=mark0 + (belt_m - start_belt_m) * (frame.t_per_m if frame is not None else 0.0),
            time_s=(frame.time_s + (belt_m - frame.start_belt_m) / speed) if frame is not None and speed > 0 else 0.0,
            anomaly_score=r.score, thumbnail=thumb, frame_id=frame.frame_id if frame is not None else -1, load=r.load,
            **fields)

    def _region_lateral_m(self, r: PlankRegion | MatchedRegion | PixelRegion | StickRegion) -> float:
        return ((r.col + 0.5) * self.block - self.width_px / 2.0) * self.model.mm_per_px / 1000.0

    def _plank_detections(self, found: Sequence[tuple[PlankRegion, float]], shown: list[Detection], img: "_Rows | None",
                          start_belt_m: float, mark0: float, frame: Frame | None, params: PlankParams | None = None,
                          kind: str = "wood", score: str = "plank_score") -> list[Detection]:
        """Detections of kind ``kind`` of the plank regions ``found`` (region, belt row of its block; in the detector's
        cells) that ``params`` (default ``planks``'s) reports (all with ``report_all``), except those on a detection of
        ``shown`` that is reported; the image rows ``img`` start at odometer ``start_belt_m`` (tonnage mark ``mark0``;
        None: no thumbnail); the region's score goes to the detection's field ``score``."""
        if params is None:
            assert self.planks is not None
            params = self.planks.params
        cell_m, out = self.cell_mm / 1000.0, []
        for r, row0 in found:
            belt_m = (row0 + r.row + 0.5) * cell_m
            reported = r.reported(params)
            if not (reported or self.report_all) or _on_reported(shown, belt_m, self._region_lateral_m(r), r.length_mm):
                continue
            if self._region_off_belt(r, reported):
                continue
            rc, cc = int(round((belt_m - start_belt_m) / cell_m)), int(r.col)
            half = max(2, int(r.length_mm / self.cell_mm / 2))
            thumb = self._thumbnail(img, (slice(rc - half, rc + half), slice(max(0, cc - half), cc + half))) if img is not None and rc >= 0 else np.zeros((THUMB_PX, THUMB_PX, 3), np.uint8)
            out.append(self._region_detection(kind, r, row0, thumb, start_belt_m, mark0, frame,
                                              none_max=1.0 if reported else -1.0, off_belt=self.off_belt(self._region_lateral_m(r)),
                                              **{score: r.score}))
        return out

    def _matched_detections(self, found: Sequence[tuple[MatchedRegion | PixelRegion, int]], shown: list[Detection], start_belt_m: float,
                            mark0: float, frame: Frame | None, score: str = "matched_score") -> list[Detection]:
        """Uncertain-object detections of the matched-filter (or pixel-net) regions ``found`` (region, belt row of its
        block), except those on a reported detection of ``shown`` (no thumbnail: the region's rows may lie in an earlier
        frame); the region's score goes to the detection's field ``score``."""
        out = []
        for r, row0 in found:
            belt_m = (row0 + r.row + 0.5) * self.cell_mm / 1000.0
            if _on_reported(shown, belt_m, self._region_lateral_m(r), r.length_mm) or self._region_off_belt(r, True):
                continue
            out.append(self._region_detection(UNCERTAIN, r, row0, np.zeros((THUMB_PX, THUMB_PX, 3), np.uint8), start_belt_m,
                                              mark0, frame, none_max=1.0, off_belt=self.off_belt(self._region_lateral_m(r)),
                                              **{score: r.score}))
        return out

    def _region_off_belt(self, r: PlankRegion | MatchedRegion | PixelRegion | StickRegion, reported: bool) -> bool:
        """Whether an evidence's region ``r`` centred off the belt (:meth:`off_belt`) is left out, as a candidate is
        (:meth:`_dropped_off_belt`): counted in ``off_belt_seen`` when ``reported``; shown, flagged, with ``report_all``."""
        off = self.off_belt(self._region_lateral_m(r))
        self.off_belt_seen += off and reported
        return off and not self.report_all

    def _components(self, raw, feats, rgb, img, belt, start_belt_m, mark0, frame: Frame | None, *, final: bool, carry: _Carry | None = None,
                    ore: np.ndarray | None = None) -> list[Detection]:
        p = self.params
        c = self._carry if carry is None else carry
        t_per_m, time0, speed = (frame.t_per_m, frame.time_s, frame.belt_speed_m_s) if frame is not None else (0.0, 0.0, 0.0)
        raw, feats, rgb, img, belt, done = _join_carry(c, raw, feats, rgb, img, belt)
        if c is not None:
            start_belt_m, mark0, time0 = c.start_belt_m, c.start_mark_t, c.start_time_s
        h = raw.shape[0]
        grow = p.threshold - p.grow_margin
        obj = dense = own = None
        # hybrid: the features' blocks, maps and components exactly as with the net off; the net's own regions added
        # after the carried context (apart from the features' regions as carried), decided on the features' guard
        hybrid = self.dense_classifier is not None and self.dense_seeds is not None
        if h:
            loads = row_load(rgb, belt, joined_ore := _joined_ore(rgb, ore, c))  # dark bars, decision
            sm, region, seed, obj = frame_maps(raw, feats, rgb, belt, p, self.cell_mm, self.objectness, self.bar_seeds, row_loads=loads)
            if self.dense_seeds is not None and not hybrid:
                dense, own = self._dense_regions(self.dense_seeds, feats, belt, start_belt_m, region, seed)
            _context_maps(c, sm, region, seed, obj)
            if self.dense_seeds is not None and hybrid:
                dense, own = self._dense_regions(self.dense_seeds, feats, belt, start_belt_m, region, seed)
            labels, n = ndi.label(region)
        else:
            sm, seed, labels, n = raw, np.zeros(raw.shape, bool), np.zeros(raw.shape, np.int32), 0
        guard = self._guard_cells(features_only=hybrid)
        max_carry = int(p.max_carry_m * 1000.0 / self.cell_mm)
        keep_from = h if final else max(0, h - guard)
        detections: list[Detection] = []
        cell_m = self.cell_mm / 1000.0
        place = (start_belt_m, mark0, time0, t_per_m, speed, frame)  # the block's first row, as _emit places detections
        self._candidate_cells = None
        if n:
            area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
            seeded = np.bincount(labels[seed], minlength=n + 1)[1:] > 0
            pending, first = (_pending_hybrid(labels, own, n, h - guard, final, max_carry) if hybrid and own is not None
                              else _pending(labels, h - guard, final, max_carry))  # unseeded too: a seed may come below
            keep_from = min(keep_from, first)
            min_cells = p.min_area_mm2 / (self.cell_mm**2)
            seen = np.bincount(labels[done], minlength=n + 1)[1:] > 0
            if self.thin_sticks:  # every candidate of the block, reported, pending or not: no thin stick on or near one
                self._candidate_cells = (self._stream_row(start_belt_m), labels, np.r_[False, seeded & (area >= min_cells)])
            chosen = np.flatnonzero(seeded & ~pending & ~seen & (area >= min_cells)).tolist()
            if chosen:
                own_ids = _own_components(labels, own, n) if own is not None else np.zeros(n, bool)
                groups = [[i for i in chosen if not own_ids[i]], [i for i in chosen if own_ids[i]]] if hybrid else [chosen]
                chosen = [i for g in groups for i in g]  # hybrid: the features' components first, their order kept
                core = raw > grow
                stats = _group_stats([component_features(labels, [i + 1 for i in g], feats, sm, self.cell_mm, core=core,
                                                         objectness=obj, dense=dense) for g in groups if g])
                length_mm = stats.length_mm * p.length_scale
                belt_load, load = self._loads_at(loads, joined_ore, stats.centre_cells)
                own_rows = own_ids[chosen]
                kinds, probs, p_none, none_max, report, second = self._judge(stats.matrix, load, length_mm, own_rows,
                                                                     lambda ix: self._patches(img, labels, [chosen[r] for r in ix], n))
                verdict = (kinds, probs, p_none, none_max, report, second)
                slices = _bounding_boxes(labels, [i for j, i in enumerate(chosen) if report[j] or self.report_all], n)
                detections += self._emit(chosen, stats, verdict, length_mm, (load, belt_load), own_rows, area[chosen], slices, img, place)
                if self.split_merged and self.dense_union and self.dense_classifier is not None:  # the union, where it was measured
                    ids = np.asarray(chosen)
                    # unreported features' candidates at a part-loaded load (NaN is not: the patchwork's strips), large enough
                    parents = ids[(~report | self._wood_added) & ~own_rows & (np.asarray(load, float) < LOAD_EDGE) & (area[ids] >= MIN_PARENT_CELLS)
                                  & (stats.matrix[:, LUM_STD] >= MIN_LUM_STD)]
                    if parents.size:
                        detections += self._piece_detections(labels, n, parents, (feats, sm, core, obj, dense), (loads, joined_ore), img, place)
            finished = np.zeros(n + 1, bool)
            finished[1:] = ~pending
            done |= finished[labels]  # every finished component, reported or not: never again as a piece
        # hold back the tail (guard rows and unfinished objects), with guard rows of context above it, for the next frame
        from_row = _context_start(keep_from, self._guard_cells(context=True), start_belt_m, cell_m)
        maps = (sm, (labels > 0) & ~own, seed & ~own, obj) if h and own is not None and hybrid else (sm, labels > 0, seed, obj) if h else None
        self._carry = self._tail(raw, feats, rgb, img, belt, done, from_row, start_belt_m, mark0, time0, t_per_m, speed,
                                 keep_from - from_row, maps)
        if self._dense is not None and self.dense_seeds is not None:
            self._dense.trim(self._stream_row(start_belt_m) + (h if self._carry is None else from_row))
        if self.group_fragments and n:  # the partly buried objects' fragments judged together (off by default)
            block_maps = (feats, sm, raw > grow, obj, dense, loads, joined_ore, img)
            detections += self._fragments(labels, n, seeded & ~seen, pending, detections, block_maps, place, area)
        return detections

    def _emit(self, ids: list[int], stats: ComponentStats, verdict: tuple, length_mm: np.ndarray, loads: tuple[np.ndarray, np.ndarray],
              own_rows: np.ndarray, area_cells: np.ndarray, slices: dict[int, tuple[slice, slice]], img: "_Rows", place: tuple,
              piece: bool = False, fragments: np.ndarray | None = None) -> list[Detection]:
        """The detections of the judged components ``ids`` (``stats`` and ``verdict`` = (kinds, probabilities, p(none),
        decision, reported, second judge) in their order; ``loads`` = (the load judged at, the whole belt's);
        ``area_cells`` their areas; ``slices`` the bounding boxes of those shown): those reported (all with
        ``report_all``) and not dropped off the belt, placed by ``place`` = (odometer, tonnage mark and clock of the
        block's first row, t per m, belt speed, frame); ``piece``: pieces of split candidates (:mod:`vision.split`);
        ``fragments``: each one's count of components judged together (:mod:`vision.fragments`; None: one each)."""
        kinds, probs, p_none, none_max, report, second = verdict
        load, belt_load = loads
        start_belt_m, mark0, time0, t_per_m, speed, frame = place
        cell_m = self.cell_mm / 1000.0
        out = []
        for j, i in enumerate(ids):
            if not (report[j] or self.report_all) or self._dropped_off_belt(stats.centre_cells[j, 1], bool(report[j])):
                continue
            row_c, col_c = stats.centre_cells[j]
            belt_m = start_belt_m + (row_c + 0.5) * cell_m
            lateral_m = self._lateral_m(col_c)
            out.append(Detection(
                kind=str(kinds[j]), probability=float(probs[j]),
                length_mm=float(length_mm[j]), width_mm=float(stats.width_mm[j]), area_mm2=float(area_cells[j] * self.cell_mm**2),
                belt_m=float(belt_m), lateral_m=float(lateral_m),
                tonnage_mark_t=float(mark0 + (belt_m - start_belt_m) * t_per_m),
                time_s=float(time0 + ((belt_m - start_belt_m) / speed if speed > 0 else 0.0)),
                anomaly_score=float(stats.matrix[j, SCORE_MAX]), thumbnail=self._thumbnail(img, slices[i]),
                frame_id=frame.frame_id if frame is not None else -1, features=stats.matrix[j],
                p_none=float(p_none[j]), load=float(load[j]), belt_load=float(belt_load[j]), none_max=float(none_max[j]),
                dense_own=bool(own_rows[j]), second_judge=bool(second[j]), off_belt=self.off_belt(lateral_m), piece=piece,
                fragments=0 if fragments is None else int(fragments[j])))
        return out

    def _piece_detections(self, labels: np.ndarray, n: int, parents: np.ndarray, maps: tuple, loads: tuple[np.ndarray, np.ndarray],
                          img: "_Rows", place: tuple) -> list[Detection]:
        """The detections (:meth:`_emit`) of the pieces of those unreported features' components ``parents`` (0-based ids
        of ``labels``, ``n`` components) that :func:`vision.split.merged_pieces` splits by colour, each judged as a component (the same
        features, measured in a crop around its candidate, classifiers and decisions; ``maps`` = (cell features,
        smoothed score, core cells, objectness or None, dense net's map or None), ``loads`` = (the rows' loads, the
        block's ore cells))."""
        feats, sm, core, obj, dense = maps
        p = self.params
        sets = merged_pieces(labels, parents, feats, int(np.ceil(p.min_area_mm2 / (self.cell_mm**2))), n)
        if not sets:
            return []
        parts, slices, area = [], [], []
        for ps in sets:
            win = ps.window
            st = component_features(ps.labels, ps.ids, feats[win], sm[win], self.cell_mm, core=core[win],
                                    objectness=None if obj is None else obj[win], dense=None if dense is None else dense[win])
            st.centre_cells += (win[0].start, win[1].start)
            parts.append(st)
            boxes = _bounding_boxes(ps.labels, [i - 1 for i in ps.ids], ps.first_id - 1 + ps.count)
            slices += [(slice(b[0].start + win[0].start, b[0].stop + win[0].start), slice(b[1].start + win[1].start, b[1].stop + win[1].start))
                       for b in (boxes[i - 1] for i in ps.ids)]
            area.append(np.bincount(ps.labels.ravel(), minlength=ps.first_id + ps.count)[ps.first_id:])
        stats = _group_stats(parts)
        length_mm = stats.length_mm * p.length_scale
        if not self.report_all:  # a piece below the size gate is never reported: not judged
            keep = np.flatnonzero(length_mm >= p.min_length_mm)
            if not keep.size:
                return []
            stats = stats.take(keep)
            length_mm, slices, area = length_mm[keep], [slices[k] for k in keep], [np.concatenate(area)[keep]]
        belt_load, load = self._loads_at(loads[0], loads[1], stats.centre_cells)
        own = np.zeros(len(slices), bool)
        verdict = self._judge(stats.matrix, load, length_mm, own, lambda ix: np.stack([patch_of(self._thumbnail(img, slices[r])) for r in ix]))
        return self._emit(list(range(len(slices))), stats, verdict, length_mm, (load, belt_load), own, np.concatenate(area),
                          dict(enumerate(slices)), img, place, piece=True)

    def _loads_at(self, loads: np.ndarray, ore: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the whole belt's load, the load judged at) of each candidate (cell ``centres`` (n, 2): row, column) from the
        rows' loads ``loads`` (h,): the first (:func:`vision.regime.windowed`, = ``load_at``) for both, or with
        ``local_load`` on the lower of it and the ore's share around it (``ore`` (h, w): the block's ore-coloured cells)."""
        belt_load = windowed(loads, centres[:, 0], self.cell_mm)
        if not self.local_load:
            return belt_load, belt_load
        return belt_load, judged_load(belt_load, local_load(ore, centres[:, 0], centres[:, 1], self.cell_mm))

    def _dense_regions(self, seeds: DenseSeeds, feats: np.ndarray, belt: np.ndarray, start_belt_m: float, region: np.ndarray,
                       seed: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(the map for the component feature DENSE_FEATURE, the net's own regions or None) of the joined block, its
        own regions added to ``region`` and ``seed`` in place (:meth:`DenseSeeds.apply`; with ``dense_classifier``
        set, the net seeds none of the features' regions)."""
        logit = self._dense_stream(seeds).logits(feats, belt, self._stream_row(start_belt_m))
        own = seeds.apply(logit, belt, region, seed, seed_regions=self.dense_classifier is None)
        return seeds.peak_map(logit, own), own

    def _judge(self, matrix: np.ndarray, load: np.ndarray, length_mm: np.ndarray, own_rows: np.ndarray,
               patches: Callable[[np.ndarray], np.ndarray]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(kinds, probabilities, p(none), decision, reported, judged by ``dense_classifier``) of the components'
        feature rows ``matrix``: the net's own (``own_rows``) by ``dense_classifier`` when set, the others by
        ``classifier`` (each with its decision at the belt ``load``), and with ``dense_union`` also by
        ``dense_classifier``, reported when either reports them; without a classifier every component is reported as
        "unknown". ``patches(rows)``: the image patches of rows of ``matrix``."""
        n = len(matrix)
        kinds, probs, p_none = ["unknown"] * n, np.ones(n), np.zeros(n)
        none_max, report, second = np.ones(n), np.ones(n, bool), np.zeros(n, bool)
        split = own_rows if self.dense_classifier is not None else np.zeros(n, bool)
        union = self.dense_union and self.dense_classifier is not None
        alone = split | self._full_burden(load) if union else split  # rows the second judge judges alone
        # (classifier, its rows, whether it only adds to the first's reports, the belt condition of its kind evidence)
        judges = [(self.classifier, ~alone, False, None), (self.dense_classifier, alone, False, FULL_BURDEN if union else None)]
        if self.dense_union:
            judges.append((self.dense_classifier, ~alone, True, PART_LOADED))
        for k_judge, (clf, rows, union, condition) in enumerate(judges):
            ix = np.flatnonzero(rows)
            if clf is None or not ix.size:
                continue
            k, pr, pn, nm, rep = self._verdicts(clf, matrix, ix, load, length_mm, patches, condition=condition)
            if union:  # only what the first judge left unreported changes: its reports stay as they were, to the bit
                keep = rep & ~report[ix]
                ix, k, pr, pn, nm, rep = ix[keep], [k[j] for j in np.flatnonzero(keep)], pr[keep], pn[keep], nm[keep], rep[keep]
            for j, r in enumerate(ix):
                kinds[r] = k[j]
            probs[ix], p_none[ix], none_max[ix], report[ix] = pr, pn, nm, rep
            second[ix] = k_judge > 0
        self._wood_added = np.zeros(n, bool)  # the rows the wood judge reports (the split sees them as unreported)
        if self.wood_judge and self.dense_union and n:  # part-loaded features' candidates left unreported, against the belt
            self._wood_judged(matrix, load, own_rows, (kinds, probs, p_none, none_max, report, second))
        return kinds, probs, p_none, none_max, report, second

    def _wood_judged(self, matrix: np.ndarray, load: np.ndarray, own_rows: np.ndarray, verdict: tuple) -> None:
        """Report as wood, in ``verdict`` = (kinds, probabilities, p(none), decision, reported, second judge) in place,
        the rows :func:`vision.wood_judge.candidates` chooses whose wood judge's score reaches its level (the second
        judge's class probabilities from its last pass, which judged them): its p(none) kept, its decision raised to
        it, the probability its p(wood); marked in ``_wood_added``, so that the split judges them as without the judge."""
        kinds, probs, p_none, none_max, report, second = verdict
        judge: WoodJudge | None = self._shipped.get("wood judge", self.dense_classifier, judge_for)
        ix = np.flatnonzero(wood_candidates(load, report, own_rows))
        if judge is None or not ix.size:
            return
        clf, judged, proba = self._last_proba
        at = np.searchsorted(judged, ix)
        if clf is not self.dense_classifier or not np.array_equal(judged[np.minimum(at, len(judged) - 1)], ix):
            raise RuntimeError("the wood judge's rows were not judged by the second judge's last pass")
        proba = proba[at]
        hit, _ = wood_reports(judge, matrix[ix], proba)
        classes = list(clf.classes_)
        self._wood_added[ix[hit]] = True
        for j in np.flatnonzero(hit):
            r = ix[j]
            kinds[r], probs[r], report[r], second[r] = WOOD, proba[j, classes.index(WOOD)], True, True
            p_none[r] = proba[j, classes.index(NONE)]
            none_max[r] = max(none_max[r], p_none[r])

    def _full_burden(self, load: np.ndarray) -> np.ndarray:
        """Where ``full_burden_judge`` leaves a features' candidate to the second judge alone: its ``load`` in the
        full burden's bin (>= ``LOAD_EDGE``; NaN is not); nowhere when the switch is off."""
        if not self.full_burden_judge:
            return np.zeros(len(load), bool)
        return np.asarray(load, float) >= LOAD_EDGE  # NaN compares False (no warning)

    def _verdicts(self, clf: KindClassifier, matrix: np.ndarray, ix: np.ndarray, load: np.ndarray, length_mm: np.ndarray,
                  patches: Callable[[np.ndarray], np.ndarray], condition: str | None = None) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(kinds, probabilities, p(none), decision, reported) of the rows ``ix`` of ``matrix`` by ``clf``; with a
        belt ``condition``, its decision with that condition's kind evidence (:meth:`_evidence_levels`)."""
        whole = ix.size == len(matrix)  # all rows: the matrix itself (as without the split, to the last bit)
        x, part = (matrix, patches) if whole else (matrix[ix], lambda r: patches(ix[r]))
        proba = clf.proba(x, part)
        self._last_proba = (clf, ix, proba)  # the wood judge's inputs (:meth:`_wood_judged`)
        k, pr, pn = clf.calls(proba)
        nm = np.broadcast_to(clf.levels(load[ix]), ix.shape)
        if condition is not None:
            nm = self._evidence_levels(clf, proba, load[ix], nm, condition)
        rep = (pn <= nm) & (length_mm[ix] >= self.params.min_length_mm)
        k, pr = reported_kinds(proba, clf.classes_, k, pr, rep)
        k, pr = self._lump_judged(clf, x, proba, k, pr, rep)
        return list(k), pr, pn, nm, rep

    def _lump_judged(self, clf: KindClassifier, matrix: np.ndarray, proba: np.ndarray, kinds: list[str], probs: np.ndarray,
                     report: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``kinds`` / ``probs`` of rows judged by ``clf`` (feature rows ``matrix``, its class probabilities ``proba``)
        with ``lump_judge`` on: a reported row called a foreign kind moved to uncertain where the lump judge fitted for
        ``clf`` reaches its level (:func:`vision.lump_judge.judged_kinds`); unchanged with the switch off or no judge."""
        if not self.lump_judge or not len(kinds):
            return kinds, probs
        judge: LumpJudge | None = self._shipped.get("lump judge", clf, lump_judge_for)
        if judge is None:
            return kinds, probs
        k, pr, _ = judged_kinds(judge, matrix, proba, list(kinds), probs, report)
        return k, pr

    def _evidence_levels(self, clf: KindClassifier, proba: np.ndarray, load: np.ndarray, levels: np.ndarray, condition: str) -> np.ndarray:
        """``clf``'s decisions ``levels`` with the kind evidence of ``condition`` (:func:`vision.decision_kind.kind_levels`):
        on part-loaded belt the wood evidence when ``wood_evidence`` is on (:data:`vision.decision_wood.SHIPPED_WOOD`), at
        full burden the kinds' levels when ``kind_evidence`` is on; only levels set for ``clf``; else ``levels``."""
        if not (self.wood_evidence if condition == PART_LOADED else self.kind_evidence):
            return levels
        evidence = self._shipped.get("kind evidence", clf, _evidence_by_condition)[condition]
        return kind_levels(evidence, proba, clf.classes_, load, levels) if evidence else levels

    def _dense_stream(self, seeds: DenseSeeds) -> DenseStream:
        """The dense net's stream (:mod:`vision.densenet_stream`) of ``seeds``' net: a new one when it changed."""
        if self._dense is None or self._dense.net is not seeds.net:
            self._dense = DenseStream(seeds.net)
        return self._dense

    def _stream_row(self, belt_m: float) -> int:
        """The cell row (counted on the belt) that starts at odometer ``belt_m``."""
        return int(round(belt_m * 1000.0 / self.cell_mm))

    def _guard_cells(self, context: bool = False, features_only: bool = False) -> int:
        """Rows at the end of a frame whose maps still depend on rows not yet seen (held for the next frame); with
        ``context``, the rows carried above those for the filters' reach (the dense net's map of them is kept by its
        stream, :mod:`vision.densenet_stream`: it needs no rows of the detector's above them); ``features_only``: those
        of the features' maps alone (the dense net's reach left out)."""
        p = self.params
        bar = 0 if self.bar_seeds is None else self.bar_seeds.guard_cells()
        dense = 0 if self.dense_seeds is None or context or features_only else self.dense_seeds.guard_cells()
        return max(p.smooth_cells // 2, p.broad_cells // 2, int(np.ceil(3 * RIDGE_SCALE_RATIO * p.ridge_sigma_cells)) + 1,
                   p.objectness_context_cells // 2 + p.objectness_cells // 2, bar, dense) + 1

    def _tail(self, raw, feats, rgb, img, belt, done, keep_from: int, start_belt_m: float, mark0: float, time0: float,
              t_per_m: float, speed: float, context: int = 0,
              maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None = None) -> _Carry | None:
        """The rows from ``keep_from`` on, carried to the next frame, or None when there are none; the first
        ``context`` of them carry their ``maps`` (smoothed score, region, seed, objectness) as context only."""
        if keep_from + context >= raw.shape[0]:
            return None
        kept = None
        if maps is not None and context > 0:
            rows = slice(keep_from, keep_from + context)
            sm, region, seed, obj = maps
            kept = (sm[rows].copy(), region[rows].copy(), seed[rows].copy(), None if obj is None else obj[rows].copy())
        b = self.block
        cell_m = self.cell_mm / 1000.0
        return _Carry(raw[keep_from:].copy(), feats[keep_from:].copy(), rgb[keep_from:].copy(), img.rows(keep_from * b).copy(),
                      belt[keep_from:].copy(), start_belt_m + keep_from * cell_m, mark0 + keep_from * cell_m * t_per_m,
                      time0 + (keep_from * cell_m / speed if speed > 0 else 0.0), done[keep_from:].copy(),
                      context if kept is not None else 0, kept)

    def _fragments(self, labels: np.ndarray, n: int, candidates: np.ndarray, pending: np.ndarray, shown: list[Detection],
                   maps: "_BlockMaps", place: tuple, area: np.ndarray) -> list[Detection]:
        """The block's groups of fragments (:mod:`vision.fragments`) among the ``candidates`` (n,) bool (seeded, not decided
        before) whose members are all complete (none ``pending``) and whose objectness reaches its seed level
        (:func:`vision.fragments.object_like`), judged as one candidate each (:meth:`_fragment_detections` over ``maps``;
        ``place`` as :meth:`_emit` takes it; ``area`` (n,) the components' cells). Nothing is held back for a group: the
        components are decided as without it, and a group with a pending member is not judged here (its pending members
        may form one in the next block). A block with no row at full burden (no judged load can reach ``LOAD_EDGE``)
        or no object-like candidate is not grouped: no group of it could be judged."""
        if not any_full_burden(maps[5], self.cell_mm):
            return []
        anchors = object_like_components(labels, n, maps[3], self.params.objectness_threshold + SCREEN_ABOVE_SEED)
        if not (candidates & (anchors >= 0)).any():
            return []
        groups = object_groups(labels, n, candidates, anchors, gap_cells(self.cell_mm))
        ids = complete_groups(groups, pending, np.zeros(n, bool))
        return self._fragment_detections(labels, groups, ids, *maps, place, shown, area)

    def _fragment_detections(self, labels: np.ndarray, groups: ObjectGroups, ids: np.ndarray, feats: np.ndarray, sm: np.ndarray,
                             core: np.ndarray, obj: np.ndarray | None, dense: np.ndarray | None, loads: np.ndarray, ore: np.ndarray,
                             img: "_Rows", place: tuple, shown: list[Detection], component_area: np.ndarray) -> list[Detection]:
        """Detections (:meth:`_emit`) of the groups ``ids`` (1-based) of ``groups`` (of the components of ``labels``) at
        full burden (load >= ``LOAD_EDGE``) of at least the size gate, each measured as one candidate in its window
        (:meth:`vision.fragments.ObjectGroups.labels`: the whole block's features to the bit) and judged on the groups'
        own level (:meth:`_group_verdict`); those a reported detection of ``shown`` (the block's components) lies on
        are left out (:func:`_on_reported`: a member reports the object); ``component_area`` (n,) each component's cells."""
        p = self.params
        area = np.bincount(groups.of, weights=component_area, minlength=groups.count + 1).astype(np.int64)[ids]  # its members' cells
        big = area >= p.min_area_mm2 / (self.cell_mm**2)
        ids, area = ids[big], area[big]
        if not ids.size:
            return []
        parts, slices = [], []
        for g in ids.tolist():
            win = groups.windows[g - 1]
            lab = groups.labels(labels, g)
            parts.append(component_features(lab, [1], feats[win], sm[win], self.cell_mm, core=core[win], objectness=None if obj is None else obj[win],
                                            dense=None if dense is None else dense[win], origin=(win[0].start, win[1].start)))
            box = _bounding_boxes(lab, [0], 2)[0]
            slices.append((slice(box[0].start + win[0].start, box[0].stop + win[0].start), slice(box[1].start + win[1].start, box[1].stop + win[1].start)))
        stats = _group_stats(parts)
        belt_load, load = self._loads_at(loads, ore, stats.centre_cells)
        length_mm = stats.length_mm * p.length_scale
        full = np.flatnonzero(np.asarray(load, float) >= LOAD_EDGE)
        if not full.size:
            return []
        ids, area, load, belt_load, length_mm = ids[full], area[full], load[full], belt_load[full], length_mm[full]
        stats, slices = stats.take(full), [slices[k] for k in full]
        pieces = np.array([groups.members(int(g)).size for g in ids])
        verdict = self._group_verdict(stats.matrix, length_mm, pieces, lambda ix: np.stack([patch_of(self._thumbnail(img, slices[r])) for r in ix]))
        belt_m = place[0] + (stats.centre_cells[:, 0] + 0.5) * self.cell_mm / 1000.0
        keep = np.array([not _on_reported(shown, belt_m[j], self._lateral_m(stats.centre_cells[j, 1]), length_mm[j])
                         for j in range(ids.size)], bool)
        if not keep.any():
            return []
        ids, area, load, belt_load, length_mm = ids[keep], area[keep], load[keep], belt_load[keep], length_mm[keep]
        stats, slices = stats.take(keep), [s for s, k in zip(slices, keep) if k]
        kept = tuple(v[keep] if isinstance(v, np.ndarray) else [x for x, k in zip(v, keep) if k] for v in verdict)
        return self._emit(list(range(ids.size)), stats, kept, length_mm, (load, belt_load), np.zeros(ids.size, bool), area,
                          dict(enumerate(slices)), img, place, fragments=pieces[keep])

    def _group_verdict(self, matrix: np.ndarray, length_mm: np.ndarray, pieces: np.ndarray,
                       patches: Callable[[np.ndarray], np.ndarray]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(kinds, probabilities, p(none), decision, reported, judged by ``dense_classifier``) of groups' feature rows
        ``matrix`` of ``pieces`` components each (as :meth:`_judge`): judged by the union's second judge (``classifier``
        without one), reported on the groups' own judge and level (:mod:`vision.decision_groups`, fitted with that
        judge; without one none is; the decision its level on p(none)) and the size gate."""
        clf = self.dense_classifier if self.dense_union and self.dense_classifier is not None else self.classifier
        n = len(matrix)
        if clf is None:
            return ["unknown"] * n, np.ones(n), np.zeros(n), np.ones(n), np.ones(n, bool), np.zeros(n, bool)
        group_judge: GroupJudge | None = self._shipped.get("group judge", clf, group_judge_for)
        proba = clf.proba(matrix, patches)
        kinds, probs, p_none = clf.calls(proba)
        none_max = np.zeros(n) if group_judge is None else group_judge.none_max(group_inputs(p_none, pieces, matrix))
        report = (p_none <= none_max) & (length_mm >= self.params.min_length_mm)
        kinds, probs = reported_kinds(proba, clf.classes_, kinds, probs, report)
        kinds, probs = self._lump_judged(clf, matrix, proba, list(kinds), probs, report)
        return list(kinds), probs, p_none, none_max, report, np.full(n, clf is self.dense_classifier)

    def _patches(self, img: "_Rows", labels: np.ndarray, chosen: list[int], n: int) -> np.ndarray:
        """The patch verifier's input (:func:`vision.patchnet.patch_of` of the thumbnail) of each chosen component."""
        slices = _bounding_boxes(labels, chosen, n)
        return np.stack([patch_of(self._thumbnail(img, slices[i])) for i in chosen])

    def _thumbnail(self, img: "_Rows", sl: tuple[slice, slice]) -> np.ndarray:
        b = self.block
        r0, r1 = sl[0].start * b, sl[0].stop * b
        c0, c1 = sl[1].start * b, sl[1].stop * b
        side = max(r1 - r0, c1 - c0) + 4 * b
        rc, cc = (r0 + r1) // 2, (c0 + c1) // 2
        ra, ca = max(0, rc - side // 2), max(0, cc - side // 2)
        crop = img.rows(ra, ra + side)[:, ca : ca + side]
        if crop.size == 0:
            return np.zeros((THUMB_PX, THUMB_PX, 3), np.uint8)
        return np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((THUMB_PX, THUMB_PX), Image.Resampling.BILINEAR), dtype=np.uint8)


__all__ = ["Detection", "Detector", "DetectorParams", "FrameResult", "FEATURES", "belt_ridge", "candidate_maps", "cell_context", "object_logodds", "ridge_score", "with_features"]
