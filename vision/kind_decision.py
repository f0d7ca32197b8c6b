"""The kind a reported object is given: ore lump, a foreign kind, or uncertain between them.

The kind classifier (:class:`vision.classify.KindClassifier`) gives each candidate a probability per object kind and
``"none"``. Reported as its most likely kind, an ore lump whose probability is split between ``lump`` and ``metal``
becomes ``metal`` (a false contamination), and a foreign object that leans to ``lump`` is dropped as oversize ore.
:func:`decide_kinds` compares the foreign kinds' probability mass with the lump's, as log odds
``log(p(foreign) / p(lump))`` (``"none"`` left out): a foreign kind (its most likely one) is reported only when the
log odds clear ``KindRule.foreign_log_odds``, ``lump`` only when they are below ``-KindRule.lump_log_odds``, and an
object between the two is reported as :data:`UNCERTAIN`: never dropped, never called clean (the analysis layer takes
a targeted increment and raises a warning, :mod:`analysis.decide.monitor`). The levels are calibrated on detections
over belt built from the fit split's tiles (:func:`calibrate`, ``benchmarks/bench_vision_kinds.py --calibrate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LUMP = "lump"
#: The reported kind of an object between an ore lump and a foreign object.
UNCERTAIN = "uncertain"
NONE = "none"
#: Classes that are not a foreign object (the analysis layer's rule: kinds "", "lump", "ore" are not contamination);
#: every other object class of the classifier is a foreign kind.
NOT_FOREIGN = (NONE, LUMP, "ore", "")

#: Reported kinds that do not make a segment contaminated (the monitor's and the fleet re-score's rule):
#: :data:`UNCERTAIN` gets a warning and a targeted increment instead (:mod:`analysis.decide.monitor`).
NOT_CONTAMINATION = ("", LUMP, "ore", UNCERTAIN)


def is_foreign(kinds: np.ndarray | list[str]) -> np.ndarray:
    """Per kind: a foreign kind (contamination), not lump, ore, none or :data:`UNCERTAIN`."""
    return ~np.isin(np.asarray(kinds, dtype=str), (*NOT_FOREIGN, UNCERTAIN))


@dataclass(frozen=True)
class KindRule:
    """Log-odds levels of ``log(p(foreign) / p(lump))``: a foreign kind at or above ``foreign_log_odds``, ``lump``
    at or below ``-lump_log_odds``, :data:`UNCERTAIN` between. Both 0: the most likely of lump and the foreign mass."""

    foreign_log_odds: float = 0.0
    lump_log_odds: float = 0.0

    def __post_init__(self) -> None:
        if self.foreign_log_odds + self.lump_log_odds < 0:
            raise ValueError(f"expected foreign_log_odds + lump_log_odds >= 0 (the bands may not overlap), got "
                             f"{self.foreign_log_odds} and {self.lump_log_odds}")


#: The rule the detector applies (calibrated on fit-split belt, see the module docstring; docs/vision.md
#: "Ore lumps against foreign objects").
ACTIVE_RULE: KindRule | None = KindRule(foreign_log_odds=4.0, lump_log_odds=0.0)


def foreign_log_odds(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``log(p(foreign) / p(lump))`` of each row of class probabilities (n, n_classes) in ``classes`` order; +inf
    when the classifier has no ``lump`` class."""
    classes = np.asarray(classes).astype(str)
    proba = np.atleast_2d(np.asarray(proba, np.float64))
    foreign = proba[:, is_foreign(classes)].sum(axis=1)
    lump = proba[:, classes == LUMP].sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(foreign, 1e-300)) - np.log(lump) if (classes == LUMP).any() else np.full(len(proba), np.inf)


