"""Kind evidence (issue 27, kind51; :mod:`vision.decision_kind`): the union's second judge's odds of one kind against
"none" as a second decision per (kind, belt condition), the wood evidence one case of it, the detector's, station's
and benchmarks' switch for the full-burden levels (the station key and the option: test_station_switches.py)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_vision_scenes import group_fragments_set, kind_evidence_set
from vision.decision import DECISION_MARGIN, LOAD_EDGE, allowed_events
from vision.decision_kind import (FULL_BURDEN, PART_LOADED, SHIPPED_FULL_BURDEN, KindEvidence, evidence_for, in_condition,
                                  judge_key, kind_levels, kind_log_odds, set_level, set_levels)
from vision.decision_wood import WoodEvidence, wood_levels
from vision.detect import Detection
from vision.fit import VisionModel
from vision.frontier import every_candidate
from vision.scenes import camera_scene_options
from vision.station_settings import KIND_EVIDENCE
from tests.vision.evidence_helpers import newly_reported


REPO = Path(__file__).resolve().parents[2]
CLASSES = np.array(["cloth", "lump", "none", "wood"])


def test_the_conditions_split_the_load_at_the_edge_and_leave_an_unknown_load_out():
    load = np.array([0.0, LOAD_EDGE - 1e-9, LOAD_EDGE, 1.0, np.nan])
    assert list(in_condition(PART_LOADED, load)) == [True, True, False, False, False]
    assert list(in_condition(FULL_BURDEN, load)) == [False, False, True, True, False]
    with pytest.raises(ValueError, match="condition"):
        in_condition("wet", load)
    with pytest.raises(ValueError, match="condition"):
        KindEvidence(1.0, "j", 1.0, 0, "wood", "wet")
    with pytest.raises(ValueError, match="kind"):
        KindEvidence(1.0, "j", 1.0, 0, "none", FULL_BURDEN)


def test_a_kinds_odds_weigh_that_kind_against_none_only():
    p = np.array([[0.1, 0.3, 0.4, 0.2], [0.0, 0.5, 0.5, 0.0]])
    assert kind_log_odds(p, CLASSES, "cloth")[0] == pytest.approx(math.log(0.25))
    assert kind_log_odds(p, CLASSES, "lump")[1] == pytest.approx(0.0) and kind_log_odds(p, CLASSES, "cloth")[1] == -np.inf
    with pytest.raises(ValueError, match="metal"):
        kind_log_odds(p, CLASSES, "metal")


def test_each_kind_is_set_on_its_share_of_the_metres():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(len(CLASSES)), size=400)
    for belt_m in (12026.0, 40000.0):
        evidence = set_levels(p, CLASSES, belt_m, "j", FULL_BURDEN)
        assert [ev.kind for ev in evidence] == ["cloth", "lump", "wood"]
        k = allowed_events(belt_m / 3)
        for ev in evidence:
            odds = kind_log_odds(p, CLASSES, ev.kind)
            assert ev.events == k and ev.condition == FULL_BURDEN and ev.belt_m == belt_m
            assert ev.level == pytest.approx(np.sort(odds)[::-1][k] + math.log(1 / DECISION_MARGIN))
            assert int(np.sum(odds >= ev.level)) <= k  # the margin: no more than its share reaches the level
    assert set_levels(p, CLASSES, 40000.0, "j", FULL_BURDEN)[0].events > 0
    assert set_level(kind_log_odds(p, CLASSES, "wood"), 12026.0, "j", "wood", PART_LOADED).events == allowed_events(12026.0)
    with pytest.raises(ValueError, match="kind"):
        set_levels(p, CLASSES, 100.0, "j", FULL_BURDEN, kinds=())


def test_the_decision_rises_per_kind_in_its_condition_only():
    evidence = (KindEvidence(1.0, "j", 1e4, 0, "cloth", FULL_BURDEN), KindEvidence(2.0, "j", 1e4, 0, "wood", FULL_BURDEN))
    p = np.array([[0.6, 0.0, 0.1, 0.3], [0.6, 0.0, 0.1, 0.3], [0.1, 0.0, 0.1, 0.8], [0.0, 0.9, 0.1, 0.0]])
    load = np.array([0.95, 0.5, 1.0, 1.0])
    levels = np.full(4, 0.01)
    got = kind_levels(evidence, p, CLASSES, load, levels)
    assert got[1] == 0.01 and got[3] == 0.01  # part-loaded; an object the levels do not weigh (lump)
    assert got[0] == pytest.approx(max(0.6 * math.exp(-1.0), 0.3 * math.exp(-2.0)))
    assert got[2] == pytest.approx(max(0.1 * math.exp(-1.0), 0.8 * math.exp(-2.0)))
    p_none = p[:, CLASSES == "none"].ravel()
    full = load >= LOAD_EDGE
    odds = np.column_stack([kind_log_odds(p, CLASSES, ev.kind) >= ev.level for ev in evidence]).any(axis=1)
    assert list(p_none <= got) == list((p_none <= levels) | (full & odds))
    assert kind_levels((), p, CLASSES, load, levels) is levels


def test_the_wood_evidence_is_the_part_loaded_case_to_the_bit():
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.full(len(CLASSES), 0.3), size=2000)
    load = rng.choice([0.2, 0.7, LOAD_EDGE, 1.0, np.nan], size=2000)
    levels = rng.uniform(1e-4, 0.1, size=2000)
    ev = WoodEvidence(3.3192, "j", 12026.0, 6)
    assert (ev.kind, ev.condition) == ("wood", PART_LOADED) and isinstance(ev, KindEvidence)
    before = np.where(load < LOAD_EDGE, np.maximum(levels, p[:, CLASSES == "wood"].sum(axis=1) * math.exp(-ev.level)), levels)
    assert np.array_equal(wood_levels(ev, p, CLASSES, load, levels), before)  # the shipped wood evidence's formula


def test_only_the_judge_they_were_set_for_gets_levels(shipped_union):
    mine = KindEvidence(1.0, judge_key(shipped_union.dense_judge), 1e4, 0, "wood", FULL_BURDEN)
    other = KindEvidence(1.0, judge_key(shipped_union.classifier), 1e4, 0, "wood", PART_LOADED)
    assert evidence_for(shipped_union.dense_judge, (mine, other)) == (mine,)
    assert evidence_for(shipped_union.dense_judge, (mine, other), condition=PART_LOADED) == ()
    assert evidence_for(shipped_union.classifier, (mine, other), condition=PART_LOADED) == (other,)
    assert all(ev.judge == judge_key(shipped_union.dense_judge) and ev.condition == FULL_BURDEN for ev in SHIPPED_FULL_BURDEN)


def _realistic_belt(model: VisionModel, on: bool) -> list[Detection]:
    """Every candidate (reported or not) of 60 m of realistic belt (seed 51, calibrated camera), the switch on or off;
    the fragment groups off (a group is judged only where no reported detection lies on it: the evidence's reports move
    them)."""
    scene, objects = camera_scene_options("realistic", "calibrated")
    with kind_evidence_set(on), group_fragments_set(False):
        found, _, _ = every_candidate(model, "heldout", length_m=60.0, seed=51, objects_per_m=1.0, frame_lines=1024, scene=scene,
                                      objects=objects)
    return found


@pytest.mark.skipif(not SHIPPED_FULL_BURDEN, reason="no levels set for the shipped judge")
def test_on_it_reports_full_burden_candidates_the_judge_left_and_changes_nothing_else(shipped_union):
    off, on = _realistic_belt(shipped_union, False), _realistic_belt(shipped_union, True)
    added, by_key = newly_reported(off, on)
    key = lambda d: (d.belt_m, d.lateral_m, d.length_mm)  # noqa: E731
    reported = lambda d: d.p_none <= d.none_max  # noqa: E731
    assert added, "the belt gave no candidate the evidence adds: the test would pass with the switch broken"
    evidence = evidence_for(shipped_union.dense_judge, condition=FULL_BURDEN)
    for d in added:
        assert d.second_judge and d.load >= LOAD_EDGE and d.length_mm >= shipped_union.params.min_length_mm
        p = shipped_union.dense_judge.proba(np.asarray(d.features)[None, :])
        assert any(kind_log_odds(p, shipped_union.dense_judge.classes_, ev.kind)[0] >= ev.level for ev in evidence)
    for d in on:  # the rest as off, to the bit
        if d not in added:
            o = by_key[key(d)]
            assert (d.p_none, reported(d), d.second_judge, d.kind) == (o.p_none, reported(o), o.second_judge, o.kind)


def test_the_switch_follows_the_setting_unless_set(shipped_union):
    assert shipped_union.detector().kind_evidence is KIND_EVIDENCE


def test_the_calibration_runs_as_a_user_runs_it():
    c = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_unreported", "--quick", "--calibrate-kinds"],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert c.returncode == 0, c.stderr
    assert "fit split, realistic seed 2001" in c.stdout and "fit split, dark-rubber seed 2001" in c.stdout
    assert c.stdout.count("kind evidence at full burden for judge") == 7  # one level per kind
