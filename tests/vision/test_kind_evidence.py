"""The lump-against-foreign evidence (vision.kind_evidence; measured, not shipped): a regression on the classifier's
log odds and statistics relative to the local ore, and the kind rule applied to its log odds."""

import numpy as np
import pytest

from vision.classify import COMPONENT_FEATURES
from vision.kind_decision import UNCERTAIN, KindRule, decide_kinds
from vision.kind_evidence import EVIDENCE_FEATURES, LumpEvidence

CLASSES = np.array(["lump", "metal", "none", "wood"])


def _detections(n: int, rng: np.random.Generator):
    """n lumps and n foreign objects whose classifier probabilities say nothing (lump 0.5, wood 0.5) and whose
    edge steps do: foreign objects have a sharp edge against the ore (edge_lum ~ 1), lumps none (~ 0)."""
    truth = ["lump"] * n + ["wood"] * n
    features = rng.normal(0.0, 1.0, (2 * n, len(COMPONENT_FEATURES)))
    features[:, COMPONENT_FEATURES.index("edge_lum")] = np.r_[rng.normal(0.0, 0.2, n), rng.normal(1.0, 0.2, n)]
    proba = np.tile([0.5, 0.0, 0.0, 0.5], (2 * n, 1))
    return features, proba, truth


def test_evidence_separates_what_the_classifier_cannot():
    features, proba, truth = _detections(200, np.random.default_rng(0))
    ev = LumpEvidence().fit(features, proba, CLASSES, truth)
    lo = ev.log_odds(features, proba, CLASSES)
    assert np.mean(lo[:200] < 0) > 0.95 and np.mean(lo[200:] > 0) > 0.95
    # the rule on the classifier's own log odds (0 for every row) leaves all of them between the levels
    rule = KindRule(foreign_log_odds=1.0, lump_log_odds=1.0)
    assert set(decide_kinds(proba, CLASSES, rule)[0]) == {UNCERTAIN}
    kinds = decide_kinds(proba, CLASSES, rule, log_odds=lo)[0]
    assert kinds.count("lump") > 150 and kinds.count("wood") > 150


def test_evidence_uses_no_absolute_colour():
    assert not {"r", "g", "lum", "lum_max", "lum_min"} & set(EVIDENCE_FEATURES)
    assert set(EVIDENCE_FEATURES) <= set(COMPONENT_FEATURES)


def test_evidence_needs_both_sides_and_a_fit():
    features, proba, truth = _detections(10, np.random.default_rng(1))
    with pytest.raises(ValueError, match="ore lumps and of foreign objects"):
        LumpEvidence().fit(features[:10], proba[:10], CLASSES, truth[:10])
    with pytest.raises(ValueError, match="not fitted"):
        LumpEvidence().log_odds(features, proba, CLASSES)
