"""Object kind from per-object colour, texture and shape statistics.

A multinomial logistic regression (scikit-learn) on standardised component features;
its fitted state is plain arrays so it saves with the model in one ``.npz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

from vision.errors import ModelError

COMPONENT_FEATURES = (
    "r", "g", "lum", "fine", "coarse", "lum_max", "lum_min", "score_mean", "log_area", "elongation", "fill",
)


@dataclass
class ComponentStats:
    """Per-component statistics: ``matrix`` (n, len(COMPONENT_FEATURES)), sizes in mm, centres in cells (row, col)."""

    matrix: np.ndarray
    length_mm: np.ndarray
    width_mm: np.ndarray
    centre_cells: np.ndarray


def component_features(labels: np.ndarray, ids: Sequence[int], feats: np.ndarray, score: np.ndarray, cell_mm: float) -> ComponentStats:
    """Statistics of the components ``ids`` of ``labels`` (h, w) over cell features ``feats`` (h, w, 5) and ``score``.

    Length and width come from the second moments of the component (a uniform rectangle of
    side L has variance L²/12), in mm.
    """
    ids = np.asarray(ids)
    ones = np.ones(labels.shape, np.float32)
    n = len(ids)
    cnt = ndi.sum(ones, labels, ids)
    rows, cols = np.indices(labels.shape, dtype=np.float32)
    my = ndi.sum(rows, labels, ids) / cnt
    mx = ndi.sum(cols, labels, ids) / cnt
    syy = ndi.sum(rows * rows, labels, ids) / cnt - my * my
    sxx = ndi.sum(cols * cols, labels, ids) / cnt - mx * mx
    sxy = ndi.sum(rows * cols, labels, ids) / cnt - my * mx
    tr, det = syy + sxx, syy * sxx - sxy * sxy
    disc = np.sqrt(np.maximum(tr * tr / 4 - det, 0))
    l1, l2 = tr / 2 + disc, np.maximum(tr / 2 - disc, 0)
    length = np.sqrt(12 * l1 + 1) * cell_mm
    width = np.sqrt(12 * l2 + 1) * cell_mm
    area_mm2 = cnt * cell_mm**2
    cols_out = [ndi.mean(feats[..., k], labels, ids) for k in range(feats.shape[-1])]
    lum = feats[..., 2]
    cols_out += [ndi.maximum(lum, labels, ids), ndi.minimum(lum, labels, ids), ndi.mean(score, labels, ids)]
    cols_out += [np.log(area_mm2), np.log(length / np.maximum(width, 1e-3)), area_mm2 / np.maximum(length * width, 1e-3)]
    matrix = np.column_stack([np.asarray(c, np.float64).reshape(n) for c in cols_out])
    return ComponentStats(matrix, length, width, np.column_stack([my, mx]))


class KindClassifier:
    """Kind with probability from :data:`COMPONENT_FEATURES` rows. ``C``: inverse regularisation strength."""

    def __init__(self, C: float = 3.0) -> None:
        self.C = C

    def fit(self, x: np.ndarray, kinds: Sequence[str]) -> "KindClassifier":
        """Fit on (n, n_features) rows and their kinds. Returns self. Raises ModelError with < 2 kinds."""
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(x, np.float64)
        y = np.asarray(kinds)
        if len(set(y.tolist())) < 2:
            raise ModelError(f"kind classifier needs at least two kinds, got {sorted(set(y.tolist()))}")
        self.mean_ = x.mean(axis=0)
        self.scale_ = x.std(axis=0) + 1e-9
        clf = LogisticRegression(C=self.C, max_iter=2000).fit((x - self.mean_) / self.scale_, y)
        self.classes_ = np.asarray(clf.classes_)
        self.coef_ = clf.coef_
        self.intercept_ = clf.intercept_
        return self

    def predict(self, x: np.ndarray) -> tuple[list[str], np.ndarray]:
        """(kinds, probability of that kind) for (n, n_features) rows."""
        if not hasattr(self, "coef_"):
            raise ModelError("KindClassifier is not fitted")
        x = np.atleast_2d(np.asarray(x, np.float64))
        if x.shape[1] != self.mean_.shape[0]:
            raise ModelError(f"expected {self.mean_.shape[0]} component features, got {x.shape[1]}")
        z = (x - self.mean_) / self.scale_ @ self.coef_.T + self.intercept_
        if z.shape[1] == 1:  # binary logistic regression
            z = np.column_stack([-z[:, 0], z[:, 0]]) / 2
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        best = p.argmax(axis=1)
        return [str(self.classes_[i]) for i in best], p[np.arange(len(best)), best]

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"cls_mean": self.mean_, "cls_scale": self.scale_, "cls_classes": self.classes_.astype(str),
                "cls_coef": self.coef_, "cls_intercept": self.intercept_, "cls_C": np.float64(self.C)}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> "KindClassifier":
        try:
            k = cls(float(a["cls_C"]))
            k.mean_, k.scale_ = np.asarray(a["cls_mean"]), np.asarray(a["cls_scale"])
            k.classes_ = np.asarray(a["cls_classes"]).astype(str)
            k.coef_, k.intercept_ = np.asarray(a["cls_coef"]), np.asarray(a["cls_intercept"])
        except KeyError as exc:
            raise ModelError(f"kind classifier arrays lack key {exc}") from exc
        return k
