"""The wood judge against part-loaded belt (issue 27, wood54; :mod:`vision.wood_judge`): its inputs, its trees stepped
with numpy as scikit-learn steps them, its level on fit-split belt, its gate, the shipped judge's owner, the detector's
switch (it reports part-loaded wood the decision left and changes nothing else) and its fit command as a user runs it."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from benchmarks.bench_vision_scenes import thin_sticks_set, wood_judge_set
from tests.vision.evidence_helpers import newly_reported
from vision.classify import COMPONENT_FEATURES
from vision.decision import DECISION_MARGIN, LOAD_EDGE, allowed_events
from vision.fit import SHIPPED_DIR, VisionModel, cache_path
from vision.frontier import every_candidate
from vision.scenes import scene_options
from vision.station_settings import WOOD_JUDGE
from vision.wood_judge import (GATE_P_NONE, WOOD_JUDGE_PATH, WoodJudge, candidates, design, from_sklearn, judge_for, reports,
                               set_level, shipped_wood_judge)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)
CLASSES = np.array(["cloth", "none", "wood"])
N_FEATURES = len(COMPONENT_FEATURES) + 1


@pytest.fixture(scope="module")
def model() -> VisionModel:
    """The shipped 4 mm/px union (it ships with the code)."""
    return VisionModel.load(SHIPPED)


def _tiny(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(feature rows, the judge's probabilities, labels) of a small made-up set: 'wood' where column 0 and p(wood) say so."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, N_FEATURES))
    y = (x[:, 0] + rng.normal(scale=0.5, size=600) > 0.8).astype(int)
    pw = np.clip(0.2 + 0.6 * y + rng.normal(scale=0.1, size=600), 0.01, 0.9)
    proba = np.stack([np.full(600, 0.05), 0.95 - pw, pw], axis=1)
    return x, proba, y


def _fitted(seed: int = 0) -> tuple[WoodJudge, HistGradientBoostingClassifier, np.ndarray]:
    x, proba, y = _tiny(seed)
    inputs = design(x, proba, CLASSES)
    boost = HistGradientBoostingClassifier(max_iter=30, max_depth=3, max_leaf_nodes=8, early_stopping=False, random_state=0).fit(inputs, y)
    return from_sklearn(boost, CLASSES, "j"), boost, inputs


def test_the_inputs_are_the_features_and_the_judges_log_odds_against_none():
    x, proba, _ = _tiny()
    got = design(x[:3], proba[:3], CLASSES)
    assert got.shape == (3, N_FEATURES + 3)
    np.testing.assert_array_equal(got[:, :N_FEATURES], x[:3])
    np.testing.assert_allclose(got[:, N_FEATURES:N_FEATURES + 2], np.log(proba[:3][:, [0, 2]] / proba[:3][:, [1]]))
    np.testing.assert_allclose(got[:, -1], np.log(proba[:3, 1]))
    bad = x[:1].copy()
    bad[0, 3] = np.nan
    assert np.isfinite(design(bad, np.array([[0.0, 1.0, 0.0]]), CLASSES)).all()  # p 0 floored, NaN as 0
    with pytest.raises(ValueError, match="none"):
        design(x[:3], proba[:3], np.array(["cloth", "lump", "wood"]))
    with pytest.raises(ValueError, match="columns"):
        design(x[:3, :-1], proba[:3], CLASSES)


def test_the_trees_score_as_scikit_learn_and_survive_a_round_trip(tmp_path):
    judge, boost, inputs = _fitted()
    np.testing.assert_allclose(judge.score(inputs), boost.decision_function(inputs), atol=1e-9)
    assert judge.score(inputs[:0]).shape == (0,)
    judge = set_level(judge, judge.score(inputs), 3006.0, {"test": "tiny"})
    judge.save(tmp_path / "j.npz")
    back = WoodJudge.load(tmp_path / "j.npz")
    np.testing.assert_array_equal(back.score(inputs), judge.score(inputs))
    assert (back.level, back.judge, back.classes, back.events, back.provenance) == (judge.level, "j", tuple(CLASSES), judge.events,
                                                                                  {"test": "tiny"})
    with pytest.raises(ValueError, match="binary"):
        from_sklearn(HistGradientBoostingClassifier(max_iter=3).fit(inputs, np.arange(len(inputs)) % 3), CLASSES, "j")


def test_the_level_is_the_k_plus_first_highest_plus_the_margin():
    judge, _, _ = _fitted()
    scores = np.array([3.0, -1.0, 2.0, np.nan, 5.0, 0.5, 4.0, 1.0, 2.5, 1.5])
    for belt_m in (3006.0, 6012.0):
        got = set_level(judge, scores, belt_m)
        k = allowed_events(belt_m)
        assert got.events == k and got.level == pytest.approx(np.sort(scores[np.isfinite(scores)])[::-1][k] + math.log(1 / DECISION_MARGIN))
    with pytest.raises(ValueError, match="belt_m"):
        set_level(judge, scores, 0.0)
    with pytest.raises(ValueError, match="need more than"):
        set_level(judge, scores[:1], 12024.0)


def test_only_unreported_part_loaded_features_candidates_are_looked_at_and_only_below_the_gate_scored():
    load = np.array([0.5, 0.5, 0.5, 0.95, np.nan, 0.2])
    report = np.array([False, True, False, False, False, False])
    own = np.array([False, False, True, False, False, False])
    np.testing.assert_array_equal(candidates(load, report, own), [True, False, False, False, False, True])
    judge, _, _ = _fitted()
    judge = set_level(judge, np.linspace(-60.0, -50.0, 50), 3006.0)  # a level every scored row reaches
    x, proba, _ = _tiny()
    proba = proba[:3].copy()
    proba[1] = [0.0, GATE_P_NONE + 0.01, 0.09]
    hit, score = reports(judge, x[:3], proba)
    np.testing.assert_array_equal(hit, [True, False, True])
    assert score[1] == -np.inf


def test_the_shipped_judge_belongs_to_the_shipped_union_only(model):
    assert WOOD_JUDGE_PATH.is_file(), "the shipped wood judge is missing"
    shipped = shipped_wood_judge()
    assert judge_for(model.dense_judge) is shipped and np.isfinite(shipped.level)
    assert shipped.provenance["tiles"] == "fit" and "command" in shipped.provenance and "level_belt" in shipped.provenance
    assert judge_for(model.classifier) is None and judge_for(None) is None


def _wood_belt(model: VisionModel, on: bool):
    """Every candidate of 12 m of wood on today's belt (seed 52), the judge on or off; the thin sticks off (they report
    sticks no reported object lies on, so a candidate the judge reports would drop one: the judge is checked alone)."""
    scene, objects = scene_options("today")
    with wood_judge_set(on), thin_sticks_set(False):
        found, _, _ = every_candidate(model, "heldout", length_m=12.0, seed=52, objects_per_m=1.0, frame_lines=1024,
                                      scene=scene, objects=dict(objects, kinds=("wood",)))
    return found


def test_on_it_reports_part_loaded_wood_the_union_left_and_changes_nothing_else(model):
    off, on = _wood_belt(model, False), _wood_belt(model, True)
    added, by_key = newly_reported(off, on)
    assert added, "the belt gave no candidate the judge adds: the test would pass with the switch broken"
    judge = shipped_wood_judge()
    for d in added:
        assert d.kind == "wood" and d.second_judge and not d.dense_own and d.load < LOAD_EDGE
        hit, _ = reports(judge, np.asarray(d.features)[None, :], model.dense_judge.proba(np.asarray(d.features)[None, :]))
        assert hit[0]
    for d in on:  # the rest as off, to the bit
        if d not in added:
            o = by_key[(d.belt_m, d.lateral_m, d.length_mm)]
            assert (d.p_none, d.none_max, d.second_judge, d.kind, d.probability) == (o.p_none, o.none_max, o.second_judge, o.kind, o.probability)


def test_the_switch_follows_the_setting_unless_set(model):
    assert model.detector().wood_judge is WOOD_JUDGE


def test_the_fit_command_refuses_bad_input_and_calibrates_as_a_user_runs_it():
    bad = subprocess.run([sys.executable, "-m", "benchmarks.bench_wood_judge", "--calibrate", "--calibrate-m", "0"], capture_output=True,
                         text=True, timeout=120, cwd=REPO)
    assert bad.returncode == 2 and "--calibrate-m" in bad.stderr and "Traceback" not in bad.stderr
    none = subprocess.run([sys.executable, "-m", "benchmarks.bench_wood_judge"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert none.returncode == 2 and "--fit" in none.stderr
    quick_fit = subprocess.run([sys.executable, "-m", "benchmarks.bench_wood_judge", "--quick", "--fit"], capture_output=True, text=True,
                               timeout=120, cwd=REPO)
    assert quick_fit.returncode == 2 and "--quick" in quick_fit.stderr and "drop --fit" in quick_fit.stderr
    c = subprocess.run([sys.executable, "-m", "benchmarks.bench_wood_judge", "--calibrate", "--calibrate-m", "40"], capture_output=True,
                       text=True, timeout=600, cwd=REPO)
    assert c.returncode == 0, c.stderr
    assert "fit split, today seed 2001" in c.stdout and "fit split, dark-rubber seed 2001" in c.stdout and "wood judge for judge" in c.stdout
