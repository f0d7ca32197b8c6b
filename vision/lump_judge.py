"""Ore lumps called foreign: a learned second look that moves a lump-like foreign call to ``uncertain`` (issue 27, lump55).

The kind rule (:mod:`vision.kind_decision`) reports a foreign kind when the classifier's log odds of the foreign kinds
against ``lump`` reach its level; a large ore lump that the classifier splits between ``lump`` and ``cloth`` or ``wood``
is then a false contamination of its segment and lot. The lump judge is a small boosted model of ore lump (1) against
foreign object (0) over a detection's classifier odds (:func:`design`: ``ln(p(kind) / p(lump))`` per foreign kind and
the rule's own log odds) and its component statistics *against the local ore* or of its shape and own texture
(:data:`JUDGE_FEATURES`: no absolute colour or brightness), fitted on detections over belt built from the fit split's
tiles only (``benchmarks/bench_vision_kinds.py --fit-lump-judge``).

:func:`judged_kinds`: a reported detection that the rule calls a foreign kind becomes :data:`~vision.kind_decision.UNCERTAIN`
(a warning and a targeted increment, never contamination dropped silently) when its score reaches
:attr:`LumpJudge.level`; it is never made ``lump``, and no other detection is touched. The level is set on the fit
split's foreign objects (:func:`set_level`): at most ``share_max`` (1 %) of the detected foreign objects score at or
above it, on their out-of-fold scores (:func:`out_of_fold`). The trees are a :class:`vision.wood_judge.WoodJudge`
(evaluated with numpy, no scikit-learn at run time); model, level and provenance are stored in :data:`LUMP_JUDGE_PATH`
beside the shipped model whose classifiers it was fitted for (:func:`judge_for`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vision.classify import COMPONENT_FEATURES, DENSE_FEATURE, KindClassifier
from vision.decision_kind import judge_key
from vision.kind_decision import LUMP, UNCERTAIN, foreign_given_object, foreign_log_odds, is_foreign
from vision.wood_judge import WoodJudge, from_sklearn

#: The shipped lump judge of the 4 mm/px union (for its base classifier and its second judge); absent: none.
LUMP_JUDGE_PATH = Path(__file__).with_name("lump_judge_4mm.npz")
#: The command that fits it and sets its level on fit-split belt.
FIT_COMMAND = "python -m benchmarks.bench_vision_kinds --fit-lump-judge vision/lump_judge_4mm.npz"
#: Component statistics the judge sees: measured against the ring of ore around the object, of its shape, its own
#: texture and shading, or the learned objectness; never absolute colour or brightness (``r``, ``g``, ``lum``,
#: ``lum_max``, ``lum_min``, ``ring_lum_min``, ``fine``, ``coarse``, ``fine_max``: another ore, another value).
JUDGE_FEATURES = ("lum_std", "score_mean", "score_max", "log_area", "log_length", "log_width", "elongation", "fill",
                  "ring_dr", "ring_dg", "ring_dlum", "ring_score", "grad_mean", "coherence", "obj_mean", "obj_max",
                  "ring_dfine", "ring_dcoarse", "edge_lum", "edge_chroma")
#: Floor of a probability before its log.
P_FLOOR = 1e-6
#: The rule's log odds enter clipped to +-LOG_ODDS_CLIP (the classifier's tails reach 1e-300).
LOG_ODDS_CLIP = 12.0
#: The share of the fit split's detected foreign objects the level may move to uncertain.
FOREIGN_MOVED_MAX = 0.01


def design(matrix: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The judge's inputs (n, f): :data:`JUDGE_FEATURES` of the component feature rows ``matrix`` (n,
    len(COMPONENT_FEATURES) or one more, the dense net's peak, which is left out), ``ln(p(kind) / p(lump))`` per foreign
    kind of ``classes`` (its order; probabilities floored at :data:`P_FLOOR`) and the rule's log odds
    (:func:`~vision.kind_decision.foreign_log_odds`, clipped at +-:data:`LOG_ODDS_CLIP`); NaN and infinities as 0.
    Raises ValueError for rows of another width or probabilities of another shape."""
    classes = np.asarray(classes).astype(str)
    if LUMP not in classes:
        raise ValueError(f"expected the classifier's classes to hold {LUMP!r}, got {list(classes)}")
    matrix = np.atleast_2d(np.asarray(matrix, float))
    proba = np.atleast_2d(np.asarray(proba, float))
    if matrix.shape[1] not in (len(COMPONENT_FEATURES), len(COMPONENT_FEATURES) + 1) or proba.shape != (len(matrix), len(classes)):
        raise ValueError(f"expected feature rows of {len(COMPONENT_FEATURES)} columns (or one more, {DENSE_FEATURE}) and "
                         f"probabilities (n, {len(classes)}), got {matrix.shape} and {proba.shape}")
    cols = [COMPONENT_FEATURES.index(n) for n in JUDGE_FEATURES]
    logp = np.log(np.maximum(proba, P_FLOOR))
    foreign = is_foreign(classes)
    lo = np.clip(foreign_log_odds(proba, classes), -LOG_ODDS_CLIP, LOG_ODDS_CLIP)
    x = np.hstack([matrix[:, cols], logp[:, foreign] - logp[:, classes == LUMP], lo[:, None]])
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass
class LumpJudge:
    """A boosted model of ore lump against foreign object (``trees``, log odds of lump) and its level. ``classes``: the
    classifier's class order :func:`design` was fitted on; ``judges``: the :func:`~vision.decision_kind.judge_key` of
    each classifier whose probabilities it takes (the union's base and second judge); ``level`` in log odds (inf:
    never moves); ``foreign`` the fit split's detected foreign objects and ``moved`` how many of them reach the level;
    ``provenance``: how and on what it was fitted and its level set."""

    trees: WoodJudge
    classes: tuple[str, ...]
    judges: tuple[str, ...]
    level: float = math.inf
    foreign: int = 0
    moved: int = 0
    provenance: dict = field(default_factory=dict)

    def score(self, x: np.ndarray) -> np.ndarray:
        """The log odds of an ore lump against a foreign object of each row of ``x`` (:func:`design`)."""
        return self.trees.score(x)

    def save(self, path: str | Path) -> None:
        """Write the judge to ``path`` (.npz)."""
        own: dict[str, Any] = {"classes": np.array(self.classes), "judges": np.array(self.judges), "level": np.float64(self.level),
               "foreign": np.int64(self.foreign), "moved": np.int64(self.moved),
               "provenance": np.array(json.dumps(self.provenance, sort_keys=True))}
        np.savez_compressed(Path(path), **own, **{f"trees_{k}": v for k, v in self.trees.to_arrays().items()})

    @classmethod
    def load(cls, path: str | Path) -> "LumpJudge":
        """Read a judge written by :meth:`save`. Raises ValueError naming ``path`` when it is no lump judge."""
        try:
            with np.load(path, allow_pickle=False) as z:
                trees = WoodJudge.from_arrays({k[len("trees_"):]: z[k] for k in z.files if k.startswith("trees_")})
                judge = cls(trees, tuple(str(c) for c in z["classes"]), tuple(str(j) for j in z["judges"]), float(z["level"]),
                            int(z["foreign"]), int(z["moved"]), json.loads(str(z["provenance"])))
        except (KeyError, ValueError, OSError) as exc:
            raise ValueError(f"{path}: not a lump judge ({exc})") from exc
        n_inputs = len(JUDGE_FEATURES) + int(is_foreign(np.array(judge.classes)).sum()) + 1
        if trees.feature.size and int(trees.feature.max()) >= n_inputs:
            raise ValueError(f"{path}: its trees read input {int(trees.feature.max())}, expected fewer than {n_inputs}")
        return judge


