"""The learned model of normal ore-on-belt appearance: a smoothed histogram density of cell features.

Estimator conventions follow scikit-learn: ``__init__`` stores its arguments, learned state
ends in ``_``, ``fit`` returns ``self``. The density is a 5-D histogram over
(r, g, lum, fine, coarse) (see :mod:`vision.features`) with one empty "outside" bin at each end
of every axis, Gaussian-smoothed; scoring is a table look-up, so it runs at tens of millions of
cells per second. The anomaly score of a cell is its negative log density.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from scipy import ndimage as ndi

from vision.errors import ModelError
from vision.features import FEATURES, CellFeatures, cell_features, longest_run

#: Floor of the normalised density (per bin) so unseen feature combinations score high but finite.
DENSITY_FLOOR = 1e-9
#: How the belt is found in a frame: "chroma" (coloured belt and ore, the CDM cargo: :func:`~vision.features.belt_columns`)
#: or "score" (any cargo, e.g. grey rock: the columns whose median score says they look like the fitted ore).
BELT_TESTS = ("chroma", "score")
#: Minimum run of belt columns (cells) for the score test.
MIN_BELT_RUN = 8


def belt_columns_by_score(raw: np.ndarray, max_score: float, min_run: int = MIN_BELT_RUN) -> np.ndarray:
    """Columns (w,) bool whose median cell score over a subsample of rows of ``raw`` (h, w) is at most ``max_score``:
    the longest such run, trimmed by one cell each side (as :func:`~vision.features.belt_columns`)."""
    step = max(1, raw.shape[0] // 64)
    med = np.median(raw[::step], axis=0)
    return longest_run(med <= max_score, min_run)


def block_px(cell_mm: float, mm_per_px: float) -> int:
    """Cell side in pixels for a cell of about ``cell_mm`` at ``mm_per_px`` (>= 1)."""
    return max(1, int(round(cell_mm / mm_per_px)))


class NormalOreModel:
    """Density of normal ore-on-belt cell features.

    ``cell_mm``: cell side (mm); ``mm_per_px``: image scale the model is fitted for;
    ``bins``: histogram bins per feature (FEATURES order); ``smooth_bins``: Gaussian smoothing (bins);
    ``belt_test``: how frames' belt columns are found (:data:`BELT_TESTS`). With "score" the grey reference of
    ``lum`` is taken over the whole frame width and the belt is where the median score is at most the fitted
    ``belt_max_score_`` (the largest column median on the fit belt, plus half the gap to the frame beyond it).
    """

    def __init__(self, cell_mm: float = 4.0, mm_per_px: float = 1.0, bins: tuple[int, ...] = (20, 20, 16, 12, 8), smooth_bins: float = 0.8,
                 belt_test: str = "chroma") -> None:
        self.cell_mm = cell_mm
        self.mm_per_px = mm_per_px
        self.bins = bins
        self.smooth_bins = smooth_bins
        self.belt_test = belt_test

    def features(self, image: np.ndarray, belt_cols: np.ndarray | None = None, ref_start: float | None = None) -> CellFeatures:
        """Cell features of an (H, W, 3) uint8 frame as this model sees them (chroma test: belt columns found by
        colour, or ``belt_cols``; score test: all columns, the belt is found by :meth:`belt_columns`); ``ref_start``
        as :func:`~vision.features.cell_features` takes it (the frame before's ``last_ref``)."""
        if self.belt_test == "score":
            w = image.shape[1] // self.block_px
            return cell_features(image, self.block_px, np.ones(w, bool) if belt_cols is None else belt_cols, ref_start)
        return cell_features(image, self.block_px, belt_cols, ref_start)

    def belt_columns(self, feats: CellFeatures, raw: np.ndarray) -> np.ndarray:
        """Belt columns (w,) bool of a frame from its features and cell scores ``raw`` (h, w)."""
        if self.belt_test == "score":
            return belt_columns_by_score(raw, self.belt_max_score_)
        return feats.belt_cols

    @property
    def block_px(self) -> int:
        return block_px(self.cell_mm, self.mm_per_px)

    def fit(self, images: Iterable[np.ndarray], belt_px: tuple[int, int] | None = None) -> "NormalOreModel":
        """Fit on (H, W, 3) uint8 images of normal ore on belt (no foreign objects). Returns self.

        ``belt_px``: (first, end) pixel column of the belt in every image; required by the "score" belt test
        (the belt cannot be found by colour), ignored by "chroma". Raises ModelError when no image shows belt."""
        if self.belt_test not in BELT_TESTS:
            raise ModelError(f"belt_test must be one of {BELT_TESTS}, got {self.belt_test!r}")
        if self.belt_test == "score" and belt_px is None:
            raise ModelError("the 'score' belt test needs belt_px, the belt's pixel columns in the fit images")
        feats, stacks = [], []
        for img in images:
            f = self.features(img)
            if self.belt_test == "score" and belt_px is not None:  # checked above: "score" comes with belt_px
                b = self.block_px
                f.belt_cols = np.zeros(f.r.shape[1], bool)
                f.belt_cols[-(-belt_px[0] // b) : belt_px[1] // b] = True
            if f.belt_cols.any():
                feats.append(f.stack()[:, f.belt_cols].reshape(-1, len(FEATURES)))
                stacks.append(f)
        if not feats:
            raise ModelError("fit needs at least one image showing belt; got none")
        x = np.concatenate(feats)
        lo = np.percentile(x, 0.05, axis=0)
        hi = np.percentile(x, 99.95, axis=0)
        span = hi - lo
        self.lo_ = (lo - 0.05 * span).astype(np.float32)
        self.hi_ = (hi + 0.05 * span).astype(np.float32)
        idx = self._index(x)
        counts = np.bincount(idx, minlength=int(np.prod(self.bins))).astype(np.float64).reshape(self.bins)
        smooth = ndi.gaussian_filter(counts, self.smooth_bins, mode="constant")
        p = smooth / smooth.sum()
        self.nll_table_ = (-np.log(p + DENSITY_FLOOR)).astype(np.float32).ravel()
        train_nll = self.nll_table_[idx]
        self.nll_median_ = float(np.median(train_nll))
        self.n_cells_ = int(x.shape[0])
        self.belt_max_score_ = np.inf
        if self.belt_test == "score":
            self.belt_max_score_ = self._belt_level(stacks)
        return self

    def _belt_level(self, fitted: list[CellFeatures]) -> float:
        """The score test's level: the largest median column score on the fit belt plus half the gap to the
        smallest beyond it (2 nats above the belt when the images show no frame)."""
        belt_max, frame_min = -np.inf, np.inf
        for f in fitted:
            raw = self.score(f)
            med = np.median(raw[:: max(1, raw.shape[0] // 64)], axis=0)
            belt_max = max(belt_max, float(med[f.belt_cols].max()))
            if (~f.belt_cols).any():
                frame_min = min(frame_min, float(med[~f.belt_cols].min()))
        return belt_max + (0.5 * (frame_min - belt_max) if np.isfinite(frame_min) and frame_min > belt_max else 2.0)

    def _check(self) -> None:
        if not hasattr(self, "nll_table_"):
            raise ModelError("NormalOreModel is not fitted: call fit() or load() first")

    def _index(self, x: np.ndarray | tuple[np.ndarray, ...]) -> np.ndarray:
        """Flat bin index of (n, 5) features (or a tuple of five (h, w) arrays)."""
        cols = x if isinstance(x, tuple) else tuple(x[:, i] for i in range(x.shape[1]))
        flat: np.ndarray | None = None
        for i, (col, n) in enumerate(zip(cols, self.bins)):
            scale = (n - 2) / float(self.hi_[i] - self.lo_[i])
            b = ((col - self.lo_[i]) * scale).astype(np.int32)
            b += 1
            np.clip(b, 0, n - 1, out=b)
            flat = b if flat is None else flat * n + b
        if flat is None:
            raise ModelError("NormalOreModel has no feature bins")
        return flat

    def score(self, feats: CellFeatures) -> np.ndarray:
        """Anomaly score per cell: negative log density minus the training median, (h, w) float32."""
        self._check()
        idx = self._index((feats.r, feats.g, feats.lum, feats.fine, feats.coarse))
        out = np.take(self.nll_table_, idx)  # = nll_table_[idx] (the flat table), a faster gather
        out -= self.nll_median_
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Fitted state as arrays (for ``np.savez``)."""
        self._check()
        return {
            "ore_cell_mm": np.float64(self.cell_mm),
            "ore_mm_per_px": np.float64(self.mm_per_px),
            "ore_bins": np.asarray(self.bins, np.int64),
            "ore_smooth_bins": np.float64(self.smooth_bins),
            "ore_lo": self.lo_,
            "ore_hi": self.hi_,
            "ore_nll_table": self.nll_table_,
            "ore_nll_median": np.float64(self.nll_median_),
            "ore_n_cells": np.int64(self.n_cells_),
            "ore_belt_test": np.array(self.belt_test),
            "ore_belt_max_score": np.float64(self.belt_max_score_),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "NormalOreModel":
        """Inverse of :meth:`to_arrays`. Raises ModelError when keys are missing or do not match."""
        try:
            m = cls(float(arrays["ore_cell_mm"]), float(arrays["ore_mm_per_px"]), tuple(int(b) for b in arrays["ore_bins"]), float(arrays["ore_smooth_bins"]),
                    str(arrays.get("ore_belt_test", "chroma")))
            m.belt_max_score_ = float(arrays.get("ore_belt_max_score", np.inf))
            m.lo_ = np.asarray(arrays["ore_lo"], np.float32)
            m.hi_ = np.asarray(arrays["ore_hi"], np.float32)
            m.nll_table_ = np.asarray(arrays["ore_nll_table"], np.float32)
            m.nll_median_ = float(arrays["ore_nll_median"])
            m.n_cells_ = int(arrays["ore_n_cells"])
        except KeyError as exc:
            raise ModelError(f"normal-ore model arrays lack key {exc}") from exc
        if m.nll_table_.size != int(np.prod(m.bins)) or m.lo_.shape != (len(FEATURES),):
            raise ModelError(f"normal-ore table of {m.nll_table_.size} bins does not match bins {m.bins}")
        return m
