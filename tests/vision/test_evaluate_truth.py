"""The numbers a detection shows users against the simulated truth (vision/evaluate.py): its probability binned against
the share of detections whose claim holds, and its length against the object's."""

import numpy as np
import pytest

from vision.detect import Detection
from vision.evaluate import EVIDENCE_BIN, Match, claim_holds, class_holds, reliability, score_table, size_agreement, truth_lines
from vision.scene import SceneObject


def _obj(kind: str, length_mm: float = 100.0, buried: float = 0.0) -> SceneObject:
    return SceneObject(kind, length_mm, 20.0, belt_mm=0.0, buried=buried)


def _det(kind: str, probability: float, length_mm: float = 100.0) -> Detection:
    return Detection(kind=kind, probability=probability, length_mm=length_mm, width_mm=20.0, area_mm2=2000.0, belt_m=0.0,
                     lateral_m=0.0, tonnage_mark_t=0.0, time_s=0.0, anomaly_score=1.0, thumbnail=np.zeros((1, 1, 3), np.uint8),
                     frame_id=0)


def test_a_claim_is_the_kind_and_uncertain_claims_any_foreign_object():
    assert claim_holds(_obj("wood"), _det("wood", 0.8)) and not claim_holds(_obj("plastic"), _det("wood", 0.8))
    assert claim_holds(_obj("cloth"), _det("uncertain", 0.6)) and not claim_holds(_obj("lump"), _det("uncertain", 0.6))
    assert claim_holds(_obj("lump"), _det("lump", 0.9)) and not claim_holds(None, _det("wood", 0.99))
    # the verdict's level: a foreign call on any foreign object is right, on a lump wrong
    assert class_holds(_obj("plastic"), _det("wood", 0.8)) and not class_holds(_obj("lump"), _det("wood", 0.8))
    assert class_holds(_obj("lump"), _det("lump", 0.8)) and not class_holds(None, _det("uncertain", 0.5))


def test_bins_hold_the_share_right_and_evidence_apart():
    # 0.95: 3 right of 4 (one a false alarm); 0.6: 1 of 2; evidence (1.0): 1 of 2 (the other on the wrong kind)
    pairs = [(_obj("wood"), _det("wood", 0.95)), (_obj("metal"), _det("metal", 0.95)), (_obj("wood"), _det("wood", 0.95)),
             (_obj("wood"), _det("plastic", 0.6)), (_obj("cloth"), _det("cloth", 0.6)),
             (_obj("wood"), _det("wood", 1.0)), (_obj("rubber"), _det("wood", 1.0)), (_obj("wood"), None)]
    rel = reliability(Match(pairs, [_det("wood", 0.95)]))
    by = {b["bin"]: b for b in rel["bins"]}
    assert by["0.9-1.0"]["detections"] == 4 and by["0.9-1.0"]["observed"] == pytest.approx(0.75)
    assert by["0.5-0.7"]["detections"] == 2 and by["0.5-0.7"]["observed"] == pytest.approx(0.5)
    assert by["0.5-0.7"]["foreign_or_lump_right"] == 1.0 and by["0.9-1.0"]["foreign_or_lump_right"] == pytest.approx(0.75)
    assert by[EVIDENCE_BIN]["detections"] == 2 and by[EVIDENCE_BIN]["observed"] == pytest.approx(0.5)
    assert by["0.0-0.5"]["detections"] == 0 and np.isnan(by["0.0-0.5"]["observed"])
    # |0.95 - 0.75| x 4 + |0.6 - 0.5| x 2 over 6: the evidences' 1.0 is no classifier's probability
    assert rel["expected_calibration_error"] == pytest.approx((0.2 * 4 + 0.1 * 2) / 6)


def test_a_calibrated_classifier_scores_near_zero_and_a_sure_wrong_one_near_one():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.0, 4000)
    right = rng.uniform(size=p.size) < p
    good = Match([(_obj("wood"), _det("wood" if r else "metal", q)) for q, r in zip(p, right)], [])
    assert reliability(good)["expected_calibration_error"] < 0.03
    bad = Match([(_obj("wood"), _det("metal", 0.98)) for _ in range(50)], [])
    assert reliability(bad)["expected_calibration_error"] == pytest.approx(0.98)


def test_lengths_are_compared_on_found_objects_of_50_mm_and_more_and_apart_by_burial():
    pairs = [(_obj("wood", 200.0), _det("wood", 0.9, 180.0)), (_obj("wood", 100.0, buried=0.5), _det("wood", 0.9, 50.0)),
             (_obj("wood", 40.0), _det("wood", 0.9, 400.0)), (_obj("metal", 300.0), None)]
    size = size_agreement(Match(pairs, []))
    assert size["all"]["objects"] == 2 and size["all"]["ratio_median"] == pytest.approx(0.7)
    assert size["buried < 0.2"]["within_25pct"] == 1.0 and size["buried >= 0.2"]["ratio_median"] == pytest.approx(0.5)


def test_the_table_carries_both_and_prints_them():
    table = score_table(Match([(_obj("wood"), _det("wood", 0.8, 110.0))], [_det("metal", 0.65)]), belt_m=100.0)
    lines = truth_lines(table)
    assert "0.7-0.9: 1 at 0.80 -> 1.00 (1.00)" in lines[0] and "0.5-0.7: 1 at 0.65 -> 0.00 (0.00)" in lines[0]
    assert "reported / true median 1.10" in lines[1] and "within 25 %: 1.00" in lines[1]
