"""Pseudo-absorbance log10(1/R): makes multiplicative effects additive."""

from __future__ import annotations

import numpy as np

from spectra.constants import REFLECTANCE_FLOOR
from spectra.preprocessing._base import RowwiseTransformer
from spectra.preprocessing.kernel import absorbance


class Absorbance(RowwiseTransformer):
    """``-log10(max(R, floor))`` per channel (:func:`~spectra.preprocessing.kernel.absorbance`); ``floor``
    (default :data:`~spectra.constants.REFLECTANCE_FLOOR`) guards zero and negative reflectance."""

    def __init__(self, floor: float = REFLECTANCE_FLOOR):
        self.floor = floor

    def _check_params(self) -> None:
        if not (isinstance(self.floor, (int, float)) and self.floor > 0):
            raise ValueError(f"floor: expected a number > 0, got {self.floor!r}")

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return absorbance(X, self.floor)
