"""The detector's shipped artefacts per classifier (vision/per_classifier.py): each found once per (artefact,
classifier) and the same object after; one detector serving the union's two classifiers in turn keeps each one's own
(the lump judge and the kind evidence asked once per classifier, not again at every change of classifier)."""

from __future__ import annotations

import numpy as np
import pytest

from vision import detect
from vision.decision_kind import FULL_BURDEN, PART_LOADED
from vision.lump_judge import shipped_lump_judge
from vision.per_classifier import PerClassifier


def test_each_artefact_is_found_once_per_classifier_and_kept():
    asked: list[tuple[str, object]] = []
    a, b = object(), object()

    def finder(name: str):
        def find(clf: object) -> object:
            asked.append((name, clf))
            return object()  # a new object at every call: the cache, not the finder, keeps it the same
        return find

    cache = PerClassifier()
    first = {(name, clf): cache.get(name, clf, finder(name)) for name in ("wood judge", "lump judge") for clf in (a, b, None)}
    again = {(name, clf): cache.get(name, clf, finder(name)) for name in ("wood judge", "lump judge") for clf in (b, None, a)}
    assert all(again[key] is found for key, found in first.items())
    assert len({id(found) for found in first.values()}) == 6 and len(cache) == 6
    assert asked == [(name, clf) for name in ("wood judge", "lump judge") for clf in (a, b, None)]


def test_a_detector_serving_two_classifiers_in_turn_asks_once_for_each_ones_artefacts(shipped_union, monkeypatch):
    det = shipped_union.detector()
    base, second = det.classifier, det.dense_classifier
    assert base is not None and second is not None and base is not second
    det.lump_judge, det.wood_evidence, det.kind_evidence = True, True, True
    lumps_asked: list[object] = []
    evidence_asked: list[object] = []
    judges_used: list[object] = []
    find_lump, find_evidence = detect.lump_judge_for, detect.evidence_for
    monkeypatch.setattr(detect, "lump_judge_for", lambda clf: lumps_asked.append(clf) or find_lump(clf))
    monkeypatch.setattr(detect, "evidence_for", lambda clf, shipped: evidence_asked.append(clf) or find_evidence(clf, shipped))
    monkeypatch.setattr(detect, "judged_kinds", lambda judge, m, p, k, pr, rep: (judges_used.append(judge) or k, pr, None))
    levels_of: dict[int, list[np.ndarray]] = {id(base): [], id(second): []}
    for clf in (base, second, base, second):
        classes = list(clf.classes_)
        proba = np.full((3, len(classes)), 1.0 / len(classes))
        det._lump_judged(clf, np.zeros((3, 4)), proba, ["cloth", "metal", "wood"], np.full(3, 0.5), np.ones(3, bool))
        load = np.array([0.3, 0.95, 0.5])
        levels_of[id(clf)].append(np.r_[det._evidence_levels(clf, proba, load, np.full(3, 0.2), PART_LOADED),
                                        det._evidence_levels(clf, proba, load, np.full(3, 0.2), FULL_BURDEN)])
    assert lumps_asked == [base, second] and evidence_asked == [base, second]
    judge = shipped_lump_judge()
    assert judge is not None and judges_used == [judge] * 4  # the shipped judge itself, for both classifiers
    for first, again in levels_of.values():
        np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("switch", ["lump_judge", "wood_evidence"])
def test_nothing_is_looked_up_with_the_switch_off(shipped_union, monkeypatch, switch):
    det = shipped_union.detector()
    setattr(det, switch, False)
    monkeypatch.setattr(detect, "lump_judge_for", lambda clf: pytest.fail("looked up with the switch off"))
    monkeypatch.setattr(detect, "evidence_for", lambda clf, shipped: pytest.fail("looked up with the switch off"))
    clf = det.dense_classifier
    proba = np.full((2, len(clf.classes_)), 1.0 / len(clf.classes_))
    if switch == "lump_judge":
        assert det._lump_judged(clf, np.zeros((2, 4)), proba, ["cloth", "wood"], np.full(2, 0.5), np.ones(2, bool))[0] == ["cloth", "wood"]
    else:
        levels = np.full(2, 0.2)
        assert det._evidence_levels(clf, proba, np.array([0.3, 0.5]), levels, PART_LOADED) is levels
