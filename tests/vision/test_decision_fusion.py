"""The fused-decision diagnostic's arithmetic (vision.decision_fusion) and its benchmark's command line (fuse46)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from benchmarks.bench_vision_fusion import SHIPPED_UNION, Run, run_part, scored
from benchmarks.bench_vision_scenes import full_burden_judge_set, group_fragments_set
from vision.decision_fusion import (and_score, fused_score, level_at_false_count, level_ratio, or_score, or_shift_choices,
                                    or_shifted, rules)
from vision.fit import VisionModel
from vision.scenes import camera_scene_options
from vision.sim_eval import evaluate


def test_level_ratio_is_at_most_zero_exactly_where_the_classifier_reports():
    p, level = np.array([1e-4, 5e-4, 1e-3]), np.array([5e-4, 5e-4, 5e-4])
    u = level_ratio(p, level)
    assert list(u <= 0) == [True, True, False]
    assert u[1] == 0.0
    assert np.allclose(level_ratio(p, 5e-4), u)  # one level for all broadcasts


@pytest.mark.parametrize("p, level", [([0.0, 0.1], 0.01), ([0.1], -1.0), ([np.nan], 0.01)])
def test_level_ratio_refuses_a_non_positive_probability_or_level(p, level):
    with pytest.raises(ValueError, match="positive"):
        level_ratio(np.array(p), level)


def test_or_at_level_zero_is_the_union_either_classifier_reports():
    u, v = np.array([-1.0, 2.0, 2.0, -0.5]), np.array([3.0, -0.1, 1.0, -2.0])
    assert list(or_score(u, v) <= 0) == [True, True, False, True]
    assert list(and_score(u, v) <= 0) == [False, False, False, True]


def test_fused_score_weights_the_two_ratios_and_refuses_a_weight_outside_0_1():
    u, v = np.array([1.0, -4.0]), np.array([-3.0, 2.0])
    assert np.allclose(fused_score(0.25)(u, v), [0.25 - 2.25, -1.0 + 1.5])
    assert np.allclose(fused_score(1.0)(u, v), u)
    with pytest.raises(ValueError, match="weight"):
        fused_score(1.5)


def test_level_at_false_count_lets_exactly_k_through_and_refuses_a_negative_count():
    false = np.array([0.3, -1.0, 2.0, 0.3, 5.0])
    for k in range(5):
        assert np.sum(false <= level_at_false_count(false, k)) <= k
    assert np.sum(false <= level_at_false_count(false, 1)) == 1
    assert np.sum(false <= level_at_false_count(false, 2)) == 1  # the tie at 0.3: both or neither
    assert level_at_false_count(false, 5) == np.inf
    with pytest.raises(ValueError, match=">= 0"):
        level_at_false_count(false, -1)


def test_or_shift_choices_keep_the_count_and_skip_a_shift_already_over_it():
    fu, fv = np.array([-2.0, 1.0, 3.0]), np.array([4.0, 0.5, -1.0])
    choices = or_shift_choices(fu, fv, 1, np.array([-3.0, -2.0, 1.5]))
    assert [a for a, _ in choices] == [-3.0, -2.0]  # at 1.5 two false candidates are under u's shift
    for a, b in choices:
        assert np.sum(or_shifted(a, b)(fu, fv) <= 0) <= 1


def test_rules_hold_the_or_each_classifier_alone_and_the_fused_forms():
    names = list(rules((0.5,)))
    assert names[0].startswith("OR") and any(n.startswith("w = 0.5") for n in names) and len(names) == 5


def test_benchmark_refuses_a_bad_length_naming_the_option():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_fusion", "--seed", "51", "--fa-m", "-3"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--fa-m" in r.stderr and "Traceback" not in r.stderr


def test_the_or_at_level_zero_rescored_from_every_candidate_is_what_the_union_reports(tmp_path):
    model = VisionModel.load(SHIPPED_UNION)
    with group_fragments_set(False):  # the OR rescores single candidates: the fragment groups (grp54) off on both sides
        run = run_part(model, "realistic", 51, 12.0, 1.0)
    run.save(tmp_path / "r.npz")
    again = scored(model, Run.load_from(tmp_path / "r.npz"))
    found, objects, false = again.result(or_score, 0.0)
    scene, objects_kw = camera_scene_options("realistic", "renderer")
    with full_burden_judge_set(False), group_fragments_set(False):  # the OR of FIT_VERSION 18 as shipped (judge46 since leaves full burden to the judge)
        table, _ = evaluate(model, backgrounds="heldout", length_m=12.0, seed=51, objects_per_m=1.0, scene=scene,
                            objects=objects_kw, belt_edge=False, exposure_norm=False)
    r = table["recall"]["size>=50:all"]
    assert (found, objects, false) == (r["detected"], r["objects"], table["false_alarms"])
    assert objects > 0 and len(run.features) > found  # every candidate kept, not only the reported ones
