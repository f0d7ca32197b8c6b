"""The lump judge (issue 27, lump55; :mod:`vision.lump_judge`): it moves a lump-like detection that the kind rule calls
foreign to uncertain and never to lump, it refuses bad artefacts and inputs, its level on the fit split's foreign
objects, the shipped judge's owners, the detector's hook, and the kind benchmark's switch and fit options as a user
runs them."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_vision_kinds import FIT_TODAY_LUMP_BELTS
from vision import detect
from vision.classify import COMPONENT_FEATURES
from vision.kind_decision import LUMP, UNCERTAIN, is_foreign
from vision.lump_judge import (JUDGE_FEATURES, LUMP_JUDGE_PATH, LumpJudge, design, fit, judge_for, judged_kinds, out_of_fold,
                               set_level, shipped_lump_judge)
from vision.wood_judge import WOOD_JUDGE_PATH

REPO = Path(__file__).resolve().parents[2]
#: A held-out ore lump 158 mm long on lumps-only today's belt (seed 11, development) that the kind rule calls cloth
#: (log odds 5.5): its feature row (with the dense net's peak) and its base classifier's probabilities in the shipped
#: classes' order. lump55's judge (fitted without the extra today's lumps) scored it 1.1 below its level (lump57).
HELD_OUT_LUMP = ([0.42424935865629876, 0.40869512336535585, -0.16544939618971613, -2.6432170987957053, -2.248723301312162,
                  0.4501061167498645, 0.6725039482116699, -1.31892728805542, 5.830894392190708, 11.082409858703613,
                  10.514990744055563, 6.02755750856379, 5.113722736524791, 0.9138347720389991, 0.5345716531825654,
                  -0.05101911491705424, 0.0011855353794739676, -0.09577051118592134, -0.5298201884660456, 2.884550848219922,
                  0.293659657555536, 0.3324759933435312, -6.7838497050106525, 6.726238250732422, -0.177213063702923,
                  -0.318316567785462, -0.516014575958252, 0.3860707181950601, 0.17264113953029178, -10.0],
                 [0.320709681029548, 0.19891557561719675, 0.003951303109359926, 0.036859402408305986, 0.00015775334896110318,
                  0.29506088186705076, 0.0012401624648874865, 0.1431052401546899])
CLASSES = np.array(["cloth", "lump", "metal", "none"])
EDGE = COMPONENT_FEATURES.index("edge_chroma")


def _tiny(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(feature rows, class probabilities, truth) of a made-up set: lumps have a high ``edge_chroma``, foreign objects
    a low one; the classifier leans to cloth on both."""
    rng = np.random.default_rng(seed)
    truth = ["lump" if i % 2 else ("cloth" if i % 4 else "metal") for i in range(n)]
    x = rng.normal(size=(n, len(COMPONENT_FEATURES) + 1))
    x[:, EDGE] = np.where(np.array(truth) == LUMP, 3.0, -3.0) + 0.3 * rng.normal(size=n)
    proba = np.tile([0.6, 0.05, 0.3, 0.05], (n, 1))
    return x, proba, truth


@pytest.fixture(scope="module")
def tiny_judge() -> LumpJudge:
    x, proba, truth = _tiny()
    judge = fit(x, proba, CLASSES, truth, ("k1",), max_iter=20, max_depth=2)
    scores = judge.score(design(x, proba, CLASSES))
    return set_level(judge, scores, truth, np.ones(len(truth), bool))


def test_the_judge_moves_a_lump_like_foreign_call_to_uncertain_and_never_to_lump(tiny_judge):
    x, proba, _ = _tiny(8, seed=1)
    x[:, EDGE] = [3.0, -3.0, 3.0, 3.0, 3.0, -3.0, 3.0, 3.0]
    kinds = ["cloth", "cloth", LUMP, "metal", "cloth", "metal", UNCERTAIN, "cloth"]
    reported = np.array([True, True, True, True, False, True, True, True])
    got, prob, score = judged_kinds(tiny_judge, x, proba, kinds, np.full(8, 0.5), reported)
    assert got == [UNCERTAIN, "cloth", LUMP, UNCERTAIN, "cloth", "metal", UNCERTAIN, UNCERTAIN]
    assert LUMP not in [g for g, k in zip(got, kinds) if k != LUMP]
    assert prob[0] == pytest.approx(0.9 / 0.95) and prob[1] == 0.5  # the foreign mass given an object
    assert np.isinf(score[[2, 4, 6]]).all() and np.isfinite(score[[0, 1, 3, 5, 7]]).all()  # only reported foreign calls scored
    never = replace(tiny_judge, level=math.inf)
    assert judged_kinds(never, x, proba, kinds, np.full(8, 0.5), reported)[0] == kinds


