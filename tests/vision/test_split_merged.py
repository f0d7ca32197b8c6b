"""Candidates merged with the belt around them, split by colour (vision/split.py, ``Detector.split_merged``): the rule on
small synthetic maps (a bar of one colour merged with a strip of another is split into the two; one colour is not;
the pieces' features measured in their crop are those of the whole map, to rounding), the detector on today's belt (pieces reported
on objects the whole candidate left unreported, every other candidate to the bit as with the switch off), and the
benchmark's option as a user runs it."""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np
from scipy import ndimage as ndi

from benchmarks.bench_vision_scenes import split_merged_set
from benchmarks.common import every_detector
from vision.classify import component_features
from vision.detect import Detection, Detector
from vision.evaluate import match
from vision.fit import VisionModel
from vision.frontier import every_candidate
from vision.scenes import camera_scene_options
from vision.split import COLOUR_SCALE, CROP_MARGIN, MIN_PARENT_CELLS, colour_groups, merged_pieces

ORE = (0.40, 0.34, 0.0)  # cell features r, g, lum of tan ore (the ground, no candidate)
STRIP = (0.34, 0.52, -0.6)  # a strip of dark green bare belt
ROD = (0.36, 0.34, 0.4)  # a pale grey rod


def _maps(rng: np.random.Generator, rod_colour: tuple[float, float, float] = ROD) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(labels, features (h, w, 5), the strip's cells, the rod's cells) of a 60 x 80 cell map: a horizontal strip
    (6 x 40 cells) of bare belt with a diagonal rod (3 cells wide) of ``rod_colour`` touching its top, one candidate;
    and a second candidate of the strip's colour alone (10 x 15 cells); cell noise 0.2 COLOUR_SCALE."""
    h, w = 60, 80
    feats = np.zeros((h, w, 5), np.float32)
    feats[..., :3] = ORE
    strip = np.zeros((h, w), bool)
    strip[30:36, 20:60] = True
    rod = np.zeros((h, w), bool)
    for k in range(22):
        rod[8 + k, 40 + k // 2 : 43 + k // 2] = True
    rod &= ~strip
    alone = np.zeros((h, w), bool)
    alone[45:55, 5:20] = True
    feats[strip | alone, :3] = STRIP
    feats[rod, :3] = rod_colour
    feats[..., :3] += (rng.normal(size=(h, w, 3)) * 0.2 * COLOUR_SCALE).astype(np.float32)
    labels, n = ndi.label(strip | rod | alone)
    assert n == 2 and (labels[rod] == labels[30, 20]).all()
    return labels, feats, strip, rod


def test_a_rod_merged_with_a_strip_is_split_into_the_two_and_one_colour_is_not():
    labels, feats, strip, rod = _maps(np.random.default_rng(0))
    merged, alone = labels[30, 20] - 1, labels[50, 10] - 1
    assert (labels == merged + 1).sum() >= MIN_PARENT_CELLS
    groups = colour_groups(labels, np.array([merged, alone]), feats, 5)
    assert groups.split.tolist() == [True, False]
    sets = merged_pieces(labels, np.array([merged, alone]), feats, 5)
    assert len(sets) == 1 and sets[0].parent == merged and sets[0].count == 2
    ps = sets[0]
    whole = np.zeros(labels.shape, np.int32)
    whole[ps.window] = ps.labels
    pieces = [whole == i for i in ps.ids]
    assert sorted(int(p.sum()) for p in pieces) == sorted([int(rod.sum()), int(strip.sum())])
    assert any((p == rod).all() for p in pieces) and any((p == strip).all() for p in pieces)
    rest = ~(strip | rod)[ps.window]
    assert (ps.labels[rest] == labels[ps.window][rest]).all()  # every other cell as it was


def test_a_rod_of_the_strips_colour_is_not_split():
    labels, feats, _, _ = _maps(np.random.default_rng(1), rod_colour=STRIP)
    assert merged_pieces(labels, np.array([labels[30, 20] - 1]), feats, 5) == []


def test_the_pieces_measured_in_their_crop_are_those_of_the_whole_map():
    labels, feats, _, _ = _maps(np.random.default_rng(2))
    rng = np.random.default_rng(3)
    score, core = rng.normal(size=labels.shape).astype(np.float32), rng.random(labels.shape) > 0.3
    ps = merged_pieces(labels, np.array([labels[30, 20] - 1]), feats, 5)[0]
    win = ps.window
    assert win[0].start >= CROP_MARGIN and win[1].start >= CROP_MARGIN  # an inner crop: the margin is what is checked
    crop = component_features(ps.labels, ps.ids, feats[win], score[win], 8.0, core=core[win])
    whole = labels.copy()
    whole[win] = ps.labels
    full = component_features(whole, ps.ids, feats, score, 8.0, core=core)
    np.testing.assert_allclose(crop.matrix, full.matrix, rtol=1e-12, atol=1e-12)  # moments about other origins: rounding
    np.testing.assert_allclose(crop.centre_cells + (win[0].start, win[1].start), full.centre_cells, rtol=1e-12)


def _today(model: VisionModel, on: bool) -> tuple[list[Detection], list]:
    """Every candidate (reported or not) of 100 m of today's belt (seed 51: three thin objects merged with strips of
    bare belt there), the switch on or off, and the objects on it."""
    scene, objects = camera_scene_options("today", "calibrated")
    with split_merged_set(on):
        found, truth, _ = every_candidate(model, "heldout", length_m=100.0, seed=51, objects_per_m=1.0, frame_lines=1024, scene=scene,
                                          objects=objects)
    return found, truth


def test_on_today_pieces_find_objects_the_whole_left_and_nothing_else_changes(shipped_union):
    (off, truth), (on, _) = _today(shipped_union, False), _today(shipped_union, True)
    assert not any(d.piece for d in off)
    whole = [d for d in on if not d.piece]
    key = lambda d: (d.belt_m, d.lateral_m, d.length_mm, d.p_none, d.none_max, d.kind, d.load, d.second_judge)  # noqa: E731
    assert [key(d) for d in whole] == [key(d) for d in off]  # every candidate as with the switch off, to the bit
    assert all(np.array_equal(a.features, b.features) for a, b in zip(whole, off))
    reported = lambda ds: [d for d in ds if d.p_none <= d.none_max and d.length_mm >= shipped_union.params.min_length_mm]  # noqa: E731
    pieces = reported([d for d in on if d.piece])
    assert all(not d.dense_own and d.load < 0.9 for d in on if d.piece)
    big = [o for o in truth if o.length_mm >= 50]
    found_off = {id(o) for o, d in match(big, reported(off)).pairs if d is not None}
    gained = [o for o, d in match(big, reported(off) + pieces).pairs if d is not None and d.piece and id(o) not in found_off]
    assert len(gained) >= 2, "no object found by a piece alone: the split does nothing on the belt it was built for"


def test_a_detector_that_is_no_union_splits_nothing(shipped_union):
    """The split acts with the union model only (where it was measured): the same belt judged by the base classifier
    alone (no second judge) gives no piece and the same candidates, switch on or off."""
    def run(on: bool) -> list[Detection]:
        scene, objects = camera_scene_options("today", "calibrated")
        with split_merged_set(on), _base_alone():
            found, _, _ = every_candidate(shipped_union, "heldout", length_m=100.0, seed=51, objects_per_m=1.0, frame_lines=1024,
                                          scene=scene, objects=objects)
        return found
    off, on = run(False), run(True)
    assert not any(d.piece for d in on)
    assert [(d.belt_m, d.lateral_m, d.p_none) for d in on] == [(d.belt_m, d.lateral_m, d.p_none) for d in off]


def _base_alone() -> AbstractContextManager[None]:
    """Every detector a model builds within the block without the union's second judge (``dense_union`` off)."""
    def attach(det: Detector, mm_per_px: float) -> None:
        det.dense_classifier, det.dense_union = None, False
    return every_detector(attach)
