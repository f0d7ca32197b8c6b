"""The fragment groups' own decision (issue 27, grp54; vision/decision_groups.py, ``Detector._group_verdict``) and the
grouping's windows and skips (vision/fragments.py ``object_groups``, ``any_full_burden``, ``object_like_components``): the
level's setting on a small belt, the judge's decision, the windows' groups as the whole block's, groups reported exactly
under the level, blocks skipped without changing a detection, and ``--calibrate-groups`` as a
user runs it."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

import vision.detect as detect
from benchmarks.bench_vision_scenes import group_fragments_set
from vision.decision import DECISION_MARGIN, allowed_events
from vision.decision_groups import SHIPPED_GROUPS, GroupJudge, fit_group_judge, group_inputs, judge_for, object_log_odds, set_group_level
from vision.detect import Detection
from vision.fit import VisionModel
from vision.fragments import any_full_burden, fragment_groups, object_groups, object_like, object_like_components, with_member
from vision.frontier import every_candidate
from vision.scene import random_objects
from vision.scenes import camera_scene_options
from vision.sim_camera import SimulatedCamera

REPO = Path(__file__).resolve().parents[2]


def test_the_level_is_the_k_plus_first_highest_score_plus_the_margin():
    scores = np.array([-1.0, 5.0, 2.0, 4.0, 3.0, -np.inf, np.nan])
    level, k = set_group_level(scores, 3000.0, events=2)
    assert level == pytest.approx(3.0 + math.log(1.0 / DECISION_MARGIN)) and k == 2
    many = np.linspace(-5.0, 5.0, 101)
    level, k = set_group_level(many, 40_000.0)
    assert k == allowed_events(40_000.0) and level == pytest.approx(np.sort(many)[::-1][k] + math.log(1.0 / DECISION_MARGIN))
    assert list(object_log_odds(np.array([0.5, 0.0, 1.0]))) == [0.0, np.inf, -np.inf]


def test_bad_levels_and_judges_are_refused():
    with pytest.raises(ValueError, match="belt_m > 0"):
        set_group_level(np.ones(5), 0.0)
    with pytest.raises(ValueError, match="need more than 2"):
        set_group_level(np.array([1.0, 2.0]), 3000.0, events=2)
    with pytest.raises(ValueError, match="finite level"):
        GroupJudge((0.0,), (1.0,), (1.0,), 0.0, float("nan"), "abc", 3000.0, 0)
    with pytest.raises(ValueError, match="scales > 0"):
        GroupJudge((0.0,), (0.0,), (1.0,), 0.0, 1.0, "abc", 3000.0, 0)
    with pytest.raises(ValueError, match="one length"):
        GroupJudge((0.0, 0.0), (1.0,), (1.0,), 0.0, 1.0, "abc", 3000.0, 0)
    with pytest.raises(ValueError, match="on objects and off them"):
        fit_group_judge(np.zeros((4, 3)), np.zeros(4, bool))


def test_the_judge_reports_a_group_when_its_p_none_is_under_its_decision_exactly_when_its_score_reaches_the_level():
    rng = np.random.default_rng(5)
    n = 400
    on = rng.random(n) < 0.3
    matrix = rng.normal(0.0, 1.0, (n, 4)) + on[:, None] * np.array([1.0, 0.0, -0.5, 0.0])
    p_none = np.where(on, rng.uniform(0.001, 0.2, n), rng.uniform(0.01, 0.9, n))
    pieces = rng.integers(2, 6, n)
    x = group_inputs(p_none, pieces, matrix)
    assert x.shape == (n, 6) and np.allclose(x[:, 1], np.log(pieces))
    mean, scale, coef, intercept = fit_group_judge(x, on)
    judge = GroupJudge(tuple(mean), tuple(scale), tuple(coef), intercept, 0.5, "abc", 3000.0, 0)
    score = judge.score(x)
    assert np.mean(score[on]) > np.mean(score[~on]) + 1.0  # it learned the groups on objects
    reported = p_none <= judge.none_max(x)
    assert np.array_equal(reported, score >= judge.level) and 0 < reported.sum() < n
    against = dataclasses.replace(judge, coef=(-1.0,) + judge.coef[1:])  # no positive weight on the odds: the score decides
    assert np.array_equal(p_none <= against.none_max(x), against.score(x) >= against.level)
    with pytest.raises(ValueError, match="inputs per group"):
        judge.score(x[:, :3])


def test_the_shipped_judge_belongs_to_the_shipped_union_only(shipped_union):
    assert SHIPPED_GROUPS is not None and len(SHIPPED_GROUPS.coef) == 2 + shipped_union.dense_judge.coefs_[0][0].shape[0]
    assert judge_for(shipped_union.dense_judge) is SHIPPED_GROUPS
    assert judge_for(shipped_union.classifier) is None and judge_for(None) is None


def test_the_windows_give_the_whole_blocks_groups_members_and_order():
    rng = np.random.default_rng(11)
    for trial in range(30):
        mask = rng.random((90, 70)) < 0.06 + 0.02 * (trial % 3)
        mask[rng.integers(0, 90):, rng.integers(0, 70)] = True  # a long component reaching the block's edge
        labels, n = ndi.label(mask)
        candidates = rng.random(n) < 0.9
        obj = rng.normal(-4.0, 2.0, labels.shape).astype(np.float32)
        whole = fragment_groups(labels, n, candidates, 2)
        anchors = object_like_components(labels, n, obj, -1.0)
        ids = np.arange(1, whole.count + 1)
        want = ids[object_like(whole, ids, obj, -1.0)]
        got = object_groups(labels, n, candidates, anchors, 2, reach_cells=4)  # small windows: grown many times
        assert got.count == want.size
        for g, w in enumerate(want, start=1):
            assert np.array_equal(got.members(g), whole.members(int(w)))
            win = got.windows[g - 1]
            cells = np.isin(labels, got.members(g) + 1)
            assert cells[win].sum() == cells.sum()  # the window holds the group
            assert np.array_equal(got.labels(labels, g) == 1, cells[win]) and np.array_equal(got.labels(labels, g) == 2, (labels[win] > 0) & ~cells[win])
        assert np.array_equal(with_member(whole, ids, anchors >= 0), object_like(whole, ids, obj, -1.0))
    assert (object_like_components(labels, n, None, 0.0) >= 0).all()


def test_a_block_is_grouped_only_with_a_row_at_full_burden():
    loads = np.full(200, 0.5)
    assert not any_full_burden(loads, 8.0)
    loads[100] = 1.0  # one row: its window's mean stays under the edge
    assert not any_full_burden(loads, 8.0)
    loads[:] = 0.95
    assert any_full_burden(loads, 8.0)
    loads[:20] = np.nan  # rows without belt are left out of the window
    assert any_full_burden(loads, 8.0)
    assert not any_full_burden(np.full(50, np.nan), 8.0)


def _every(model: VisionModel, scene_type: str, length_m: float) -> list[Detection]:
    """Every candidate (reported or not) of ``length_m`` of ``scene_type`` belt (seed 51, calibrated camera), grouping on."""
    scene, objects = camera_scene_options(scene_type, "calibrated")
    with group_fragments_set(True):
        found, _, _ = every_candidate(model, "heldout", length_m=length_m, seed=51, objects_per_m=1.0, frame_lines=1024, scene=scene,
                                      objects=objects)
    return found


def test_groups_under_their_level_are_reported_and_over_it_not(shipped_union, monkeypatch):
    groups = [d for d in _every(shipped_union, "realistic", 40.0) if d.fragments]
    assert len(groups) >= 4, "the belt gave too few groups: the test would pass with the decision broken"
    x = group_inputs(np.array([d.p_none for d in groups]), np.array([d.fragments for d in groups]), np.array([d.features for d in groups]))
    scores = np.sort(SHIPPED_GROUPS.score(x))
    half = len(scores) // 2  # half the groups under the level, none on it
    judge = dataclasses.replace(SHIPPED_GROUPS, level=float(scores[half - 1] + scores[half]) / 2.0)
    monkeypatch.setattr(detect, "group_judge_for", lambda clf: judge)
    judged = [d for d in _every(shipped_union, "realistic", 40.0) if d.fragments]
    assert len(judged) == len(groups)
    gate = shipped_union.params.min_length_mm
    x = group_inputs(np.array([d.p_none for d in judged]), np.array([d.fragments for d in judged]), np.array([d.features for d in judged]))
    for d, nm, s in zip(judged, judge.none_max(x), judge.score(x)):
        assert d.none_max == pytest.approx(nm, rel=1e-9) and d.second_judge and (d.p_none <= d.none_max) == (s >= judge.level)
    under = [d for d in judged if d.p_none <= d.none_max and d.length_mm >= gate]
    assert 0 < len(under) < len(judged)
    # a station's detector (reports only) gives exactly those groups
    scene, objects = camera_scene_options("realistic", "calibrated")
    with group_fragments_set(True):
        det = shipped_union.detector()
    objs = random_objects(40_000.0, np.random.default_rng(51), per_m=1.0, **objects)
    cam = SimulatedCamera(tiles="heldout", seed=51, objects=objs, width_px=shipped_union.width_px, frame_lines=1024,
                          mm_per_px=shipped_union.mm_per_px, scene_options=scene)
    cam.open()
    shown: list[Detection] = []
    while cam.position_m < 40.0 - 1e-9:
        shown += det.process(cam.grab()).detections
    shown += det.flush()
    key = lambda d: (d.belt_m, d.lateral_m, d.length_mm)  # noqa: E731
    assert sorted(map(key, [d for d in shown if d.fragments])) == sorted(map(key, under))
    # without a judge for the union's judge no group is reported
    monkeypatch.setattr(detect, "group_judge_for", lambda clf: None)
    assert all(d.p_none > d.none_max for d in _every(shipped_union, "realistic", 40.0) if d.fragments)


def test_blocks_skipped_give_the_same_detections(shipped_union, monkeypatch):
    calls: list[bool] = []
    grouped: list[int] = []

    def spy(loads: np.ndarray, cell_mm: float) -> bool:
        calls.append(any_full_burden(loads, cell_mm))
        return calls[-1]

    def groups_spy(*args, **kwargs):
        g = object_groups(*args, **kwargs)
        grouped.append(g.count)
        return g

    monkeypatch.setattr(detect, "any_full_burden", spy)
    monkeypatch.setattr(detect, "object_groups", groups_spy)
    skipped = _every(shipped_union, "today", 30.0)
    assert calls and not any(calls) and not grouped  # today's part-loaded belt: every block skipped
    monkeypatch.setattr(detect, "any_full_burden", lambda loads, cell_mm: True)  # every block grouped
    every = _every(shipped_union, "today", 30.0)
    assert sum(grouped) > 0, "no group formed without the skip: the comparison would show nothing"
    key = lambda d: (d.belt_m, d.lateral_m, d.length_mm, d.area_mm2, d.p_none, d.none_max, d.fragments, d.kind)  # noqa: E731
    assert [key(d) for d in skipped] == [key(d) for d in every]


def test_the_groups_calibration_runs_as_a_user_runs_it_and_refuses_a_bad_belt():
    bad = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_unreported", "--calibrate-groups", "--calibrate-m", "-5"],
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert bad.returncode == 2 and "--calibrate-m > 0" in bad.stderr, bad.stderr[-2000:]
    c = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_unreported", "--quick", "--calibrate-groups"],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert c.returncode == 0, c.stderr
    assert "fit split, realistic seed 2001" in c.stdout and "fit split, dark-rubber seed 2001" in c.stdout
    assert "fragment groups' judge for judge c4e029e21060" in c.stdout and "GroupJudge(" in c.stdout