def test_inputs_are_relative_and_bad_inputs_are_refused():
    x, proba, truth = _tiny(10)
    d = design(x, proba, CLASSES)
    assert d.shape == (10, len(JUDGE_FEATURES) + 2 + 1)  # features, ln p(kind)/p(lump) of cloth and metal, the rule's odds
    assert not {"r", "g", "lum", "lum_max", "lum_min"} & set(JUDGE_FEATURES)
    assert np.allclose(d[:, -1], np.log(0.9 / 0.05))
    with pytest.raises(ValueError, match="columns"):
        design(x[:, :5], proba, CLASSES)
    with pytest.raises(ValueError, match="probabilities"):
        design(x, proba[:, :3], CLASSES)
    with pytest.raises(ValueError, match="'lump'"):
        design(x, proba, np.array(["cloth", "wood", "metal", "none"]))
    with pytest.raises(ValueError, match="ore lumps and of foreign"):
        fit(x, proba, CLASSES, ["cloth"] * 10, ("k",))


def test_a_file_that_is_no_lump_judge_is_refused_naming_it(tmp_path, tiny_judge):
    with pytest.raises(ValueError, match="wood_judge_4mm.npz: not a lump judge"):
        LumpJudge.load(WOOD_JUDGE_PATH)
    path = tmp_path / "judge.npz"
    tiny_judge.save(path)
    back = LumpJudge.load(path)
    x, proba, _ = _tiny(30, seed=2)
    assert np.array_equal(back.score(design(x, proba, CLASSES)), tiny_judge.score(design(x, proba, CLASSES)))
    assert (back.level, back.judges, back.classes, back.provenance) == (tiny_judge.level, ("k1",), tuple(CLASSES), tiny_judge.provenance)
    broken = tmp_path / "broken.npz"
    arrays = dict(np.load(path))
    arrays["trees_feature"] = np.full_like(arrays["trees_feature"], 99)
    np.savez(broken, **arrays)
    with pytest.raises(ValueError, match="broken.npz: its trees read input 99"):
        LumpJudge.load(broken)


def test_the_level_lets_at_most_the_share_of_detected_foreign_objects_reach_it(tiny_judge):
    truth = ["cloth"] * 300 + ["lump"] * 50 + ["none"] * 10
    scores = np.concatenate([np.arange(300.0), np.full(50, 1000.0), np.full(10, 2000.0)])
    called = np.ones(360, bool)
    called[299] = False  # the highest-scoring foreign object is not called foreign: not counted against the level
    judged = set_level(tiny_judge, scores, truth, called, share_max=0.01)  # k = 3 of 300 detected foreign objects
    assert judged.level == pytest.approx((296 + 295) / 2) and (judged.moved, judged.foreign) == (3, 300)
    assert judged.provenance["level_moved"] == 3
    assert set_level(tiny_judge, scores, truth, called, share_max=0.0).level == pytest.approx(299.0)  # k = 0: above all
    with pytest.raises(ValueError, match="one length"):
        set_level(tiny_judge, scores[:-1], truth, called)
    ties = np.concatenate([np.full(5, 10.0), np.arange(295.0) / 100, np.zeros(60)])
    assert set_level(tiny_judge, ties, truth, np.ones(360, bool)).level == pytest.approx(11.0)  # 5 tied above k = 3: none moved
    with pytest.raises(ValueError, match="none"):
        set_level(tiny_judge, scores, truth, np.zeros(360, bool))
    with pytest.raises(ValueError, match="cannot set it"):
        set_level(tiny_judge, scores, truth, np.arange(360) < 2)


