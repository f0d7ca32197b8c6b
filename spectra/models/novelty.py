"""Novelty against the ore population: PCA Hotelling T² and Q (squared prediction error) with control limits.

Limits at confidence ``1 - alpha``: T² from the F distribution, Q from Jackson & Mudholkar (1979) using the
residual eigenvalues; each is raised to the empirical ``1 - alpha`` quantile on held-out ore spectra when
that is larger (simulated ore is not Gaussian). A spectrum is *novel* when T² or Q exceeds its limit.

The estimator follows the scikit-learn contract: hyperparameters (``explained``, ``max_components``, ``alpha``)
in ``__init__``, fitted attributes ending in ``_`` (``n_features_in_``), ``ModelError`` (a ``ValueError``) for
input of the wrong shape.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator

from spectra.errors import ModelError


def t2_limit(n_components: int, n_samples: int, alpha: float) -> float:
    """Hotelling T² upper control limit for new observations."""
    a, n = n_components, n_samples
    return float(a * (n - 1) * (n + 1) / (n * (n - a)) * stats.f.ppf(1.0 - alpha, a, n - a))


def q_limit(residual_eigvals: np.ndarray, alpha: float) -> float:
    """Jackson–Mudholkar upper control limit of Q from the eigenvalues of the discarded components."""
    lam = np.asarray(residual_eigvals, float)
    th1, th2, th3 = lam.sum(), (lam ** 2).sum(), (lam ** 3).sum()
    if th1 <= 0 or th2 <= 0:
        return 0.0
    h0 = 1.0 - 2.0 * th1 * th3 / (3.0 * th2 ** 2)
    c = stats.norm.ppf(1.0 - alpha)
    return float(th1 * (c * np.sqrt(2.0 * th2 * h0 ** 2) / th1 + 1.0 + th2 * h0 * (h0 - 1.0) / th1 ** 2) ** (1.0 / h0))


class PcaNovelty(BaseEstimator):
    """PCA model of the ore population with T² and Q limits. Inference: :meth:`score` (n, f) → (t2, q)."""

    def __init__(self, explained: float = 0.999, max_components: int = 25, alpha: float = 0.01) -> None:
        self.explained = explained
        self.max_components = max_components
        self.alpha = alpha

    def fit(self, X: np.ndarray, X_cal: np.ndarray | None = None) -> "PcaNovelty":
        """Fit on ore spectra ``X`` (n, f); calibrate limits on held-out ore ``X_cal`` when given."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ModelError(f"novelty model expects (n, f) features, got shape {X.shape}")
        n = X.shape[0]
        if n < 10:
            raise ModelError(f"novelty model needs >= 10 ore spectra, got {n}")
        alpha, explained, max_components = float(self.alpha), self.explained, self.max_components
        self.n_features_in_ = X.shape[1]
        self.mean_ = X.mean(axis=0)
        _, s, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        ev = s ** 2 / (n - 1)
        k = int(np.searchsorted(np.cumsum(ev) / ev.sum(), explained) + 1)
        k = max(1, min(k, max_components, n - 2))
        self.components_ = vt[:k]
        self.eigvals_ = ev[:k]
        self.t2_limit_theory_ = t2_limit(k, n, alpha)
        self.q_limit_theory_ = q_limit(ev[k:], alpha)
        self.t2_limit_, self.q_limit_ = self.t2_limit_theory_, self.q_limit_theory_
        if X_cal is not None and len(X_cal):
            t2, q = self.score(X_cal)
            self.t2_limit_ = max(self.t2_limit_theory_, float(np.quantile(t2, 1.0 - alpha)))
            self.q_limit_ = max(self.q_limit_theory_, float(np.quantile(q, 1.0 - alpha)))
        return self

    def score(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hotelling T² (n,) and Q residual (n,)."""
        if getattr(self, "components_", None) is None:
            raise ModelError("novelty model is not fitted")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ModelError(f"novelty model expects (n, {self.n_features_in_}) features, got shape {np.shape(X)}")
        xc = X - self.mean_
        t = xc @ self.components_.T
        t2 = (t ** 2 / self.eigvals_).sum(axis=1)
        resid = xc - t @ self.components_
        q = np.einsum("ij,ij->i", resid, resid)
        return t2, q

    def novel(self, t2: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (t2 > self.t2_limit_) | (q > self.q_limit_)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}mean": self.mean_, f"{prefix}components": self.components_, f"{prefix}eigvals": self.eigvals_,
                f"{prefix}limits": np.array([self.t2_limit_, self.q_limit_, self.t2_limit_theory_,
                                             self.q_limit_theory_, self.alpha])}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> "PcaNovelty":
        obj = cls()
        obj.mean_ = np.asarray(arrays[f"{prefix}mean"], float)
        obj.components_ = np.asarray(arrays[f"{prefix}components"], float)
        obj.eigvals_ = np.asarray(arrays[f"{prefix}eigvals"], float)
        lim = np.asarray(arrays[f"{prefix}limits"], float)
        obj.t2_limit_, obj.q_limit_, obj.t2_limit_theory_, obj.q_limit_theory_, obj.alpha = (float(v) for v in lim)
        obj.n_features_in_ = obj.mean_.size
        if obj.components_.shape[1] != obj.mean_.size:
            raise ModelError("novelty model arrays disagree in the number of features")
        return obj
