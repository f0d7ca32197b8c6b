"""Ore / waste / contaminant classifier: multinomial logistic regression with temperature-scaled probabilities."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.linear_model import LogisticRegression

from spectra.errors import ModelError


class CalibratedLinearClassifier:
    """Standardise → linear scores → softmax(scores / T).

    Fitted by :meth:`fit` (L2 logistic regression, ``C``) and calibrated by temperature scaling on a
    separate calibration set (Guo et al. 2017). Inference is pure numpy: ``predict_proba`` (n, f) → (n, k).
    """

    def __init__(self, classes: tuple[str, ...]) -> None:
        self.classes = tuple(classes)
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.temperature_: float = 1.0

    def fit(self, X: np.ndarray, y: np.ndarray, X_cal: np.ndarray, y_cal: np.ndarray, C: float = 1.0,
            n_components: int = 60, max_iter: int = 500) -> "CalibratedLinearClassifier":
        """``y``/``y_cal`` integer class indices into ``classes``.

        The regression runs on the first ``n_components`` principal components of the standardised
        features (fast, well conditioned); the projection is folded into ``coef_`` so inference stays one
        matrix product over the full feature vector.
        """
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-9
        xs = (X - self.mean_) / self.scale_
        sub = xs[np.random.default_rng(0).permutation(xs.shape[0])[:6000]]
        _, _, vt = np.linalg.svd(sub, full_matrices=False)
        v = vt[: max(1, min(n_components, vt.shape[0]))]
        z = xs @ v.T
        zstd = z.std(axis=0) + 1e-12
        lr = LogisticRegression(C=C, max_iter=max_iter, tol=1e-5)
        lr.fit(z / zstd, y)
        if list(lr.classes_) != list(range(len(self.classes))):
            raise ModelError(f"training labels must cover classes 0..{len(self.classes) - 1}, got {lr.classes_}")
        self.coef_ = ((lr.coef_ / zstd) @ v).astype(np.float64)
        self.intercept_ = lr.intercept_.astype(np.float64)
        z = self.decision_function(X_cal)
        idx = np.asarray(y_cal, int)

        def nll(log_t: float) -> float:
            return float(-log_softmax(z / np.exp(log_t), axis=1)[np.arange(idx.size), idx].mean())

        res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
        self.temperature_ = float(np.exp(res.x))
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        if self.coef_ is None:
            raise ModelError("classifier is not fitted")
        return ((X - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (n, k), rows sum to 1."""
        return softmax(self.decision_function(X) / self.temperature_, axis=1)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}mean": self.mean_, f"{prefix}scale": self.scale_, f"{prefix}coef": self.coef_,
                f"{prefix}intercept": self.intercept_, f"{prefix}temperature": np.array(self.temperature_)}

    @classmethod
    def from_arrays(cls, classes: tuple[str, ...], arrays, prefix: str) -> "CalibratedLinearClassifier":
        obj = cls(classes)
        obj.mean_ = np.asarray(arrays[f"{prefix}mean"], float)
        obj.scale_ = np.asarray(arrays[f"{prefix}scale"], float)
        obj.coef_ = np.asarray(arrays[f"{prefix}coef"], float)
        obj.intercept_ = np.asarray(arrays[f"{prefix}intercept"], float)
        obj.temperature_ = float(arrays[f"{prefix}temperature"])
        if obj.coef_.shape != (len(classes), obj.mean_.size):
            raise ModelError(f"classifier coef: expected shape ({len(classes)}, {obj.mean_.size}), got {obj.coef_.shape}")
        return obj
