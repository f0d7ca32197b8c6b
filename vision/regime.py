"""The belt condition around a candidate, measured from the frame itself: how fully the ore covers the belt.

The object decision (:mod:`vision.decision`) is set per belt condition, CFAR-style: a patchwork of loaded and bare
belt (today's scenes: 35-78 % of the belt's cells ore-coloured per 4 m) throws up false candidates that a full
burden of ore (99-100 %) never does, so one level for both lets the patchwork's single lowest false candidate set the
decision for every belt. The *load* is the share of the belt's cells that look like ore (:func:`~vision.scene.ore_mask`
on the cells' mean colour), averaged over LOAD_WINDOW_MM of belt centred on the candidate's row (clipped to the rows
the detector holds). The fit and the detector both take it with :func:`load_at`.
"""

from __future__ import annotations

import numpy as np

from vision.scene import ore_mask

#: Belt (mm along it) over which the load around a candidate is averaged: about one frame of the line camera.
LOAD_WINDOW_MM = 4000.0
#: Half-width (mm across) of the neighbourhood of the local load (:func:`local_load`, ``Detector.local_load``). The
#: real belt's ore stops ~123 mm inside its edge (:data:`vision.scene.EDGE_MARGIN_MM`); that bare strip (at 0.38 of the
#: ore's grey) and the black beyond lie outside the detector's belt columns, so the whole-belt load of a full burden
#: stays 0.997-0.999 right up to the ore's boundary. Counting every cell in view, a window of +-200 mm falls below the
#: full burden's bin (:data:`vision.decision.LOAD_EDGE` 0.9) once 40 mm of it lie beyond the boundary, i.e. for
#: candidates within 0.8 x 200 = 160 mm of it (the boundary's false alarms lie 0-150 mm inside it), while a candidate
#: 200 mm or more inside sees ore only; objects (<= 300 mm) cover a few % of the 4 m x 0.4 m window.
LOCAL_LOAD_HALF_MM = 200.0


def row_load(rgb_cells: np.ndarray, belt: np.ndarray, ore: np.ndarray | None = None) -> np.ndarray:
    """Share (h,) of each row's belt cells (``belt`` (h, w) or (w,) bool) whose mean colour ``rgb_cells``
    (h, w, 3, 0..255) looks like ore; NaN for a row without belt. ``ore``: ``ore_mask(rgb_cells)`` (h, w) where the
    caller has it."""
    belt = np.broadcast_to(belt, rgb_cells.shape[:2])
    n = belt.sum(axis=1)
    ore = ((ore_mask(rgb_cells) if ore is None else ore) & belt).sum(axis=1)
    return np.where(n > 0, ore / np.maximum(n, 1), np.nan)


def windowed(loads: np.ndarray, rows: np.ndarray, cell_mm: float) -> np.ndarray:
    """Mean of the row loads ``loads`` (h,) over LOAD_WINDOW_MM centred on each of ``rows`` (cell rows, float),
    clipped to 0..h, rows without belt left out (NaN when the window has none)."""
    h = loads.shape[0]
    ok = np.isfinite(loads)
    cum = np.concatenate([[0.0], np.cumsum(np.where(ok, loads, 0.0))])
    cnt = np.concatenate([[0], np.cumsum(ok)])
    half = max(1, int(round(LOAD_WINDOW_MM / cell_mm / 2)))
    centre = np.clip(np.round(np.asarray(rows, float)).astype(np.int64), 0, max(h - 1, 0))
    a, b = np.clip(centre - half, 0, h), np.clip(centre + half + 1, 0, h)
    n = cnt[b] - cnt[a]
    return np.where(n > 0, (cum[b] - cum[a]) / np.maximum(n, 1), np.nan)


def load_at(rgb_cells: np.ndarray, belt: np.ndarray, rows: np.ndarray, cell_mm: float) -> np.ndarray:
    """The load (share of ore-coloured belt cells over LOAD_WINDOW_MM) at each of ``rows`` (cell rows)."""
    return windowed(row_load(rgb_cells, belt), rows, cell_mm)


def local_load(ore: np.ndarray, rows: np.ndarray, cols: np.ndarray, cell_mm: float,
               half_mm: float = LOCAL_LOAD_HALF_MM) -> np.ndarray:
    """Share (n,) of ore-coloured cells (``ore`` (h, w) bool: every cell in view, belt or not) in the window of
    LOAD_WINDOW_MM along and +-``half_mm`` across centred on each candidate (cell ``rows``, ``cols`` (n,), float),
    clipped to the block; NaN for a NaN centre or an empty block. One summed-area table, no loop per candidate."""
    ore = np.asarray(ore, bool)
    rows, cols = np.asarray(rows, float), np.asarray(cols, float)
    if ore.ndim != 2 or rows.shape != cols.shape or not cell_mm > 0 or not half_mm >= 0:
        raise ValueError(f"expected ore (h, w), rows and cols alike, cell_mm > 0, half_mm >= 0; got {ore.shape}, "
                         f"{rows.shape}, {cols.shape}, {cell_mm}, {half_mm}")
    h, w = ore.shape
    ok = np.isfinite(rows) & np.isfinite(cols)
    if h == 0 or w == 0:
        return np.full(rows.shape, np.nan)
    sat = np.zeros((h + 1, w + 1), np.int64)
    sat[1:, 1:] = ore.cumsum(axis=0).cumsum(axis=1)
    half_r = max(1, int(round(LOAD_WINDOW_MM / cell_mm / 2)))
    half_c = int(round(half_mm / cell_mm))
    r = np.clip(np.round(np.where(ok, rows, 0.0)).astype(np.int64), 0, h - 1)
    c = np.clip(np.round(np.where(ok, cols, 0.0)).astype(np.int64), 0, w - 1)
    r0, r1 = np.clip(r - half_r, 0, h), np.clip(r + half_r + 1, 0, h)
    c0, c1 = np.clip(c - half_c, 0, w), np.clip(c + half_c + 1, 0, w)
    n = (r1 - r0) * (c1 - c0)
    count = sat[r1, c1] - sat[r0, c1] - sat[r1, c0] + sat[r0, c0]
    return np.where(ok & (n > 0), count / np.maximum(n, 1), np.nan)


def judged_load(belt_load: np.ndarray, local: np.ndarray) -> np.ndarray:
    """The load a candidate is judged at with the local load on: the lower of its whole-belt load and its
    :func:`local_load` (the interior of a full burden unchanged); the whole-belt load where the local one is NaN, NaN
    (the strictest decision) where the whole-belt load is."""
    belt_load, local = np.asarray(belt_load, float), np.asarray(local, float)
    return np.where(np.isfinite(local), np.minimum(belt_load, local), belt_load)


__all__ = ["LOAD_WINDOW_MM", "LOCAL_LOAD_HALF_MM", "judged_load", "load_at", "local_load", "row_load", "windowed"]
