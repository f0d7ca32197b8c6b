"""Ore / waste / contaminant classifier: multinomial logistic regression with probabilities calibrated on
sample groups it did not see.

Calibration (:meth:`CalibratedLinearClassifier.calibrate`) fits a temperature and per-class offsets to
*out-of-group* scores (group cross-validation: the scores a fold's models give to physical samples they never
saw), weighted to the line's class prior. An unseen ore sample is what the line meets with every new supplier,
so this is the calibration that holds there; a model calibrated on its own training samples is overconfident on
new ones (a held-out pure hematite was called waste with p = 0.96 that way).

Far from its training data a linear model extrapolates with growing confidence. The scores are shrunk by
``min(1, d²_ref / d²)``, d² the squared Mahalanobis distance of the spectrum from the training spectra in the
model's principal components and d²_ref its median over the training spectra (the calibration is fitted on the
shrunk scores). That shrink alone sent every real spectrum to the class prior (issue 21): so a spectrum with
``d² > max_distance_ratio · d²_ref`` is **outside the model's domain** (:meth:`in_domain`), and the line does not
use this model's probabilities for it: it takes the identification by absorption features
(:mod:`spectra.identify`), which answers ``unknown`` when no reference fits, never the prior.

The estimator follows the scikit-learn contract: hyperparameters in ``__init__``, fitted attributes ending in
``_`` (``n_features_in_``), a clear ``ModelError`` (a ``ValueError``) for input of the wrong shape.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from spectra.errors import ModelError


class CalibratedLinearClassifier(ClassifierMixin, BaseEstimator):
    """Standardise → linear scores → softmax(scores / T + bias).

    Fitted by :meth:`fit` (L2 logistic regression, ``C``, on ``n_components`` principal components) and
    calibrated by temperature scaling (Guo et al. 2017) on a calibration set or by :meth:`calibrate` on
    out-of-group scores. Inference is pure numpy: ``predict_proba`` (n, f) → (n, k).
    """

    def __init__(self, classes: tuple[str, ...] = ("ore", "waste", "contaminant"), C: float = 1.0,
                 n_components: int = 60, max_iter: int = 500, max_distance_ratio: float = 25.0) -> None:
        self.classes = classes
        self.C = C
        self.n_components = n_components
        self.max_iter = max_iter
        self.max_distance_ratio = max_distance_ratio

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        if getattr(self, "coef_", None) is None:
            raise ModelError("classifier is not fitted")
        x = np.asarray(X, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.n_features_in_:
            raise ModelError(f"classifier expects (n, {self.n_features_in_}) features, got shape {np.shape(X)}")
        return x

    def fit(self, X: np.ndarray, y: np.ndarray, X_cal: np.ndarray | None = None,
            y_cal: np.ndarray | None = None) -> "CalibratedLinearClassifier":
        """``y``/``y_cal`` integer class indices into ``classes``; without a calibration set T = 1 (call
        :meth:`calibrate` with out-of-group scores).

        The regression runs on the first ``n_components`` principal components of the standardised
        features (fast, well conditioned); the projection is folded into ``coef_`` so inference stays one
        matrix product over the full feature vector.
        """
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ModelError(f"fit expects X (n, f) and y (n,), got shapes {X.shape} and {y.shape}")
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.arange(len(self.classes))
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-9
        xs = (X - self.mean_) / self.scale_
        sub = xs[np.random.default_rng(0).permutation(xs.shape[0])[:6000]]
        _, _, vt = np.linalg.svd(sub, full_matrices=False)
        v = vt[: max(1, min(self.n_components, vt.shape[0]))]
        z = xs @ v.T
        zstd = z.std(axis=0) + 1e-12
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-5)
        lr.fit(z / zstd, y)
        if list(lr.classes_) != list(range(len(self.classes))):
            raise ModelError(f"training labels must cover classes 0..{len(self.classes) - 1}, got {lr.classes_}")
        self.coef_ = ((lr.coef_ / zstd) @ v).astype(np.float64)
        self.intercept_ = lr.intercept_.astype(np.float64)
        self.components_ = (v / zstd[:, None]).astype(np.float64)
        self.d2_ref_ = float(np.median(np.sum((z / zstd) ** 2, axis=1)))
        self.bias_ = np.zeros(len(self.classes))
        if X_cal is None or y_cal is None:
            self.temperature_ = 1.0
            return self
        z = self.decision_function(X_cal)
        idx = np.asarray(y_cal, int)

        def nll(log_t: float) -> float:
            return float(-log_softmax(z / np.exp(log_t), axis=1)[np.arange(idx.size), idx].mean())

        res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
        self.temperature_ = float(np.exp(res.x))
        return self

    def calibrate(self, scores: np.ndarray, y: np.ndarray, prior: np.ndarray | None = None,
                  max_temperature: float = 50.0) -> "CalibratedLinearClassifier":
        """Temperature and per-class offsets from out-of-group ``scores`` (n, k) (:meth:`decision_function` of
        models that did not see those samples) with true classes ``y``; ``prior`` (k,) weights the classes to
        the line's expected proportions (default: as given). Minimises the prior-weighted log loss of
        ``softmax(scores / T + bias)``; bias[0] = 0."""
        z = np.asarray(scores, float)
        idx = np.asarray(y, int)
        k = len(self.classes)
        counts = np.bincount(idx, minlength=k).astype(float)
        if np.any(counts == 0):
            raise ModelError(f"calibration needs every class, got counts {counts.tolist()}")
        pri = counts / counts.sum() if prior is None else np.asarray(prior, float) / np.sum(prior)
        w = (pri / (counts / counts.sum()))[idx]
        w /= w.sum()

        def nll(theta: np.ndarray) -> float:
            b = np.concatenate([[0.0], theta[1:]])
            return float(-(w * log_softmax(z / np.exp(theta[0]) + b, axis=1)[np.arange(idx.size), idx]).sum())

        res = minimize(nll, np.zeros(k), method="L-BFGS-B",
                       bounds=[(np.log(0.05), np.log(max_temperature))] + [(-20.0, 20.0)] * (k - 1))
        self.temperature_ = float(np.exp(res.x[0]))
        self.bias_ = np.concatenate([[0.0], res.x[1:]])
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = self._check_X(X)
        return ((X - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_

    def distance_ratio(self, X: np.ndarray) -> np.ndarray:
        """d² / d²_ref (n,): squared Mahalanobis distance from the training spectra over its training median
        (0 for a model without components)."""
        X = self._check_X(X)
        if getattr(self, "components_", None) is None or self.d2_ref_ <= 0:
            return np.zeros(X.shape[0])
        d2 = np.sum((((X - self.mean_) / self.scale_) @ self.components_.T) ** 2, axis=1)
        return d2 / self.d2_ref_

    def in_domain(self, X: np.ndarray) -> np.ndarray:
        """(n,) spectra close enough to the training data for these probabilities to mean something:
        ``d² ≤ max_distance_ratio · d²_ref``."""
        return self.distance_ratio(X) <= self.max_distance_ratio

    def shrink(self, X: np.ndarray) -> np.ndarray:
        """Score shrink factor (n,) in (0, 1]: min(1, d²_ref / d²) (1 for a model without components)."""
        r = self.distance_ratio(X)
        return np.where(r > 0, np.minimum(1.0, 1.0 / np.maximum(r, 1e-12)), 1.0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Index of the most probable class (n,)."""
        return np.argmax(self.predict_proba(X), axis=1)

    def shrunk_scores(self, X: np.ndarray) -> np.ndarray:
        """:meth:`decision_function` × :meth:`shrink`: the scores the calibration and probabilities use."""
        return self.decision_function(X) * self.shrink(X)[:, None]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (n, k), rows sum to 1."""
        return softmax(self.shrunk_scores(X) / self.temperature_ + self.bias_, axis=1)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}mean": self.mean_, f"{prefix}scale": self.scale_, f"{prefix}coef": self.coef_,
                f"{prefix}intercept": self.intercept_, f"{prefix}temperature": np.array(self.temperature_),
                f"{prefix}bias": self.bias_,
                **({f"{prefix}components": self.components_, f"{prefix}d2_ref": np.array(self.d2_ref_)}
                   if getattr(self, "components_", None) is not None else {})}

    @classmethod
    def from_arrays(cls, classes: tuple[str, ...], arrays, prefix: str) -> "CalibratedLinearClassifier":
        obj = cls(tuple(classes))
        obj.mean_ = np.asarray(arrays[f"{prefix}mean"], float)
        obj.n_features_in_ = obj.mean_.size
        obj.classes_ = np.arange(len(classes))
        obj.components_, obj.d2_ref_ = None, 0.0
        obj.scale_ = np.asarray(arrays[f"{prefix}scale"], float)
        obj.coef_ = np.asarray(arrays[f"{prefix}coef"], float)
        obj.intercept_ = np.asarray(arrays[f"{prefix}intercept"], float)
        obj.temperature_ = float(arrays[f"{prefix}temperature"])
        obj.bias_ = (np.asarray(arrays[f"{prefix}bias"], float) if f"{prefix}bias" in arrays
                     else np.zeros(len(classes)))
        if f"{prefix}components" in arrays:
            obj.components_ = np.asarray(arrays[f"{prefix}components"], float)
            obj.d2_ref_ = float(arrays[f"{prefix}d2_ref"])
        if obj.coef_.shape != (len(classes), obj.mean_.size):
            raise ModelError(f"classifier coef: expected shape ({len(classes)}, {obj.mean_.size}), got {obj.coef_.shape}")
        return obj
