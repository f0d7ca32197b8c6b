"""Wood against the part-loaded belt: a learned judge of the features' candidates that the decision leaves unreported.

On today's part-loaded belt the union's second judge leaves most unreported wood far from its decision: p(none) weighs
every kind against "none", and the judge never had to tell wood on the patchwork's strips from that belt's most
object-like candidates (docs/vision-experiments.md "Wood on today's belt judged against the belt"). The wood judge is
a small boosted model of exactly that question: wood (>= 50 mm) against the belt, learned on the fit split's today's
scenes and object-free belt, over a candidate's component features (:data:`vision.classify.COMPONENT_FEATURES` and the
dense net's peak) and the second judge's log odds of each kind against "none" (:func:`design`).

:func:`reports`: a features' candidate at a part-loaded load (finite, < ``LOAD_EDGE``) that the decision left
unreported is reported as wood when its score (:meth:`WoodJudge.score`, log odds) reaches :attr:`WoodJudge.level`; no
other candidate is looked at. The level is set as :func:`vision.decision_kind.set_level` sets the wood evidence's: the
(k+1)-th highest score of those candidates on the fit split's object-free belt streamed as a station sees it, k =
:func:`vision.decision.allowed_events` of its metres per scene type, plus ``ln(1 / DECISION_MARGIN)``
(:func:`set_level`). The model, its level and their provenance are stored in :data:`WOOD_JUDGE_PATH`, next to the
shipped model it belongs to (its judge's :func:`vision.decision_kind.judge_key`); ``python -m
benchmarks.bench_wood_judge --fit`` makes it and ``--calibrate`` prints the level again.

The trees are evaluated here with numpy (no scikit-learn at run time): all trees stepped together, one level a step.
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
from vision.decision import LOAD_EDGE, tail_level
from vision.decision_kind import judge_key
from vision.kind_decision import NONE

#: The shipped wood judge of the 4 mm/px union (its judge c4e029e21060); absent: no wood judge.
WOOD_JUDGE_PATH = Path(__file__).with_name("wood_judge_4mm.npz")
#: The command that fits it and sets its level on fit-split belt (benchmarks/bench_wood_judge.py).
FIT_COMMAND = "python -m benchmarks.bench_wood_judge --fit --out vision/wood_judge_4mm.npz"
#: Floor of a probability before its log (the judge's probabilities reach 0 in float64 rarely).
P_FLOOR = 1e-6
#: The kind the judge reports.
WOOD = "wood"
#: A candidate is scored only where the second judge's p(none) is at most this (the trees' cost): 8.7 % of the fit
#: split's belt candidates, and 1,009 of the 1,011 fit wood candidates that reach the level (docs/vision-experiments.md).
GATE_P_NONE = 0.9


def design(matrix: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The wood judge's inputs (n, f): the component feature rows ``matrix`` (n, len(COMPONENT_FEATURES) + 1, the dense
    net's peak last), the second judge's ``ln(p(kind) / p(none))`` per kind of ``classes`` but "none" (its order) and
    ``ln p(none)``, each probability floored at :data:`P_FLOOR`; NaN and infinities as 0."""
    classes = np.asarray(classes).astype(str)
    if NONE not in classes:
        raise ValueError(f"expected the judge's classes to hold {NONE!r}, got {list(classes)}")
    matrix = np.atleast_2d(np.asarray(matrix, float))
    proba = np.atleast_2d(np.asarray(proba, float))
    if matrix.shape[1] != len(COMPONENT_FEATURES) + 1 or proba.shape != (len(matrix), len(classes)):
        raise ValueError(f"expected feature rows of {len(COMPONENT_FEATURES) + 1} columns ({DENSE_FEATURE} last) and "
                         f"probabilities (n, {len(classes)}), got {matrix.shape} and {proba.shape}")
    logp = np.log(np.maximum(proba, P_FLOOR))
    none = classes == NONE
    x = np.hstack([matrix, logp[:, ~none] - logp[:, none], logp[:, none]])
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass
class WoodJudge:
    """A boosted model of wood against part-loaded belt and its level. Trees as node arrays (trees, nodes): the
    ``feature`` compared, ``threshold`` (a row goes ``left`` when its value is <= it), ``left`` / ``right`` children,
    ``value`` at leaves, ``leaf``; ``baseline`` the log odds before the trees. ``classes``: the second judge's class
    order :func:`design` was fitted on; ``judge`` its :func:`~vision.decision_kind.judge_key`; ``level`` in log odds
    (inf: never reports); ``belt_m`` per scene type and ``events`` (k) of its setting; ``provenance``: how and on what
    it was fitted and its level set."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    leaf: np.ndarray
    baseline: float
    classes: tuple[str, ...]
    judge: str
    level: float = math.inf
    belt_m: float = 0.0
    events: int = 0
    provenance: dict = field(default_factory=dict)

    def score(self, x: np.ndarray) -> np.ndarray:
        """The log odds of wood against the belt of each row of ``x`` (:func:`design`): every tree stepped at once, one
        level a step, a leaf its own child."""
        x = np.atleast_2d(np.asarray(x, float))
        n, n_trees = len(x), self.feature.shape[0]
        if not n or not n_trees:
            return np.full(n, self.baseline)
        feature, threshold, child, depth = self._flat()
        width = self.feature.shape[1]
        node = np.repeat(np.arange(n_trees) * width, n)  # tree-major: tree t's row r at t * n + r
        at = np.tile(np.arange(n) * x.shape[1], n_trees)
        flat = x.ravel()
        for _ in range(depth):
            node = child[2 * node + (flat[at + feature[node]] <= threshold[node])]
        return self.baseline + self.value.ravel()[node].reshape(n_trees, n).sum(axis=0)

    def _flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(feature, threshold, children [right, left] per node, the trees' largest depth) over the flattened nodes; a
        leaf compares column 0 against +inf and is both its children."""
        if getattr(self, "_flat_nodes", None) is None:
            n_trees, width = self.feature.shape
            idx = np.arange(n_trees * width).reshape(n_trees, width)
            base = idx[:, :1]
            child = np.stack([np.where(self.leaf, idx, self.right + base), np.where(self.leaf, idx, self.left + base)], axis=-1)
            depth = np.zeros((n_trees, width), np.int64)
            for j in range(width):  # children follow their parent in sklearn's node order
                inner = ~self.leaf[:, j]
                t = np.flatnonzero(inner)
                depth[t, self.left[t, j]] = depth[t, j] + 1
                depth[t, self.right[t, j]] = depth[t, j] + 1
            self._flat_nodes = (np.where(self.leaf, 0, self.feature).ravel(), np.where(self.leaf, np.inf, self.threshold).ravel(),
                                child.ravel(), int(depth.max()))
        return self._flat_nodes

    def to_arrays(self) -> dict[str, Any]:
        """The judge as arrays for an .npz (:meth:`from_arrays` reads them back)."""
        return {"feature": self.feature, "threshold": self.threshold, "left": self.left, "right": self.right, "value": self.value,
                "leaf": self.leaf, "baseline": np.float64(self.baseline), "classes": np.array(self.classes), "judge": np.array(self.judge),
                "level": np.float64(self.level), "belt_m": np.float64(self.belt_m), "events": np.int64(self.events),
                "provenance": np.array(json.dumps(self.provenance, sort_keys=True))}

    @classmethod
    def from_arrays(cls, a) -> "WoodJudge":
        """The judge from :meth:`to_arrays`' arrays (an opened .npz)."""
        return cls(np.asarray(a["feature"], np.int64), np.asarray(a["threshold"], float), np.asarray(a["left"], np.int64),
                   np.asarray(a["right"], np.int64), np.asarray(a["value"], float), np.asarray(a["leaf"], bool), float(a["baseline"]),
                   tuple(str(c) for c in a["classes"]), str(a["judge"]), float(a["level"]), float(a["belt_m"]), int(a["events"]),
                   json.loads(str(a["provenance"])))

    def save(self, path: str | Path) -> None:
        """Write the judge to ``path`` (.npz)."""
        np.savez_compressed(Path(path), **self.to_arrays())

    @classmethod
    def load(cls, path: str | Path) -> "WoodJudge":
        """Read a judge written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls.from_arrays(z)


def from_sklearn(model, classes: np.ndarray, judge: str, provenance: dict | None = None) -> WoodJudge:
    """A :class:`WoodJudge` (no level yet) from a fitted binary ``sklearn.ensemble.HistGradientBoostingClassifier``
    without categorical features, for the second judge of ``classes`` and key ``judge``."""
    trees = [p[0].nodes for p in model._predictors]
    if any(p[0].nodes["is_categorical"].any() for p in model._predictors) or len(model.classes_) != 2:
        raise ValueError("expected a binary HistGradientBoostingClassifier without categorical features")
    width = max(len(t) for t in trees)
    out: dict[str, Any] = {k: np.zeros((len(trees), width), dt) for k, dt in
                           (("feature", np.int64), ("threshold", float), ("left", np.int64), ("right", np.int64), ("value", float),
                            ("leaf", bool))}
    out["leaf"][:] = True  # padding: leaves of value 0, never reached
    for t, nodes in enumerate(trees):
        m = len(nodes)
        out["feature"][t, :m] = nodes["feature_idx"]
        out["threshold"][t, :m] = nodes["num_threshold"]
        out["left"][t, :m] = nodes["left"]
        out["right"][t, :m] = nodes["right"]
        out["value"][t, :m] = np.where(nodes["is_leaf"], nodes["value"], 0.0)
        out["leaf"][t, :m] = nodes["is_leaf"].astype(bool)
    return WoodJudge(**out, baseline=float(np.ravel(model._baseline_prediction)[0]), classes=tuple(str(c) for c in classes),
                     judge=judge, provenance=dict(provenance or {}))


def set_level(judge: WoodJudge, scores: np.ndarray, belt_m: float, provenance: dict | None = None) -> WoodJudge:
    """``judge`` with its level from ``scores`` (:meth:`WoodJudge.score`) of the part-loaded features' candidates left
    unreported on the fit split's object-free belt, ``belt_m`` metres per scene type: the (k+1)-th highest, k =
    :func:`~vision.decision.allowed_events` of ``belt_m``, plus ``ln(1 / DECISION_MARGIN)``. Raises ValueError without
    belt or with fewer than k + 1 finite scores."""
    level, k = tail_level(scores, belt_m)
    return replace(judge, level=level, belt_m=float(belt_m), events=k, provenance={**judge.provenance, **(provenance or {})})


@lru_cache(maxsize=1)
def shipped_wood_judge() -> WoodJudge | None:
    """The judge stored in :data:`WOOD_JUDGE_PATH` (None when there is none)."""
    return WoodJudge.load(WOOD_JUDGE_PATH) if WOOD_JUDGE_PATH.is_file() else None


def judge_for(clf: KindClassifier | None) -> WoodJudge | None:
    """The shipped wood judge when ``clf`` is the second judge it was fitted for (same weights and classes); else None."""
    wj = shipped_wood_judge()
    if clf is None or wj is None or wj.judge != judge_key(clf) or tuple(str(c) for c in clf.classes_) != wj.classes:
        return None
    return wj


def candidates(load: np.ndarray, report: np.ndarray, own_rows: np.ndarray) -> np.ndarray:
    """Rows the wood judge looks at: features' candidates (not ``own_rows``) at a part-loaded ``load`` (< LOAD_EDGE; NaN
    is not) left unreported (``report`` False)."""
    return ~np.asarray(report, bool) & ~np.asarray(own_rows, bool) & (np.asarray(load, float) < LOAD_EDGE)


def reports(judge: WoodJudge, matrix: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whether each row reaches the level, its score; -inf where not scored) for feature rows ``matrix`` and the second
    judge's class probabilities ``proba`` of the same rows (the rows :func:`candidates` chose): rows whose p(none)
    exceeds :data:`GATE_P_NONE` are not scored."""
    proba = np.atleast_2d(np.asarray(proba, float))
    score = np.full(len(proba), -np.inf)
    ask = proba[:, list(judge.classes).index(NONE)] <= GATE_P_NONE
    if ask.any():
        score[ask] = judge.score(design(np.atleast_2d(matrix)[ask], proba[ask], np.array(judge.classes)))
    return score >= judge.level, score


__all__ = ["FIT_COMMAND", "GATE_P_NONE", "WOOD", "WOOD_JUDGE_PATH", "WoodJudge", "candidates", "design", "from_sklearn", "judge_for", "reports",
           "set_level", "shipped_wood_judge"]
