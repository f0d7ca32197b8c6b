"""Standard normal variate: centre and scale each spectrum by its own mean and standard deviation."""

from __future__ import annotations

import numpy as np

from spectra.preprocessing._base import RowwiseTransformer


class StandardNormalVariate(RowwiseTransformer):
    """SNV (Barnes et al. 1989): ``(x - mean(x)) / std(x)`` per spectrum; a flat spectrum maps to zeros."""

    def _transform(self, X: np.ndarray) -> np.ndarray:
        mean = X.mean(axis=1, keepdims=True)
        std = X.std(axis=1, keepdims=True)
        return (X - mean) / np.where(std > 0, std, 1.0)
