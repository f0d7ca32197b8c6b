"""Plank evidence at pixel scale: straight bars 10-30 mm wide and >= 50 mm long, less green than the ore beside them.

A thin plank (2.5-8 px at 4 mm/px) never becomes a candidate of its own length under the shipped union: the cell
features' boxes average it away and the dense net stays under its level (docs/vision.md, "Wood without a candidate
under the union"). Here it is looked for as a bar:

1. **Bar measure.** The green chroma 1000 G / (R + G + B) of the frame's 2 x 2 px means (the detector's own cell
   means, ``CellFeatures.rgb``: reused, not computed again) smoothed by the binomial [1 2 1]/4 (about a 1.2 px
   Gaussian of the pixels). The planks of the rendered scenes are less green than the ore (wood 0.33-0.36 against
   ore 0.36-0.41); grey alone fails on coarse ore, whose gaps between rocks are dark bars as strong as any plank. Its
   Hessian by second differences with a step of 4 px (one scale: bars 2.5-8 px wide; a 2 px step found none of the
   fit belt's planks) gives per point the dark-bar strength |l_across| - |l_along|; the points above the
   BAR_QUANTILE of the frame (and ``bar_level``) are bar points, a few % of the belt.
2. **Parallel edges and line support**, gathered at the bar points only (vectorised: no loop per pixel or angle):
   along the bar's own axis (the Hessian's eigenvector there) at 2 x HALF_STEPS + 1 points 8 mm apart (56 mm), the
   *edge contrast*, the smaller of the two steps from the centre line to the chroma 8 mm past it on either side
   (a step edge between a rock and a gap has one side only), set to 0 where that point is no bar point within
   ``max_turn_deg`` of the same direction or has no ore-coloured cell on both sides; none within EDGE_MM of the belt's
   outer columns (the burden's shaded edge against the bare belt is a straight bar too). A point's *support* is the SUPPORT_RANK-th smallest of them: high only
   where a bar with two edges holds its direction over the window.
3. **Regions.** Points with support above ``support_level``, 8-connected, are plank regions with their length along
   their mean axis (the window added) and width (mm); shorter than ``min_length_mm`` they are dropped. A region's
   **score** is the sum of its points' support (evidence along its length: chosen on fit-split belt over the median
   support, the median x sqrt(points) and x length, as the one with the most wood regions above the object-free
   maximum); it is reported from ``level`` on, and only where the belt carries a full burden
   (``min_load``, :mod:`vision.regime`: today's patchwork of tiles has straight gaps of its own, and was not
   levelled).

:class:`PlankStream` runs it over a stream of frames (each region decided once, when complete). Off in every fitted
model: ``Detector.planks`` switches it on at run time with :data:`PLANK_LEVEL`, set on fit-split object-free belt by
``python -m vision.planks_level`` (docs/vision.md "Pixel-scale plank evidence").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage as ndi

from vision.errors import FrameError
from vision.features import block_means
from vision.regime import load_at
from vision.scene import ore_mask

#: The Hessian's step (cells of 2 px at 4 mm/px).
STEP = 2
#: Points along the bar's axis either side (cells): 2 x 3 + 1 points of 8 mm span 56 mm.
HALF_STEPS = 3
#: The support is this order statistic (0-based, smallest first) of the edge contrast along the axis.
SUPPORT_RANK = 1
#: A bar point's strength must exceed this quantile of the frame's belt (:func:`bar_support`).
BAR_QUANTILE = 0.97
#: The level on the region score, set on fit-split object-free belt by ``vision.planks_level.LEVEL_COMMAND``
#: (``python -m vision.planks_level --length-m 3000 --seeds 931 932 --per-km 0.3``: realistic maxima 46.1 / 46.7 on
#: 3,000 m each, today's belt no region at full burden; docs/vision.md "Pixel-scale plank evidence").
PLANK_LEVEL = 47.0
#: Belt load (share of ore-coloured belt over 4 m, :mod:`vision.regime`) from which regions are reported: a full
#: burden (as ``DetectorParams.dark_ridge_min_load``).
MIN_LOAD = 0.95
#: Belt either side (mm) inside the belt's outer columns where no bar point is taken: the burden's wavy edge against the
#: bare belt, shaded along its length, made every false alarm of the second version on 3,006 m of development belt 1051.
EDGE_MM = 80.0
#: Rows (cells) of context carried from frame to frame: the longest plank (600 mm) and the filters' reach.
CARRY_CELLS = 96


@dataclass(frozen=True)
class PlankParams:
    """Levels of :func:`plank_regions` (chroma units, 1000 x G / (R + G + B), unless said): ``bar_level`` the dark-bar
    strength of a bar point (at least; the frame's BAR_QUANTILE otherwise), ``support_level`` the support of a
    region's points, ``max_turn_deg`` the largest turn of the bar's direction along its axis, ``min_length_mm`` /
    ``max_width_mm`` a region's size; ``level`` the score from which a region is reported, at belt load ``min_load``
    and above; ``step`` the Hessian's step and the edges' distance from the centre line (cells), ``half_steps`` the
    points along the axis either side (cells apart: the window 2 x ``half_steps`` + 1)."""

    bar_level: float = 3.0
    support_level: float = 6.0
    max_turn_deg: float = 20.0
    min_length_mm: float = 50.0
    max_width_mm: float = 40.0
    level: float = PLANK_LEVEL
    min_load: float = MIN_LOAD
    step: int = STEP
    half_steps: int = HALF_STEPS


@dataclass(frozen=True)
class PlankRegion:
    """One plank region: centre ``row`` / ``col`` (cells of the block it was found in), ``length_mm`` /
    ``width_mm``, ``angle_deg`` of its axis to the belt direction, its ``score`` (summed support), the belt ``load``
    at its centre (NaN under the level: not measured), its first and last row (cells) and ``points`` (cells in it)."""

    row: float
    col: float
    length_mm: float
    width_mm: float
    angle_deg: float
    score: float
    load: float
    first_row: int
    last_row: int
    points: int

    def reported(self, p: PlankParams) -> bool:
        """Whether ``p`` reports it: score at ``p.level`` or above on a belt loaded ``p.min_load`` or more."""
        return bool(self.score >= p.level and self.load >= p.min_load)


def chroma_cells(rgb_cells: np.ndarray) -> np.ndarray:
    """The green chroma 1000 G / (R + G + B + 1) (h, w) float32 of cell mean colours ``rgb_cells`` (h, w, 3),
    smoothed by [1 2 1]/4 along both axes (edges replicated)."""
    total = rgb_cells[..., 0] + rgb_cells[..., 1]
    total += rgb_cells[..., 2]
    total += np.float32(1.0)
    q = rgb_cells[..., 1] / total
    q *= np.float32(1000.0)
    p = np.pad(q, 1, mode="edge")
    rows = p[:-2] + p[2:]
    rows += 2 * p[1:-1]
    out = rows[:, :-2] + rows[:, 2:]
    out += 2 * rows[:, 1:-1]
    out *= np.float32(1.0 / 16.0)
    return out


def hessian_bars(grid: np.ndarray, step: int = STEP) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(dark-bar strength, (hyy, hxx, hxy)), each like ``grid`` (h, w) float32 (0 within ``step`` of its edges), of the
    signal ``grid`` at the Hessian ``step`` (cells; second differences, in the signal's own units): strength
    |l_across| - |l_along| = min(tr, 2 d) for a dark bar (the eigenvalue of larger magnitude, across the bar,
    positive), 0 elsewhere."""
    s, (h, w) = step, grid.shape
    hyy, hxx, hxy = (np.zeros((h, w), np.float32) for _ in range(3))
    strength = np.zeros((h, w), np.float32)
    if h <= 2 * s or w <= 2 * s:
        return strength, (hyy, hxx, hxy)
    inner = (slice(s, h - s), slice(s, w - s))
    g = grid
    c2 = 2 * g[inner]
    yy, xx, xy = hyy[inner], hxx[inner], hxy[inner]
    np.add(g[2 * s:, s:-s], g[:-2 * s, s:-s], out=yy)
    yy -= c2
    np.add(g[s:-s, 2 * s:], g[s:-s, :-2 * s], out=xx)
    xx -= c2
    np.subtract(g[2 * s:, 2 * s:], g[2 * s:, :-2 * s], out=xy)
    xy -= g[:-2 * s, 2 * s:]
    xy += g[:-2 * s, :-2 * s]
    xy *= np.float32(0.25)
    d = yy - xx
    d *= d
    c2 = xy * xy
    c2 *= np.float32(4.0)
    d += c2
    np.sqrt(d, out=d)  # 2 d: the eigenvalues' difference
    st = strength[inner]
    np.add(yy, xx, out=st)  # the trace
    np.minimum(st, d, out=st)
    np.maximum(st, 0.0, out=st)
    return strength, (hyy, hxx, hxy)


def _sample(grid: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``grid`` at the nearest points to (r, c) (cells), clipped to its edges."""
    h, w = grid.shape
    return grid[np.clip(np.rint(r).astype(np.intp), 0, h - 1), np.clip(np.rint(c).astype(np.intp), 0, w - 1)]


def normal_at(hessian: tuple[np.ndarray, np.ndarray, np.ndarray], r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The dark bar's normal (radians, rows axis first: the eigenvector of the larger eigenvalue) of ``hessian``
    (hyy, hxx, hxy) at the points nearest (r, c)."""
    hyy, hxx, hxy = (_sample(h, r, c) for h in hessian)
    return (0.5 * np.arctan2(2 * hxy, hyy - hxx)).astype(np.float32)


def support(grid: np.ndarray, strength: np.ndarray, hessian: tuple[np.ndarray, np.ndarray, np.ndarray], rows: np.ndarray,
            cols: np.ndarray, level: float, p: PlankParams, ore: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(support (n,), normal (n,)) of the bar points (``rows``, ``cols``) (n,): the SUPPORT_RANK-th smallest edge
    contrast (the smaller step from the centre line to either side ``p.step`` cells away; signal units) over the
    2 x ``p.half_steps`` + 1 points along the bar's axis, 0 at points of it whose strength is not above ``level``, whose
    normal turns by more than ``p.max_turn_deg`` or (``ore`` (h, w) bool given: the ore-coloured cells) that have
    no ore on both sides (the burden's edge against the bare belt is a straight bar too)."""
    nrm = normal_at(hessian, rows, cols)
    nr, nc = np.cos(nrm), np.sin(nrm)
    k = np.arange(-p.half_steps, p.half_steps + 1, dtype=np.float32)[None, :]
    pr = rows[:, None] - k * nc[:, None]  # along the axis (row, col) = (-sin, cos) of the normal
    pc = cols[:, None] + k * nr[:, None]
    centre = _sample(grid, pr, pc)
    off_r, off_c = (p.step * nr)[:, None], (p.step * nc)[:, None]
    side = np.minimum(_sample(grid, pr + off_r, pc + off_c), _sample(grid, pr - off_r, pc - off_c))
    side -= centre
    same = np.cos(2 * (normal_at(hessian, pr, pc) - nrm[:, None])) >= np.cos(np.deg2rad(2 * p.max_turn_deg))
    same &= _sample(strength, pr, pc) > level
    if ore is not None:
        same &= _sample(ore, pr + off_r, pc + off_c)
        same &= _sample(ore, pr - off_r, pc - off_c)
    side[~same] = 0.0
    return np.partition(side, SUPPORT_RANK, axis=1)[:, SUPPORT_RANK].astype(np.float32), nrm


def bar_support(grid: np.ndarray, p: PlankParams, ore: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(support, normal), each like ``grid`` (h, w): per point the :func:`support` (with ``ore``) of the bar points
    (strength above ``p.bar_level`` and the BAR_QUANTILE of the strength sampled every 4th point: on coarse ore the
    gaps between rocks are bars too, and the points whose support is gathered stay a few % of the belt), 0 elsewhere."""
    best = np.zeros(grid.shape, np.float32)
    normal = np.zeros(grid.shape, np.float32)
    strength, hessian = hessian_bars(grid, p.step)
    level = max(p.bar_level, float(np.quantile(strength[::4, ::4], BAR_QUANTILE)))
    rows, cols = np.nonzero(strength > level)
    if rows.size:
        best[rows, cols], normal[rows, cols] = support(grid, strength, hessian, rows, cols, level, p, ore)
    return best, normal


def check_cells(rgb_cells: object) -> np.ndarray:
    """``rgb_cells`` as a float32 (h, w, 3) array of finite cell means, else FrameError saying what it is."""
    if not isinstance(rgb_cells, np.ndarray) or rgb_cells.ndim != 3 or rgb_cells.shape[2] != 3:
        what = f"an array of shape {rgb_cells.shape}" if isinstance(rgb_cells, np.ndarray) else type(rgb_cells).__name__
        raise FrameError(f"plank evidence needs (h, w, 3) cell colours, got {what}")
    out = np.asarray(rgb_cells, np.float32)
    if not np.isfinite(out.sum(dtype=np.float64)):  # a float64 sum of finite colours cannot overflow: NaN or inf in it
        raise FrameError(f"plank evidence needs finite cell colours, got {int((~np.isfinite(out)).sum())} NaN or inf values")
    return out


def cell_regions(rgb_cells: np.ndarray, belt: np.ndarray, cell_mm: float, p: PlankParams) -> list[PlankRegion]:
    """Every plank region (:class:`PlankRegion`; :meth:`PlankRegion.reported` says which ``p`` reports) of cell mean
    colours ``rgb_cells`` (h, w, 3) of ``cell_mm`` cells over the belt cells ``belt`` (h, w) bool (its columns'
    span is searched, less EDGE_MM either side). Raises FrameError on bad colours or a belt of another shape."""
    rgb = check_cells(rgb_cells)
    belt = np.asarray(belt, bool)
    if belt.shape != rgb.shape[:2]:
        raise FrameError(f"belt mask of shape {belt.shape} for cells of shape {rgb.shape[:2]}")
    on = np.flatnonzero(belt.any(axis=0))
    if not on.size or rgb.shape[0] < 2 * p.step + 1:
        return []
    lo, hi = int(on[0]), int(on[-1]) + 1  # the belt's span: the frame's steel edges cost nothing
    q = chroma_cells(rgb[:, lo:hi])
    sup, normal = bar_support(q, p, ore_mask(rgb[:, lo:hi]) & belt[:, lo:hi])
    sup[~belt[:, lo:hi]] = 0.0
    edge = int(np.ceil(EDGE_MM / cell_mm))
    sup[:, :edge] = 0.0
    sup[:, max(0, hi - lo - edge):] = 0.0
    regions = [replace(r, col=r.col + lo) for r in regions_of(sup, normal, cell_mm, p)]
    high = [i for i, r in enumerate(regions) if r.score >= p.level]  # the load only where it decides: a full burden's
    if high:
        load = load_at(rgb, belt, np.array([int(regions[i].row) for i in high]), cell_mm)
        for i, v in zip(high, load):
            regions[i] = replace(regions[i], load=float(v))
    return regions


def regions_of(sup: np.ndarray, normal: np.ndarray, cell_mm: float, p: PlankParams) -> list[PlankRegion]:
    """Plank regions of the support map ``sup`` (h, w) (bar normals ``normal``; cells of ``cell_mm``): points above
    ``p.support_level``, 8-connected; length along their mean axis (the axis window added), width across it (at
    least the bar's, 2 x ``p.step`` cells), score their summed support; those shorter than ``p.min_length_mm`` or wider
    than ``p.max_width_mm`` dropped (load not yet known: NaN)."""
    mask = sup > p.support_level
    rows, cols = np.nonzero(mask)
    if not rows.size:
        return []
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    ids = labels[rows, cols]
    order = np.argsort(ids, kind="stable")
    rows, cols = rows[order], cols[order]
    bounds = np.searchsorted(ids[order], np.arange(1, n + 2))
    doubled = 2 * normal[rows, cols]
    out = []
    for k in range(n):  # per region (a few per frame), not per pixel
        a, b = bounds[k], bounds[k + 1]
        r, c = rows[a:b].astype(np.float32), cols[a:b].astype(np.float32)
        th = 0.5 * np.arctan2(np.sin(doubled[a:b]).mean(), np.cos(doubled[a:b]).mean())  # the mean normal
        nr, nc = np.float32(np.cos(th)), np.float32(np.sin(th))
        along = -(r - r.mean()) * nc + (c - c.mean()) * nr
        across = (r - r.mean()) * nr + (c - c.mean()) * nc
        length_mm = float((np.ptp(along) + 1 + 2 * p.half_steps) * cell_mm)
        width_mm = float(max(np.ptp(across) + 1, 2 * p.step) * cell_mm)
        if length_mm < p.min_length_mm or width_mm > p.max_width_mm:
            continue
        out.append(PlankRegion(float(r.mean()), float(c.mean()), length_mm, width_mm, float(np.rad2deg(np.arctan2(nr, -nc))),
                               float(sup[rows[a:b], cols[a:b]].sum()), float("nan"), int(r.min()), int(r.max()), int(b - a)))
    return out


def plank_regions(image: np.ndarray, mm_per_px: float, p: PlankParams, belt_cols: np.ndarray | None = None,
                  block_px: int = 2) -> list[PlankRegion]:
    """:func:`cell_regions` of a frame ``image`` (h, w, 3) uint8 at ``mm_per_px`` in cells of ``block_px`` px, on the
    belt columns ``belt_cols`` (w // block_px,) bool (default all). Raises FrameError on an image that is not
    (h, w, 3) uint8, a bad ``mm_per_px`` or belt columns of another width."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        what = f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise FrameError(f"plank evidence needs an (h, w, 3) uint8 frame, got {what}")
    if not (np.isfinite(mm_per_px) and mm_per_px > 0):
        raise FrameError(f"plank evidence needs a positive mm_per_px, got {mm_per_px}")
    rgb = block_means(image, block_px)
    cols = np.ones(rgb.shape[1], bool) if belt_cols is None else np.asarray(belt_cols, bool)
    if cols.shape != (rgb.shape[1],):
        raise FrameError(f"belt columns of shape {cols.shape} for a frame of {rgb.shape[1]} cells")
    return cell_regions(rgb, np.broadcast_to(cols, rgb.shape[:2]), block_px * mm_per_px, p)


class PlankStream:
    """Plank regions over a stream of frames' cell colours: each region decided once, in the block where it is
    complete (it ends ``guard`` rows before the block's end, or the stream is flushed), with CARRY_CELLS rows of the
    block before it as context."""

    def __init__(self, params: PlankParams, cell_mm: float) -> None:
        self.params = params
        self.cell_mm = float(cell_mm)
        #: Rows at a block's end whose support depends on rows not seen yet.
        self.guard = params.step + params.half_steps + 2
        self.reset()

    def reset(self) -> None:
        """Forget the carried rows (a gap in the belt)."""
        self._rgb: np.ndarray | None = None
        self._belt: np.ndarray | None = None
        self._start = 0  # belt row (cells) of the carried first row
        self._decided = -1  # regions ending before this belt row were decided in an earlier block

    def push(self, rgb_cells: np.ndarray, belt: np.ndarray, start_row: int) -> list[tuple[PlankRegion, int]]:
        """(region, the belt row of the block's first row) of every region complete in the block: the carried rows
        and one frame's cell colours ``rgb_cells`` (h, w, 3) over ``belt`` (h, w) bool, whose first row is belt row
        ``start_row`` (cells); a frame that does not follow the carried rows starts afresh."""
        rgb, belt = check_cells(rgb_cells), np.asarray(belt, bool)
        if self._rgb is not None and self._belt is not None and start_row == self._start + self._rgb.shape[0] and self._rgb.shape[1] == rgb.shape[1]:
            rgb, belt, start_row = np.concatenate([self._rgb, rgb]), np.concatenate([self._belt, belt]), self._start
        else:
            self.reset()
        return self._decide(rgb, belt, start_row, final=False)

    def flush(self) -> list[tuple[PlankRegion, int]]:
        """The regions of the carried rows not decided yet (end of the stream), then :meth:`reset`."""
        out = [] if self._rgb is None or self._belt is None else self._decide(self._rgb, self._belt, self._start, final=True)
        self.reset()
        return out

    def _decide(self, rgb: np.ndarray, belt: np.ndarray, start_row: int, final: bool) -> list[tuple[PlankRegion, int]]:
        h = rgb.shape[0]
        end = h if final else h - self.guard
        regions = cell_regions(rgb, belt, self.cell_mm, self.params)
        out = [(r, start_row) for r in regions if r.last_row < end and start_row + r.last_row >= self._decided]
        self._decided = max(self._decided, start_row + end)
        keep = max(0, h - self.guard - CARRY_CELLS)
        self._rgb, self._belt, self._start = (None, None, 0) if final else (rgb[keep:].copy(), belt[keep:].copy(), start_row + keep)
        return out


__all__ = ["BAR_QUANTILE", "EDGE_MM", "HALF_STEPS", "MIN_LOAD", "PLANK_LEVEL", "PlankParams", "PlankRegion", "PlankStream", "STEP",
           "bar_support", "cell_regions", "chroma_cells", "hessian_bars", "plank_regions", "regions_of", "support"]
