"""Multiplicative scatter correction against a reference spectrum (the training mean by default)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class MultiplicativeScatterCorrection(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """MSC (Geladi et al. 1985): regress each spectrum on the reference, ``x = a + b·ref``, return ``(x - a) / b``.

    ``reference`` (n_features,) or None → mean of the training spectra, stored as ``reference_``.
    A spectrum with slope ``|b| < 1e-12`` is only centred.
    """

    def __init__(self, reference=None):
        self.reference = reference

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, reset=True)
        if self.reference is None:
            ref = X.mean(axis=0)
        else:
            ref = np.asarray(self.reference, dtype=np.float64)
            if ref.shape != (X.shape[1],):
                raise ValueError(f"reference: expected shape ({X.shape[1]},), got {ref.shape}")
        self.reference_ = ref
        return self

    def transform(self, X):
        check_is_fitted(self, "reference_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        ref = self.reference_
        rc = ref - ref.mean()
        var = float(rc @ rc)
        xm = X.mean(axis=1, keepdims=True)
        b = ((X - xm) @ rc)[:, None] / var if var > 0 else np.ones((X.shape[0], 1))
        a = xm - b * ref.mean()
        b_safe = np.where(np.abs(b) > 1e-12, b, 1.0)
        return (X - a) / b_safe
