"""Kind evidence: the union's second judge's odds of one kind against "none" as a second decision, per belt condition.

The object decision reports a candidate when a classifier's p(none) is at most its level (:mod:`vision.decision`).
p(none) weighs every object class against "none"; object-free belt's object-like candidates look like one kind or
another, so the odds of one kind against "none" can separate that kind from the belt better (docs/vision-experiments.md
"Wood evidence on part-loaded belt", "Kind evidence at full burden").

A :class:`KindEvidence` holds one (kind, belt condition)'s level: a candidate the second judge judges in that
condition is also reported when ``ln(p(kind) / p(none)) >= level``. As a decision on p(none) that is
``max(the judge's level, p(kind) exp(-level))`` (:func:`kind_levels`), so ``p_none <= none_max`` keeps meaning
"reported". Conditions: :data:`PART_LOADED` (a finite load < ``LOAD_EDGE``) and :data:`FULL_BURDEN` (load >=
``LOAD_EDGE``); an unknown (NaN) load is in neither.

:func:`set_level`: the level is set on object-free belt of the fit split's tiles, streamed through the union's
detector as a station sees it and scored by the final judge, as :func:`vision.decision.regimes` sets a level: the
(k+1)-th highest log odds plus ``ln(1 / DECISION_MARGIN)`` (p(none) halved at the same p(kind)), k =
:func:`vision.decision.allowed_events` of the metres. :func:`set_levels`: one level per kind on the same belt, the
metres shared among the kinds (k = ``allowed_events(belt_m / n_kinds)`` each), so that together they allow no more
candidates than one level would. The wood evidence on part-loaded belt (:mod:`vision.decision_wood`) is one case.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vision.classify import KindClassifier
from vision.decision import LOAD_EDGE, allowed_events, tail_level
from vision.kind_decision import NONE

#: Belt conditions a level belongs to: a finite load under ``LOAD_EDGE``, or at or above it.
PART_LOADED = "part-loaded"
FULL_BURDEN = "full burden"
CONDITIONS = (PART_LOADED, FULL_BURDEN)


@dataclass(frozen=True)
class KindEvidence:
    """The level of ``ln(p(kind) / p(none))`` at or above which a candidate in ``condition`` is reported, the judge it
    was set for (:func:`judge_key`), and what it rests on: metres of the fit split's object-free belt and the
    candidates allowed at or above the level's (k+1)-th value before the margin (``events``)."""

    level: float
    judge: str
    belt_m: float
    events: int
    kind: str
    condition: str

    def __post_init__(self) -> None:
        if not math.isfinite(self.level) or self.belt_m <= 0 or self.events < 0:
            raise ValueError(f"expected a finite level, belt_m > 0 and events >= 0, got {self.level}, {self.belt_m}, {self.events}")
        if self.condition not in CONDITIONS or not self.kind or self.kind == NONE:
            raise ValueError(f"expected a kind other than {NONE!r} and a condition of {CONDITIONS}, got {self.kind!r}, {self.condition!r}")


def judge_key(clf: KindClassifier) -> str:
    """A short digest of a classifier's weights and decision: which judge a level was set for."""
    h = hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for member in clf.coefs_ for w in member))
    h.update(repr(float(clf.none_max)).encode() + np.asarray(clf.regimes_, float).tobytes())
    return h.hexdigest()[:12]


def in_condition(condition: str, load: np.ndarray) -> np.ndarray:
    """Whether each belt ``load`` lies in ``condition`` (NaN in none). Raises ValueError for an unknown condition."""
    load = np.asarray(load, float)
    if condition == PART_LOADED:
        return load < LOAD_EDGE  # NaN compares False
    if condition == FULL_BURDEN:
        return load >= LOAD_EDGE
    raise ValueError(f"expected a condition of {CONDITIONS}, got {condition!r}")


def kind_log_odds(proba: np.ndarray, classes: np.ndarray, kind: str) -> np.ndarray:
    """``ln(p(kind) / p(none))`` of each row of class probabilities (n, n_classes) in ``classes`` order. Raises
    ValueError when the classes lack ``kind`` or "none"."""
    classes = np.asarray(classes).astype(str)
    if kind not in classes or NONE not in classes or kind == NONE:
        raise ValueError(f"expected classes with {kind!r} and {NONE!r}, got {list(classes)}")
    p = np.atleast_2d(np.asarray(proba, np.float64))
    with np.errstate(divide="ignore"):
        return np.log(p[:, classes == kind].sum(axis=1)) - np.log(np.maximum(p[:, classes == NONE].sum(axis=1), 1e-300))


