"""Fragments of one partly buried object judged together (issue 27, frag53; vision/fragments.py, ``Detector.group_fragments``):
the grouping on small synthetic label maps, the hold of a group with a pending member, and on a realistic belt the
detector with the switch on judges every component exactly as with it off and adds only groups at full burden."""

from __future__ import annotations


import numpy as np
import pytest
from scipy import ndimage as ndi

from benchmarks.bench_vision_scenes import group_fragments_set
from vision.classify import component_features
from vision.decision import LOAD_EDGE
from vision.detect import Detection
from vision.fit import VisionModel
from vision.fragments import GAP_MM, complete_groups, fragment_groups, gap_cells, object_like
from vision.frontier import every_candidate
from vision.scenes import camera_scene_options


def _labels(*boxes: tuple[int, int, int, int], shape: tuple[int, int] = (20, 30)) -> tuple[np.ndarray, int]:
    """Labelled components of rectangles (row0, row1, col0, col1)."""
    mask = np.zeros(shape, bool)
    for r0, r1, c0, c1 in boxes:
        mask[r0:r1, c0:c1] = True
    labels, n = ndi.label(mask)
    return labels, n


def test_two_fragments_within_the_gap_form_one_group_and_a_lone_component_none():
    r = gap_cells(8.0)
    assert r == 2 and gap_cells(8.0, GAP_MM) * 2 * 8.0 == GAP_MM
    # two pieces of one object 4 empty cells apart (32 mm), a third component 6 empty cells from the nearest
    labels, n = _labels((2, 6, 2, 6), (2, 6, 10, 14), (2, 6, 20, 24))
    g = fragment_groups(labels, n, np.ones(n, bool), r)
    assert g.count == 1 and list(g.of) == [1, 1, 0]
    assert list(g.members(1)) == [0, 1]
    assert np.array_equal(g.labels == 1, (labels == 1) | (labels == 2))  # the group's cells: its members' cells only
    assert np.array_equal(g.labels == 2, labels == 3)  # the other components' cells: count + 1
    # a fifth empty cell between them: apart
    labels, n = _labels((2, 6, 2, 6), (2, 6, 11, 15))
    assert fragment_groups(labels, n, np.ones(n, bool), r).count == 0
    # diagonal neighbours (apart as components, 4-connected) join
    labels, n = _labels((2, 4, 2, 4), (4, 6, 4, 6))
    assert n == 2 and fragment_groups(labels, n, np.ones(n, bool), r).count == 1


def test_only_candidates_join_and_a_chain_is_one_group():
    labels, n = _labels((2, 6, 2, 6), (2, 6, 10, 14), (2, 6, 18, 22))
    g = fragment_groups(labels, n, np.array([True, False, True]), 2)
    assert g.count == 0 and np.array_equal(g.labels, (labels > 0).astype(np.int32))  # the outer two lie 12 cells apart
    g = fragment_groups(labels, n, np.ones(n, bool), 2)
    assert g.count == 1 and list(g.of) == [1, 1, 1]


def test_only_a_complete_group_none_of_whose_members_reports_it_is_judged():
    labels, n = _labels((2, 6, 2, 6), (2, 6, 10, 14), (12, 16, 2, 6), (12, 16, 10, 14))
    g = fragment_groups(labels, n, np.ones(n, bool), 2)
    assert g.count == 2
    pending = np.array([False, False, False, True])
    assert list(complete_groups(g, pending, np.zeros(n, bool))) == [1]
    assert list(complete_groups(g, np.zeros(n, bool), np.array([True, False, False, False]))) == [2]  # a member reports it


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="cell_mm"):
        gap_cells(0.0)
    labels, n = _labels((2, 6, 2, 6))
    with pytest.raises(ValueError, match="radius_cells"):
        fragment_groups(labels, n, np.ones(n, bool), -1)


def _belt(model: VisionModel, on: bool, scene_type: str = "realistic", length_m: float = 40.0) -> list[Detection]:
    """Every candidate (reported or not) of ``length_m`` of ``scene_type`` belt (seed 51, calibrated camera), the switch
    on or off."""
    scene, objects = camera_scene_options(scene_type, "calibrated")
    with group_fragments_set(on):
        found, _, _ = every_candidate(model, "heldout", length_m=length_m, seed=51, objects_per_m=1.0, frame_lines=1024, scene=scene,
                                      objects=objects)
    return found


@pytest.mark.parametrize("scene_type, length_m", [("realistic", 40.0), ("today", 30.0)])
def test_on_every_component_is_judged_as_off_and_only_groups_at_full_burden_are_added(shipped_union, scene_type, length_m):
    off, on = _belt(shipped_union, False, scene_type, length_m), _belt(shipped_union, True, scene_type, length_m)
    key = lambda d: (d.belt_m, d.lateral_m, d.length_mm, d.area_mm2)  # noqa: E731
    alone = [d for d in on if d.fragments == 0]
    assert sorted(map(key, alone)) == sorted(map(key, off))
    by_key = {key(d): d for d in off}
    for d in alone:  # bit for bit, the load too (nothing is held back for a group: the blocks are as off)
        o = by_key[key(d)]
        assert (d.p_none, d.none_max, d.kind, d.probability, d.second_judge, d.load) == (o.p_none, o.none_max, o.kind, o.probability,
                                                                                         o.second_judge, o.load)
        assert np.array_equal(d.features, o.features) and np.array_equal(d.thumbnail, o.thumbnail)
    groups = [d for d in on if d.fragments]
    assert all(d.fragments >= 2 and d.load >= LOAD_EDGE and d.area_mm2 >= shipped_union.params.min_area_mm2 for d in groups)
    assert all(d.fragments == 0 for d in off)
    assert len({(round(d.belt_m, 4), round(d.lateral_m, 4)) for d in groups}) == len(groups)  # each group decided once
    if scene_type == "realistic":
        assert groups, "the belt gave no group: the test would pass with the grouping broken"


def test_a_group_is_measured_as_one_component_of_its_members_cells():
    labels, n = _labels((2, 6, 2, 6), (2, 6, 10, 14), shape=(12, 20))
    g = fragment_groups(labels, n, np.ones(n, bool), 2)
    rng = np.random.default_rng(0)
    feats, score = rng.random((12, 20, 5)).astype(np.float32), rng.random((12, 20)).astype(np.float32)
    one = component_features((labels > 0).astype(np.int32), [1], feats, score, 8.0)
    grouped = component_features(g.labels, [1], feats, score, 8.0)
    assert np.array_equal(one.matrix, grouped.matrix) and grouped.length_mm[0] > 8.0 * 10



def test_only_groups_whose_objectness_reaches_the_level_are_object_like():
    labels, n = _labels((2, 6, 2, 6), (2, 6, 10, 14), (12, 16, 2, 6), (12, 16, 10, 14))
    g = fragment_groups(labels, n, np.ones(n, bool), 2)
    obj = np.full(labels.shape, -5.0, np.float32)
    obj[3, 11] = -1.0  # one cell of the first group's second member
    obj[8, 8] = 9.0  # between the groups: no member's cell
    assert list(object_like(g, np.array([1, 2]), obj, -1.8)) == [True, False]
    assert list(object_like(g, np.array([1, 2]), None, -1.8)) == [True, True]
