"""The kind decision (vision.kind_decision): an ore lump is called a foreign kind only when the foreign kinds'
probability mass clears the lump's by the calibrated margin; an object between the two is ``uncertain``, never
dropped; the detector applies it to what it reports."""

import numpy as np
import pytest

from vision.detect import Detector
from vision import kind_decision
from vision.model_cache import cached_model
from vision.kind_decision import ACTIVE_RULE, UNCERTAIN, KindRule, calibrate, decide_kinds, foreign_log_odds
from vision.kind_eval import confusion, kind_rates, kind_records

CLASSES = np.array(["cloth", "concrete", "lump", "metal", "none", "plastic", "rubber", "wood"])


def _row(**p: float) -> np.ndarray:
    return np.array([[p.get(c, 0.0) for c in CLASSES]])


def test_a_lump_half_called_metal_is_uncertain_not_a_foreign_object():
    # the demo's segment 12: an ore lump whose probability is split between metal and lump
    p = _row(metal=0.6, lump=0.25, cloth=0.05, none=0.1)
    assert decide_kinds(p, CLASSES, None)[0] == ["metal"]
    kinds, prob = decide_kinds(p, CLASSES, ACTIVE_RULE)
    assert kinds == [UNCERTAIN]
    assert prob[0] == pytest.approx(0.65 / 0.9)


def test_a_foreign_object_leaning_to_lump_is_uncertain_never_dropped_as_lump():
    # lump is the single most likely kind, but the foreign kinds together outweigh it
    p = _row(lump=0.4, wood=0.3, plastic=0.25, none=0.05)
    assert decide_kinds(p, CLASSES, None)[0] == ["lump"]
    assert decide_kinds(p, CLASSES, ACTIVE_RULE)[0] == [UNCERTAIN]


def test_clear_calls_keep_their_kind():
    p = np.vstack([_row(wood=0.995, lump=0.001, none=0.004), _row(lump=0.9, metal=0.05, none=0.05)])
    kinds, prob = decide_kinds(p, CLASSES, ACTIVE_RULE)
    assert kinds == ["wood", "lump"]
    assert prob == pytest.approx([0.995 / 0.996, 0.9 / 0.95])
    assert foreign_log_odds(p, CLASSES) == pytest.approx([np.log(0.995 / 0.001), np.log(0.05 / 0.9)])


def test_a_classifier_without_lumps_calls_every_object_foreign():
    classes = np.array(["none", "wood", "metal"])
    assert decide_kinds(np.array([[0.1, 0.3, 0.6]]), classes, ACTIVE_RULE)[0] == ["metal"]


def test_overlapping_bands_are_refused():
    with pytest.raises(ValueError, match="may not overlap"):
        KindRule(foreign_log_odds=-1.0, lump_log_odds=0.5)


def test_calibrate_allows_the_stated_share_and_no_more():
    # 200 lumps with log odds of foreign 1 .. 200 / 20 (0.05 .. 10), 100 foreign objects from -0.95 to 99 / 10 + 5
    lumps = np.arange(1, 201) / 20.0
    foreign = np.arange(100) / 10.0 - 0.95
    lo = np.concatenate([lumps, foreign])
    p_foreign = 1.0 / (1.0 + np.exp(-lo))
    proba = np.zeros((lo.size, CLASSES.size))
    proba[:, list(CLASSES).index("lump")] = 1 - p_foreign
    proba[:, list(CLASSES).index("wood")] = p_foreign
    truth = ["lump"] * lumps.size + ["wood"] * foreign.size
    rule = calibrate(truth, proba, CLASSES, lump_foreign_max=0.01, foreign_lump_max=0.05)
    # 1 % of 200 lumps: 2 may lie at or above the level (10.0, 9.95), the third (9.9) must not
    assert rule.foreign_log_odds == pytest.approx(10.0)
    # 5 % of 100 foreign objects: 5 may be at or below -level (-0.95 .. -0.55); the 6th (-0.45) must not
    assert rule.lump_log_odds == pytest.approx(0.5)
    kinds, _ = decide_kinds(proba, CLASSES, rule)
    assert sum(k == "wood" for k in kinds[:200]) <= 2 and sum(k == "lump" for k in kinds[200:]) <= 5
    with pytest.raises(ValueError, match="ore lumps and of foreign objects"):
        calibrate(["wood"], proba[:1], CLASSES)


@pytest.fixture(scope="module")
def shipped():
    return cached_model(mm_per_px=4.0, width_px=512)


def test_the_detector_reports_the_same_objects_with_kinds_by_the_rule(shipped, monkeypatch):
    """The real detector on held-out belt of today's scenes (lumps and foreign objects): the rule changes kinds of
    reported objects only, never which objects are reported, and gives the kinds :func:`decide_kinds` gives. The lump
    judge (on by default since lump58) is a second look after the rule, tested in test_lump_judge.py: off here."""
    monkeypatch.setattr(Detector, "lump_judge", False)
    monkeypatch.setattr(kind_decision, "ACTIVE_RULE", None)
    before = kind_records(shipped, "today", length_m=80.0, seed=5)
    monkeypatch.setattr(kind_decision, "ACTIVE_RULE", ACTIVE_RULE)
    after = kind_records(shipped, "today", length_m=80.0, seed=5)
    assert before.truth == after.truth and len(after.truth) > 20
    np.testing.assert_array_equal(before.object_detection, after.object_detection)
    assert before.kinds(None) == after.kinds(None) == before.detector_kinds
    assert after.detector_kinds == after.kinds(ACTIVE_RULE) != before.detector_kinds
    assert {t: sum(r.values()) for t, r in confusion(before).items()} == {t: sum(r.values()) for t, r in confusion(after, ACTIVE_RULE).items()}
    assert kind_rates(after, ACTIVE_RULE).foreign_big_flagged >= kind_rates(before).foreign_big_flagged


def test_the_detector_s_reported_kinds_follow_the_active_rule(shipped, monkeypatch):
    monkeypatch.setattr(kind_decision, "ACTIVE_RULE", KindRule(np.inf, np.inf))
    det = shipped.detector()
    from vision.frontier import every_candidate

    found, _, _ = every_candidate(shipped, "heldout", length_m=40.0, seed=5, objects_per_m=1.0)
    shown = [d.p_none <= d.none_max and d.length_mm >= det.params.min_length_mm for d in found]
    assert any(shown) and all(d.kind == UNCERTAIN for d, s in zip(found, shown) if s)
    # candidates not reported keep the classifier's own call
    assert all(d.kind != UNCERTAIN for d, s in zip(found, shown) if not s) and not all(shown)
