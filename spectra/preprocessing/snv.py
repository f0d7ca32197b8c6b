"""Standard normal variate: centre and scale each spectrum by its own mean and standard deviation."""

from __future__ import annotations

import numpy as np

from spectra.preprocessing._base import RowwiseTransformer
from spectra.preprocessing.kernel import snv


class StandardNormalVariate(RowwiseTransformer):
    """SNV (Barnes et al. 1989): ``(x - mean(x)) / std(x)`` per spectrum (:func:`~spectra.preprocessing.kernel.snv`);
    a spectrum with ``std <= SNV_MIN_STD`` (:mod:`spectra.constants`) is only centred, so a flat one maps to zeros."""

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return snv(X)