def fit(matrix: np.ndarray, proba: np.ndarray, classes: np.ndarray, truth: list[str], judges: tuple[str, ...], *,
        max_iter: int = 200, max_depth: int = 3, seed: int = 0, provenance: dict | None = None) -> LumpJudge:
    """A :class:`LumpJudge` (no level yet) fitted on detections of ore lumps and foreign objects (``truth``; others are
    left out) with feature rows ``matrix`` and class probabilities ``proba``: a binary
    ``HistGradientBoostingClassifier`` (``max_iter`` trees of ``max_depth``, classes weighted alike, no early stopping;
    needs scikit-learn). Raises ValueError without both."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    t = np.asarray(truth, dtype=str)
    keep = (t == LUMP) | is_foreign(t)
    y = (t[keep] == LUMP).astype(int)
    if y.min(initial=1) == 1 or y.max(initial=0) == 0:
        raise ValueError(f"expected detections of ore lumps and of foreign objects, got {int(y.sum())} and {int((y == 0).sum())}")
    model = HistGradientBoostingClassifier(max_iter=max_iter, max_depth=max_depth, learning_rate=0.1, class_weight="balanced",
                                           early_stopping=False, random_state=seed)
    model.fit(design(np.atleast_2d(matrix)[keep], np.atleast_2d(proba)[keep], classes), y)
    info = {"lumps": int(y.sum()), "foreign": int((y == 0).sum()), "trees": max_iter, "depth": max_depth, **(provenance or {})}
    trees = from_sklearn(model, np.asarray(classes).astype(str), ",".join(judges), info)
    return LumpJudge(trees, tuple(str(c) for c in classes), tuple(judges), provenance=info)


def out_of_fold(matrix: np.ndarray, proba: np.ndarray, classes: np.ndarray, truth: list[str], judges: tuple[str, ...], *,
                folds: int = 5, seed: int = 0, **options: Any) -> np.ndarray:
    """Each detection's score by a judge fitted (:func:`fit`, ``options``) without its fold (``folds`` folds, dealt
    at random by ``seed``): scores a final judge's level can be set on without scoring its own training rows."""
    t = np.asarray(truth, dtype=str)
    fold = np.random.default_rng(seed).permutation(len(t)) % folds
    out = np.full(len(t), np.nan)
    for f in range(folds):
        j = fit(matrix[fold != f], proba[fold != f], classes, list(t[fold != f]), judges, seed=seed, **options)
        out[fold == f] = j.score(design(matrix[fold == f], proba[fold == f], classes))
    return out


