"""Fitting the lump judge (:mod:`vision.lump_judge`) on kind records of the fit split's belt, and scoring records with it.

:func:`fit_judge` fits the judge on the detections of :func:`vision.kind_eval.kind_records` over belt built from the
fit split's tiles (``benchmarks/bench_vision_kinds.py --fit-lump-judge``) and sets its level on their out-of-fold
scores; :func:`calibrate_level` sets a stored judge's level again on other fit-split records; :func:`judged_record_kinds`
gives records' kinds under the kind rule and then the judge, as the detector reports them with ``lump_judge`` on.
"""

from __future__ import annotations

import numpy as np

from vision.decision_kind import judge_key
from vision.fit import VisionModel
from vision.kind_decision import ACTIVE_RULE, KindRule, is_foreign
from vision.kind_eval import KindRecords
from vision.lump_judge import FIT_COMMAND, FOREIGN_MOVED_MAX, LumpJudge, fit, judged_kinds, out_of_fold, set_level


def judge_keys(model: VisionModel) -> tuple[str, ...]:
    """The :func:`~vision.decision_kind.judge_key` of each classifier of ``model`` that judges detections (its
    classifier and, for the union, its second judge). Raises ValueError for a model without a classifier."""
    clfs = [c for c in (model.classifier, model.dense_judge) if c is not None]
    if not clfs:
        raise ValueError("expected a model with a kind classifier, got none")
    return tuple(judge_key(c) for c in clfs)


def fit_judge(records: KindRecords, judges: tuple[str, ...], *, rule: KindRule | None = None,
              share_max: float = FOREIGN_MOVED_MAX, folds: int = 5, seed: int = 0, provenance: dict | None = None) -> LumpJudge:
    """The judge fitted on every lump and foreign detection of ``records`` (fit-split belt only), its level set
    (:func:`vision.lump_judge.set_level`) on their scores out of ``folds`` folds with the foreign calls of ``rule``
    (None: :data:`~vision.kind_decision.ACTIVE_RULE`)."""
    rule = ACTIVE_RULE if rule is None else rule
    info = {"command": FIT_COMMAND, "belt_m": round(records.belt_m, 1), "detections": len(records.truth), "folds": folds,
            "rule": repr(rule), **(provenance or {})}
    judge = fit(records.features, records.proba, records.classes, records.truth, judges, seed=seed, provenance=info)
    return calibrate_level(judge, records, rule=rule, share_max=share_max, folds=folds, seed=seed)


def calibrate_level(judge: LumpJudge, records: KindRecords, *, rule: KindRule | None = None, share_max: float = FOREIGN_MOVED_MAX,
                    folds: int = 5, seed: int = 0) -> LumpJudge:
    """``judge`` (its trees kept) with its level set on ``records`` of fit-split belt: the out-of-fold scores of judges
    fitted as it was (its trees and depth) on ``folds`` - 1 folds of them, at most ``share_max`` of the detected foreign
    objects at or above it among those ``rule`` calls foreign."""
    rule = ACTIVE_RULE if rule is None else rule
    opts = {"max_iter": int(judge.provenance.get("trees", 200)), "max_depth": int(judge.provenance.get("depth", 3))}
    oof = out_of_fold(records.features, records.proba, records.classes, records.truth, judge.judges, folds=folds, seed=seed, **opts)
    called = is_foreign(np.asarray(records.kinds(rule), dtype=str))
    return set_level(judge, oof, records.truth, called, share_max,
                     {"level_belt_m": round(records.belt_m, 1), "level_detections": len(records.truth)})


def judged_record_kinds(judge: LumpJudge, records: KindRecords, rule: KindRule | None = None) -> list[str]:
    """The kind of each of ``records``' detections under ``rule`` (None: :data:`~vision.kind_decision.ACTIVE_RULE`) and
    then ``judge`` (:func:`vision.lump_judge.judged_kinds`: a foreign call moved to uncertain where it reaches the level)."""
    kinds = records.kinds(ACTIVE_RULE if rule is None else rule)
    if not kinds:
        return kinds
    return judged_kinds(judge, records.features, records.proba, kinds, np.ones(len(kinds)), np.ones(len(kinds), bool))[0]


__all__ = ["calibrate_level", "fit_judge", "judge_keys", "judged_record_kinds"]