def set_level(log_odds: np.ndarray, belt_m: float, judge: str, kind: str, condition: str, events: int | None = None) -> KindEvidence:
    """The evidence's level from ``log_odds`` (:func:`kind_log_odds`) of the candidates in ``condition`` of ``belt_m``
    metres of the fit split's object-free belt: the (k+1)-th highest, k = ``events`` or ``allowed_events(belt_m)``,
    plus ``ln(1 / DECISION_MARGIN)``. Raises ValueError without belt or with fewer than k + 1 candidates."""
    level, k = tail_level(log_odds, belt_m, events)
    return KindEvidence(level, judge, float(belt_m), k, kind, condition)


def set_levels(proba: np.ndarray, classes: np.ndarray, belt_m: float, judge: str, condition: str,
               kinds: Sequence[str] | None = None) -> tuple[KindEvidence, ...]:
    """One level per kind (default every class but "none") from the class probabilities ``proba`` of the candidates in
    ``condition`` of ``belt_m`` metres of fit-split object-free belt, each kind on its share of the metres:
    k = ``allowed_events(belt_m / len(kinds))`` (:func:`set_level`)."""
    classes = np.asarray(classes).astype(str)
    kinds = [str(c) for c in classes if c != NONE] if kinds is None else list(kinds)
    if not kinds:
        raise ValueError("expected at least one kind")
    k = allowed_events(belt_m / len(kinds))
    return tuple(set_level(kind_log_odds(proba, classes, kind), belt_m, judge, kind, condition, events=k) for kind in kinds)


def kind_levels(evidence: Sequence[KindEvidence], proba: np.ndarray, classes: np.ndarray, load: np.ndarray,
                levels: np.ndarray) -> np.ndarray:
    """The second judge's decisions on p(none) (n,) with the kind evidence: per evidence, where the ``load`` lies in
    its condition, the larger of the decision so far (first ``levels``) and ``p(kind) exp(-level)``."""
    classes = np.asarray(classes).astype(str)
    p = np.atleast_2d(np.asarray(proba, np.float64))
    out = levels
    for ev in evidence:
        p_kind = p[:, classes == ev.kind].sum(axis=1)
        out = np.where(in_condition(ev.condition, load), np.maximum(out, p_kind * math.exp(-ev.level)), out)
    return out


#: The shipped 4 mm/px union's judge's levels at full burden (model-4mm-512px-2f7c0564758e.npz), set on the fit
#: split's belt by ``python -m benchmarks.bench_vision_unreported --calibrate-kinds`` (docs/vision-experiments.md "Kind
#: evidence at full burden"): 12,026 m each of realistic and dark-rubber object-free belt of fit-split tiles (seeds
#: 2001-2004, calibrated camera), 79,883 unreported candidates at full burden that the judge judges alone (7,289 the
#: net's own); seven kinds on 12,026 m: k = allowed_events(1,718 m) = 0 each, so each level is the kind's highest log
#: odds plus ln 2 (together: no candidate of that belt reaches any level; 95 % bound 0.39 per 1,000 m).
#: On by default since RULE_KIND51 held on fresh seeds 251 / 252 (:data:`vision.station_settings.KIND_EVIDENCE`).
SHIPPED_FULL_BURDEN: tuple[KindEvidence, ...] = tuple(
    KindEvidence(level=level, judge="c4e029e21060", belt_m=12026.0, events=0, kind=kind, condition=FULL_BURDEN)
    for kind, level in (("cloth", 3.1109), ("concrete", 2.4364), ("lump", 2.7848), ("metal", 3.3683), ("plastic", 4.4349),
                        ("rubber", 3.0661), ("wood", 4.5637)))


def evidence_for(clf: KindClassifier, shipped: Sequence[KindEvidence] | None = None, condition: str | None = None) -> tuple[KindEvidence, ...]:
    """The levels of ``shipped`` (default :data:`SHIPPED_FULL_BURDEN`) set for ``clf`` (:func:`judge_key`), those of
    ``condition`` only when given; none for any other classifier."""
    key = judge_key(clf)
    shipped = SHIPPED_FULL_BURDEN if shipped is None else shipped
    return tuple(ev for ev in shipped if ev.judge == key and (condition is None or ev.condition == condition))


__all__ = ["CONDITIONS", "FULL_BURDEN", "PART_LOADED", "SHIPPED_FULL_BURDEN", "KindEvidence", "evidence_for", "in_condition", "judge_key",
           "kind_levels", "kind_log_odds", "set_level", "set_levels"]
