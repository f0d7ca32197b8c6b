"""A learned per-cell *objectness* score: how much a cell and its surroundings look like a foreign object.

The normal-ore density (:mod:`vision.model`) asks "is this cell's colour and texture rare on this ore?". That
misses objects whose cells are each ordinary but whose *extent* is not: grey concrete on grey rock, black rubber
among dark rock shadows, a plank whose every cell passes for pale ore. This model looks at a cell together with
its neighbourhood at two scales (box means of the cell features and of the density score, the spread of the
grey level, the chromaticity offset, the coherence and energy of its edges, a bright-ridge strength) and is trained, at fit time, on belt scenes
rendered from the same ore tiles with objects pasted in, whose truth masks say which cells are object.

- :func:`objectness_features` → (len(OBJECTNESS_FEATURES), h/2, w/2) float32 on blocks of 2 x 2 cells;
- :class:`ObjectnessModel` (scikit-learn conventions: ``fit`` returns self, learned state ends in ``_``): one
  hidden layer of ``hidden`` ReLU units, logistic output; scoring is two float32 matrix products with the
  standardisation folded into the first;
- :meth:`ObjectnessModel.score` → the log-odds (h, w) float32 that the detector box-smooths and thresholds
  (:class:`~vision.detect.DetectorParams` ``objectness_threshold``).

What it has not been shown: real photographs of objects on a real belt (none with labels exist in ../shared).
The fit learns the renderer's objects on the site's own ore; its threshold is calibrated out of fold (by
source image) so that unseen ore of the same kind does not cross it more often than the fit ore did.
"""

from __future__ import annotations

import numpy as np

from vision.errors import ModelError
from vision.features import row_medians
from vision.filters import box_means

#: Context scales (mm) of the box means: about half and about the whole of a 50 mm object.
CONTEXT_MM = (20.0, 44.0)
OBJECTNESS_FEATURES = (
    "dr", "dg", "lum", "fine", "coarse", "score", "ridge",
    "lum@s", "fine@s", "coarse@s", "score@s", "spread@s", "dr@s", "coherence@s", "edges@s",
    "lum@l", "fine@l", "coarse@l", "score@l", "spread@l", "dr@l", "coherence@l", "edges@l",
)


def context_cells(cell_mm: float) -> tuple[int, int]:
    """Box widths (cells, odd, >= 3 and increasing) for :data:`CONTEXT_MM` at cells of ``cell_mm`` (the detector
    passes twice its cell side: the features are taken on blocks of 2 x 2 cells)."""
    out: list[int] = []
    for mm in CONTEXT_MM:
        n = max(3, int(round(mm / cell_mm)))
        n += n % 2 == 0
        if out and n <= out[-1]:
            n = out[-1] + 2
        out.append(n)
    return out[0], out[1]


