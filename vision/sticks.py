"""Thin sticks on part-loaded belt: straight lines of low-green pixels that the 8 mm cells average away.

Most of today's objects >= 50 mm left without any candidate are sticks 10-12 mm wide (2.5-3 px at 4 mm/px) on the
ore or on the green strips of the patchwork (docs/vision-experiments.md "Today's remaining misses with the split on"):
the 8 mm cells see a diluted column, the dense net stays under its level, and their cells' colour lies inside the
belt's spread. At pixel scale they are not: the low-green measure q = 1 - 2 G / (R + G + B + 1) of a stick's core
pixels is 0.32-0.35 (the rendered wood), above the 99.99th percentile of today's object-free belt's pixels (0.316);
the ore is 0.19-0.25, the strips near 0. A single pixel is not enough (pale veins of the ore reach it); a straight
line of them is (docs/vision-experiments.md "Thin sticks at pixel scale"):

1. **Gate.** The belt cells (the detector's 2 x 2 px means, reused) whose mean q reaches ``gate_q``: a few per
   thousand of today's belt; nothing else is looked at, and no frame at a full burden (its ore share >= ``max_load``).
2. **Line score.** At each gate cell's least green pixel, along ``orientations`` directions, the ``rank``-th smallest
   q of the pixels on the line of ``line_mm`` through it (off the frame or the belt: -1); the score is the largest over
   the directions. Gathered at those pixels only (vectorised; no loop per pixel).
   A square of ``group_mm`` more than MAX_TILE_SHARE of whose cells pass the gate holds a broad low-green object, no
   stick: its cells are left out (the cost stays bounded on a frame full of objects).
3. **Sticks.** Gate cells whose score reaches ``level``, joined when their squares of ``group_mm`` touch: each group a
   stick (its centre, its extent along and across the best direction, its highest score), reported where the belt's
   load there (:func:`vision.regime.windowed`, 4 m) is part-loaded (< ``max_load``) and its shape is a stick's (at most
   ``max_width_mm`` wide or ``min_elongation`` times as long as wide: a broad low-green region is none).

``Detector.thin_sticks`` runs :class:`StickFinder` on every frame (on by default: the station's ``thin_sticks`` key);
its sticks are reported as wood, none where a reported object of the frame lies on one, and as ``uncertain`` (a warning
and a targeted increment, not contamination) where an 8 mm candidate of the detector's last block (reported or not,
finished or pending) lies within ``candidate_margin_mm`` of one (:func:`near_candidates`) or a lump's or uncertain
object's detection lies within that margin: an ore lump's side-lit face shows low-green straight edges, and a stick
reported as wood there would bypass the kind decision that keeps lumps from flagging contamination
(docs/vision-experiments.md "thin55", "stick56"). :data:`STICK_LEVEL` is set on the
fit split's object-free today's belt by ``python -m vision.sticks_level`` (:data:`vision.sticks_level.LEVEL_COMMAND`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from vision.decision import LOAD_EDGE
from vision.errors import FrameError
from vision.regime import windowed

#: The scale (mm/px) the level was set at: the finder acts only there.
STICK_MM_PER_PX = 4.0
#: The level on the line score (q units), set on the fit split's object-free today's belt by
#: ``vision.sticks_level.LEVEL_COMMAND``: see :data:`STICK_LEVEL_PROVENANCE`.
STICK_LEVEL = 0.304
#: A square of ``group_mm`` whose cells pass the gate for more than this share is a broad low-green object, not a
#: stick (a stick 25 mm wide covers at most about half of it): its cells are not looked at (a frame with large objects
#: costs no more than one without).
MAX_TILE_SHARE = 0.5
#: The widest stick reported (mm) unless it is :data:`MIN_STICK_ELONGATION` times as long as wide: the sticks found on
#: the fit split's wood are 8-24 mm wide (1-3 cells across; docs/vision-experiments.md "thin55"); the demo's lump gave
#: a region 285 mm wide.
MAX_STICK_WIDTH_MM = 30.0
#: A region wider than :data:`MAX_STICK_WIDTH_MM` is still a stick when at least this many times as long as wide.
MIN_STICK_ELONGATION = 3.0
#: No stick within this distance (mm) of an 8 mm candidate of the frame, reported or not, nor of a reported lump's or
#: uncertain object's detection beyond its extent (the demo's lump's side-lit face: docs/vision-experiments.md "thin55").
CANDIDATE_MARGIN_MM = 40.0
#: Where :data:`STICK_LEVEL` comes from (printed by ``python -m vision.sticks_level --show``).
STICK_LEVEL_PROVENANCE = ("set by 'python -m vision.sticks_level --length-m 3000 --seeds 2001 2002 2003 2004 --scene today' "
                          "(2026-12-07): 12,000 m of the fit split's object-free today's belt (fit tiles, seeds 2001-2004, "
                          "2,048-line frames), 4 sticks at or above the gate 0.300, all part-loaded, the highest 0.3013; "
                          "+0.002, rounded up to 0.001")


@dataclass(frozen=True)
class StickParams:
    """Settings of :class:`StickFinder` (q = 1 - 2 G / (R + G + B + 1) units unless said): ``gate_q`` a cell's mean q
    from which its pixels are looked at; ``line_mm`` the line's length (shorter than the shortest object counted,
    50 mm); ``rank`` the order statistic of q along it (0-based: 1 lets one pixel of the line off the stick);
    ``orientations`` the directions over 180 degrees; ``level`` the score from which a stick is reported; ``group_mm``
    the side of the squares whose touching passing cells are one stick (and whose crowded ones are left out); ``max_load`` the belt load (and frame ore share) from which
    nothing is looked for (a full burden: :data:`vision.decision.LOAD_EDGE`); ``max_width_mm`` / ``min_elongation``
    the widest stick reported unless its length is at least that many times its width (a broader region is no stick);
    ``candidate_margin_mm`` how near an 8 mm candidate (or a lump's or uncertain object's detection) a stick may lie
    (:func:`near_candidates`)."""

    gate_q: float = 0.30
    line_mm: float = 44.0
    rank: int = 1
    orientations: int = 16
    level: float = STICK_LEVEL
    group_mm: float = 64.0
    max_load: float = LOAD_EDGE
    max_width_mm: float = MAX_STICK_WIDTH_MM
    min_elongation: float = MIN_STICK_ELONGATION
    candidate_margin_mm: float = CANDIDATE_MARGIN_MM


@dataclass(frozen=True)
class StickRegion:
    """One stick: centre ``row`` / ``col`` (cells of the block it was found in), ``length_mm`` / ``width_mm`` (its
    passing cells' extent along and across its direction, the line added along), ``angle_deg`` of its axis to the belt
    direction, ``score`` (the highest line score), the belt ``load`` at its centre and ``points`` (passing cells)."""

    row: float
    col: float
    length_mm: float
    width_mm: float
    angle_deg: float
    score: float
    load: float
    points: int

    def stick_like(self, p: StickParams) -> bool:
        """Whether its shape is a stick's: at most ``p.max_width_mm`` wide or at least ``p.min_elongation`` times as long
        as wide."""
        return bool(self.width_mm <= p.max_width_mm or self.length_mm >= p.min_elongation * self.width_mm)

    def reported(self, p: StickParams) -> bool:
        """Whether ``p`` reports it: score at ``p.level`` or above on a belt loaded under ``p.max_load``, stick-like
        (:meth:`stick_like`)."""
        return bool(self.score >= p.level and self.load < p.max_load and self.stick_like(p))

    def half_extent_cells(self, cell_mm: float) -> tuple[float, float]:
        """(rows, cols): half its box's extent along and across the belt, in cells of ``cell_mm``."""
        t = np.deg2rad(self.angle_deg)
        along, across = self.length_mm / 2.0, self.width_mm / 2.0
        return ((abs(np.cos(t)) * along + abs(np.sin(t)) * across) / cell_mm, (abs(np.sin(t)) * along + abs(np.cos(t)) * across) / cell_mm)


def low_green(rgb: np.ndarray) -> np.ndarray:
    """q = 1 - 2 G / (R + G + B + 1) (...,) float32 of colours ``rgb`` (..., 3) (uint8 or float, 0..255)."""
    c = np.asarray(rgb, np.float32)
    total = c[..., 0] + c[..., 1]
    total += c[..., 2]
    total += np.float32(1.0)
    return np.float32(1.0) - np.float32(2.0) * c[..., 1] / total


def near_candidates(sticks: list[StickRegion], candidates: np.ndarray, row0: int, cell_mm: float, margin_mm: float) -> np.ndarray:
    """(n,) bool: which of the ``sticks`` (rows counted from belt row ``row0``, cells of ``cell_mm``) have a cell of the
    map ``candidates`` (h, w) bool (its first row belt row 0 of the same count: the caller offsets) within their box
    (:meth:`StickRegion.half_extent_cells`) grown by ``margin_mm``. One window per stick (few per frame)."""
    out = np.zeros(len(sticks), bool)
    h, w = candidates.shape
    m = margin_mm / cell_mm
    for k, s in enumerate(sticks):  # per stick, not per pixel
        hr, hc = s.half_extent_cells(cell_mm)
        r, c = row0 + s.row, s.col
        r0, r1 = max(0, int(np.floor(r - hr - m))), min(h, int(np.ceil(r + hr + m)) + 1)
        c0, c1 = max(0, int(np.floor(c - hc - m))), min(w, int(np.ceil(c + hc + m)) + 1)
        out[k] = r0 < r1 and c0 < c1 and bool(candidates[r0:r1, c0:c1].any())
    return out


def gate_cells(green_cells: np.ndarray, belt_cols: np.ndarray, gate_q: float) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the cells on the belt columns ``belt_cols`` (w,) bool whose green chromaticity ``green_cells``
    (h, w) (G / (R + G + B + 1) of the cell means: ``CellFeatures.g``) is low enough for their mean q to reach
    ``gate_q``."""
    idx = np.flatnonzero(belt_cols)
    if not idx.size:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    lo, hi = int(idx[0]), int(idx[-1]) + 1
    # the flat indices and their division: np.nonzero's rows and columns in its order, without its 2-D pass
    rows, cols = np.divmod(np.flatnonzero(green_cells[:, lo:hi] <= np.float32((1.0 - gate_q) / 2.0)), hi - lo)
    cols += lo
    on = np.asarray(belt_cols, bool)[cols]
    return rows[on], cols[on]


def _line_offsets(p: StickParams, mm_per_px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row offsets (K, L), column offsets (K, L), directions (K,) radians from the belt's direction) of the lines."""
    half = max(1, int(round(p.line_mm / (2.0 * mm_per_px))))
    theta = np.arange(p.orientations) * np.pi / p.orientations
    k = np.arange(-half, half + 1)
    return (np.rint(np.cos(theta)[:, None] * k).astype(np.intp), np.rint(np.sin(theta)[:, None] * k).astype(np.intp), theta)


def line_scores(image: np.ndarray, belt_px: np.ndarray, rows: np.ndarray, cols: np.ndarray, p: StickParams,
                mm_per_px: float) -> tuple[np.ndarray, np.ndarray]:
    """(score (n,), direction (n,) radians from the belt's direction) at the pixels (``rows``, ``cols``) (n,) of
    ``image`` (H, W, 3) uint8: over ``p.orientations`` lines of ``p.line_mm`` through each, the largest ``p.rank``-th
    smallest q (a pixel off the frame or off the belt columns ``belt_px`` (W,) bool counts -1)."""
    dr, dc, theta = _line_offsets(p, mm_per_px)
    h, w = image.shape[:2]
    r = rows[:, None, None] + dr[None]
    c = cols[:, None, None] + dc[None]
    ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    np.clip(r, 0, h - 1, out=r)
    np.clip(c, 0, w - 1, out=c)
    ok &= belt_px[c]
    q = low_green(image[r, c])
    q[~ok] = -1.0
    rank = np.partition(q, p.rank, axis=2)[:, :, p.rank]
    best = np.argmax(rank, axis=1)
    return rank[np.arange(len(rows)), best], theta[best]


def _cell_pixels(rows: np.ndarray, cols: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, cell index) of every pixel of the cells (``rows``, ``cols``) of ``block`` px."""
    dr, dc = np.divmod(np.arange(block * block), block)
    return ((rows[:, None] * block + dr[None]).ravel(), (cols[:, None] * block + dc[None]).ravel(),
            np.repeat(np.arange(len(rows)), block * block))


def _tiles(rows: np.ndarray, cols: np.ndarray, tile: int) -> tuple[np.ndarray, np.ndarray]:
    """(tile index (n,) of each cell (``rows``, ``cols``) in squares of ``tile`` cells, cells per tile (n,))."""
    key = (rows // tile) * (1 << 20) + cols // tile
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return inverse, counts[inverse]


def _groups(rows: np.ndarray, cols: np.ndarray, tile: int) -> tuple[int, np.ndarray]:
    """(count, label (n,)) of the cells (``rows``, ``cols``) joined when their squares of ``tile`` cells touch (8-connected):
    cells within ``tile`` of each other are always joined, none more than 2 ``tile`` apart along either axis are
    joined directly."""
    tr, tc = rows // tile, cols // tile
    key = tr * (1 << 20) + tc
    uniq, inverse = np.unique(key, return_inverse=True)
    ur, uc = uniq >> 20, uniq & ((1 << 20) - 1)
    near = (np.abs(ur[:, None] - ur[None, :]) <= 1) & (np.abs(uc[:, None] - uc[None, :]) <= 1)  # squares, not cells: few
    i, j = np.nonzero(near)
    n, label = connected_components(coo_matrix((np.ones(i.size), (i, j)), shape=(uniq.size, uniq.size)), directed=False)
    return n, label[inverse]


class StickFinder:
    """Sticks (:class:`StickRegion`) in frames at ``mm_per_px`` with cells of ``block`` px (:func:`find`); a stick
    within ``params.group_mm`` of one found in the frame before is that one (a frame cuts sticks) and not found again."""

    def __init__(self, mm_per_px: float, block: int, params: StickParams | None = None) -> None:
        if not (np.isfinite(mm_per_px) and mm_per_px > 0) or block < 1:
            raise FrameError(f"stick finder needs a positive mm_per_px and block, got {mm_per_px} and {block}")
        self.mm_per_px = float(mm_per_px)
        self.block = int(block)
        self.cell_mm = self.block * self.mm_per_px
        self.params = params or StickParams()
        self.reset()

    def reset(self) -> None:
        """Forget the sticks of the frame before (a gap in the belt)."""
        self._last: np.ndarray = np.zeros((0, 2))  # (belt row, col) in cells of the last frame's sticks

    def find(self, image: np.ndarray, green_cells: np.ndarray, belt_cols: np.ndarray, ore: np.ndarray, start_row: int,
             ore_share: float | None = None, level: float | None = None) -> list[StickRegion]:
        """The sticks of a frame ``image`` (H, W, 3) uint8 with the cells' green chromaticity ``green_cells`` (H //
        block, W // block) (``CellFeatures.g``), belt columns ``belt_cols`` (W // block,) bool and ore-coloured cells
        ``ore`` (h, w) bool, whose first row is belt row ``start_row`` (cells), scoring at least ``level`` (default the
        params'), at any load (measured; :meth:`StickRegion.reported` decides). A frame whose belt's ore share
        (``ore_share``, where the caller has it) reaches ``max_load`` is not searched. Raises FrameError on input of
        other types or shapes."""
        p = self.params
        level = p.level if level is None else float(level)
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            what = f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise FrameError(f"stick finder needs an (H, W, 3) uint8 frame, got {what}")
        green, cols, ore = np.asarray(green_cells, np.float32), np.asarray(belt_cols, bool), np.asarray(ore, bool)
        h, w = image.shape[0] // self.block, image.shape[1] // self.block
        if green.shape != (h, w) or cols.shape != (w,) or ore.shape != (h, w):
            raise FrameError(f"stick finder: cells {green.shape}, belt columns {cols.shape}, ore {ore.shape} for a frame of {(h, w)} cells")
        last, self._last = self._last, np.zeros((0, 2))
        if ore_share is None:
            ore_share = float(ore[:, cols].mean()) if cols.any() else 0.0
        if not cols.any() or ore_share >= p.max_load:  # a full burden's frame: nothing reported there
            return []
        r, c = gate_cells(green, cols, p.gate_q)
        if r.size:  # a tile mostly of gate cells is a broad low-green object, not a thin stick: not looked at
            tile = max(1, int(round(p.group_mm / self.cell_mm)))
            thin = _tiles(r, c, tile)[1] <= MAX_TILE_SHARE * tile * tile
            r, c = r[thin], c[thin]
        if not r.size:
            return []
        pr, pc, cell = _cell_pixels(r, c, self.block)
        score, theta = line_scores(image, np.repeat(cols, self.block), pr, pc, p, self.mm_per_px)
        best = np.full(r.size, -np.inf)
        np.maximum.at(best, cell, score)
        keep = score >= level
        if not keep.any():
            return []
        keep &= score >= best[cell]  # a cell's best pixel
        _, first = np.unique(cell[keep], return_index=True)
        ix = np.flatnonzero(keep)[first]
        found = self._regions(r[cell[ix]], c[cell[ix]], score[ix], theta[ix], cols, ore)
        self._last = np.array([[start_row + s.row, s.col] for s in found]).reshape(-1, 2)
        reach = p.group_mm / self.cell_mm
        return [s for s in found if not (last.size and np.hypot(last[:, 0] - start_row - s.row, last[:, 1] - s.col).min() <= reach)]

    def _regions(self, rows: np.ndarray, cols: np.ndarray, score: np.ndarray, theta: np.ndarray, belt_cols: np.ndarray,
                 ore: np.ndarray) -> list[StickRegion]:
        """The sticks of the passing cells (``rows``, ``cols``; their ``score`` and direction ``theta``), each with its
        belt load."""
        n, label = _groups(rows, cols, max(1, int(round(self.params.group_mm / self.cell_mm))))
        on = belt_cols.sum()
        loads = (ore[:, belt_cols].sum(axis=1) / on).astype(float)  # vision.regime.row_load's, of the ore cells given
        out = []
        for k in range(n):  # per stick (none on most frames), not per pixel
            m = label == k
            best = int(np.argmax(np.where(m, score, -np.inf)))
            t = float(theta[best])
            r, c = rows[m].astype(float), cols[m].astype(float)
            along = (r - r.mean()) * np.cos(t) + (c - c.mean()) * np.sin(t)
            across = -(r - r.mean()) * np.sin(t) + (c - c.mean()) * np.cos(t)
            load = float(windowed(loads, np.array([r.mean()]), self.cell_mm)[0])
            out.append(StickRegion(float(r.mean()), float(c.mean()), float(np.ptp(along) * self.cell_mm + self.params.line_mm),
                                   float((np.ptp(across) + 1.0) * self.cell_mm), float(np.rad2deg(t)), float(score[best]), load,
                                   int(m.sum())))
        return out


__all__ = ["CANDIDATE_MARGIN_MM", "MAX_STICK_WIDTH_MM", "MIN_STICK_ELONGATION", "STICK_LEVEL", "STICK_LEVEL_PROVENANCE", "STICK_MM_PER_PX", "StickFinder", "StickParams", "StickRegion", "gate_cells",
           "line_scores", "low_green", "near_candidates"]
