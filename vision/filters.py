"""Separable image filters of the detector: scipy.ndimage's box and Gaussian filters (``mode="nearest"``), as sums of
shifted slices in float32.

``ndi.uniform_filter`` and ``ndi.gaussian_filter`` filter a map line by line, the pass along the rows reading each
column with a stride of a whole row, and accumulate in float64. On the detector's small maps (a few hundred cells a
side, kernels of 3-11 taps) the per-line work dominates: here each pass is a handful of whole-array float32 additions
of the edge-padded map shifted by one cell (rows of contiguous memory for the pass along the rows too, no transposes),
3-4 x faster (docs/vision.md, *Speed (issue 27)*, speed42). The numbers are scipy's within float32 rounding: at most
a few units in the last place of the inputs' scale (tested: within 1e-6 of the input's largest magnitude), not to the
bit. With ``mode="nearest"`` only, the mode of every caller.
"""

from __future__ import annotations

import numpy as np


def edge_padded(a: np.ndarray) -> np.ndarray:
    """``np.pad(a, 1, mode="edge")`` of a 2-D map with at least one cell, in ``a``'s dtype (slices into one new array,
    without np.pad's general machinery)."""
    h, w = a.shape
    g = np.empty((h + 2, w + 2), a.dtype)
    g[1:-1, 1:-1] = a
    g[0, 1:-1], g[-1, 1:-1] = a[0], a[-1]
    g[:, 0], g[:, -1] = g[:, 1], g[:, -2]
    return g


def _edge_padded_along(x: np.ndarray, before: int, after: int, axis: int) -> np.ndarray:
    """``x`` (float32 copy) with ``before`` / ``after`` copies of its first / last line along ``axis`` (-2 or -1)."""
    n = x.shape[axis]
    shape = list(x.shape)
    shape[axis] = n + before + after
    p = np.empty(shape, np.float32)
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(before, before + n)
    p[tuple(idx)] = x
    if before:
        idx[axis] = slice(0, before)
        src = [slice(None)] * x.ndim
        src[axis] = slice(0, 1)
        p[tuple(idx)] = x[tuple(src)]
    if after:
        idx[axis] = slice(before + n, None)
        src = [slice(None)] * x.ndim
        src[axis] = slice(n - 1, n)
        p[tuple(idx)] = x[tuple(src)]
    return p


def _shifted(p: np.ndarray, k: int, n: int, axis: int) -> np.ndarray:
    """The view ``p[..., k : k + n]`` along ``axis`` (-2 or -1)."""
    return p[..., k : k + n, :] if axis == -2 else p[..., k : k + n]


def _box_sums(p: np.ndarray, r_pad: int, sizes: list[int], n: int, axis: int) -> list[np.ndarray]:
    """Sums over windows of each of ``sizes`` (odd, ascending) along ``axis`` of ``p`` (edge-padded by ``r_pad`` each
    side, ``n`` lines inside): the smallest from the centre outwards, each larger one from the one before plus its
    outer lines."""
    out: list[np.ndarray] = []
    acc: np.ndarray | None = None
    r_done = -1
    for size in sizes:
        r = size // 2
        if acc is None:
            acc = _shifted(p, r_pad, n, axis)  # a view: the first addition below makes the new array
            r_done = 0
        if r_done < r:  # the first outer line added into a new array (the sum before kept): a copy and += less, the same sums
            acc = acc + _shifted(p, r_pad - r_done - 1, n, axis)
            acc += _shifted(p, r_pad + r_done + 1, n, axis)
        else:
            acc = acc.copy()
        for j in range(r_done + 2, r + 1):
            acc += _shifted(p, r_pad - j, n, axis)
            acc += _shifted(p, r_pad + j, n, axis)
        r_done = max(r_done, r)
        out.append(acc)
    return out


def box_means(x: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    """``ndi.uniform_filter(x, size, mode="nearest")`` (float32, within float32 rounding) of a map ``x`` (h, w), or of
    each map of a stack (n, h, w) over its last two axes, at each of ``sizes`` (odd, > 1). ValueError for an even
    or smaller size."""
    if any(s < 3 or s % 2 == 0 for s in sizes):
        raise ValueError(f"expected odd box sizes >= 3, got {sizes}")
    if not sizes:
        return []
    h, w = x.shape[-2:]
    if h == 0 or w == 0:
        return [np.zeros(x.shape, np.float32) for _ in sizes]
    order = sorted(set(sizes))
    r_max = order[-1] // 2
    rows = _box_sums(_edge_padded_along(x, r_max, r_max, -2), r_max, order, h, -2)
    done: dict[int, np.ndarray] = {}
    for size, s in zip(order, rows):
        r = size // 2
        y = _box_sums(_edge_padded_along(s, r, r, -1), r, [size], w, -1)[0]
        y *= np.float32(1.0 / (size * size))
        done[size] = y
    return [done[s] if i == sizes.index(s) else done[s].copy() for i, s in enumerate(sizes)]


def box_mean(x: np.ndarray, size: int) -> np.ndarray:
    """:func:`box_means` of ``x`` at one ``size``; a float32 copy of ``x`` for ``size`` <= 1."""
    if size <= 1:
        return np.array(x, np.float32)
    return box_means(x, (size,))[0]


def gaussian_kernel(sigma: float, truncate: float) -> np.ndarray:
    """scipy's 1-D Gaussian kernel (radius ``int(truncate * sigma + 0.5)``, normalised to sum 1), as float32."""
    radius = int(truncate * float(sigma) + 0.5)
    t = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * t**2)
    return (phi / phi.sum()).astype(np.float32)