def half_grid(v: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Means of 2 x 2 blocks of the last two axes of ``v`` (..., h, w) (edge-padded to even) → (..., ceil(h/2), ceil(w/2))
    (into ``out`` when given): the pairs of rows added first (whole contiguous rows), then the pairs of columns of
    those sums, ``(a + b) + (c + d)``. An odd last row or column is its own edge padding, added to itself."""
    h, w = v.shape[-2:]
    he, we = h - h % 2, w - w % 2
    dtype = np.result_type(v.dtype, np.float32)
    if out is None:
        out = np.empty(v.shape[:-2] + ((h + 1) // 2, (w + 1) // 2), dtype)
    rows = np.empty(v.shape[:-2] + ((h + 1) // 2, w), dtype)
    np.add(v[..., 0:he:2, :], v[..., 1:he:2, :], out=rows[..., : he // 2, :])
    if h % 2:  # the last row twice
        np.add(v[..., h - 1, :], v[..., h - 1, :], out=rows[..., he // 2, :])
    np.add(rows[..., 0:we:2], rows[..., 1:we:2], out=out[..., : we // 2])
    if w % 2:  # the last column twice
        np.add(rows[..., w - 1], rows[..., w - 1], out=out[..., we // 2])
    out *= np.float32(0.25)
    return out


def half_grid_channels(v: np.ndarray) -> np.ndarray:
    """:func:`half_grid` of each channel of ``v`` (h, w, c) float32, channels last → (ceil(h/2), ceil(w/2), c): the
    same sums in the same order, on whole rows of every channel at once."""
    h, w, c = v.shape
    he, we = h - h % 2, w - w % 2
    rows = np.empty(((h + 1) // 2, w, c), np.float32)
    np.add(v[0:he:2], v[1:he:2], out=rows[: he // 2])
    if h % 2:
        np.add(v[h - 1], v[h - 1], out=rows[he // 2])
    out = np.empty(((h + 1) // 2, (w + 1) // 2, c), np.float32)
    pairs = rows[:, :we].reshape(rows.shape[0], we // 2, 2 * c)
    np.add(pairs[..., :c], pairs[..., c:], out=out[:, : we // 2])
    if w % 2:
        np.add(rows[:, w - 1], rows[:, w - 1], out=out[:, we // 2])
    out *= np.float32(0.25)
    return out


def objectness_features(cells: np.ndarray, raw: np.ndarray, ridge: np.ndarray, belt_cols: np.ndarray,
                        boxes: tuple[int, int]) -> np.ndarray:
    """Features (len(OBJECTNESS_FEATURES), ceil(h/2), ceil(w/2)) float32, one contiguous map per feature, on the grid
    of 2 x 2 cells (objects of 50 mm span several such blocks; a quarter of the work), from the cell features
    ``cells`` (h, w, 5) in :data:`~vision.features.FEATURES` order, the density score ``raw`` (h, w), the
    bright-ridge strength ``ridge`` (h, w) and the belt columns (w,) bool (chromaticity offsets are taken from the
    belt's median). Context features are box means over ``boxes`` (blocks, from :func:`context_cells`)."""
    h, w = raw.shape
    if h == 0:
        return np.empty((len(OBJECTNESS_FEATURES), 0, (w + 1) // 2), np.float32)
    cells = np.asarray(cells, np.float32)
    r, g, lum = cells[..., 0], cells[..., 1], np.ascontiguousarray(cells[..., 2])
    cols = belt_cols if belt_cols.any() else np.ones(w, bool)
    med_r = np.float32(row_medians(r[::4][:, cols].reshape(1, -1))[0])  # = np.median, one partition
    med_g = np.float32(row_medians(g[::4][:, cols].reshape(1, -1))[0])
    # full-resolution maps whose block means are features, in the order the box means take them (the ridge last: it
    # has no context feature): score, lum², |dr|, and the structure tensor of the grey level: straight edges (plank
    # sides, grain, sheet borders) are coherent over a box, the edges of a heap of rocks point every way
    full = np.empty((7, h, w), np.float32)
    full[0] = raw
    np.multiply(lum, lum, out=full[1])
    np.subtract(r, med_r, out=full[2])
    np.abs(full[2], out=full[2])
    gx = np.zeros_like(lum)
    np.subtract(lum[:, 2:], lum[:, :-2], out=gx[:, 1:-1])
    gy = np.zeros_like(lum)
    np.subtract(lum[2:], lum[:-2], out=gy[1:-1])
    np.multiply(gx, gx, out=full[3])
    np.multiply(gy, gy, out=full[4])
    np.multiply(gx, gy, out=full[5])
    full[6] = ridge
    hh, ww = (h + 1) // 2, (w + 1) // 2
    q = np.empty((10, hh, ww), np.float32)  # lum fine coarse | score lum² |dr| jxx jyy jxy ridge
    five = half_grid_channels(cells)
    q[:3] = five[..., 2:].transpose(2, 0, 1)
    half_grid(full, q[3:])
    out = np.empty((len(OBJECTNESS_FEATURES), hh, ww), np.float32)
    np.subtract(five[..., 0], med_r, out=out[0])
    np.subtract(five[..., 1], med_g, out=out[1])
    out[2:6] = q[:4]
    out[6] = q[9]
    k = 7
    for m in box_means(q[:9], boxes):  # = ndi.uniform_filter(size=(1, box, box)) per box: lum fine coarse raw lum² |dr| jxx jyy jxy
        out[k : k + 4] = m[:4]
        spread = out[k + 4]  # 0.5 log(max(m4 - m0², 0) + 1e-4), in place in the same order
        np.multiply(m[0], m[0], out=spread)
        np.subtract(m[4], spread, out=spread)
        np.maximum(spread, 0.0, out=spread)
        spread += 1e-4
        np.log(spread, out=spread)
        spread *= 0.5
        out[k + 5] = m[5]
        sxx, syy, sxy = m[6], m[7], m[8]
        energy = sxx + syy
        energy += np.float32(1e-6)
        coherence = out[k + 6]  # sqrt((sxx - syy)² + 4 sxy sxy) / energy, in place in the same order
        np.subtract(sxx, syy, out=coherence)
        np.square(coherence, out=coherence)
        cross = 4 * sxy
        cross *= sxy
        coherence += cross
        np.sqrt(coherence, out=coherence)
        coherence /= energy
        np.log(energy, out=out[k + 7])
        k += 8
    return out


def block_belt(belt_cols: np.ndarray) -> np.ndarray:
    """Columns (ceil(w/2),) bool of the 2 x 2 blocks whose cells are all on the belt (``belt_cols`` (w,) bool)."""
    return half_grid(belt_cols.astype(np.float32)[None, :])[0] > 0.99


def to_cells(blocks: np.ndarray, h: int, w: int) -> np.ndarray:
    """A map (ceil(h/2), ceil(w/2)) of 2 x 2 blocks repeated back to (h, w) cells (a new array): rows, then columns
    (two np.repeat passes take half the time of one broadcast into a (hb, 2, wb, 2) array; station55)."""
    return np.repeat(np.repeat(blocks, 2, axis=0)[:h], 2, axis=1)[:, :w]


class ObjectnessModel:
    """Per-cell object log-odds from :func:`objectness_features`.

    ``hidden``: hidden ReLU units; ``alpha``: L2 penalty; ``max_cells``: training cells kept (a random subset);
    ``seed``: the subset and the network's start.
    """

    def __init__(self, hidden: int = 16, alpha: float = 1e-3, max_cells: int = 80_000, seed: int = 0) -> None:
        self.hidden = hidden
        self.alpha = alpha
        self.max_cells = max_cells
        self.seed = seed

    def fit(self, x: np.ndarray, y: np.ndarray) -> "ObjectnessModel":
        """Fit on cells ``x`` (n, n_features) with labels ``y`` (n,) (1 = object, 0 = ore or belt). Returns self.
        Raises ModelError when either class is missing or the feature count is not OBJECTNESS_FEATURES'."""
        from sklearn.neural_network import MLPClassifier

        x = np.asarray(x, np.float32)
        y = np.asarray(y).astype(np.int8)
        if x.ndim != 2 or x.shape[1] != len(OBJECTNESS_FEATURES):
            raise ModelError(f"expected (n, {len(OBJECTNESS_FEATURES)}) objectness features, got {x.shape}")
        if not (y.any() and (~y.astype(bool)).any()):
            raise ModelError("objectness model needs object and non-object cells, got one class only")
        rng = np.random.default_rng([self.seed, 17])
        if len(y) > self.max_cells:
            keep = rng.choice(len(y), self.max_cells, replace=False)
            x, y = x[keep], y[keep]
        self.mean_ = x.mean(axis=0).astype(np.float64)
        self.scale_ = x.std(axis=0).astype(np.float64) + 1e-6
        net = MLPClassifier((self.hidden,), alpha=self.alpha, batch_size=min(1024, int(0.9 * len(y))), learning_rate_init=2e-3, max_iter=40,
                            early_stopping=True, n_iter_no_change=5, random_state=self.seed)
        net.fit((x - self.mean_) / self.scale_, y)
        self.w1_, self.b1_ = np.asarray(net.coefs_[0]), np.asarray(net.intercepts_[0])
        self.w2_, self.b2_ = np.asarray(net.coefs_[1])[:, 0], float(np.asarray(net.intercepts_[1])[0])
        self._fold()
        return self

    def _fold(self) -> None:
        """The standardisation folded into the first layer, as float32 (what :meth:`score` multiplies by)."""
        self._w1 = np.ascontiguousarray((self.w1_ / self.scale_[:, None]).T, np.float32)  # (hidden, features)
        self._b1 = (self.b1_ - (self.mean_ / self.scale_) @ self.w1_).astype(np.float32)
        self._w2 = self.w2_.astype(np.float32)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Object log-odds of cells ``x`` (n_features, ...) (as :func:`objectness_features` lays them out) → (...)
        float32. Raises ModelError when not fitted or the feature count differs."""
        if not hasattr(self, "w1_"):
            raise ModelError("ObjectnessModel is not fitted")
        if x.shape[0] != self._w1.shape[1]:
            raise ModelError(f"expected {self._w1.shape[1]} objectness features, got {x.shape[0]}")
        flat = x.reshape(x.shape[0], -1)
        a = self._w1 @ flat
        a += self._b1[:, None]
        np.maximum(a, 0.0, out=a)
        z = self._w2 @ a
        z += np.float32(self.b2_)
        return z.reshape(x.shape[1:])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"obj_mean": self.mean_, "obj_scale": self.scale_, "obj_w1": self.w1_, "obj_b1": self.b1_,
                "obj_w2": self.w2_, "obj_b2": np.float64(self.b2_), "obj_alpha": np.float64(self.alpha)}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> "ObjectnessModel":
        """Inverse of :meth:`to_arrays`. Raises ModelError when keys are missing or the feature count differs."""
        try:
            m = cls(hidden=int(np.asarray(a["obj_w1"]).shape[1]), alpha=float(a["obj_alpha"]))
            m.mean_, m.scale_ = np.asarray(a["obj_mean"], np.float64), np.asarray(a["obj_scale"], np.float64)
            m.w1_, m.b1_ = np.asarray(a["obj_w1"], np.float64), np.asarray(a["obj_b1"], np.float64)
            m.w2_, m.b2_ = np.asarray(a["obj_w2"], np.float64), float(a["obj_b2"])
        except KeyError as exc:
            raise ModelError(f"objectness model arrays lack key {exc}") from exc
        if m.mean_.shape != (len(OBJECTNESS_FEATURES),):
            raise ModelError(f"objectness model expects {m.mean_.shape} features, this version computes {len(OBJECTNESS_FEATURES)}")
        m._fold()
        return m


def training_cells(x: np.ndarray, cover: np.ndarray, belt_cols: np.ndarray, rng: np.random.Generator,
                   max_negative: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Training blocks (n, F) and labels (n,) of one rendered frame: features ``x`` (F, h, w) and object cover
    (h, w) (share of each block under an object) over the belt columns (w,), all on the grid of
    :func:`objectness_features`. Object blocks (cover > 0.5) all, ore blocks (cover < 0.01) a random subset of at
    most ``max_negative``; the blocks in between (edges, shadows) are left out."""
    xb, cb = x[:, :, belt_cols].reshape(x.shape[0], -1).T, cover[:, belt_cols].ravel()
    pos = np.flatnonzero(cb > 0.5)
    neg = np.flatnonzero(cb < 0.01)
    if neg.size > max_negative:
        neg = rng.choice(neg, max_negative, replace=False)
    return np.concatenate([xb[pos], xb[neg]]), np.concatenate([np.ones(pos.size, np.int8), np.zeros(neg.size, np.int8)])


__all__ = ["OBJECTNESS_FEATURES", "ObjectnessModel", "block_belt", "context_cells", "half_grid", "half_grid_channels", "objectness_features", "to_cells",
           "training_cells"]
