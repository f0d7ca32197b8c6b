"""The union judge's wood weight (issue 27, w27t): kind weights in the classifier's training, the refit's option, and
the wood diagnosis' causes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vision.classify import KindClassifier, kind_weights
from vision.errors import ModelError

ROOT = Path(__file__).resolve().parents[2]


def _rows(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 29))
    y = np.where(x[:, 0] + 0.8 * rng.normal(size=n) > 0.6, "wood", "none")
    return x, y


def test_kind_weights_per_row_and_none_when_empty():
    y = np.array(["wood", "none", "wood", "metal"])
    assert kind_weights(y, {}) is None
    assert kind_weights(y, {"wood": 4.0}).tolist() == [4.0, 1.0, 4.0, 1.0]


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_kind_weight_not_positive_and_finite_is_refused_naming_it(bad):
    with pytest.raises(ModelError, match="wood"):
        kind_weights(np.array(["wood"]), {"wood": bad})


@pytest.mark.usefixtures("fit_blas_threads")  # trains classifiers: one BLAS thread, as a fit
def test_weighting_wood_raises_the_classifier_s_wood_probability_and_unweighted_is_as_before():
    x, y = _rows()
    plain = KindClassifier(seed=1, members=2).fit(x, y)
    again = KindClassifier(seed=1, members=2, kind_weight={}).fit(x, y)
    heavy = KindClassifier(seed=1, members=2, kind_weight={"wood": 4.0}).fit(x, y)
    assert np.array_equal(plain.proba(x), again.proba(x))
    fresh = np.random.default_rng(1).normal(size=(500, 29))  # rows it never saw
    p_none_plain, p_none_heavy = plain.p_none(fresh), heavy.p_none(fresh)
    assert p_none_heavy.mean() < p_none_plain.mean() - 0.01  # wood's mass up on the same rows
    assert np.mean(p_none_heavy < 0.5) > np.mean(p_none_plain < 0.5) + 0.02


def test_the_refit_command_refuses_a_wood_weight_that_is_not_positive():
    r = subprocess.run([sys.executable, "-m", "vision.densenet_refit", "--own-peak", "--wood-weight", "0", "out.npz"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "--wood-weight must be a positive number, got 0.0" in r.stderr


def test_the_diagnosis_gives_each_object_one_cause():
    from benchmarks.bench_vision_wood import NEAR_FACTOR, cause

    assert cause(True, True, 0.5) == "found"
    assert cause(False, False, np.inf) == "no candidate"
    assert cause(True, False, NEAR_FACTOR) == "missed, near the decision"
    assert cause(True, False, NEAR_FACTOR * 1.01) == "missed, far from the decision"


@pytest.mark.usefixtures("fit_blas_threads")  # trains classifiers: one BLAS thread, as a fit
def test_the_diagnosis_scores_candidates_with_the_decision_at_their_load():
    from benchmarks.bench_vision_wood import score

    x, y = _rows(200)
    clf = KindClassifier(seed=0, members=1).fit(x, y)
    clf.none_max = 0.05
    s = score(clf, x[:20], np.full(20, 0.5))
    assert np.allclose(s.p_none, clf.p_none(x[:20])) and np.all(s.decision == 0.05)
    assert set(s.kind.tolist()) == {"wood"} and np.array_equal(s.reported, s.p_none <= 0.05)


def test_the_wood_diagnosis_runs_on_the_shipped_union_and_counts_every_wood_object_once():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_wood", "--quick", "--seed", "51"], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    heads = [line for line in r.stdout.splitlines() if ": wood objects >= 50 mm:" in line]
    assert [h.split(":")[0] for h in heads] == ["wood on realistic belt", "wood on today's belt", "wet wood"]
    for h in heads:
        counted = sum(int(k) for k in re.findall(r" (\d+)(?=,|$)", h.split("mm: ")[1]))
        rows = r.stdout.split(h)[1].split("\n")[1:counted + 1]
        assert counted > 0 and all(line.startswith("    ") and " | " in line for line in rows)


def test_the_wood_diagnosis_refuses_a_judge_without_a_net(tmp_path):
    bad = tmp_path / "plain.npz"
    bad.write_bytes(b"not a model")
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_wood", "--judge", str(bad)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and str(bad) in r.stderr
