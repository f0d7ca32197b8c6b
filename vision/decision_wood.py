"""Wood evidence on part-loaded belt: the union's second judge's odds of wood against "none" as a second decision.

The object decision reports a candidate when a classifier's p(none) is at most its level (:mod:`vision.decision`).
On today's part-loaded belt the union's second judge's level (0.0031) is half its lowest out-of-fold candidate on the
fit's 2,003 m of part-loaded belt (docs/vision-experiments.md "FIT_VERSION 17" traced that belt's tail to a worn,
streaky belt cover, image154). On development seeds 51-60, 41 of the 50 wood objects >= 50 mm on today's belt that have a candidate and
stay unreported have "wood" as the judge's most likely object class, p(none) over the level (16 within 10 x): p(none)
weighs every object class against "none", and the belt's object-like candidates look like one kind or another, so the
odds of one kind against "none" separate wood from that belt better (docs/vision-experiments.md "Wood evidence on
part-loaded belt").

:func:`wood_levels`: a features' candidate judged at a part-loaded load (finite, < ``LOAD_EDGE``) by the second judge
is also reported when ``ln(p(wood) / p(none)) >= level``. As a decision on p(none) that is
``max(the judge's level, p(wood) exp(-level))``, so ``p_none <= none_max`` keeps meaning "reported".

:func:`set_level`: the level is set on object-free belt of the fit split's tiles, streamed through the union's
detector as a station sees it and scored by the final judge, as :func:`vision.decision.regimes` sets a level: the
(k+1)-th highest log odds plus ``ln(1 / DECISION_MARGIN)`` (p(none) halved at the same p(wood)), k =
:func:`vision.decision.allowed_events` of the belt's metres. The judge's in-fold scores are as object-like as its
out-of-fold ones on today's belt (the fit's record: lowest p(none) 0.0062 in fold, 0.0061 out of fold).
``benchmarks/bench_vision_unreported.py --calibrate`` measures it; :data:`SHIPPED_WOOD` holds the shipped judge's.
The evidence is one case of :mod:`vision.decision_kind` (wood, :data:`~vision.decision_kind.PART_LOADED`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.classify import KindClassifier
from vision.decision_kind import PART_LOADED, KindEvidence, judge_key, kind_levels, kind_log_odds
from vision.decision_kind import evidence_for as kind_evidence_for
from vision.decision_kind import set_level as set_kind_level

#: The kind whose odds against "none" the evidence weighs.
WOOD = "wood"


@dataclass(frozen=True)
class WoodEvidence(KindEvidence):
    """:class:`vision.decision_kind.KindEvidence` of wood on part-loaded belt."""

    kind: str = WOOD
    condition: str = PART_LOADED


def wood_log_odds(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``ln(p(wood) / p(none))`` of each row of class probabilities (:func:`vision.decision_kind.kind_log_odds`)."""
    return kind_log_odds(proba, classes, WOOD)


def set_level(log_odds: np.ndarray, belt_m: float, judge: str) -> WoodEvidence:
    """The evidence's level from ``log_odds`` (:func:`wood_log_odds`) of the part-loaded features' candidates of
    ``belt_m`` metres of the fit split's object-free belt (:func:`vision.decision_kind.set_level`)."""
    ev = set_kind_level(log_odds, belt_m, judge, WOOD, PART_LOADED)
    return WoodEvidence(ev.level, ev.judge, ev.belt_m, ev.events)


def wood_levels(evidence: WoodEvidence, proba: np.ndarray, classes: np.ndarray, load: np.ndarray,
                levels: np.ndarray) -> np.ndarray:
    """The second judge's decisions on p(none) (n,) with the wood evidence: ``levels`` where the ``load`` is not
    part-loaded (NaN included), else the larger of ``levels`` and ``p(wood) exp(-evidence.level)``."""
    return kind_levels((evidence,), proba, classes, load, levels)


#: The shipped 4 mm/px union's judge's level (model-4mm-512px-2f7c0564758e.npz), set on the fit split's belt by
#: ``python -m benchmarks.bench_vision_unreported --calibrate`` (docs/vision-experiments.md "Wood evidence on
#: part-loaded belt"): 12,026 m each of today's and dark-rubber object-free belt of fit-split tiles (seeds 2001-2004,
#: calibrated camera), 408,481 part-loaded features' candidates; the 7th highest log odds (k = 6 for 12,026 m) +2.63,
#: plus ln 2. On by default since RULE_TODAY51 held (:data:`vision.station_settings.WOOD_EVIDENCE`).
SHIPPED_WOOD: WoodEvidence | None = WoodEvidence(level=3.3192, judge="c4e029e21060", belt_m=12026.0, events=6)


def evidence_for(clf: KindClassifier) -> WoodEvidence | None:
    """:data:`SHIPPED_WOOD` when ``clf`` is the judge it was set for (:func:`vision.decision_kind.evidence_for`); None
    for any other classifier (no level)."""
    return SHIPPED_WOOD if kind_evidence_for(clf, shipped_wood()) else None


def shipped_wood() -> tuple[WoodEvidence, ...]:
    """:data:`SHIPPED_WOOD` as a sequence of evidence (empty when there is none)."""
    return () if SHIPPED_WOOD is None else (SHIPPED_WOOD,)


__all__ = ["SHIPPED_WOOD", "WOOD", "WoodEvidence", "evidence_for", "judge_key", "set_level", "shipped_wood", "wood_levels", "wood_log_odds"]
