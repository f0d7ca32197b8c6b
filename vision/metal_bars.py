"""Metal bar evidence: the plank evidence (:mod:`vision.planks`) run on 4 mm cells, for the thin coated metal bars.

The metal of the realistic scenes is thin bars (10 mm wide and up, 2.5 px at 4 mm/px), coated towards the ore's colour
and partly buried, so that what shows is often a piece 35-70 mm long (docs/vision-experiments.md "Metal bars on the
realistic belt"). On the plank evidence's 8 mm cells the 2 x 2 px means dilute a 2.5 px bar and its 56 mm window is
longer than the piece; most such bars give no region at all. Here the same measure (green chroma, Hessian dark-bar
strength, parallel edges and line support, regions with a summed-support score: :func:`vision.planks.cell_regions`)
runs on cells of :data:`CELL_MM` (the pixels themselves at 4 mm/px), so its Hessian step is 8 mm and its axis window
28 mm, with regions from :data:`MIN_LENGTH_MM`. Nothing is copied: :class:`MetalBarStream` is a
:class:`vision.planks.PlankStream` fed with 4 mm cell means, with its own parameters (:data:`METAL_PARAMS`) and level
(:data:`METAL_LEVEL`, set on fit-split object-free belt by ``python -m vision.planks_level --evidence metal``).

Its regions are reported as metal, at full burden only (as the plank evidence's). A frame whose belt is not at a full
burden (its ore share under :data:`FRAME_MIN_ORE`) is not searched at all: no region there could be reported, and the
line's part-loaded belt costs nothing.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vision.errors import FrameError
from vision.features import block_means
from vision.planks import PlankParams, PlankRegion, PlankStream

#: The cells the bars are looked for on (mm): the pixels at 4 mm/px, 4 x 4 px means at 1 mm/px.
CELL_MM = 4.0
#: A region's shortest length (mm) along its axis (the axis window added): the visible piece of a buried bar.
MIN_LENGTH_MM = 40.0
#: The level on the region score, set on fit-split object-free belt by ``vision.planks_level.METAL_LEVEL_COMMAND``
#: (``python -m vision.planks_level --evidence metal --camera calibrated --length-m 3000 --seeds 931 932 --per-km 0.3``:
#: realistic maxima 67.0 / 69.2 on 3,000 m each (19 / 23 regions kept by :func:`pale_or_blue`, 39 / 43 without it),
#: today's belt no region (no frame at a full burden)).
METAL_LEVEL = 69.5
#: A region is kept only where its LOW_CELLS least green cells (of its box: its rows, 2 more either side, and half its
#: length either side of its centre) are not paler than the box's median grey by more than this ratio ...
MAX_GREY_RATIO = 1.2
#: ... nor bluer than the box's median blue share 1000 B / (R + G + B) by more than this: the least green streaks of
#: the held-out ore are pale, bluish veins and highlights (the calibrated camera's white balance), the metal is not.
MAX_BLUE_EXCESS = 80.0
#: The least green cells of a region's box that :func:`pale_or_blue` looks at.
LOW_CELLS = 12
#: A frame is searched only where this share of its belt's cells is ore-coloured (regions are reported from a belt load
#: of :data:`METAL_PARAMS` ``min_load`` only).
FRAME_MIN_ORE = 0.9


def metal_params(level: float = METAL_LEVEL) -> PlankParams:
    """The metal bar evidence's :class:`vision.planks.PlankParams` at ``level``."""
    return PlankParams(min_length_mm=MIN_LENGTH_MM, level=float(level))


#: The parameters the detector runs (:func:`metal_params` at :data:`METAL_LEVEL`).
METAL_PARAMS = metal_params()


def cell_block(mm_per_px: float) -> int:
    """Pixels per cell side for :data:`CELL_MM` cells at ``mm_per_px`` (at least 1). Raises FrameError on a scale
    that is not a positive number."""
    if not (np.isfinite(mm_per_px) and mm_per_px > 0):
        raise FrameError(f"metal bar evidence needs a positive mm_per_px, got {mm_per_px}")
    return max(1, int(round(CELL_MM / mm_per_px)))


