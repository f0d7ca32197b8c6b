"""Continuum removal: divide each spectrum by its upper convex hull (band-depth analysis)."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_non_negative, validate_data

from spectra.preprocessing._base import RowwiseTransformer


def upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Upper convex hull of the points (x, y) evaluated at x (Andrew's monotone chain; x ascending)."""
    idx: list[int] = []
    for i in range(x.size):
        while len(idx) >= 2:
            i0, i1 = idx[-2], idx[-1]
            # drop i1 if it lies on or below the chord i0 → i
            if (y[i1] - y[i0]) * (x[i] - x[i0]) <= (y[i] - y[i0]) * (x[i1] - x[i0]):
                idx.pop()
            else:
                break
        idx.append(i)
    return np.interp(x, x[idx], y[idx])


class ContinuumRemoval(RowwiseTransformer):
    """``x / hull(x)`` per spectrum, 1 on the hull and < 1 inside absorption bands.

    ``wavelength_nm`` (n_features,) or None (channel index). Needs reflectance >= 0 (ValueError otherwise);
    where the hull is 0 the output is 1. A Python loop per spectrum: for analysis and training, not the fast path.
    """

    def __init__(self, wavelength_nm=None):
        self.wavelength_nm = wavelength_nm

    def _axis(self, n: int) -> np.ndarray:
        if self.wavelength_nm is None:
            return np.arange(n, dtype=float)
        wl = np.asarray(self.wavelength_nm, dtype=float)
        if wl.shape != (n,) or not np.all(np.diff(wl) > 0):
            raise ValueError(f"wavelength_nm: expected {n} ascending values, got shape {wl.shape}")
        return wl

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, reset=True)
        check_non_negative(X, "ContinuumRemoval.fit")
        self._axis(self.n_features_in_)
        return self

    def _transform(self, X: np.ndarray) -> np.ndarray:
        check_non_negative(X, "ContinuumRemoval.transform")
        x = self._axis(X.shape[1])
        out = np.ones_like(X)
        for i, row in enumerate(X):
            hull = upper_hull(x, row)
            np.divide(row, hull, out=out[i], where=hull > 0)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags
