"""Seeds on straight dark bars: thin planks darker than the ore, told from the gaps between rocks by their length.

A wet or dark plank 10-33 mm wide spans one to four 8 mm cells; cell by cell it is a dark bar, but so are the
shadowed gaps between rocks, and a per-cell threshold on the dark-bar strength (``DetectorParams.dark_ridge_threshold``)
fires on both. What a gap between rocks does not do is hold its direction over a plank's length. Per cell, the
Hessian of the relative grey smoothed at :data:`BAR_SIGMA_MM` gives a dark-bar strength R = sigma² x max(0, l2 - |l1|)
(the bright-ridge measure of :func:`vision.detect.ridge_score` on the negated grey, at one scale) and the bar's axis
(the eigenvector of l1). A cell with R above ``ridge_threshold`` seeds only when its *line support* is above
``support_threshold``: the mean of R over the 2 x ``half_cells`` + 1 cells along its own axis, an oriented line filter
steered per cell by the Hessian. Dense maps cost one Gaussian and a few array operations; the line sums are gathered
for the cells above the R level only (about 1 % of the belt), vectorised: no loop per pixel or per angle.

Like the dark-bar seeds they fire only on rows at full burden (``DetectorParams.dark_ridge_min_load``: today's
patchwork has straight bare-belt gaps between ore tiles). Off in every fitted model: switched on at run time by
``Detector.bar_seeds`` (a :class:`BarSeeds`); :func:`calibrate` sets both thresholds as the other seed thresholds are
set, quantiles of the values on normal belt of fit tiles. Measured against the dark-ridge seeds in docs/vision.md
(*Candidate sources for thin dark planks*): at matched extra candidates they are not better.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.filters import gaussian

#: Gaussian scale (mm) of the line support's Hessian: planks 10-33 mm wide (one scale: the detector's budget).
BAR_SIGMA_MM = 8.0
#: Length (mm) along which a bar must hold its direction: about a 50 mm object's length.
BAR_MM = 48.0
#: Quantiles of R and of the line support over normal full-burden belt cells that set the two thresholds.
RIDGE_QUANTILE = 0.995
SUPPORT_QUANTILE = 0.99


@dataclass(frozen=True)
class BarSeeds:
    """Straight-dark-bar seeds: dark-bar strength R above ``ridge_threshold`` and line support above
    ``support_threshold``, with the Hessian at ``sigma_cells`` and lines of 2 x ``half_cells`` + 1 cells."""

    ridge_threshold: float
    support_threshold: float
    sigma_cells: float
    half_cells: int

    @classmethod
    def at(cls, cell_mm: float, ridge_threshold: float, support_threshold: float) -> "BarSeeds":
        """The seeds for cells of ``cell_mm``: :data:`BAR_SIGMA_MM` (at least 0.7 cells), :data:`BAR_MM`."""
        return cls(ridge_threshold, support_threshold, max(0.7, BAR_SIGMA_MM / cell_mm), max(1, int(round(BAR_MM / 2 / cell_mm))))

    def guard_cells(self) -> int:
        """Rows at a frame's end whose seeds depend on rows not seen yet."""
        return int(np.ceil(3 * self.sigma_cells)) + 1 + self.half_cells