def metal_cells(image: np.ndarray, belt_px: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(cell means (h, w, 3) float32, belt columns (w,) bool) of a frame ``image`` (H, W, 3) uint8 in cells of
    ``block`` px, a cell on the belt where its first pixel column is (``belt_px`` (W,) bool)."""
    rgb = image.astype(np.float32) if block == 1 else block_means(image, block)
    cols = np.asarray(belt_px, bool)[: rgb.shape[1] * block : block]
    return rgb, cols


def pale_or_blue(rgb_cells: np.ndarray, r: PlankRegion) -> bool:
    """Whether region ``r`` of the cell means ``rgb_cells`` (h, w, 3) float32 it was found in is a pale or bluish
    streak, not a bar: its LOW_CELLS least green cells paler than MAX_GREY_RATIO x its box's median grey or bluer than
    its median blue share by more than MAX_BLUE_EXCESS (:func:`vision.planks.chroma_cells`' units)."""
    half = max(4, int(r.length_mm / (2.0 * CELL_MM)))
    c = int(round(r.col))
    box = rgb_cells[max(r.first_row - 2, 0) : r.last_row + 3, max(c - half, 0) : c + half + 1].reshape(-1, 3)
    total = box.sum(axis=1) + 1.0
    green, blue, grey = box[:, 1] / total, box[:, 2] / total, box.mean(axis=1)
    low = np.argsort(green)[:LOW_CELLS]
    pale = grey[low].mean() > MAX_GREY_RATIO * max(float(np.median(grey)), 1.0)
    return bool(pale or 1000.0 * (blue[low].mean() - np.median(blue)) > MAX_BLUE_EXCESS)


class MetalBarStream(PlankStream):
    """The plank stream on :data:`CELL_MM` cells with :data:`METAL_PARAMS` (or ``params``) at ``mm_per_px``:
    :meth:`push_frame` takes the frame's pixels and belt columns."""

    def __init__(self, mm_per_px: float, params: PlankParams = METAL_PARAMS) -> None:
        self.block = cell_block(mm_per_px)
        super().__init__(params, self.block * float(mm_per_px))

    def push_frame(self, image: np.ndarray, belt_px: np.ndarray, start_row_px: int, ore_share: float) -> list[tuple[PlankRegion, int]]:
        """:meth:`PlankStream.push` of a frame ``image`` (H, W, 3) uint8 whose first row is belt row ``start_row_px``
        (pixels) over the belt columns ``belt_px`` (W,) bool; a frame whose belt's ore share ``ore_share`` is under
        :data:`FRAME_MIN_ORE` is not searched (the carried rows are decided, then forgotten: a gap)."""
        if ore_share < FRAME_MIN_ORE:
            return self.flush()
        rgb, cols = metal_cells(image, belt_px, self.block)
        return self.push(rgb, np.broadcast_to(cols, rgb.shape[:2]), start_row_px // self.block)

    def _decide(self, rgb: np.ndarray, belt: np.ndarray, start_row: int, final: bool) -> list[tuple[PlankRegion, int]]:
        return [(r, row0) for r, row0 in super()._decide(rgb, belt, start_row, final) if not pale_or_blue(rgb, r)]

    def in_cells(self, found: list[tuple[PlankRegion, int]], cell_mm: float) -> list[tuple[PlankRegion, float]]:
        """The regions ``found`` (region, belt row of its block, in this stream's cells) with their centre, rows and
        block row in cells of ``cell_mm`` (the detector's), the same place on the belt; sizes, score and load as
        they were."""
        f = self.cell_mm / float(cell_mm)
        return [(replace(r, row=(r.row + 0.5) * f - 0.5, col=(r.col + 0.5) * f - 0.5, first_row=int(r.first_row * f),
                         last_row=int(r.last_row * f)), row0 * f) for r, row0 in found]


__all__ = ["CELL_MM", "FRAME_MIN_ORE", "LOW_CELLS", "MAX_BLUE_EXCESS", "MAX_GREY_RATIO", "METAL_LEVEL", "METAL_PARAMS", "MIN_LENGTH_MM", "MetalBarStream", "cell_block",
           "metal_cells", "metal_params", "pale_or_blue"]
