"""Per-cell colour and texture features of a belt image (vectorised, float32).

An (H, W, 3) uint8 image is cut into square cells of ``block`` px. Per cell:

- ``r``, ``g``: chromaticity R/(R+G+B), G/(R+G+B) (insensitive to lighting level);
- ``lum``: log mean grey relative to the belt's median along the belt (slow lighting drift removed);
- ``fine``: log contrast (std / mean grey) inside the cell, from a 2x subsample when ``block >= 4``;
- ``coarse``: log std of ``lum`` over the 3x3 neighbouring cells.

Rows that do not fill a whole cell are dropped (the caller carries them to the next frame).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from vision.filters import box_mean

FEATURES = ("r", "g", "lum", "fine", "coarse")
#: Cell rows per lighting band: the belt's median grey is taken per band of this many cell rows.
BAND_CELLS = 32
#: Belt columns are coloured (green belt, red ore): median |G-B| + |R-B| above this share of their grey level.
#: The steel frame, even under a dust haze, stays below it.
MIN_BELT_CHROMA = 0.45


@dataclass
class CellFeatures:
    """Features of one image, each (h, w) float32, plus cell means (h, w, 3) float32 and the belt column mask (w,)."""

    r: np.ndarray
    g: np.ndarray
    lum: np.ndarray
    fine: np.ndarray
    coarse: np.ndarray
    rgb: np.ndarray
    belt_cols: np.ndarray
    #: the belt's median log grey of the last band of rows (the next frame's ``ref_start``)
    last_ref: float = float("nan")

    def stack(self, above: np.ndarray | None = None) -> np.ndarray:
        """Features as (h, w, 5) float32 in FEATURES order; with ``above`` (k, w, 5) those rows first, (k + h, w, 5)
        (one copy instead of a stack and a concatenation)."""
        k = 0 if above is None else above.shape[0]
        out = np.empty((k + self.r.shape[0],) + self.r.shape[1:] + (len(FEATURES),), np.float32)
        if above is not None:
            out[:k] = above
        for i, m in enumerate((self.r, self.g, self.lum, self.fine, self.coarse)):
            out[k:, :, i] = m
        return out


def cell_sums(image: np.ndarray, block: int) -> np.ndarray:
    """Integer sums (H//block, W//block, C) of each ``block`` x ``block`` cell of an (H, W, C) uint8 image (a view with
    a stride of a cell: its first pixel's slots of the summed rows)."""
    h, w, c = image.shape[0] // block, image.shape[1] // block, image.shape[2]
    n = w * block * c
    v = image[: h * block, : w * block].reshape(h, block, n)
    acc: np.ndarray = v[:, 0].astype(np.uint16 if block * block * 255 < 65536 else np.uint32)
    for i in range(1, block):
        acc += v[:, i]
    if block > 1:  # each pixel's slot plus those of the next block - 1 pixels, on whole contiguous rows (not (.., 3) pieces)
        tot = acc.copy()
        for k in range(1, block):
            tot[:, : n - k * c] += acc[:, k * c :]
        acc = tot
    return acc.reshape(h, w, block * c)[:, :, :c]


def block_means(image: np.ndarray, block: int) -> np.ndarray:
    """Mean of each ``block`` x ``block`` cell of an (H, W, C) uint8 or float32 image → (H//block, W//block, C) float32."""
    if image.dtype == np.uint8:  # whole numbers < 2**24: summed as integers, they equal float32 sums
        out: np.ndarray = cell_sums(image, block).astype(np.float32)
        out *= 1.0 / (block * block)
        return out
    h, w = image.shape[0] // block, image.shape[1] // block
    v = image[: h * block, : w * block].reshape(h, block, w * block * image.shape[2])
    acc = v[:, 0].astype(np.float32)
    for i in range(1, block):
        acc += v[:, i]
    a = acc.reshape(h, w, block, image.shape[2])
    out = a[:, :, 0].astype(np.float32)
    for i in range(1, block):
        out += a[:, :, i]
    out *= 1.0 / (block * block)
    return out


def _grey_moments(sub: np.ndarray, bs: int, m1: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cell means (h, w) float32 of the grey level (R+G+B) and of its square over ``bs`` x ``bs`` pixels of the
    uint8 image ``sub``. The sums are whole numbers: below 2**24 they are summed as integers, which gives the float32
    sums exactly (a cheaper pass); above, in float32 as ever. ``m1``: the cells' grey means when at hand (from the
    cells' integer sums: the same numbers)."""
    if sub.dtype == np.uint8 and bs * bs * 765 * 765 < 1 << 24:  # bs <= 5: the grey sums fit uint16, their squares uint32
        gi = sub[..., 0].astype(np.uint16)
        gi += sub[..., 1]
        gi += sub[..., 2]
        if m1 is None:
            m1 = _int_block_means(gi, bs)
        return m1, _int_block_means(np.square(gi, dtype=np.uint32), bs)
    g = sub[..., 0].astype(np.float32)
    g += sub[..., 1]
    g += sub[..., 2]
    return block_means(g[..., None], bs)[..., 0], block_means((g * g)[..., None], bs)[..., 0]


def _int_block_means(v: np.ndarray, block: int) -> np.ndarray:
    """Means (float32) of ``block`` x ``block`` cells of the integer map ``v`` (H, W), whose cell sums fit its dtype."""
    h, w = v.shape[0] // block, v.shape[1] // block
    rows = v[: h * block, : w * block].reshape(h, block, w * block)
    acc = rows[:, 0].copy()
    for i in range(1, block):
        acc += rows[:, i]
    a = acc.reshape(h, w, block)
    tot = a[:, :, 0].copy()
    for i in range(1, block):
        tot += a[:, :, i]
    out = tot.astype(np.float32)
    out *= 1.0 / (block * block)
    return out


def belt_columns(rgb_cells: np.ndarray, min_run: int = 8) -> np.ndarray:
    """Columns of cells that show belt (bright, coloured) rather than the dark frame: bool (w,).

    The longest run of belt-like columns is kept and trimmed by one cell each side.
    """
    step = max(1, rgb_cells.shape[0] // 64)  # a subsample of rows is plenty for a median per column
    sub = rgb_cells[::step]
    grey = (sub[..., 0] + sub[..., 1] + sub[..., 2]) * (1.0 / 3.0)
    col_grey = row_medians(grey.T)  # medians along contiguous rows (the same values)
    w = col_grey.shape[0]
    ref = np.median(col_grey[w // 4 : 3 * w // 4]) if w >= 4 else np.median(col_grey)
    chroma = row_medians((np.abs(sub[..., 1] - sub[..., 2]) + np.abs(sub[..., 0] - sub[..., 2])).T)
    ok = (col_grey > 0.6 * ref) & (chroma > 0.15 * ref) & (chroma > MIN_BELT_CHROMA * col_grey)
    return longest_run(ok, min_run)


def row_medians(a: np.ndarray) -> np.ndarray:
    """``np.median(a, axis=1)`` of a NaN-free float (n, m) array, the same numbers: one partition at the upper middle
    element; the lower middle (even m) is the largest element left of it, and the two are averaged as np.median does."""
    m = a.shape[1] // 2
    if a.shape[1] == 0 or a.shape[0] == 0:
        return np.median(a, axis=1)
    part = np.partition(a, m, axis=1)
    if a.shape[1] % 2:
        return part[:, m].copy()
    return (part[:, :m].max(axis=1) + part[:, m]) / 2


def longest_run(ok: np.ndarray, min_run: int) -> np.ndarray:
    """The longest run of True in the columns ``ok`` (w,), trimmed by one cell each side; all False when that run is
    shorter than ``min_run`` cells after trimming (or ``ok`` has none)."""
    mask = np.zeros(ok.shape[0], dtype=bool)
    if not ok.any():
        return mask
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2]
    i = int(np.argmax(ends - starts))
    a, b = starts[i] + 1, ends[i] - 1
    if b - a >= min_run:
        mask[a:b] = True
    return mask


def _channel_total(sums: np.ndarray, dtype: type) -> np.ndarray:
    """R + G + B of integer cell sums (h, w, 3) as ``dtype`` (the channels added one by one: a sum over an axis of 3
    is slow)."""
    out: np.ndarray = sums[..., 0].astype(dtype)
    out += sums[..., 1]
    out += sums[..., 2]
    return out


@functools.lru_cache(maxsize=8)
def _log_grey_table(block: int) -> np.ndarray:
    """log grey (float32) of every integer grey sum of a ``block`` x ``block`` cell, by the float32 steps of
    :func:`cell_features` (sum x 1 / block², + 1, x 1/3, log): index i is the ``lum`` before its reference of a cell whose
    R + G + B sum is i."""
    total = np.arange(765 * block * block + 1).astype(np.float32)
    total *= 1.0 / (block * block)
    total += 1.0
    table = np.log(total * (1.0 / 3.0))
    table.flags.writeable = False
    return table


def counted_band_medians(sums: np.ndarray, table: np.ndarray, band: int) -> np.ndarray:
    """``np.median`` of ``table[sums]`` over each band of ``band`` rows of the integer map ``sums`` (h, n) (the last
    band the rows left), (ceil(h / band),) float32, without sorting: the table is non-decreasing, so the middle
    values are the table's values at the middle sums, found by counting the sums of each band. ValueError when
    ``table`` is not non-decreasing or a sum lies beyond it."""
    h, n = sums.shape
    nb, k = max(1, -(-h // band)), table.size
    if n == 0 or h == 0:
        return np.full(nb, np.nan, np.float32)
    if np.any(np.diff(table) < 0):
        raise ValueError("expected a non-decreasing table")
    top = int(sums.max())
    if top >= k:
        raise ValueError(f"a sum of {top} lies beyond the table of {k} values")
    idx = (np.arange(h, dtype=np.int32) // band * k)[:, None] + sums
    counts = np.bincount(idx.ravel(), minlength=nb * k).reshape(nb, k)
    cum = np.cumsum(counts, axis=1)
    size = cum[:, -1]
    lo = table[np.argmax(cum > ((size - 1) // 2)[:, None], axis=1)]  # the lower and upper middle values
    hi = table[np.argmax(cum > (size // 2)[:, None], axis=1)]
    return np.where(size % 2 == 1, hi, (lo + hi) / 2).astype(np.float32)


def cell_features(image: np.ndarray, block: int, belt_cols: np.ndarray | None = None,
                  ref_start: float | None = None) -> CellFeatures:
    """Features of an (H, W, 3) uint8 image in ``block``-px cells; ``belt_cols`` (w,) bool overrides belt detection.
    ``ref_start``: the belt's median log grey just above the image (the frame before's ``last_ref``): the reference
    of ``lum`` then runs from it at the first row to the first band's median, with no step at the frame's edge."""
    sums = cell_sums(image, block)
    rgb = sums.astype(np.float32)
    rgb *= 1.0 / (block * block)  # = block_means(image, block)
    h, w = rgb.shape[:2]
    # the cells' grey sums as integers: with a cell of 2**k px a side the channel means are exact in float32 and so is
    # their sum, the grey sum's mean (the same numbers as adding the means), and log grey is one function of the sum
    counted = block & (block - 1) == 0 and 765 * block * block < 1 << 16
    gsum = _channel_total(sums, np.uint16) if counted else None
    if gsum is not None:
        m1 = gsum.astype(np.float32)
        m1 *= 1.0 / (block * block)
        total = m1 + 1.0
    else:
        m1 = None
        total = rgb[..., 0] + rgb[..., 1]
        total += rgb[..., 2]
        total += 1.0
    inv = 1.0 / total
    r = rgb[..., 0] * inv
    g = rgb[..., 1] * inv
    grey = total * (1.0 / 3.0)
    logg = np.log(grey)
    cols = belt_columns(rgb) if belt_cols is None else belt_cols
    sel = cols if cols.any() else np.ones(w, bool)
    # belt median grey per band of cell rows, interpolated along the belt
    nb = max(1, int(np.ceil(h / BAND_CELLS)))
    full = h // BAND_CELLS
    if gsum is not None:
        med = counted_band_medians(gsum[:, sel], _log_grey_table(block), BAND_CELLS)
    else:
        band = logg[:, sel]
        med = np.empty(nb, np.float32)
        if full:
            med[:full] = row_medians(band[: full * BAND_CELLS].reshape(full, -1))
        if nb > full:
            med[full] = np.median(band[full * BAND_CELLS :])
    centres = (np.arange(nb) + 0.5) * BAND_CELLS
    if ref_start is not None and np.isfinite(ref_start):
        centres, med = np.concatenate([[0.0], centres]), np.concatenate([[ref_start], med]).astype(np.float32)
    if med.size > 1:
        ref = np.interp(np.arange(h) + 0.5, centres, med).astype(np.float32)
    else:
        ref = np.full(h, med[0], np.float32)
    lum = logg - ref[:, None]
    # fine texture: grey contrast inside the cell
    step = 2 if block >= 4 else 1
    sub = image[: h * block : step, : w * block : step]
    bs = block // step
    if bs > 1:
        m1, m2 = _grey_moments(sub, bs, m1 if step == 1 else None)
        var = np.maximum(m2 - m1 * m1, 0.0)
        fine = 0.5 * np.log(var + 9.0) - np.log(m1 + 3.0)
    else:
        fine = np.zeros((h, w), np.float32)
    # coarse texture: std of lum over 3x3 cells
    mu, mu2 = box_mean(np.stack([lum, lum * lum]), 3)
    coarse = 0.5 * np.log(np.maximum(mu2 - mu * mu, 0.0) + 1e-4)
    return CellFeatures(r, g, lum, fine.astype(np.float32, copy=False), coarse.astype(np.float32, copy=False), rgb, cols,
                        float(med[-1]))
