"""Pseudo-absorbance log10(1/R): makes multiplicative effects additive."""

from __future__ import annotations

import numpy as np

from spectra.preprocessing._base import RowwiseTransformer


class Absorbance(RowwiseTransformer):
    """``-log10(max(R, floor))`` per channel; ``floor`` (default 1e-4) guards zero and negative reflectance."""

    def __init__(self, floor: float = 1e-4):
        self.floor = floor

    def _check_params(self) -> None:
        if not (isinstance(self.floor, (int, float)) and self.floor > 0):
            raise ValueError(f"floor: expected a number > 0, got {self.floor!r}")

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return -np.log10(np.maximum(X, self.floor))
