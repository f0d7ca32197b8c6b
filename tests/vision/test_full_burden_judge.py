"""The union's base classifier only on part-loaded belt (issue 27, judge46): with ``Detector.full_burden_judge`` on, a
features' candidate judged at a full burden's load (>= ``vision.decision.LOAD_EDGE``) is judged by the union's second
judge alone; on part-loaded belt, and everywhere with the switch off, both judge it as shipped (either reports)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.decision import LOAD_EDGE
from vision.detect import Detection
from vision.fit import SHIPPED_DIR, VisionModel, cache_path
from vision.scenes import camera_scene_options
from vision.sim_camera import SimulatedCamera
from vision.station_settings import FULL_BURDEN_JUDGE


REPO = Path(__file__).resolve().parents[2]
SHIPPED = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)


@pytest.fixture(scope="module")
def model() -> VisionModel:
    """The shipped 4 mm/px union (it ships with the code)."""
    return VisionModel.load(SHIPPED)


def _candidates(model: VisionModel, scene: str, on: bool, belt_m: float = 8.0) -> list[Detection]:
    """Every candidate (``report_all``) over ``belt_m`` of object-free belt of ``scene``, the switch on or off; the
    fragment groups off (they have a judge and decision of their own, vision/decision_groups.py)."""
    cam = SimulatedCamera(tiles="heldout", seed=1051, objects=[], width_px=model.width_px, frame_lines=1024,
                          mm_per_px=model.mm_per_px, scene_options=camera_scene_options(scene)[0]).open()
    det = model.detector()
    det.report_all, det.full_burden_judge, det.group_fragments = True, on, False
    found: list[Detection] = []
    while cam.position_m < belt_m:
        found += det.process(cam.grab()).detections
    return found + det.flush()


def _key(d: Detection) -> tuple:
    return d.belt_m, d.lateral_m, d.length_mm


@pytest.mark.parametrize("scene", ["realistic", "today"])
def test_at_full_burden_the_second_judge_alone_judges_the_features_candidates(model, scene):
    """The same candidates on and off. On: every features' candidate at load >= LOAD_EDGE judged by the second
    judge (its level, its p(none)); those below it exactly as off. The realistic belt is a full burden, today's
    patchwork part-loaded: each case has candidates the switch must (or must not) move."""
    off, on = _candidates(model, scene, False), _candidates(model, scene, True)
    assert sorted(map(_key, on)) == sorted(map(_key, off)) and on
    by_key = {_key(d): d for d in off}
    full = [d for d in on if d.load >= LOAD_EDGE and not d.dense_own]
    part = [d for d in on if not d.load >= LOAD_EDGE]
    assert (full if scene == "realistic" else part), "the belt gave no candidate of the kind this case is about"
    judge_levels = np.broadcast_to(model.dense_judge.levels(np.array([d.load for d in full])), (len(full),))
    for d, level in zip(full, judge_levels):
        assert d.second_judge and d.none_max == pytest.approx(level)
    moved = [d for d in full if not by_key[_key(d)].second_judge]  # off: the base judged them (and its p(none) shown)
    if scene == "realistic":
        assert moved and any(d.p_none != by_key[_key(d)].p_none for d in moved)
    for d in part:
        o = by_key[_key(d)]
        assert (d.p_none, d.none_max, d.second_judge, d.kind) == (o.p_none, o.none_max, o.second_judge, o.kind)


def test_a_nan_load_is_not_a_full_burden_and_off_moves_nothing(model):
    det = model.detector()
    load = np.array([0.5, LOAD_EDGE, 0.999, np.nan])
    det.full_burden_judge = False
    assert not det._full_burden(load).any()
    det.full_burden_judge = True
    assert list(det._full_burden(load)) == [False, True, True, False]


def test_the_switch_follows_the_setting_unless_set(model):
    assert model.detector().full_burden_judge is FULL_BURDEN_JUDGE
