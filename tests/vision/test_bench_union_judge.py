"""bench_vision_dense --union --judge-level-max (issue 27, w27x): the union's judge with its level capped under every
belt condition (what a hold of an unfounded belt condition gives it), beside the union as given; the union's false
alarms counted once each; bench_vision_scenes prints the decision's foundation (the fit's own belt)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_vision_dense import hybrid_free_rows, judge_at_most
from benchmarks.bench_vision_scenes import decision_rows
from vision.classify import COMPONENT_FEATURES, KindClassifier
from vision.densenet_eval import DensePass
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


def test_bench_scenes_says_when_a_model_has_no_decision(capsys):
    model = VisionModel.load(SHIPPED_BASE)
    model.fitted_on = {**model.fitted_on, "decision": {}}
    assert decision_rows(model) == []
    assert "object decision: none (no classifier)" in capsys.readouterr().out
