"""Colour-contrast matched filter on the detector's cell means (issue 27): the blind observer's test at the line's speed.

The ideal-observer ceiling (:mod:`vision.detectability`) found that an observer knowing only an object's mean colour
and footprint would find most of the objects the union misses. This does what that observer does, blind to the kind:

1. **Cells.** The detector's own 8 mm cell means (``CellFeatures.rgb``; no second pass over the pixels), merged
   ``merge`` x ``merge`` (16 mm at 4 mm/px): objects >= 50 mm are >= 3 merged cells and most of their signal is at
   low frequency.
2. **Contrast.** Each channel minus its local mean over ``mean_mm`` (larger than any footprint searched), divided by
   the local mean grey, in per cent: the lighting's gain and the load's changes cancel.
3. **Prewhitening.** The contrast times the inverse of the ore's 3 x 3 clutter cross-spectral density
   (:func:`vision.detectability.clutter_psd` on fit-split object-free belt), applied as a spatial kernel by FFT.
4. **Footprints.** Box sums (an integral image) of each whitened channel over each footprint of ``footprints_mm``
   (rows x columns, mm): the footprint-averaged colour vector u (3,) at every place.
5. **Score.** Colour unknown: the GLRT u^T C^-1 u, C the covariance of u on fit belt (chi-square with 3 degrees of
   freedom under Gaussian clutter; the ore's tail is heavier, so the level is set on belt, not from the chi-square);
   or, with ``directions`` (a colour bank), the largest (d^T C^-1 u)^2 / d^T C^-1 d over the directions d.
6. **Regions.** Places whose best footprint's score reaches ``level``, 8-connected, one region each at its peak; its
   size is its best footprint's.

:class:`MatchedFilter` holds the fitted state (kernel, covariances, level; saved as .npz); :class:`MatchedStream`
decides each region once over a stream of frames, as :class:`vision.planks.PlankStream` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.fft as sfft
from scipy import ndimage as ndi

from vision.detectability import clutter_psd
from vision.errors import FrameError
from vision.regime import load_at

#: Footprints searched (rows x columns along x across the belt, mm): about 50, 100 and 200 mm squares and a plank
#: 32 x 128 mm along and across the belt.
FOOTPRINTS_MM: tuple[tuple[float, float], ...] = ((48.0, 48.0), (96.0, 96.0), (192.0, 192.0), (384.0, 384.0), (128.0, 32.0),
                                                  (32.0, 128.0))
#: Belt load (:mod:`vision.regime`) from which a region is reported: a full burden (realistic 0.99-1.00, dark ore
#: 0.88-1.00 on fit belt); today's patchwork of loaded and bare belt mostly below (0.36-0.6 there, 0.92 at most), its tiles' edges
#: against the bare belt are not tested.
MIN_LOAD = 0.9
#: Ridge of the PSD's inverse added for stability (share of its mean per-channel level).
PSD_RIDGE = 0.01


@dataclass(frozen=True)
class MatchedParams:
    """How the filter looks: merged cells (``merge`` x ``merge`` detector cells), local mean scale (mm), footprints,
    spectral prewhitening on or off (off: colour covariance only), PSD window (merged cells), belt-edge margin (mm)."""

    merge: int = 2
    mean_mm: float = 800.0
    footprints_mm: tuple[tuple[float, float], ...] = FOOTPRINTS_MM
    whiten: bool = True
    psd_cells: int = 32
    edge_mm: float = 64.0
    local_rms: bool = True
    surround_mm: float = 48.0
    clip: float = 2.5
    min_load: float = MIN_LOAD

    def __post_init__(self) -> None:
        if self.merge < 1 or self.psd_cells < 8 or not self.footprints_mm or self.mean_mm <= 0 or self.edge_mm < 0:
            raise ValueError(f"bad matched-filter parameters: {self}")


@dataclass(frozen=True)
class MatchedRegion:
    """One region above the level: peak place (row, col in detector cells of its block), its footprint (mm), score,
    its first and last row (detector cells) and the index of its footprint."""

    row: float
    col: float
    length_mm: float
    width_mm: float
    score: float
    first_row: int
    last_row: int
    footprint: int
    load: float = float("nan")


@dataclass
class MatchedFilter:
    """The fitted filter: ``params``; ``kernel`` (K, K, 3, 3) the spatial prewhitening kernel (lags centred at K // 2;
    None without prewhitening); ``cov`` (F, 3, 3) each footprint's covariance of u on fit belt; ``directions`` (D, 3)
    the colour bank (empty: the GLRT over colour); ``level`` on the score; ``cell_mm`` the detector cell (mm);
    ``provenance`` how and on what belt it was fitted."""

    params: MatchedParams
    cell_mm: float
    kernel: np.ndarray | None
    cov: np.ndarray
    directions: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    level: float = float("inf")
    provenance: dict = field(default_factory=dict)
    _spectra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.cov = np.asarray(self.cov, np.float64)
        nf = len(self.params.footprints_mm)
        if self.cov.shape != (nf, 3, 3) or not np.all(np.isfinite(self.cov)):
            raise ValueError(f"matched filter: cov must be finite ({nf}, 3, 3), got shape {self.cov.shape}")
        inv = np.linalg.inv(self.cov)
        self._inv = inv
        self._chol = np.linalg.cholesky(inv)  # T = ||L^T u||^2
        self.directions = np.asarray(self.directions, np.float64).reshape(-1, 3)
        norm = np.einsum("di,fij,dj->fd", self.directions, inv, self.directions)
        self._bank = (np.einsum("fij,dj->fdi", inv, self.directions) / np.sqrt(np.maximum(norm, 1e-12))[..., None]).astype(np.float32)
        if self.kernel is not None:
            k = np.asarray(self.kernel, np.float64)
            if k.ndim != 4 or k.shape[0] != k.shape[1] or k.shape[2:] != (3, 3) or not np.all(np.isfinite(k)):
                raise ValueError(f"matched filter: kernel must be finite (K, K, 3, 3), got shape {k.shape}")
            self.kernel = k

    @property
    def merged_mm(self) -> float:
        """Side of a merged cell (mm)."""
        return self.cell_mm * self.params.merge

    def boxes(self) -> list[tuple[int, int]]:
        """Each footprint in merged cells (rows, cols), at least 1 x 1."""
        return [(max(1, round(r / self.merged_mm)), max(1, round(c / self.merged_mm))) for r, c in self.params.footprints_mm]

    def guard_cells(self) -> int:
        """Rows (detector cells) at a block's ends whose scores depend on rows beyond it."""
        k = 0 if self.kernel is None else self.kernel.shape[0] // 2
        half_mean = int(np.ceil(self.params.mean_mm / self.merged_mm / 2))
        box = max(r for r, _ in self.boxes()) + 2 * int(round(self.params.surround_mm / self.merged_mm))
        return (half_mean + k + box + 2) * self.params.merge

    def whitened(self, contrast: np.ndarray) -> np.ndarray:
        """The contrast (h, w, 3) times the prewhitening kernel (zero beyond the edges; without one, as it is):
        (3, h, w) float32."""
        if self.kernel is None:
            return np.ascontiguousarray(np.moveaxis(contrast, 2, 0), np.float32)
        x = np.moveaxis(contrast, 2, 0).astype(np.float64)
        h, w = x.shape[1:]
        k = self.kernel.shape[0]
        shape = (sfft.next_fast_len(h + k, real=True), sfft.next_fast_len(w + k, real=True))
        spec = self._kernel_spectrum(shape)
        xf = sfft.rfft2(x, s=shape, axes=(1, 2), workers=1)
        yf = spec[:, 0] * xf[0] + spec[:, 1] * xf[1] + spec[:, 2] * xf[2]
        return sfft.irfft2(yf, s=shape, axes=(1, 2), workers=1)[:, :h, :w].astype(np.float32)

    def _kernel_spectrum(self, shape: tuple[int, int]) -> np.ndarray:
        if shape not in self._spectra:
            assert self.kernel is not None
            k = self.kernel.shape[0]
            big = np.zeros((3, 3) + shape)
            lags = np.arange(k) - k // 2
            rr, cc = np.meshgrid(lags % shape[0], lags % shape[1], indexing="ij")
            big[:, :, rr, cc] = np.moveaxis(self.kernel, (2, 3), (0, 1))
            self._spectra[shape] = sfft.rfft2(big, axes=(2, 3), workers=1)
        return self._spectra[shape]

    def strides(self) -> list[int]:
        """Each footprint's step between the places it is tested at (merged cells): 1 for the smallest, 2 for those
        at least twice its size (a quarter of the places; the score map repeats each value over its step)."""
        small = min(min(f) for f in self.boxes())
        return [1 if min(f) < 2 * small else 2 for f in self.boxes()]

    def footprint_sums(self, x: np.ndarray) -> list[tuple[np.ndarray, int, int, int]]:
        """Per footprint: (u (3, n_rows, n_cols), centre row and column of its first place, step), u the box sum of
        ``x`` (3, h, w) over the footprint less (with ``surround_mm``) the same area's share of the ring
        ``surround_mm`` wide around it (centre minus surround: the contrast against the ore beside it), at every
        place whose ring lies ``edge_mm`` inside the columns; empty where none fits."""
        h, w = x.shape[1:]
        s = np.zeros((3, h + 1, w + 1), np.float32)
        np.cumsum(x, axis=1, out=s[:, 1:, 1:])
        np.cumsum(s[:, 1:, 1:], axis=2, out=s[:, 1:, 1:])
        ring = int(round(self.params.surround_mm / self.merged_mm))
        edge = int(np.ceil(self.params.edge_mm / self.merged_mm))
        out = []
        for (a, b), st in zip(self.boxes(), self.strides()):
            ao, bo = a + 2 * ring, b + 2 * ring
            nr, nc = max(0, (h - ao) // st + 1), max(0, (w - 2 * edge - bo) // st + 1)
            inner = _box_grid(s, ring, edge + ring, a, b, nr, nc, st)
            if ring and nr and nc:
                inner -= (a * b / (ao * bo - a * b)) * (_box_grid(s, 0, edge, ao, bo, nr, nc, st) - inner)
            out.append((inner, ao // 2, edge + bo // 2, st))
        return out

    def statistic(self, u: np.ndarray, i: int) -> np.ndarray:
        """Score of footprint ``i``'s sums ``u`` (3, ...): the GLRT u^T C^-1 u, or the colour bank's best
        max(0, d^T C^-1 u)^2 / d^T C^-1 d."""
        if not len(self.directions):
            v = np.einsum("ji,j...->i...", self._chol[i].astype(np.float32), u)
            return np.einsum("i...,i...->...", v, v)
        a = self._bank[i]  # (D, 3): C^-1 d / sqrt(d^T C^-1 d)
        proj = np.einsum("di,i...->d...", a, u)
        return np.maximum(proj.max(axis=0), 0.0) ** 2

    def colour_at(self, rgb_cells: np.ndarray, belt: np.ndarray, places: list[tuple[float, float, float]]) -> np.ndarray:
        """Per place (row, col in detector cells, object length mm): the footprint sums u (3,) of the square
        footprint nearest the length, at the tested place within one step of it where u^T C^-1 u is largest
        (zeros where none fits): (n, 3). What the colour bank is measured from."""
        c, span = contrast_cells(rgb_cells, belt, self.params, self.cell_mm)
        out = np.zeros((len(places), 3))
        if c.shape[0] == 0 or c.shape[1] == 0:
            return out
        sums = self.footprint_sums(self.whitened(self.normalised(c)))
        squares = [i for i, (a, b) in enumerate(self.params.footprints_mm) if a == b]
        m = self.params.merge
        for k, (row, col, length_mm) in enumerate(places):
            i = min(squares, key=lambda j: abs(self.params.footprints_mm[j][0] - length_mm))
            u, r0, c0, st = sums[i]
            r, cc = int(round((row / m - r0) / st)), int(round((col / m - span.start - c0) / st))
            win = u[:, max(0, r - 1) : r + 2, max(0, cc - 1) : cc + 2].reshape(3, -1)
            if win.size:
                e = np.einsum("ij,jn,in->n", self._inv[i], win, win)
                out[k] = win[:, int(np.argmax(e))]
        return out

    def scores(self, rgb_cells: np.ndarray, belt: np.ndarray) -> tuple[np.ndarray, np.ndarray, slice]:
        """(score, footprint index), each (h', w') on merged cells of the belt's column span, and that span
        (merged-cell columns) for detector cells ``rgb_cells`` (h, w, 3) over ``belt`` (h, w) bool; 0 where no
        footprint fits ``edge_mm`` inside the belt. Raises FrameError on bad cells or a belt of another shape."""
        c, span = contrast_cells(rgb_cells, belt, self.params, self.cell_mm)
        best: np.ndarray = np.zeros(c.shape[:2], np.float32)
        which: np.ndarray = np.zeros(c.shape[:2], np.int16)
        if c.shape[0] == 0 or c.shape[1] == 0:
            return best, which, span
        for i, (u, r0, c0, st) in enumerate(self.footprint_sums(self.whitened(self.normalised(c)))):
            if not u.size:
                continue
            t: np.ndarray = self.statistic(u, i)
            if st > 1:
                t = np.repeat(np.repeat(t, st, axis=0), st, axis=1)
            r0, c0 = r0 - st // 2, c0 - st // 2
            t = t[: best.shape[0] - r0, : best.shape[1] - c0]
            view, won = best[r0 : r0 + t.shape[0], c0 : c0 + t.shape[1]], which[r0 : r0 + t.shape[0], c0 : c0 + t.shape[1]]
            better = t > view
            view[better], won[better] = t[better], i
        return best, which, span

    def normalised(self, contrast: np.ndarray) -> np.ndarray:
        """The ``contrast`` (h, w, 3) over its local RMS (over ``mean_mm``, with ``local_rms``; per channel and cell:
        1 on average), each value clipped to +-``clip`` (a single outlying cell, a speck of another mineral, cannot
        pass for an object spread over many), as float32."""
        return normalised(contrast, self.params, self.merged_mm)

    def regions(self, rgb_cells: np.ndarray, belt: np.ndarray, level: float | None = None) -> list[MatchedRegion]:
        """Regions of :meth:`scores` at or above ``level`` (default the fitted one), places in detector cells."""
        lv = self.level if level is None else float(level)
        best, which, span = self.scores(rgb_cells, belt)
        mask = best >= lv
        if not mask.any():
            return []
        labels, n = ndi.label(mask, structure=np.ones((3, 3), bool))
        peaks = ndi.maximum_position(best, labels, np.arange(1, n + 1))
        objs = ndi.find_objects(labels)
        m, out = self.params.merge, []
        loads = load_at(rgb_cells, belt, np.array([(p[0] + 0.5) * m for p in peaks], float), self.cell_mm)
        for k, (pr, pc) in enumerate(peaks):
            if loads[k] < self.params.min_load:
                continue
            i = int(which[pr, pc])
            rows_mm, cols_mm = self.params.footprints_mm[i]
            sl = objs[k]
            assert sl is not None
            out.append(MatchedRegion(row=(pr + 0.5) * m - 0.5, col=(pc + span.start + 0.5) * m - 0.5, length_mm=max(rows_mm, cols_mm),
                                     width_mm=min(rows_mm, cols_mm), score=float(best[pr, pc]), first_row=sl[0].start * m,
                                     last_row=sl[0].stop * m - 1, footprint=i, load=float(loads[k])))
        return out

    def save(self, path: str | Path) -> None:
        """Write the fitted state to ``path`` (.npz)."""
        np.savez(path, params=json.dumps(_params_json(self.params)), cell_mm=self.cell_mm,
                 kernel=np.zeros((0, 0, 3, 3)) if self.kernel is None else self.kernel, cov=self.cov, directions=self.directions,
                 level=self.level, provenance=json.dumps(self.provenance))

    @classmethod
    def load(cls, path: str | Path) -> MatchedFilter:
        """Read a filter written by :meth:`save`. Raises ValueError on a file that is not one."""
        try:
            with np.load(path) as z:
                p = json.loads(str(z["params"]))
                params = MatchedParams(**{**p, "footprints_mm": tuple(tuple(f) for f in p["footprints_mm"])})
                kernel = z["kernel"] if z["kernel"].size else None
                return cls(params, float(z["cell_mm"]), kernel, z["cov"], z["directions"], float(z["level"]), json.loads(str(z["provenance"])))
        except (OSError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: not a matched-filter file ({e})") from e


def _box_grid(s: np.ndarray, r0: int, c0: int, a: int, b: int, nr: int, nc: int, st: int) -> np.ndarray:
    """Sums over a x b boxes of the integral image ``s`` (3, h + 1, w + 1), the first at top-left (r0, c0), then
    every ``st`` cells: (3, nr, nc)."""
    re, ce = r0 + nr * st, c0 + nc * st
    return (s[:, r0 + a : re + a : st, c0 + b : ce + b : st] - s[:, r0 : re : st, c0 + b : ce + b : st]
            - s[:, r0 + a : re + a : st, c0 : ce : st] + s[:, r0 : re : st, c0 : ce : st])


def _params_json(p: MatchedParams) -> dict:
    return {"merge": p.merge, "mean_mm": p.mean_mm, "footprints_mm": [list(f) for f in p.footprints_mm], "whiten": p.whiten,
            "psd_cells": p.psd_cells, "edge_mm": p.edge_mm, "local_rms": p.local_rms, "surround_mm": p.surround_mm, "clip": p.clip, "min_load": p.min_load}


def check_cells(rgb_cells: object, belt: object) -> tuple[np.ndarray, np.ndarray]:
    """``rgb_cells`` as float32 (h, w, 3) finite cell means and ``belt`` as (h, w) bool, else FrameError."""
    if not isinstance(rgb_cells, np.ndarray) or rgb_cells.ndim != 3 or rgb_cells.shape[2] != 3:
        what = f"an array of shape {rgb_cells.shape}" if isinstance(rgb_cells, np.ndarray) else type(rgb_cells).__name__
        raise FrameError(f"matched filter needs (h, w, 3) cell colours, got {what}")
    rgb = np.asarray(rgb_cells, np.float32)
    if not np.isfinite(rgb.sum(dtype=np.float64)):
        raise FrameError(f"matched filter needs finite cell colours, got {int((~np.isfinite(rgb)).sum())} NaN or inf values")
    b = np.asarray(belt, bool)
    if b.shape != rgb.shape[:2]:
        raise FrameError(f"belt mask of shape {b.shape} for cells of shape {rgb.shape[:2]}")
    return rgb, b


def contrast_cells(rgb_cells: np.ndarray, belt: np.ndarray, p: MatchedParams, cell_mm: float) -> tuple[np.ndarray, slice]:
    """(contrast (h // merge, w', 3) float32 in per cent of the local grey, the belt's column span in merged cells)
    of detector cells ``rgb_cells`` (h, w, 3) over ``belt`` (h, w) bool: merged cells, each channel minus its local
    mean over ``p.mean_mm``, over the local mean grey."""
    rgb, b = check_cells(rgb_cells, belt)
    m = p.merge
    on = np.flatnonzero(b.any(axis=0))
    h = rgb.shape[0] // m
    if not on.size or h == 0:
        return np.zeros((h, 0, 3), np.float32), slice(0, 0)
    lo, hi = -(-int(on[0]) // m), (int(on[-1]) + 1) // m
    hi = max(hi, lo)
    part = rgb[: h * m, lo * m : hi * m]
    x = sum(part[i::m, j::m] for i in range(m) for j in range(m)) * np.float32(1.0 / (m * m))
    size = max(3, int(round(p.mean_mm / (cell_mm * m))) | 1)
    mean = ndi.uniform_filter(x, size=(size, size, 1), mode="nearest")
    grey = np.maximum(mean.mean(axis=2, keepdims=True), 1.0)
    return ((x - mean) * (100.0 / grey)).astype(np.float32), slice(lo, hi)


def normalised(contrast: np.ndarray, p: MatchedParams, merged_mm: float) -> np.ndarray:
    """:meth:`MatchedFilter.normalised` of ``contrast`` (h, w, 3) with ``p`` on cells of ``merged_mm``."""
    x = np.asarray(contrast, np.float32)
    if p.local_rms:
        size = max(3, int(round(p.mean_mm / merged_mm)) | 1)
        energy = ndi.uniform_filter(np.einsum("hwc,hwc->hw", x, x) / 3.0, size=size, mode="nearest")
        x = x / np.sqrt(np.maximum(energy, 1e-6 + 1e-6 * float(energy.mean())))[..., None]
    return np.clip(x, -p.clip, p.clip) if p.clip > 0 else x


def fit_filter(frames: Iterable[tuple[np.ndarray, np.ndarray]], params: MatchedParams, cell_mm: float,
               directions: np.ndarray | None = None, max_frames: int = 400) -> MatchedFilter:
    """A filter (level not set) from object-free fit-split belt ``frames`` of (detector cells (h, w, 3), belt (h, w)
    bool): the prewhitening kernel from the contrast's Welch cross-spectral density, then each footprint's
    covariance of u over the same frames. Raises ValueError when no frame is given."""
    contrasts = []
    for rgb, belt in frames:
        c, _ = contrast_cells(rgb, belt, params, cell_mm)
        e = int(np.ceil(params.edge_mm / (cell_mm * params.merge)))
        if c.shape[1] > 2 * e + params.psd_cells and c.shape[0] >= params.psd_cells:
            contrasts.append(normalised(c[:, e : c.shape[1] - e], params, cell_mm * params.merge))
        if len(contrasts) >= max_frames:
            break
    if not contrasts:
        raise ValueError("fit_filter: no object-free frame wide and long enough for the PSD window")
    kernel = whitening_kernel(clutter_psd(contrasts, params.psd_cells)[0]) if params.whiten else None
    nf = len(params.footprints_mm)
    probe = MatchedFilter(params, cell_mm, kernel, np.tile(np.eye(3), (nf, 1, 1)))
    acc, count = np.zeros((nf, 3, 3)), np.zeros(nf)
    for c in contrasts:
        for i, (u, _, _, _) in enumerate(probe.footprint_sums(probe.whitened(c))):
            v = u.reshape(3, -1).astype(np.float64)
            acc[i] += v @ v.T
            count[i] += v.shape[1]
    cov = acc / np.maximum(count, 1)[:, None, None]
    return MatchedFilter(params, cell_mm, kernel, cov, np.zeros((0, 3)) if directions is None else directions)


def kind_directions(kinds: list[str], colours: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(kinds, unit directions (K, 3)) of the colour bank: per kind the mean of its objects' unit footprint sums
    ``colours`` (n, 3; :meth:`MatchedFilter.colour_at`), zeros left out. Raises ValueError when none is left."""
    c = np.asarray(colours, np.float64).reshape(-1, 3)
    n = np.linalg.norm(c, axis=1)
    names = sorted({k for k, v in zip(kinds, n) if v > 0})
    if not names:
        raise ValueError("kind_directions: no object with a colour")
    dirs = []
    for name in names:
        sel = np.array([k == name for k in kinds]) & (n > 0)
        mean = (c[sel] / n[sel, None]).mean(axis=0)
        dirs.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return names, np.array(dirs)


def whitening_kernel(psd: np.ndarray) -> np.ndarray:
    """The spatial kernel (N, N, 3, 3) of P(k)^-1 (``psd`` (N, N, 3, 3) from :func:`clutter_psd`; ridge
    :data:`PSD_RIDGE` of its mean level, k = 0 given its neighbours' mean), lags centred at N // 2."""
    p = np.array(psd, np.complex128)
    n = p.shape[0]
    level = float(np.real(np.trace(p, axis1=2, axis2=3)).mean() / 3.0)
    p[0, 0] = (p[0, 1] + p[1, 0] + p[0, -1] + p[-1, 0]) / 4.0
    inv = np.linalg.inv(p + PSD_RIDGE * level * np.eye(3))
    k = np.real(np.fft.ifft2(inv, axes=(0, 1)))
    k = np.fft.fftshift(k, axes=(0, 1))
    return k / max(float(np.abs(k[n // 2, n // 2]).max()), 1e-12)


class MatchedStream:
    """Matched-filter regions over a stream of frames' cell colours: each region decided once, in the block where it
    is complete (it ends ``guard`` rows before the block's end, or the stream is flushed), with ``carry`` rows of the
    block before it as context."""

    def __init__(self, matched: MatchedFilter) -> None:
        self.matched = matched
        self.guard = matched.guard_cells()
        self.carry = 2 * self.guard
        self.reset()

    def reset(self) -> None:
        """Forget the carried rows (a gap in the belt)."""
        self._rgb: np.ndarray | None = None
        self._belt: np.ndarray | None = None
        self._start = 0
        self._decided = -1

    def push(self, rgb_cells: np.ndarray, belt: np.ndarray, start_row: int) -> list[tuple[MatchedRegion, int]]:
        """(region, the belt row of its block's first row) of every region complete in the block: the carried rows
        and one frame's cells ``rgb_cells`` (h, w, 3) over ``belt`` (h, w) bool, whose first row is belt row
        ``start_row`` (detector cells); a frame that does not follow the carried rows starts afresh."""
        rgb, b = check_cells(rgb_cells, belt)
        if self._rgb is not None and self._belt is not None and start_row == self._start + self._rgb.shape[0] and self._rgb.shape[1] == rgb.shape[1]:
            rgb, b, start_row = np.concatenate([self._rgb, rgb]), np.concatenate([self._belt, b]), self._start
        else:
            self.reset()
        return self._decide(rgb, b, start_row, final=False)

    def flush(self) -> list[tuple[MatchedRegion, int]]:
        """The regions of the carried rows not decided yet (end of the stream), then :meth:`reset`."""
        out = [] if self._rgb is None or self._belt is None else self._decide(self._rgb, self._belt, self._start, final=True)
        self.reset()
        return out

    def _decide(self, rgb: np.ndarray, belt: np.ndarray, start_row: int, final: bool) -> list[tuple[MatchedRegion, int]]:
        h = rgb.shape[0]
        end = h if final else h - self.guard
        m = self.matched.params.merge
        usable = (h // m) * m  # merged cells: the odd row waits for the next block
        regions = self.matched.regions(rgb[:usable], belt[:usable]) if usable else []
        out = [(r, start_row) for r in regions if r.last_row < end and start_row + r.last_row >= self._decided]
        self._decided = max(self._decided, start_row + end)
        keep = max(0, h - self.guard - self.carry)
        keep -= keep % m  # keep the merged cells' grid
        self._rgb, self._belt, self._start = (None, None, 0) if final else (rgb[keep:].copy(), belt[keep:].copy(), start_row + keep)
        return out


__all__ = ["FOOTPRINTS_MM", "MatchedFilter", "MatchedParams", "MatchedRegion", "MatchedStream", "check_cells", "contrast_cells",
           "fit_filter", "kind_directions", "whitening_kernel"]
