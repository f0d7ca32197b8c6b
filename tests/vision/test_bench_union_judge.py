"""bench_vision_dense --union --judge-level-max (issue 27, w27x): the union's judge with its level capped under every
belt condition (what a hold of an unfounded belt condition gives it), beside the union as given; --judge-hold: what
the hold decides for the judge, from its fit's leave-one-group-out record; the union's false alarms counted once
each; bench_vision_scenes prints the decision's foundation (the fit's own belt)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_vision_dense import hold_rows, hybrid_free_rows, judge_at_most, same_classifier
from benchmarks.bench_vision_scenes import decision_rows, false_alarm_line
from vision.classify import COMPONENT_FEATURES, KindClassifier
from vision.densenet_eval import DensePass
from vision.detect import Detection
from vision.evaluate import _poisson_upper95
from vision.fit import VisionModel

REPO = Path(__file__).resolve().parents[2]
SHIPPED_BASE = REPO / "vision" / "shipped" / "model-4mm-512px-26df757737f4.npz"


def _judge() -> KindClassifier:
    """A small classifier with the shipped judge's decision: 3.06e-3 part-loaded (the strictest), 1.3e-2 full burden."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, len(COMPONENT_FEATURES) + 1))
    clf = KindClassifier(members=1, seed=0, none_max=3.057e-3).fit(x, np.where(x[:, 0] > 0.0, "wood", "none"))
    clf.regimes_ = np.array([[0.25, 0.9, 3.057e-3], [0.9, 1.0, 1.2956e-2]])
    return clf


def test_judge_at_most_caps_every_belt_conditions_level_and_leaves_the_judge_as_it_was():
    judge = _judge()
    held = judge_at_most(judge, judge.none_max)
    assert held.none_max == judge.none_max
    np.testing.assert_array_equal(held.regimes_[:, 2], [3.057e-3, 3.057e-3])
    np.testing.assert_array_equal(held.regimes_[:, :2], judge.regimes_[:, :2])
    np.testing.assert_array_equal(judge.regimes_[:, 2], [3.057e-3, 1.2956e-2])  # the given judge unchanged
    loads = np.array([0.5, 0.95, 0.1])
    np.testing.assert_array_equal(held.levels(loads), [3.057e-3, 3.057e-3, 3.057e-3])
    np.testing.assert_array_equal(judge.levels(loads), [3.057e-3, 1.2956e-2, 3.057e-3])
    x = np.random.default_rng(4).normal(size=(5, len(COMPONENT_FEATURES) + 1))
    np.testing.assert_array_equal(held.p_none(x), judge.p_none(x))  # the same classifier, only its decision capped
    loose = judge_at_most(judge, 0.5)  # a cap above every level changes nothing
    assert loose.none_max == judge.none_max
    np.testing.assert_array_equal(loose.regimes_, judge.regimes_)
    for bad in (0.0, -1e-3, 1.5, float("nan")):
        with pytest.raises(ValueError, match="p\\(none\\) in \\(0, 1\\]"):
            judge_at_most(judge, bad)


def _pass(feature_false: int, own_false: int, belt_m: float = 3006.0) -> DensePass:
    return DensePass(np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), [], np.zeros(0), belt_m, 10, 1.0, 0.5, 1.0,
                     feature_false=feature_false, own_false=own_false)


def test_the_unions_false_alarms_are_counted_once_the_nets_own_among_them():
    """feature_false counts every reported candidate on no object, the net's own among them: the union's bound counts
    it alone (it counted the net's own twice); the hybrid counts the net's own only."""
    off, on = _pass(0, 0), _pass(2, 1)
    union = hybrid_free_rows("realistic", off, on, "union", union=True)[0]
    assert union["value"] == pytest.approx(1000.0 * _poisson_upper95(2) / 3006.0)
    assert "counted (2 in 3006 m" in union["name"]
    hybrid = hybrid_free_rows("realistic", off, on, "hybrid")[0]
    assert hybrid["value"] == pytest.approx(1000.0 * _poisson_upper95(1) / 3006.0)


@pytest.mark.parametrize("args, says", [
    (["--judge-level-max", "0.003"], "--judge-level-max needs --hybrid C.npz --union"),
    (["--hybrid", "C.npz", "--judge-level-max", "0.003"], "got 0.003 without --union"),
    (["--hybrid", "C.npz", "--union", "--judge-level-max", "1.5"], "a p(none) in (0, 1], got 1.5"),
    (["--hybrid", "C.npz", "--union", "--judge-level-max", "0"], "a p(none) in (0, 1], got 0.0"),
    (["--hybrid", "C.npz", "--union", "--judge-level-max", "high"], "--judge-level-max: invalid float value: 'high'"),
])
def test_bench_refuses_a_judge_level_it_cannot_use_saying_why(args, says):
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_dense", *args, "--quick"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr[-2000:]


