"""Shared base for the spectral transformers: a stateless row-wise transform with sklearn conventions."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class RowwiseTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Transformer acting on each spectrum (row) alone. Subclasses implement :meth:`_transform`.

    ``fit`` only records ``n_features_in_``; ``transform`` checks it is fitted and that X has that many
    channels (``ValueError`` otherwise), rejects NaN/inf, and returns float64 (n_samples, n_features).
    """

    def fit(self, X, y=None):
        validate_data(self, X, dtype=np.float64, reset=True)
        self._check_params()
        return self

    def _check_params(self) -> None:
        """Validate constructor arguments (raise ValueError)."""

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._transform(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