def bar_field(lum: np.ndarray, sigma_cells: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, a, b), each (h, w) float32, of the relative grey ``lum`` (h, w) at the Gaussian scale ``sigma_cells``: the
    scale-normalised dark-bar strength R and (a, b) = (hyy - hxx, 2 hxy), whose angle is twice that of the bar's
    normal (rows axis first). Central differences of the smoothed grey, in place."""
    g = np.pad(gaussian(lum, sigma_cells, truncate=3.0), 1, mode="edge")
    c2 = 2 * g[1:-1, 1:-1]
    hyy = g[2:, 1:-1] + g[:-2, 1:-1]
    hyy -= c2
    hxx = g[1:-1, 2:] + g[1:-1, :-2]
    hxx -= c2
    b = g[2:, 2:] - g[2:, :-2]  # 2 hxy = half the cross difference
    b -= g[:-2, 2:]
    b += g[:-2, :-2]
    b *= np.float32(0.5)
    a = hyy - hxx
    hxx += hyy  # the trace l1 + l2
    r = np.minimum(hxx, np.hypot(a, b), out=hxx)  # min(l1 + l2, l2 - l1) = l2 - |l1|: large across a dark bar
    np.maximum(r, 0.0, out=r)
    r *= np.float32(sigma_cells * sigma_cells)
    return r, a, b


def line_support(r: np.ndarray, a: np.ndarray, b: np.ndarray, rows: np.ndarray, cols: np.ndarray, half_cells: int) -> np.ndarray:
    """Mean of ``r`` (h, w) over the 2 x ``half_cells`` + 1 cells along the bar's axis through each cell
    (``rows``, ``cols``) (n,), the axis from :func:`bar_field`'s (a, b) there (nearest cells; clipped at the edges)."""
    normal = 0.5 * np.arctan2(b[rows, cols], a[rows, cols])
    step_r, step_c = -np.sin(normal), np.cos(normal)  # the axis: the normal turned by 90 degrees
    h, w = r.shape
    acc = np.zeros(rows.shape, np.float32)
    for k in range(-half_cells, half_cells + 1):
        rr = np.clip(np.rint(rows + k * step_r).astype(np.intp), 0, h - 1)
        cc = np.clip(np.rint(cols + k * step_c).astype(np.intp), 0, w - 1)
        acc += r[rr, cc]
    return acc / np.float32(2 * half_cells + 1)


def bar_seeds(lum: np.ndarray, belt: np.ndarray, full_rows: np.ndarray, bars: BarSeeds) -> np.ndarray:
    """Seed cells (h, w) bool: belt cells (``belt`` (h, w) bool) on rows ``full_rows`` (h,) bool whose dark-bar
    strength R (:func:`bar_field` of the relative grey ``lum`` (h, w)) exceeds ``bars.ridge_threshold`` and whose
    line support (:func:`line_support`) exceeds ``bars.support_threshold``."""
    out = np.zeros(lum.shape, bool)
    on = np.flatnonzero(belt.any(axis=0))
    if not (full_rows.any() and on.size):
        return out
    span = slice(int(on[0]), int(on[-1]) + 1)  # the belt's columns: the frame's steel edges cost nothing
    lum, belt = lum[:, span], belt[:, span]
    r, a, b = bar_field(np.where(belt, lum, np.float32(0.0)).astype(np.float32, copy=False), bars.sigma_cells)
    rows, cols = np.nonzero((r > bars.ridge_threshold) & belt & full_rows[:, None])
    keep = line_support(r, a, b, rows, cols, bars.half_cells) > bars.support_threshold
    out[rows[keep], cols[keep] + span.start] = True
    return out


def calibrate(images: list[tuple[np.ndarray, np.ndarray, np.ndarray]], cell_mm: float, ridge_quantile: float = RIDGE_QUANTILE,
              support_quantile: float = SUPPORT_QUANTILE) -> BarSeeds:
    """The seeds for cells of ``cell_mm`` with their thresholds at the quantiles ``ridge_quantile`` of R and
    ``support_quantile`` of the line support over normal belt, given per image as (relative grey (h, w), belt (h, w)
    bool, cells to use (h, w) bool: full-burden belt cells). Raises ValueError when no cell is given."""
    bars = BarSeeds.at(cell_mm, 0.0, 0.0)
    ridge, support = [], []
    for lum, belt, use in images:
        r, a, b = bar_field(np.where(belt, lum, np.float32(0.0)).astype(np.float32, copy=False), bars.sigma_cells)
        rows, cols = np.nonzero(use)
        ridge.append(r[rows, cols])
        support.append(line_support(r, a, b, rows, cols, bars.half_cells))
    if not sum(v.size for v in ridge):
        raise ValueError("no full-burden belt cells to calibrate the bar seeds on")
    return BarSeeds.at(cell_mm, float(np.quantile(np.concatenate(ridge), ridge_quantile)),
                       float(np.quantile(np.concatenate(support), support_quantile)))


__all__ = ["BAR_MM", "BAR_SIGMA_MM", "BarSeeds", "RIDGE_QUANTILE", "SUPPORT_QUANTILE", "bar_field", "bar_seeds", "calibrate", "line_support"]