def test_bench_scenes_prints_what_the_models_decision_rests_on(capsys):
    rows = decision_rows(VisionModel.load(SHIPPED_BASE))
    out = capsys.readouterr().out
    assert "oreline-vision-model-8:f9ce9850fe (4 mm/px, fit version 13)" in out
    assert "decision founded on 6,000 m of object-free belt scored out of fold" in out
    assert "full burden belt (load 0.90-1.00, 3997 m): p(none) <= 0.00073" in out
    assert [r["value"] for r in rows] == [pytest.approx(0.499)] and "6,000 m" in rows[0]["name"]


def test_bench_scenes_prints_the_unions_second_judge_too(capsys):
    decision_rows(VisionModel.load(REPO / "vision" / "shipped" / "model-4mm-512px-2f7c0564758e.npz"))
    out = capsys.readouterr().out
    assert "its second judge (the union's refit): object decision: p(none) <= 0.00306" in out
    assert "full burden belt (load 0.90-1.00, 3997 m): p(none) <= 0.013" in out


def test_bench_scenes_says_when_a_model_has_no_decision(capsys):
    model = VisionModel.load(SHIPPED_BASE)
    model.fitted_on = {**model.fitted_on, "decision": {}}
    assert decision_rows(model) == []
    assert "object decision: none (no classifier)" in capsys.readouterr().out


def _check(lows: list[float], events: list[int], bound: float, passed: bool) -> dict:
    return {"group_low": {str(g): v for g, v in enumerate(lows)}, "group_belt_m": {str(g): 666.0 for g in range(len(lows))},
            "estimates": [{"rank": 1, "level": 0.5 * min(lows), "events": sum(events), "events_per_group": events,
                           "fa_bound_per_1000_m": bound}], "rank": 1, "level": 0.5 * min(lows), "passed": passed}


def _held_record(full_burden_passed: bool) -> dict:
    """A fit's decision record with the hold on: part-loaded at the strictest, full burden founded or held."""
    full = 1.2956e-2 if full_burden_passed else 3.057e-3
    return {"level_choice": {"all": _check([0.02, 0.006], [0, 4], 1.5, False),
                             "part-loaded": _check([0.02, 0.006], [0, 4], 4.6, False),
                             "full burden": _check([0.026, 0.036, 0.08], [0, 0, 0], 0.75, full_burden_passed)},
            "regimes": [{"name": "part-loaded", "load_lo": 0.25, "load_hi": 0.9, "none_max": 3.057e-3},
                        {"name": "full burden", "load_lo": 0.9, "load_hi": 1.0, "none_max": full}]}


def test_judge_hold_says_which_conditions_level_the_hold_keeps_and_which_it_holds(capsys):
    judge = _judge()
    kept = hold_rows(_held_record(True), judge, same=True)
    assert [r["value"] for r in kept] == [3.057e-3, 1.2956e-2] and all(r["ok"] for r in kept)
    assert "full burden (load 0.90-1.00): 1,998 m" in capsys.readouterr().out
    held = hold_rows(_held_record(False), judge, same=True)
    assert [r["value"] for r in held] == [3.057e-3, 3.057e-3] and [r["ok"] for r in held] == [True, False]
    out = capsys.readouterr().out
    assert "full burden (load 0.90-1.00)" in out and "not founded; level as given 0.01296, with the hold 0.003057" in out
    other = hold_rows(_held_record(True), judge, same=False)  # another classifier's p(none): no row stands
    assert not any(r["ok"] for r in other) and "DIFFERENT from the judge's" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no leave-one-group-out record"):
        hold_rows({"regimes": []}, judge, same=True)


def test_same_classifier_is_bit_for_bit():
    judge = _judge()
    assert same_classifier(judge, judge_at_most(judge, 1e-3))  # a decision of its own, the same classifier
    other = _judge()
    other.coefs_[0][0] = other.coefs_[0][0] + 1e-12
    assert not same_classifier(judge, other)


def test_bench_judge_hold_without_a_refit_is_refused_saying_what_it_needs():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_dense", "--judge-hold", "--quick"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--judge-hold needs --hybrid C.npz" in proc.stderr, proc.stderr[-2000:]


def test_a_false_alarm_says_what_made_and_judged_it_and_the_level_it_passed():
    d = Detection(kind="uncertain", probability=0.4, length_mm=260.0, width_mm=40.0, area_mm2=9000.0, belt_m=1596.61,
                  lateral_m=-0.88, tonnage_mark_t=0.0, time_s=0.0, anomaly_score=1.0, thumbnail=np.zeros((2, 2)), frame_id=7,
                  p_none=0.005569, load=0.995, none_max=0.012956, dense_own=True, second_judge=True)
    assert false_alarm_line(d) == ("false alarm at 1596.6 m (-0.88 m across): uncertain, 260 mm, p(none) 0.00557 <= 0.013 at "
                                   "load 0.995; made by the dense net's own region, judged by the union's second judge")
    plain = Detection(**{**d.__dict__, "dense_own": False, "second_judge": False})
    assert false_alarm_line(plain).endswith("made by the features, judged by the model's classifier")
