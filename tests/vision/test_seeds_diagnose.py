"""Why an object is no candidate (vision/seeds_diagnose.py): a thin dark plank the shipped detector misses is put down
to "no seed, dark, thin", an object on the steel frame beside the belt to "belt mask", and a plank it finds is no miss."""

from __future__ import annotations

import pytest

from vision.fit import cached_model
from vision.scene import SceneObject
from vision.scenes import scene_options
from vision.seeds_diagnose import miss_causes, missed_objects
from vision.sim_camera import SimulatedCamera

#: The shipped detector misses this wet plank (tests/vision/test_seeds_bars.py) and finds the same plank at 30 degrees.
MISSED = SceneObject("wood", 200.0, 20.0, 4000.0, 100.0, 60.0, seed=7, wet=True)
FOUND = SceneObject("wood", 200.0, 20.0, 4000.0, 100.0, 30.0, seed=7, wet=True)
#: Beside the belt (1.8 m wide, centred in the 2.048 m frame): on the steel frame.
OFF_BELT = SceneObject("plastic", 150.0, 60.0, 6000.0, 980.0, 0.0, seed=3)


@pytest.fixture(scope="module")
def shipped():
    return cached_model(mm_per_px=4.0, width_px=512)


def _run(model, objects):
    """(every candidate of the shipped detector, the camera, the frame) on one held-out realistic frame with ``objects``."""
    cam = SimulatedCamera(tiles="heldout", seed=3, objects=list(objects), width_px=512, frame_lines=2048, mm_per_px=4.0,
                          scene_options=scene_options("realistic")[0]).open()
    frame = cam.grab()
    det = model.detector()
    det.report_all = True
    return det.process(frame).detections + det.flush(), cam, frame


def test_causes_of_a_missed_plank_and_an_object_beside_the_belt(shipped):
    found, cam, frame = _run(shipped, [MISSED, OFF_BELT])
    missed = missed_objects(found, [MISSED, OFF_BELT], shipped.params.min_length_mm)
    assert missed == [MISSED, OFF_BELT]
    assert miss_causes(shipped, cam.scene, frame.image, frame.start_belt_m, missed) == ["no seed, dark, thin", "belt mask"]


def test_a_plank_with_a_candidate_is_no_miss(shipped):
    found, _, _ = _run(shipped, [FOUND])
    assert missed_objects(found, [FOUND], shipped.params.min_length_mm) == []
