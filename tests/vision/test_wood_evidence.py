"""The wood evidence on part-loaded belt (issue 27, today51; :mod:`vision.decision_wood`): the union's second judge's
odds of wood against "none" as a second decision on the features' part-loaded candidates, its level set on fit-split
belt, the detector's, station's and benchmarks' switch."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_vision_scenes import split_merged_set, thin_sticks_set, wood_evidence_set
from vision.decision import DECISION_MARGIN, LOAD_EDGE, allowed_events
from vision.decision_wood import SHIPPED_WOOD, WoodEvidence, evidence_for, judge_key, set_level, wood_levels, wood_log_odds
from vision.detect import Detection
from vision.fit import SHIPPED_DIR, VisionModel, cache_path
from vision.frontier import every_candidate
from vision.scenes import scene_options
from vision.station_settings import WOOD_EVIDENCE
from tests.vision.evidence_helpers import newly_reported


REPO = Path(__file__).resolve().parents[2]
SHIPPED = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)
CLASSES = np.array(["cloth", "lump", "none", "wood"])


@pytest.fixture(scope="module")
def model() -> VisionModel:
    """The shipped 4 mm/px union (it ships with the code)."""
    return VisionModel.load(SHIPPED)


def test_wood_log_odds_weigh_wood_against_none_only():
    p = np.array([[0.1, 0.1, 0.4, 0.4], [0.0, 0.5, 0.5, 0.0], [0.3, 0.3, 0.0, 0.4]])
    got = wood_log_odds(p, CLASSES)
    assert got[0] == pytest.approx(0.0) and got[1] == -np.inf and got[2] > 600  # p(none) 0: floored, not a division error
    with pytest.raises(ValueError, match="wood"):
        wood_log_odds(p[:, :3], CLASSES[:3])


def test_the_level_is_the_k_plus_first_highest_plus_the_margin():
    odds = np.array([3.0, -1.0, 2.0, np.nan, 5.0, 0.5, 4.0, 1.0, 2.5, 1.5])
    for belt_m in (3006.0, 6012.0):
        k = allowed_events(belt_m)
        ev = set_level(odds, belt_m, "j")
        assert ev.events == k and ev.level == pytest.approx(np.sort(odds[np.isfinite(odds)])[::-1][k] + math.log(1 / DECISION_MARGIN))
    assert set_level(odds, 6012.0, "j").level < set_level(odds, 3006.0, "j").level  # more belt allows an event
    with pytest.raises(ValueError, match="belt_m"):
        set_level(odds, 0.0, "j")
    with pytest.raises(ValueError, match="need more than"):
        set_level(odds[:1], 12024.0, "j")
    with pytest.raises(ValueError, match="finite"):
        WoodEvidence(float("nan"), "j", 1.0, 0)


def test_the_decision_rises_with_the_wood_mass_on_part_loaded_belt_only():
    ev = WoodEvidence(2.0, "j", 12024.0, 6)
    p = np.array([[0.0, 0.0, 0.05, 0.95], [0.0, 0.0, 0.05, 0.95], [0.0, 0.0, 0.05, 0.95], [0.75, 0.0, 0.05, 0.2],
                  [0.0, 0.0, 0.2, 0.8]])
    load = np.array([0.5, LOAD_EDGE, np.nan, 0.5, 0.5])
    levels = np.full(5, 0.003)
    got = wood_levels(ev, p, CLASSES, load, levels)
    assert got[1] == got[2] == 0.003  # full burden and an unknown load: the judge's own level
    assert got[0] == pytest.approx(0.95 * math.exp(-2.0))
    # reported under the raised decision exactly when the judge's level or the wood odds say so
    p_none = p[:, CLASSES == "none"].ravel()
    part = load < LOAD_EDGE
    assert list(p_none <= got) == list((p_none <= levels) | (part & (wood_log_odds(p, CLASSES) >= ev.level)))
    assert list(p_none <= got) == [True, False, False, False, False]  # row 3: an object, but mostly cloth


def test_only_the_judge_it_was_set_for_gets_a_level(model):
    assert evidence_for(model.classifier) is None  # the base classifier: never
    assert judge_key(model.dense_judge) != judge_key(model.classifier)
    if SHIPPED_WOOD is not None:
        assert evidence_for(model.dense_judge) is SHIPPED_WOOD


def _wood_belt(model: VisionModel, on: bool) -> list[Detection]:
    """Every candidate (reported or not) of 53 m of wood on today's belt (seed 51), the switch on or off; the split of
    merged candidates and the thin sticks off (``Detector.split_merged`` judges pieces of the candidates left
    unreported and ``Detector.thin_sticks`` reports sticks no reported object lies on, so a candidate the evidence
    reports would drop pieces or sticks: the evidence is checked alone)."""
    scene, objects = scene_options("today")
    with wood_evidence_set(on), split_merged_set(False), thin_sticks_set(False):
        found, _, _ = every_candidate(model, "heldout", length_m=53.0, seed=51, objects_per_m=1.0, frame_lines=1024, scene=scene,
                                      objects={**objects, "kinds": ("wood",)})
    return found


@pytest.mark.skipif(SHIPPED_WOOD is None, reason="no level set for the shipped judge")
def test_on_it_reports_part_loaded_wood_the_union_left_and_changes_nothing_else(model):
    off, on = _wood_belt(model, False), _wood_belt(model, True)
    added, by_key = newly_reported(off, on)
    key = lambda d: (d.belt_m, d.lateral_m, d.length_mm)  # noqa: E731
    assert added, "the belt gave no candidate the evidence adds: the test would pass with the switch broken"
    lost = [d for d in off if d.p_none <= d.none_max and not next(e for e in on if key(e) == key(d)).p_none <= d.none_max]
    assert not lost
    for d in added:
        assert d.second_judge and not d.dense_own and d.load < LOAD_EDGE and d.length_mm >= model.params.min_length_mm
        p = model.dense_judge.proba(np.asarray(d.features)[None, :])
        assert wood_log_odds(p, model.dense_judge.classes_)[0] >= SHIPPED_WOOD.level
        assert d.p_none > float(np.asarray(model.dense_judge.levels(np.array([d.load])))[0])  # not by the judge's own level
    for d in on:  # the rest as off, to the bit; the judge's part-loaded decision shown may be raised, never lowered
        if d not in added:
            o = by_key[key(d)]
            assert (d.p_none, d.p_none <= d.none_max, d.second_judge, d.kind) == (o.p_none, o.p_none <= o.none_max, o.second_judge, o.kind)
            assert d.none_max >= o.none_max and (d.none_max == o.none_max or (d.second_judge and d.load < LOAD_EDGE))


def test_the_switch_follows_the_setting_unless_set(model):
    assert model.detector().wood_evidence is WOOD_EVIDENCE


def test_the_unreported_benchmark_runs_as_a_user_runs_it():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_unreported", "--quick", "--seed", "51", "--wood-level", "2.5"],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stderr
    for label in ("realistic", "today", "wood on today's belt", "dark rubber on dark ore", "wet wood"):
        assert f"\n{label}: objects " in r.stdout
    assert "wood evidence level +2.500" in r.stdout
    c = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_unreported", "--quick", "--calibrate"],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert c.returncode == 0, c.stderr
    assert "fit split, today seed 2001" in c.stdout and "fit split, dark-rubber seed 2001" in c.stdout and "wood evidence for judge" in c.stdout
    bad = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_unreported", "--length-m", "0"], capture_output=True,
                         text=True, timeout=120, cwd=REPO)
    assert bad.returncode == 2 and "--length-m" in bad.stderr and "Traceback" not in bad.stderr