def test_out_of_fold_scores_come_from_judges_that_did_not_see_the_row():
    x, proba, truth = _tiny(200)
    oof = out_of_fold(x, proba, CLASSES, truth, ("k",), folds=4, max_iter=10, max_depth=2)
    assert np.isfinite(oof).all()
    lump = np.array(truth) == LUMP
    assert oof[lump].min() > oof[~lump].max()  # the made-up set separates out of fold too


def test_the_shipped_judge_belongs_to_the_shipped_union_only(shipped_union):
    judge = shipped_lump_judge()
    assert judge is not None and LUMP_JUDGE_PATH.is_file()
    assert judge_for(shipped_union.classifier) is judge and judge_for(shipped_union.dense_judge) is judge
    assert judge_for(None) is None
    assert judge.provenance["split"] == "fit" and judge.moved <= 0.01 * judge.foreign and np.isfinite(judge.level)


def test_the_shipped_judge_was_fitted_with_todays_lumps_and_moves_a_held_out_lump_called_cloth():
    """lump57: the fit adds FIT_TODAY_LUMP_BELTS belts of lumps only on today's belt (fit split), where the lumps the
    rule calls foreign are; a held-out lump there that the rule calls cloth is moved to uncertain (lump55's judge left
    it cloth)."""
    judge = shipped_lump_judge()
    assert judge.provenance["today_lump_belts"] == FIT_TODAY_LUMP_BELTS == 3 and judge.provenance["split"] == "fit"
    assert judge.provenance["lumps"] > 3000 and judge.moved <= 0.01 * judge.foreign
    row, proba = np.array([HELD_OUT_LUMP[0]]), np.array([HELD_OUT_LUMP[1]])
    kinds, _, score = judged_kinds(judge, row, proba, ["cloth"], np.array([0.9]), np.array([True]))
    assert kinds == [UNCERTAIN] and score[0] >= judge.level + 1.0


def test_the_detectors_hook_moves_foreign_calls_only_with_the_switch_on(shipped_union, monkeypatch):
    judge = replace(shipped_lump_judge(), level=-math.inf)  # every reported foreign call reaches it
    monkeypatch.setattr(detect, "lump_judge_for", lambda clf: judge)
    det = shipped_union.detector()
    clf = shipped_union.dense_judge
    classes = [str(c) for c in clf.classes_]
    proba = np.full((4, len(classes)), 0.01)
    proba[:, classes.index("cloth")] = 0.9
    kinds, probs, report = ["cloth", LUMP, "metal", "cloth"], np.full(4, 0.7), np.array([True, True, True, False])
    matrix = np.zeros((4, len(COMPONENT_FEATURES) + 1))
    det.lump_judge = False
    assert det._lump_judged(clf, matrix, proba, list(kinds), probs, report)[0] == kinds
    det.lump_judge = True
    got, _ = det._lump_judged(clf, matrix, proba, list(kinds), probs, report)
    assert got == [UNCERTAIN, LUMP, UNCERTAIN, "cloth"] and not is_foreign(np.array(got[:3])).any()


def test_the_kind_benchmark_runs_with_the_lump_judge_as_a_user_runs_it():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_kinds", "--quick", "--lumps-only", "--lump-judge", "on"],
                       capture_output=True, text=True, timeout=900, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "lump judge on" in r.stdout
    assert "the cases, lump judge (level" in r.stdout and "pooled with the lumps-only belts, lump judge (level" in r.stdout
    assert "after + lump judge, pooled with the lumps-only belts: lumps called foreign" in r.stdout


def test_the_kind_benchmark_refuses_fitting_and_calibrating_the_judge_at_once():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_kinds", "--fit-lump-judge", "x.npz", "--calibrate-lump-judge"],
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 2 and "--fit-lump-judge" in r.stderr and "--calibrate-lump-judge" in r.stderr


def test_the_switch_is_on_unless_set(shipped_union):
    # on since RULE_LUMP58 held (session 56): the classifiers' foreign calls judged, the thin sticks as stick56 left them
    from vision.station_settings import LUMP_JUDGE
    assert LUMP_JUDGE is True and shipped_union.detector().lump_judge is True
