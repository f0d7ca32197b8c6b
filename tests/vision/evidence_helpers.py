"""Shared by the run-time evidences' tests (plank evidence, metal bars, the wood and kind evidences, the wood judge): a
fit-tile camera at 4 mm/px, a detector's detections over frames with an evidence attached, the detections on one
rendered object, and what a switch newly reports among the same candidates."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vision.detect import Detection, Detector
from vision.scene import SceneObject
from vision.scenes import scene_options
from vision.sim_camera import SimulatedCamera


def fit_camera(seed: int, scene_type: str = "realistic", objects: Sequence[SceneObject] = ()) -> SimulatedCamera:
    """An opened simulated camera on fit tiles of ``scene_type``, 512 px at 4 mm/px, 2,048-line frames."""
    return SimulatedCamera(tiles="fit", seed=seed, objects=list(objects), width_px=512, frame_lines=2048, mm_per_px=4.0,
                           scene_options=scene_options(scene_type)[0]).open()


def detections(model, frames: Sequence, attach: Callable[[Detector], None]) -> list[Detection]:
    """Every detection of a new ``model`` detector over ``frames`` and its flush, ``attach`` having set it up."""
    det = model.detector()
    attach(det)
    out = [d for f in frames for d in det.process(f).detections]
    return out + det.flush()


def on_object(found: Sequence[Detection], obj: SceneObject) -> list[Detection]:
    """The detections of ``found`` centred within half ``obj``'s length of its centre along and across the belt."""
    return [d for d in found if abs(d.belt_m * 1000.0 - obj.belt_mm) <= obj.length_mm / 2
            and abs(d.lateral_m * 1000.0 - obj.lateral_mm) <= obj.length_mm / 2]


def newly_reported(off: Sequence[Detection], on: Sequence[Detection]) -> tuple[list[Detection], dict]:
    """The detections of ``on`` reported (p_none <= none_max) where the same candidate of ``off`` (same place and
    length) was not, and ``off``'s detections by that key, for comparing the rest. Asserts both runs hold the same
    candidates: a decision-only switch adds none."""
    key = _place_key
    assert sorted(map(key, on)) == sorted(map(key, off))
    by_key = {key(d): d for d in off}
    added = [d for d in on if d.p_none <= d.none_max and not by_key[key(d)].p_none <= by_key[key(d)].none_max]
    return added, by_key


def _place_key(d: Detection) -> tuple[float, float, float]:
    """A candidate's place and length: the same candidate in two runs of one belt."""
    return (d.belt_m, d.lateral_m, d.length_mm)
