"""A second look at objects between ore lump and a foreign kind: evidence that should survive coating.

The kind rule (:mod:`vision.kind_decision`) leaves objects whose foreign log odds lie between its two levels
``uncertain``. :class:`LumpEvidence` is a fit-time quantity that would move them: a logistic regression of lump
against foreign object on the classifier's log odds and on component statistics measured *against the local ore*
or from the object's shape (colour and brightness against the ring of ore around it, texture contrast, edge steps,
straight sides as orientation coherence and elongation, fill), never absolute colour (the renderer tints lumps to
its ore; a blind site's ore is another colour). Its output replaces the log odds in the rule.

Measured, not shipped: the detector does not use it (``benchmarks/bench_vision_kinds.py --evidence`` trains it on
fit-split belt and measures it on held-out belt). Shipping it means training it in the built-in fit and keeping it in
the model file: a refit, which this work was not to do.
"""

from __future__ import annotations

import numpy as np

from vision.classify import COMPONENT_FEATURES
from vision.kind_decision import LUMP, foreign_log_odds, is_foreign

#: Component statistics relative to the local ore or of shape (no absolute colour or brightness).
EVIDENCE_FEATURES = ("ring_dr", "ring_dg", "ring_dlum", "ring_dfine", "ring_dcoarse", "edge_lum", "edge_chroma",
                     "coherence", "elongation", "fill", "log_length", "log_width", "grad_mean", "lum_std", "ring_score")
#: Log odds are clipped to +-LOG_ODDS_CLIP before they enter the regression (the classifier's tails reach 1e-300).
LOG_ODDS_CLIP = 12.0


class LumpEvidence:
    """Logistic regression of foreign object (1) against ore lump (0) on the clipped classifier log odds and
    :data:`EVIDENCE_FEATURES`; ``C`` is the inverse L2 strength. :meth:`log_odds` gives the combined log odds of
    foreign, for :func:`vision.kind_decision.decide_kinds`-style levels."""

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def _inputs(self, features: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
        cols = [COMPONENT_FEATURES.index(n) for n in EVIDENCE_FEATURES]
        lo = np.clip(foreign_log_odds(proba, classes), -LOG_ODDS_CLIP, LOG_ODDS_CLIP)
        return np.column_stack([lo, np.atleast_2d(np.asarray(features, np.float64))[:, cols]])

    def fit(self, features: np.ndarray, proba: np.ndarray, classes: np.ndarray, truth: list[str]) -> "LumpEvidence":
        """Fit on detections of ore lumps and foreign objects (others are left out). ValueError without both."""
        from sklearn.linear_model import LogisticRegression

        t = np.asarray(truth, dtype=str)
        keep = (t == LUMP) | is_foreign(t)
        y = is_foreign(t[keep]).astype(int)
        if y.min(initial=1) == 1 or y.max(initial=0) == 0:
            raise ValueError(f"expected detections of ore lumps and of foreign objects, got {int((y == 0).sum())} and {int(y.sum())}")
        x = self._inputs(features[keep], proba[keep], classes)
        self.mean_, self.scale_ = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-9)
        self.model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000).fit((x - self.mean_) / self.scale_, y)
        return self

    def log_odds(self, features: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Combined log odds of foreign against lump, (n,)."""
        if not hasattr(self, "model_"):
            raise ValueError("LumpEvidence is not fitted")
        x = (self._inputs(features, proba, classes) - self.mean_) / self.scale_
        return np.asarray(self.model_.decision_function(x), np.float64)


__all__ = ["EVIDENCE_FEATURES", "LumpEvidence"]