def _weighted(p: np.ndarray, r_pad: int, k: np.ndarray, n: int, axis: int) -> np.ndarray:
    """The symmetric kernel ``k`` (2 r + 1,) along ``axis`` of ``p`` (edge-padded by ``r_pad`` >= r): the centre times
    its weight plus each pair of lines r - j and r + j, added, times theirs."""
    r = k.size // 2
    out = _shifted(p, r_pad, n, axis) * k[r]
    pair = np.empty_like(out)  # one buffer for every pair
    for j in range(1, r + 1):
        np.add(_shifted(p, r_pad - j, n, axis), _shifted(p, r_pad + j, n, axis), out=pair)
        pair *= k[r + j]
        out += pair
    return out


def gaussians(x: np.ndarray, sigmas: tuple[float, ...], truncate: float = 4.0) -> list[np.ndarray]:
    """``ndi.gaussian_filter(x, sigma, mode="nearest", truncate=truncate)`` (float32, within float32 rounding) of a
    map ``x`` (h, w) at each of ``sigmas``; a sigma <= 1e-15 gives a float32 copy of ``x``."""
    h, w = x.shape[-2:]
    kernels = [gaussian_kernel(s, truncate) if s > 1e-15 else np.ones(1, np.float32) for s in sigmas]
    if h == 0 or w == 0:
        return [np.zeros(x.shape, np.float32) for _ in sigmas]
    r_max = max(k.size // 2 for k in kernels)
    p = _edge_padded_along(x, r_max, r_max, -2)
    out = []
    for k in kernels:
        r = k.size // 2
        if r == 0:
            out.append(np.array(x, np.float32) if k[0] == 1 else _shifted(p, r_max, h, -2) * k[0])
            continue
        s = _weighted(p, r_max, k, h, -2)
        out.append(_weighted(_edge_padded_along(s, r, r, -1), r, k, w, -1))
    return out


def gaussian(x: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """:func:`gaussians` of ``x`` at one ``sigma``."""
    return gaussians(x, (sigma,), truncate)[0]


def window_max(a: np.ndarray, reach: int) -> np.ndarray:
    """Maximum of a 2-D map ``a`` over the (2 ``reach`` + 1)² window around each cell, clipped to the map: equal to
    ``ndi.grey_dilation(a, size=(2 reach + 1,) * 2)`` (its default mode repeats edge values, which a maximum ignores)
    and, for a bool ``a``, to ``ndi.binary_dilation(a, np.ones((3, 3)), iterations=reach)``. Shifted slices of the
    map's own dtype: no float64 line buffers."""
    return _window_extreme(a, reach, np.maximum)


def window_min(a: np.ndarray, reach: int) -> np.ndarray:
    """Minimum of a 2-D map ``a`` over the (2 ``reach`` + 1)² window around each cell, clipped to the map: equal to
    ``ndi.grey_erosion(a, size=(2 reach + 1,) * 2)``."""
    return _window_extreme(a, reach, np.minimum)


def _window_extreme(a: np.ndarray, reach: int, fn: np.ufunc) -> np.ndarray:
    """``fn`` (np.maximum or np.minimum) of ``a`` (h, w) over the clipped square window of ``reach``: rows, then columns."""
    if a.ndim != 2 or reach < 0:
        raise ValueError(f"expected a 2-D map and a reach >= 0, got shape {a.shape} and reach {reach}")
    out = a.copy()
    for axis in (0, 1):
        src = a if axis == 0 else out.copy()  # the rows' pass reads the map itself (still equal to out)
        n = a.shape[axis]
        for k in range(1, min(reach, n - 1) + 1):
            lo = (slice(0, n - k), slice(None)) if axis == 0 else (slice(None), slice(0, n - k))
            hi = (slice(k, n), slice(None)) if axis == 0 else (slice(None), slice(k, n))
            fn(out[lo], src[hi], out=out[lo])
            fn(out[hi], src[lo], out=out[hi])
    return out


__all__ = ["box_mean", "box_means", "edge_padded", "gaussian", "gaussian_kernel", "gaussians", "window_max", "window_min"]
