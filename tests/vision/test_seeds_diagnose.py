"""Why an object is no candidate (vision/seeds_diagnose.py): each cause on hand-made detector maps, and on rendered
belt an object on the steel frame beside the belt put down to the belt mask."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from vision.detect import Detection, DetectorParams
from vision.model_cache import cached_model
from vision.scene import SceneObject
from vision.scenes import scene_options
from vision.seeds_diagnose import StageMaps, miss_causes, missed_objects, object_cause
from vision.sim_camera import SimulatedCamera

CELL_MM, MM_PER_PX, WIDTH_PX = 8.0, 4.0, 120  # a 480 mm frame: 60 x 60 cells
#: A plank 80 x 32 mm on cells rows 20-29, columns 28-31 (thin: under 35 mm wide).
PLANK = SceneObject("wood", 80.0, 32.0, 200.0, 0.0, 0.0)
FOOT = (slice(20, 30), slice(28, 32))


def _maps(region: np.ndarray, seed: np.ndarray, belt: np.ndarray | None = None) -> StageMaps:
    """Maps of a 60 x 60 cell stretch of flat ore (relative grey 0) with the plank darker (-0.5), ``region`` its
    regions (scoring 10, above the default threshold) and ``seed`` its seeds."""
    feats = np.zeros((60, 60, 5), np.float32)
    feats[FOOT + (2,)] = -0.5
    labels, n = ndi.label(region)
    raw = np.where(region, np.float32(10.0), np.float32(0.0))
    return StageMaps(feats, raw, np.ones((60, 60), bool) if belt is None else belt, seed, labels, n, raw, None)


def _cause(maps: StageMaps) -> str:
    cover = np.zeros((60, 60))
    cover[FOOT] = 1.0
    return object_cause(maps, cover, PLANK, DetectorParams(), CELL_MM, 0.0, WIDTH_PX, MM_PER_PX)


def test_each_cause_on_hand_made_maps():
    none = np.zeros((60, 60), bool)
    assert _cause(_maps(none, none)) == "no seed, dark, thin"
    on_plank = none.copy()
    on_plank[FOOT] = True
    assert _cause(_maps(np.ones((60, 60), bool), on_plank)) == "seed merged into ore"
    speck = none.copy()
    speck[24:26, 29] = True  # 2 cells: 128 mm², under the 300 mm² gate
    assert _cause(_maps(speck, speck)) == "size gate"
    assert _cause(_maps(on_plank, on_plank)) == "frame cut"  # a candidate on the whole stretch: the streaming run lost it
    off = np.ones((60, 60), bool)
    off[:, 26:34] = False
    assert _cause(_maps(on_plank, on_plank, off)) == "belt mask"


def test_an_object_beside_the_belt_is_lost_to_the_belt_mask():
    model = cached_model(mm_per_px=4.0, width_px=512)
    beside = SceneObject("plastic", 150.0, 60.0, 6000.0, 980.0, 0.0, seed=3)  # on the steel frame of a 1.8 m belt
    cam = SimulatedCamera(tiles="heldout", seed=3, objects=[beside], width_px=512, frame_lines=2048, mm_per_px=4.0,
                          scene_options=scene_options("realistic")[0]).open()
    frame = cam.grab()
    det = model.detector()
    det.report_all = True
    found = det.process(frame).detections + det.flush()
    missed = missed_objects(found, [beside], model.params.min_length_mm)
    assert missed == [beside]
    assert miss_causes(model, cam.scene, frame.image, frame.start_belt_m, missed) == ["belt mask"]


@pytest.mark.parametrize("length_mm", [120.0, 200.0])
def test_a_candidate_on_an_object_is_no_miss(length_mm):
    obj = SceneObject("wood", length_mm, 20.0, 1000.0, 0.0, 0.0)
    near = Detection("wood", 0.9, 60.0, 20.0, 1200.0, 1.0 + length_mm / 2000.0, 0.01, 0.0, 0.0, 9.0, np.zeros((64, 64, 3), np.uint8), 1)
    short = Detection("wood", 0.9, 30.0, 20.0, 600.0, 1.0, 0.0, 0.0, 0.0, 9.0, np.zeros((64, 64, 3), np.uint8), 1)
    assert missed_objects([near], [obj], 40.0) == []  # within half its length + the match margin of its centre
    assert missed_objects([short], [obj], 40.0) == [obj]  # under the size gate: not a candidate
    assert missed_objects([], [obj], 40.0) == [obj]
