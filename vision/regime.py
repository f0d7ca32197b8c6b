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


__all__ = ["LOAD_WINDOW_MM", "load_at", "row_load", "windowed"]
