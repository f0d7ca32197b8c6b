"""Object verification and kind from per-component colour, texture, contrast and shape statistics.

Candidates (connected regions of high anomaly score) are described by :func:`component_features`
and scored by :class:`KindClassifier`, a small multilayer perceptron (scikit-learn ``MLPClassifier``
for fitting, plain numpy for prediction) whose classes are the object kinds plus ``"none"``
(normal ore / belt that merely looks unusual). Its fitted state is plain arrays, so it saves with
the model in one ``.npz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from vision import decision
from vision.decision import regime_levels
from vision.errors import ModelError
from vision.filters import window_max, window_min
from vision.kind_decision import NONE, most_likely_kind
from vision.patchnet import PatchNet

#: A classifier with a patch verifier asks it only about candidates whose MLP p(none) is at most this (0.01-0.07 % of
#: the candidates of object-free held-out belt, 2-15 % of those of belt with objects; docs/vision.md).
PATCH_GATE = 0.1
#: Candidates' patches for :meth:`KindClassifier.proba`: an array, a function of row indices, or None.
Patches = np.ndarray | Callable[[np.ndarray], np.ndarray] | None
COMPONENT_FEATURES = (
    "r", "g", "lum", "fine", "coarse", "lum_std", "lum_max", "lum_min", "score_mean", "score_max",
    "log_area", "log_length", "log_width", "elongation", "fill",
    "ring_dr", "ring_dg", "ring_dlum", "ring_lum_min", "ring_score", "grad_mean", "coherence", "obj_mean", "obj_max",
    "ring_dfine", "ring_dcoarse", "fine_max", "edge_lum", "edge_chroma",
)
#: The dense net's peak log-odds over a component's cells (:mod:`vision.densenet`; issue 27, w27p): a column after
#: COMPONENT_FEATURES where the detector runs the net (``Detector.dense_seeds``), and a classifier fitted with it has
#: len(COMPONENT_FEATURES) + 1 inputs. Classifiers fitted without it (every model before) take the first
#: len(COMPONENT_FEATURES) columns; given rows without it, a classifier fitted with it sees DENSE_FLOOR there.
DENSE_FEATURE = "dense_max"
#: The lowest ``dense_max`` (log-odds; p = 4.5e-5): cells off the belt have -inf, and no ore cell needs telling lower.
DENSE_FLOOR = -10.0


@dataclass
class ComponentStats:
    """Per-component statistics: ``matrix`` (n, len(COMPONENT_FEATURES)), sizes in mm, centres in cells (row, col)."""

    matrix: np.ndarray
    length_mm: np.ndarray
    width_mm: np.ndarray
    centre_cells: np.ndarray

    def take(self, rows: np.ndarray) -> "ComponentStats":
        """The statistics of the components ``rows`` (indices or a bool mask), in that order."""
        return ComponentStats(self.matrix[rows], self.length_mm[rows], self.width_mm[rows], self.centre_cells[rows])


def component_features(labels: np.ndarray, ids: Sequence[int], feats: np.ndarray, score: np.ndarray, cell_mm: float,
                       core: np.ndarray | None = None, objectness: np.ndarray | None = None,
                       dense: np.ndarray | None = None, origin: tuple[int, int] = (0, 0)) -> ComponentStats:
    """Statistics (:data:`COMPONENT_FEATURES`) of the components ``ids`` of ``labels`` (h, w) over cell features ``feats`` (h, w, 5) and ``score``.

    Length and width come from the second moments of the component's ``core`` cells (bool (h, w),
    default all its cells; a uniform rectangle of side L has variance L²/12), in mm. The ring of
    cells up to 2 cells around each component gives the contrast with its surroundings (shadow, edge).
    Work is done on the listed components' cells only (compact index), so cost grows with their area.
    ``objectness`` (h, w): the learned object log-odds (:mod:`vision.objectness`); its mean and maximum over the
    component (zeros without it). ``dense`` (h, w): the dense net's log-odds per cell; given, a last column
    DENSE_FEATURE (its maximum over the component, at least DENSE_FLOOR). ``origin``: the maps' first cell in a larger
    map they are a window of (moments and centres in its cells: its own to the bit, given 3 cells' margin or its edge).
    """
    id_arr = np.asarray(ids, np.int64)
    n = len(id_arr)
    h, w = labels.shape
    small = np.uint16 if n < np.iinfo(np.uint16).max else np.int32  # the same ids, half the bytes to dilate and erode
    lut = np.zeros(int(labels.max()) + 1, small)
    lut[id_arr] = np.arange(1, n + 1, dtype=small)
    lab = lut[labels]
    flat = lab.ravel()
    pix = np.flatnonzero(flat)
    comp = flat[pix] - 1
    rows, cols = (pix // w).astype(np.float64), (pix % w).astype(np.float64)

    def sums(v: np.ndarray, which: np.ndarray = comp) -> np.ndarray:
        return np.bincount(which, weights=v, minlength=n)

    def extreme(v: np.ndarray, which: np.ndarray, fn: np.ufunc, init: float) -> np.ndarray:
        out = np.full(n, init)
        fn.at(out, which, v)
        return out

    cnt_all = np.maximum(sums(np.ones(pix.size)), 1.0)
    if core is not None:
        c = core.ravel()[pix]
        cnt_core = sums(c.astype(np.float64))
        use = np.where(cnt_core[comp] >= 3, c, True)  # too few core cells: use the whole component
    else:
        use = np.ones(pix.size, bool)
    cw = use.astype(np.float64)
    cnt = np.maximum(sums(cw), 1.0)
    my, mx = sums((rows + origin[0]) * cw) / cnt, sums((cols + origin[1]) * cw) / cnt  # whole numbers: the sums exact
    dy, dx = rows + origin[0] - my[comp], cols + origin[1] - mx[comp]
    syy, sxx, sxy = sums(dy * dy * cw) / cnt, sums(dx * dx * cw) / cnt, sums(dy * dx * cw) / cnt
    tr, det = syy + sxx, syy * sxx - sxy * sxy
    disc = np.sqrt(np.maximum(tr * tr / 4 - det, 0))
    l1, l2 = tr / 2 + disc, np.maximum(tr / 2 - disc, 0)
    length = np.sqrt(12 * l1 + 1) * cell_mm
    width = np.sqrt(12 * l2 + 1) * cell_mm
    area_mm2 = cnt_all * cell_mm**2
    fv = feats.reshape(-1, feats.shape[-1])[pix].astype(np.float64)
    sv = score.ravel()[pix].astype(np.float64)
    means = [sums(fv[:, k]) / cnt_all for k in range(fv.shape[1])]
    lum = fv[:, 2]
    lum_std = np.sqrt(np.maximum(sums(lum * lum) / cnt_all - means[2] ** 2, 0.0))
    cols_out = means + [lum_std, extreme(lum, comp, np.maximum, -np.inf), extreme(lum, comp, np.minimum, np.inf),
                        sums(sv) / cnt_all, extreme(sv, comp, np.maximum, -np.inf)]
    cols_out += [np.log(area_mm2), np.log(length), np.log(width), np.log(length / np.maximum(width, 1e-3)),
                 area_mm2 / np.maximum(length * width, 1e-3)]
    # lum gradient between cells: mean magnitude, orientation coherence (straight edges, grain); r and g: the border's
    steps_y, steps_x = _neighbour_steps(feats[..., :3], pix)
    gyv, gxv = steps_y[:, 2].astype(np.float64), steps_x[:, 2].astype(np.float64)
    jxx, jyy, jxy = sums(gxv * gxv), sums(gyv * gyv), sums(gxv * gyv)
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / np.maximum(jxx + jyy, 1e-9)
    grad_mean = sums(np.sqrt(gxv * gxv + gyv * gyv)) / cnt_all
    rmean, rlmin, rscore = _ring_stats(labels, lab, rows, cols, feats, score, means, cols_out[7], n)
    cols_out += [means[0] - rmean[0], means[1] - rmean[1], means[2] - rmean[2], rlmin - means[2], rscore, grad_mean, coherence]
    if objectness is not None:
        ov = objectness.ravel()[pix].astype(np.float64)
        cols_out += [sums(ov) / cnt_all, extreme(ov, comp, np.maximum, -np.inf)]
    else:
        cols_out += [np.zeros(n), np.zeros(n)]
    cols_out += [means[3] - rmean[3], means[4] - rmean[4], extreme(fv[:, 3], comp, np.maximum, -np.inf)]
    cols_out += _edge_steps(lab, pix, comp, n, np.sqrt(gyv * gyv + gxv * gxv), steps_y, steps_x)
    if dense is not None:
        cols_out.append(extreme(np.maximum(dense.ravel()[pix].astype(np.float64), DENSE_FLOOR), comp, np.maximum, DENSE_FLOOR))
    matrix = np.column_stack([np.asarray(c, np.float64).reshape(n) for c in cols_out])
    return ComponentStats(matrix, length, width, np.column_stack([my, mx]))


def _ring_stats(labels: np.ndarray, lab: np.ndarray, rows: np.ndarray, cols: np.ndarray, feats: np.ndarray, score: np.ndarray,
                means: list[np.ndarray], lum_min: np.ndarray, n: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The ring of cells within 2 cells of each component that belong to no candidate region (in the components'
    bounding box): its mean of each cell feature, its lowest lum and mean score (the component's own values, or 0
    for the score, where a component has no ring)."""
    h, w = labels.shape
    ra, rb = max(0, int(rows.min()) - 2), min(h, int(rows.max()) + 3)
    ca, cb = max(0, int(cols.min()) - 2), min(w, int(cols.max()) + 3)
    win = (slice(ra, rb), slice(ca, cb))
    grown = window_max(lab[win], 2)  # = ndi.grey_dilation(size=(5, 5))
    ring_flat = np.where(labels[win] == 0, grown, 0).ravel()
    rpix = np.flatnonzero(ring_flat)
    rcomp = ring_flat[rpix] - 1
    rcnt = np.bincount(rcomp, minlength=n).astype(np.float64)
    has = rcnt > 0
    rr, rc = ra + rpix // (cb - ca), ca + rpix % (cb - ca)  # the ring's cells in the whole map: no copy of the window
    rf = feats[rr, rc].astype(np.float64)
    rmean = [np.where(has, np.bincount(rcomp, rf[:, k], minlength=n) / np.maximum(rcnt, 1), means[k]) for k in range(len(means))]
    rmin = np.full(n, np.inf)
    np.minimum.at(rmin, rcomp, rf[:, 2])
    rlmin = np.where(has, rmin, lum_min)
    rscore = np.where(has, np.bincount(rcomp, score[rr, rc].astype(np.float64), minlength=n) / np.maximum(rcnt, 1), 0.0)
    return rmean, rlmin, rscore


def _neighbour_steps(v: np.ndarray, pix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences (rows, columns) float32 of the map ``v`` (h, w), or of each channel of ``v`` (h, w, k), at
    the flat cell indices ``pix`` ((n,) or (n, k)): the next cell minus the previous one, 0 on the map's first and last
    row (column). The values of full-map differences, taken at the listed cells only."""
    h, w = v.shape[:2]
    rows, cols = pix // w, pix % w
    inner_r = (rows > 0) & (rows < h - 1)
    inner_c = (cols > 0) & (cols < w - 1)
    down, up = np.where(inner_r, pix + w, pix), np.where(inner_r, pix - w, pix)  # the neighbours' flat indices
    right, left = np.where(inner_c, pix + 1, pix), np.where(inner_c, pix - 1, pix)
    flat = v.reshape((h * w,) + v.shape[2:])  # a view of the features' channels (a window's: a small copy)
    if v.ndim == 3:
        inner_r, inner_c = inner_r[:, None], inner_c[:, None]
    dy = np.where(inner_r, flat[down] - flat[up], np.float32(0.0))
    dx = np.where(inner_c, flat[right] - flat[left], np.float32(0.0))
    return dy, dx


def _edge_steps(lab: np.ndarray, pix: np.ndarray, comp: np.ndarray, n: int, grad: np.ndarray, steps_y: np.ndarray,
                steps_x: np.ndarray) -> list[np.ndarray]:
    """Depth of the change at each component's border (its cells with a neighbour outside it): the mean grey step
    (``grad``: the lum gradient magnitude at ``pix``) and the mean chromaticity step there (``steps_y``, ``steps_x``
    (n, >= 2): :func:`_neighbour_steps` of r and g at ``pix``). A plank's or sheet's sides are a sharp, continuous step
    even when dust and burial dull its inside; a rock's edge fades into ore."""
    h, w = lab.shape
    rows, cols = pix // w, pix % w
    r0, c0 = max(0, int(rows.min()) - 1), max(0, int(cols.min()) - 1)
    win = (slice(r0, min(h, int(rows.max()) + 2)), slice(c0, min(w, int(cols.max()) + 2)))
    inner = window_min(lab[win], 1)  # = ndi.grey_erosion(size=(3, 3))
    b = (inner[rows - r0, cols - c0] != lab.reshape(-1)[pix]).astype(np.float64)  # pix are component cells: lab > 0
    cy = np.abs(steps_y[:, 0])
    cy += np.abs(steps_y[:, 1])
    cx = np.abs(steps_x[:, 0])
    cx += np.abs(steps_x[:, 1])
    chroma = np.hypot(cy, cx).astype(np.float64)
    nb = np.maximum(np.bincount(comp, weights=b, minlength=n), 1.0)
    return [np.bincount(comp, weights=grad * b, minlength=n) / nb, np.bincount(comp, weights=chroma * b, minlength=n) / nb]


def kind_weights(kinds: np.ndarray, weight: Mapping[str, float]) -> np.ndarray | None:
    """Per-row training weights of ``kinds`` from ``weight`` (kind -> weight; missing kinds 1); None when ``weight``
    is empty (unweighted). ModelError for a weight that is not positive and finite."""
    if not weight:
        return None
    bad = {k: w for k, w in weight.items() if not (np.isfinite(w) and w > 0)}
    if bad:
        raise ModelError(f"kind weights must be positive and finite, got {bad}")
    return np.array([float(weight.get(str(k), 1.0)) for k in kinds])


class KindClassifier:
    """Kind (or ``"none"``) with probability from :data:`COMPONENT_FEATURES` rows.

    An ensemble of ``members`` small MLPs (seeds ``seed .. seed + members - 1``) whose class probabilities are
    averaged: one network's output on a candidate unlike its training data (a rock of a kind of ore it never saw)
    swings with its random start; the average does much less. ``hidden``: hidden-layer sizes; ``alpha``: L2 penalty.
    ``none_max`` (set by calibration) is the largest probability of ``"none"`` at which a candidate is still
    reported as an object. ``kind_weight``: a training weight per kind (missing kinds 1; the MLPs' sample weights),
    e.g. ``{"wood": 4.0}`` for a union judge that must learn wood (issue 27, w27t); empty: unweighted, as before.
    """

    def __init__(self, hidden: tuple[int, ...] = (64, 32), alpha: float = 1e-3, none_max: float = 0.5, seed: int = 0,
                 members: int = 5, kind_weight: Mapping[str, float] | None = None) -> None:
        self.hidden = tuple(hidden)
        self.kind_weight = dict(kind_weight or {})
        self.alpha = alpha
        self.none_max = none_max
        self.seed = seed
        self.members = members
        #: The decision per belt condition (:meth:`vision.decision.Decision.table`: rows of load_lo, load_hi,
        #: none_max); empty: ``none_max`` everywhere.
        self.regimes_ = np.zeros((0, 3))
        #: The learned patch verifier (:mod:`vision.patchnet`), pooled with the MLPs on candidates whose p(none) is
        #: at most ``patch_gate`` (:meth:`proba`); None: component features only.
        self.patchnet_: PatchNet | None = None
        self.patch_gate = PATCH_GATE

    def fit(self, x: np.ndarray, kinds: Sequence[str]) -> "KindClassifier":
        """Fit on (n, n_features) rows and their kinds (object kinds and ``"none"``). Returns self.

        Raises ModelError with fewer than two classes or ``members`` < 1.
        """
        from sklearn.neural_network import MLPClassifier

        x = np.asarray(x, np.float64)
        y = np.asarray(kinds)
        if len(set(y.tolist())) < 2:
            raise ModelError(f"kind classifier needs at least two classes, got {sorted(set(y.tolist()))}")
        if self.members < 1:
            raise ModelError(f"kind classifier needs members >= 1, got {self.members}")
        weight = kind_weights(y, self.kind_weight)
        self.mean_ = x.mean(axis=0)
        self.scale_ = x.std(axis=0) + 1e-9
        self.coefs_, self.intercepts_ = [], []
        for m in range(self.members):
            # batches of 512 (sklearn's per-batch overhead dominates at its default 200) with twice its step size
            clf = MLPClassifier(self.hidden, alpha=self.alpha, batch_size=min(512, len(y)), learning_rate_init=2e-3, max_iter=300,
                                early_stopping=False, random_state=self.seed + m)
            if weight is None:
                clf.fit((x - self.mean_) / self.scale_, y)
            else:
                clf.fit((x - self.mean_) / self.scale_, y, sample_weight=weight)
            self.classes_ = np.asarray(clf.classes_).astype(str)
            self.coefs_.append([np.asarray(c) for c in clf.coefs_])
            self.intercepts_.append([np.asarray(c) for c in clf.intercepts_])
        return self

    @property
    def needs_patches(self) -> bool:
        """Whether scoring needs each candidate's image patch (:func:`vision.patchnet.patch_of`)."""
        return self.patchnet_ is not None

    def proba(self, x: np.ndarray, patches: Patches = None) -> np.ndarray:
        """Class probabilities (n, n_classes) in ``classes_`` order: the mean over the members. With a patch verifier,
        rows whose p(none) is at most ``patch_gate`` get the normalised geometric mean of theirs and the verifier's
        (the others cannot be reported anyway; the verifier's cost stays with the few object-like candidates).
        ``patches``: the candidates' patches (n, 32, 32, 3) uint8, or a function giving those of the rows it is
        passed (an index array), so that a caller cuts patches only where they are asked for; ModelError when the
        classifier has a patch verifier and they are not given or their number differs."""
        p = self._mlp_proba(x)
        if self.patchnet_ is None:
            return p
        if patches is None or (not callable(patches) and len(patches) != len(p)):
            raise ModelError(f"this kind classifier has a patch verifier: it needs each candidate's image patch "
                             f"(got {'none' if patches is None else len(patches)} for {len(p)} candidates)")
        hit = np.flatnonzero(self.classes_ == NONE)
        ask = np.flatnonzero(p[:, hit[0]] <= self.patch_gate if hit.size else np.ones(len(p), bool))
        if ask.size:
            got = patches(ask) if callable(patches) else np.asarray(patches)[ask]
            q = np.sqrt(p[ask] * self.patchnet_.proba(self.inputs(x)[ask], got))
            p[ask] = q / np.maximum(q.sum(axis=1, keepdims=True), 1e-300)
        return p

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """Rows ``x`` (n, len(COMPONENT_FEATURES) [+ 1]) as this classifier takes them (float64): without the
        DENSE_FEATURE column when it was fitted without it, with DENSE_FLOOR there when it was fitted with it and the
        rows lack it; rows of the width it was fitted on as they are (a classifier fitted on other features too).
        ModelError for another width."""
        x = np.atleast_2d(np.asarray(x, np.float64))
        n_in, base = self.mean_.shape[0], len(COMPONENT_FEATURES)
        if x.shape[1] == n_in:
            return x
        if x.shape[1] not in (base, base + 1) or n_in not in (base, base + 1):
            raise ModelError(f"expected {n_in} component features, got {x.shape[1]}")
        if x.shape[1] > n_in:
            return x[:, :n_in]
        return np.column_stack([x, np.full(len(x), DENSE_FLOOR)])

    def _mlp_proba(self, x: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coefs_"):
            raise ModelError("KindClassifier is not fitted")
        x = self.inputs(x)
        a0 = (x - self.mean_) / self.scale_
        w1, b1, ws, bs = self._stacked()
        n, m = x.shape[0], len(self.coefs_)
        a = a0 @ w1  # every member's first layer in one product: (n, members x units)
        a += b1
        a = a.reshape(n, m, -1).transpose(1, 0, 2)  # (members, n, units)
        for w, b in zip(ws, bs):  # the members' further layers as batched products
            np.maximum(a, 0.0, out=a)
            a = a @ w
            a += b
        if a.shape[2] == 1:  # binary
            p1 = 1.0 / (1.0 + np.exp(-a[:, :, 0]))
            return np.stack([1 - p1, p1], axis=2).sum(axis=0) / m
        a -= a.max(axis=2, keepdims=True)
        p = np.exp(a)
        p /= p.sum(axis=2, keepdims=True)
        return p.sum(axis=0) / m

    def _stacked(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """The members' layers for :meth:`_mlp_proba`: the first layers side by side (features, members x units) with
        their biases, the others stacked (members, units in, units out) with biases (members, 1, units out). Built once
        per set of coefficient arrays (a member's array replaced builds them again: the arrays they were built from are
        kept and compared by identity, so a freed array's id reused by a new one cannot pass for it)."""
        source = [a for m in self.coefs_ + self.intercepts_ for a in m]
        built = getattr(self, "_stack_of", None)
        if built is None or len(built) != len(source) or any(a is not b for a, b in zip(built, source)):
            w1 = np.concatenate([c[0] for c in self.coefs_], axis=1)
            b1 = np.concatenate([b[0] for b in self.intercepts_])
            ws = [np.stack([c[i] for c in self.coefs_]) for i in range(1, len(self.coefs_[0]))]
            bs = [np.stack([b[i] for b in self.intercepts_])[:, None, :] for i in range(1, len(self.coefs_[0]))]
            self._stack, self._stack_of = (w1, b1, ws, bs), source
        return self._stack

    def p_none(self, x: np.ndarray, patches: Patches = None) -> np.ndarray:
        """Probability that each row is not a foreign object, (n,)."""
        p = self.proba(x, patches)
        hit = np.flatnonzero(self.classes_ == NONE)
        return p[:, hit[0]] if hit.size else np.zeros(p.shape[0])

    def predict(self, x: np.ndarray, patches: Patches = None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(kinds, probability of that kind given it is an object, probability of ``"none"``) for (n, n_features) rows
        (and their patches, see :meth:`proba`)."""
        return self.calls(self.proba(x, patches))

    def calls(self, p: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """:meth:`predict` from class probabilities ``p`` (n, n_classes) already computed by :meth:`proba`."""
        kinds, prob = most_likely_kind(p, self.classes_)
        return kinds, prob, p[:, self.classes_ == NONE].sum(axis=1)

    def levels(self, load: np.ndarray | None) -> np.ndarray | float:
        """The decision (largest p(none) still reported) at each belt ``load`` (:mod:`vision.regime`): the level of
        the belt condition holding it, else ``none_max``; ``none_max`` without regimes or loads, or while
        :data:`vision.decision.APPLY_REGIMES` is off."""
        if load is None or not len(self.regimes_) or not decision.APPLY_REGIMES:
            return self.none_max
        return regime_levels(load, self.regimes_, self.none_max)

    @property
    def kinds(self) -> list[str]:
        return [str(k) for k in self.classes_ if k != NONE]

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"cls_mean": self.mean_, "cls_scale": self.scale_, "cls_classes": self.classes_.astype(str),
               "cls_hidden": np.asarray(self.hidden, np.int64), "cls_alpha": np.float64(self.alpha),
               "cls_none_max": np.float64(self.none_max), "cls_members": np.int64(len(self.coefs_)),
               "cls_layers": np.int64(len(self.coefs_[0])), "cls_regimes": np.asarray(self.regimes_, np.float64).reshape(-1, 3)}
        for m, (coefs, intercepts) in enumerate(zip(self.coefs_, self.intercepts_)):
            for i, (w, b) in enumerate(zip(coefs, intercepts)):
                out[f"cls_m{m}_w{i}"], out[f"cls_m{m}_b{i}"] = w, b
        if self.patchnet_ is not None:
            out.update(self.patchnet_.to_arrays())
            out["cls_patch_gate"] = np.float64(self.patch_gate)
        return out

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> "KindClassifier":
        """Inverse of :meth:`to_arrays`. Raises ModelError when keys are missing or the feature count differs."""
        try:
            n_members, n_layers = int(a["cls_members"]), int(a["cls_layers"])
            k = cls(tuple(int(h) for h in a["cls_hidden"]), float(a["cls_alpha"]), float(a["cls_none_max"]), members=n_members)
            k.mean_, k.scale_ = np.asarray(a["cls_mean"]), np.asarray(a["cls_scale"])
            k.classes_ = np.asarray(a["cls_classes"]).astype(str)
            k.regimes_ = np.asarray(a.get("cls_regimes", np.zeros((0, 3))), np.float64).reshape(-1, 3)
            k.coefs_ = [[np.asarray(a[f"cls_m{m}_w{i}"]) for i in range(n_layers)] for m in range(n_members)]
            k.intercepts_ = [[np.asarray(a[f"cls_m{m}_b{i}"]) for i in range(n_layers)] for m in range(n_members)]
        except KeyError as exc:
            raise ModelError(f"kind classifier arrays lack key {exc}") from exc
        if "pn_onnx" in a:
            k.patchnet_ = PatchNet.from_arrays(a)
            k.patch_gate = float(a.get("cls_patch_gate", PATCH_GATE))
            if list(k.patchnet_.classes_) != list(k.classes_):
                raise ModelError(f"patch verifier classes {k.patchnet_.classes_.tolist()} differ from the classifier's {k.classes_.tolist()}")
        if k.mean_.shape not in ((len(COMPONENT_FEATURES),), (len(COMPONENT_FEATURES) + 1,)):
            raise ModelError(f"kind classifier expects {k.mean_.shape} features, this version computes {len(COMPONENT_FEATURES)} "
                             f"(+ {DENSE_FEATURE} with the dense net)")
        return k