def set_level(judge: LumpJudge, scores: np.ndarray, truth: list[str], called_foreign: np.ndarray,
              share_max: float = FOREIGN_MOVED_MAX, provenance: dict | None = None) -> LumpJudge:
    """``judge`` with its level set on the fit split's detections: ``scores`` (:meth:`LumpJudge.score`, out of fold),
    their ``truth`` kinds and whether the kind rule calls each a foreign kind (``called_foreign``). Of the detected
    foreign objects (n), at most k = floor(``share_max`` n) of those called foreign score at or above the level: halfway
    between the (k+1)-th highest of their scores and the lowest score above it (ties with the (k+1)-th stay below; 1
    above the highest when none is above it). Raises ValueError without more than k foreign objects called foreign, or
    for inputs of different lengths."""
    scores, t, called = np.asarray(scores, float), np.asarray(truth, dtype=str), np.asarray(called_foreign, bool)
    if not (len(scores) == len(t) == len(called)):
        raise ValueError(f"expected scores, truth and calls of one length, got {len(scores)}, {len(t)}, {len(called)}")
    if not 0 <= share_max < 1:
        raise ValueError(f"expected 0 <= share_max < 1, got {share_max}")
    foreign = is_foreign(t)
    v = np.sort(scores[foreign & called & np.isfinite(scores)])[::-1]
    if not v.size:
        raise ValueError("expected foreign objects the rule calls foreign to set the level on, got none")
    k = int(math.floor(share_max * foreign.sum()))
    if k >= v.size:
        raise ValueError(f"{v.size} foreign objects called foreign, no more than the {k} allowed to reach the level: cannot set it")
    above = v[v > v[k]]  # ties with the (k+1)-th highest stay below the level
    level = float((above[-1] + v[k]) / 2) if above.size else float(v[0] + 1.0)
    moved = int((v >= level).sum())
    info = {"level_share_max": share_max, "level_foreign": int(foreign.sum()), "level_called_foreign": int(v.size),
            "level_moved": moved, **(provenance or {})}
    return replace(judge, level=level, foreign=int(foreign.sum()), moved=moved, provenance={**judge.provenance, **info})


def judged_kinds(judge: LumpJudge, matrix: np.ndarray, proba: np.ndarray, kinds: list[str], prob: np.ndarray,
                 reported: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(kinds, probabilities, scores) after the judge: a ``reported`` row whose kind (from
    :func:`vision.kind_decision.reported_kinds`) is a foreign kind and whose score reaches the level is reported as
    :data:`~vision.kind_decision.UNCERTAIN` with its foreign mass given an object as probability; every other row keeps
    its kind. Scores are -inf where not scored. ``matrix`` (n, features) and ``proba`` (n, classes) are the rows'
    feature rows and class probabilities in the judge's class order."""
    kinds, prob = list(kinds), np.array(prob, np.float64)
    score = np.full(len(kinds), -np.inf)
    ask = np.flatnonzero(np.asarray(reported, bool) & is_foreign(np.array(kinds, dtype=str)))
    if not ask.size:
        return kinds, prob, score
    proba = np.atleast_2d(np.asarray(proba, float))
    score[ask] = judge.score(design(np.atleast_2d(matrix)[ask], proba[ask], np.array(judge.classes)))
    moved = ask[score[ask] >= judge.level]
    prob[moved] = foreign_given_object(proba[moved], np.array(judge.classes))
    for r in moved:
        kinds[r] = UNCERTAIN
    return kinds, prob, score


@lru_cache(maxsize=1)
def shipped_lump_judge() -> LumpJudge | None:
    """The judge stored in :data:`LUMP_JUDGE_PATH` (None when there is none)."""
    return LumpJudge.load(LUMP_JUDGE_PATH) if LUMP_JUDGE_PATH.is_file() else None


def judge_for(clf: KindClassifier | None) -> LumpJudge | None:
    """The shipped lump judge when ``clf`` is one of the classifiers it was fitted for (same weights and classes);
    else None."""
    lj = shipped_lump_judge()
    if clf is None or lj is None or judge_key(clf) not in lj.judges or tuple(str(c) for c in clf.classes_) != lj.classes:
        return None
    return lj


__all__ = ["FIT_COMMAND", "FOREIGN_MOVED_MAX", "JUDGE_FEATURES", "LUMP_JUDGE_PATH", "LumpJudge", "design", "fit", "judge_for",
           "judged_kinds", "out_of_fold", "set_level", "shipped_lump_judge"]