def most_likely_kind(proba: np.ndarray, classes: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(most likely object kind, its probability given an object) of each row of class probabilities (n, n_classes)
    in ``classes`` order: the classifier's own call, before any :class:`KindRule`."""
    classes = np.asarray(classes).astype(str)
    po = np.asarray(proba)[:, classes != NONE]
    best = po.argmax(axis=1)
    kinds = classes[classes != NONE]
    return [str(kinds[i]) for i in best], po[np.arange(len(po)), best] / np.maximum(po.sum(axis=1), 1e-12)


def foreign_given_object(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each row's foreign kinds' probability mass given an object, p(foreign) / p(any kind but ``none``) (n,), of class
    probabilities (n, n_classes) in ``classes`` order: the probability an :data:`UNCERTAIN` object is reported with."""
    classes = np.asarray(classes).astype(str)
    po = np.atleast_2d(np.asarray(proba, np.float64)).reshape(-1, len(classes))[:, classes != NONE]
    return po[:, is_foreign(classes[classes != NONE])].sum(axis=1) / np.maximum(po.sum(axis=1), 1e-12)


def decide_kinds(proba: np.ndarray, classes: np.ndarray, rule: KindRule | None,
                 log_odds: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
    """(reported kind, its probability given an object) of each row of class probabilities (n, n_classes) in
    ``classes`` order. ``rule`` None: the most likely object kind (the classifier's own call). With a rule, the
    probability of an :data:`UNCERTAIN` object is its foreign mass given an object. ``log_odds``: other log odds of
    foreign against lump to apply the levels to (n,) (:mod:`vision.kind_evidence`); default :func:`foreign_log_odds`."""
    classes = np.asarray(classes).astype(str)
    proba = np.atleast_2d(np.asarray(proba, np.float64)).reshape(-1, len(classes))
    if rule is None or not len(proba):
        return most_likely_kind(proba, classes)
    obj = classes != NONE
    po = proba[:, obj]
    total = np.maximum(po.sum(axis=1), 1e-12)
    kinds_all = classes[obj]
    best = po.argmax(axis=1) if po.shape[1] else np.zeros(len(po), np.int64)
    foreign = is_foreign(kinds_all)
    best_foreign = np.where(foreign, po, -1.0).argmax(axis=1)
    lo = foreign_log_odds(proba, classes) if log_odds is None else np.asarray(log_odds, np.float64)
    uncertain_prob = foreign_given_object(proba, classes)
    kinds, prob = [], np.empty(len(po))
    for j in range(len(po)):
        if not foreign.any() or lo[j] >= rule.foreign_log_odds:
            i = best_foreign[j] if foreign.any() else best[j]
            kinds.append(str(kinds_all[i]))
            prob[j] = po[j, i] / total[j]
        elif lo[j] <= -rule.lump_log_odds:
            kinds.append(LUMP)
            prob[j] = po[j, kinds_all == LUMP].sum() / total[j]
        else:
            kinds.append(UNCERTAIN)
            prob[j] = uncertain_prob[j]
    return kinds, prob


def reported_kinds(proba: np.ndarray, classes: np.ndarray, kinds: list[str], prob: np.ndarray, reported: np.ndarray,
                   rule: KindRule | None = None) -> tuple[list[str], np.ndarray]:
    """The detector's call: (kinds, probability of that kind given an object) of candidates whose class probabilities
    are ``proba`` (n, n_classes) in ``classes`` order and whose classifier calls are ``kinds`` / ``prob``
    (:meth:`KindClassifier.calls <vision.classify.KindClassifier.calls>`), the ``reported`` ones (bool, n) given their
    kind by ``rule`` (None: :data:`ACTIVE_RULE`; candidates not reported keep the classifier's call). The classifier
    is not run again: the probabilities are the ones its call came from."""
    rule = ACTIVE_RULE if rule is None else rule
    rows = np.flatnonzero(reported)
    if rule is None or not rows.size:
        return list(kinds), np.asarray(prob)
    got, got_prob = decide_kinds(np.atleast_2d(proba)[rows], np.asarray(classes).astype(str), rule)
    kinds, prob = list(kinds), np.array(prob, np.float64)
    for j, r in enumerate(rows):
        kinds[r], prob[r] = got[j], got_prob[j]
    return kinds, prob


__all__ = ["ACTIVE_RULE", "KindRule", "LUMP", "NOT_CONTAMINATION", "NOT_FOREIGN", "UNCERTAIN", "calibrate", "decide_kinds", "foreign_given_object", "foreign_log_odds", "is_foreign", "reported_kinds"]


def calibrate(truth: list[str], proba: np.ndarray, classes: np.ndarray, *, lump_foreign_max: float = 0.01,
              foreign_lump_max: float = 0.01, step: float = 0.1, log_odds: np.ndarray | None = None) -> KindRule:
    """The narrowest rule (levels on a grid of ``step``, both >= 0) under which at most ``lump_foreign_max`` of the
    detected ore lumps are called a foreign kind and at most ``foreign_lump_max`` of the detected foreign objects
    are called ``lump``, on detections with known ``truth`` kinds and class probabilities ``proba`` (n, n_classes).
    Calibrate on belt built from the fit split's tiles only. ``log_odds``: as in :func:`decide_kinds`. Raises
    ValueError without lumps or foreign objects."""
    truth_a = np.asarray(truth, dtype=str)
    lo = foreign_log_odds(proba, classes) if log_odds is None else np.asarray(log_odds, np.float64)
    lumps, foreign = lo[truth_a == LUMP], lo[is_foreign(truth_a)]
    if not lumps.size or not foreign.size:
        raise ValueError(f"expected detections of ore lumps and of foreign objects, got {lumps.size} and {foreign.size}")
    return KindRule(_level(lumps, lump_foreign_max, step), _level(-foreign, foreign_lump_max, step))


def _level(values: np.ndarray, share_max: float, step: float) -> float:
    """The smallest level >= 0 on a grid of ``step`` with at most ``share_max`` of ``values`` at or above it."""
    allowed = int(np.floor(share_max * values.size))
    top = np.sort(values[np.isfinite(values)])[::-1]
    if np.isinf(values).sum() > allowed:
        raise ValueError(f"{int(np.isinf(values).sum())} detections are certain of the other side; cannot allow only {allowed}")
    above = top[allowed - int(np.isinf(values).sum())] if allowed - int(np.isinf(values).sum()) < top.size else -np.inf
    return round(float(max(0.0, np.floor(above / step + 1e-9) * step + step)), 6) if np.isfinite(above) else 0.0
