"""The object decision per belt condition (vision.decision regimes, vision.regime) and the visibility of buried
objects (vision.visibility)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import vision.decision

from vision.classify import KindClassifier
from vision.decision import (DECISION_MARGIN, LOAD_EDGE, LOAD_TOLERANCE, allowed_events, decide, poisson_upper95,
                             regime_levels)
from vision.frames import Frame
from vision.objects import render_sprite
from vision.regime import load_at, row_load
from vision.scene import BeltScene
from vision.tiles import load_tiles
from vision.visibility import visibility_table, visible_extent_mm


def test_k_calibration_events_are_allowed_only_when_the_poisson_bound_stays_within_1_per_1000_m():
    assert poisson_upper95(0) == pytest.approx(2.9957, rel=1e-4)
    assert poisson_upper95(1) == pytest.approx(4.7439, rel=1e-4)
    assert allowed_events(3000.0) == 0 and allowed_events(2000.0) == 0
    assert allowed_events(4800.0) == 1 and allowed_events(6200.0) == 1 and allowed_events(6300.0) == 2


def test_a_patchwork_belts_outlier_sets_only_the_patchwork_level():
    # part-loaded belt (load ~0.55) throws up one candidate at 1e-5; a full burden (load ~0.99) never below 0.1
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0.1, 1.0, 300), rng.uniform(0.01, 1.0, 300), [1e-5]])
    load = np.concatenate([rng.uniform(0.97, 1.0, 300), rng.uniform(0.4, 0.7, 301)])
    types = np.array(["realistic"] * 300 + ["today"] * 301)
    belt_load = np.concatenate([rng.uniform(0.97, 1.0, 3000), rng.uniform(0.35, 0.75, 3000)])
    d = decide(p, types, {"realistic": 3000.0, "today": 3000.0}, load, belt_load, 1.0)
    full, part = sorted(d.regimes, key=lambda r: -r.load_lo)
    assert d.none_max == pytest.approx(DECISION_MARGIN * 1e-5)  # a belt no regime covers: the strictest level
    assert part.none_max == pytest.approx(DECISION_MARGIN * 1e-5) and part.name == "part-loaded"
    assert full.none_max == pytest.approx(DECISION_MARGIN * p[:300].min()) and full.name == "full burden"
    assert full.belt_m == part.belt_m == 3000.0 and full.events == 0 and full.fa_bound_per_1000_m <= 1.0
    assert full.load_lo == pytest.approx(belt_load[:3000].min() - LOAD_TOLERANCE)
    # no calibration candidate of a regime lies at or below its level
    assert not np.any(p[:300] <= full.none_max) and not np.any(p[300:] <= part.none_max)
    levels = regime_levels(np.array([0.99, 0.5, 0.85, np.nan]), d.table(), d.none_max)
    assert levels.tolist() == pytest.approx([full.none_max, part.none_max, d.none_max, d.none_max])
    assert "full burden" in d.reason and d.as_dict()["regimes"][0]["name"] in ("full burden", "part-loaded")


def test_a_condition_with_little_calibration_belt_gets_no_level_of_its_own():
    p = np.array([0.3, 0.001])
    load = np.array([0.99, 0.5])
    belt_load = np.concatenate([np.full(2900, 0.99), np.full(100, 0.5)])  # 100 m of part-loaded belt: too little
    d = decide(p, np.array(["a", "a"]), {"a": 3000.0}, load, belt_load, 1.0)
    assert [r.name for r in d.regimes] == ["full burden"]
    assert regime_levels(np.array([0.5]), d.table(), d.none_max)[0] == pytest.approx(0.0005)


def test_a_condition_whose_own_belt_cannot_hold_the_bound_keeps_the_strictest_level():
    """2,000 m of full burden without a low candidate bounds its rate at 1.5 per 1,000 m only: recorded, not used."""
    p = np.array([0.3, 1e-4])
    load = np.array([0.99, 0.5])
    belt_load = np.concatenate([np.full(2000, 0.99), np.full(3000, 0.5)])
    d = decide(p, np.array(["a", "b"]), {"a": 2000.0, "b": 3000.0}, load, belt_load, 1.0)
    part, full = sorted(d.regimes, key=lambda r: r.load_lo)
    assert full.belt_m == 2000.0 and full.lowest_p_none == 0.3 and full.fa_bound_per_1000_m > 1.0
    assert full.none_max == d.none_max == pytest.approx(DECISION_MARGIN * 1e-4)
    assert regime_levels(np.array([0.99]), d.table(), d.none_max)[0] == pytest.approx(d.none_max)


def test_a_load_between_the_conditions_calibration_belt_gets_the_strictest_level():
    """The ranges widen by LOAD_TOLERANCE but not past LOAD_EDGE: a load the calibration showed in neither bin (here
    0.895, just under the full burden's 0.905) is unseen belt."""
    p = np.array([0.3, 1e-4])
    belt_load = np.concatenate([np.full(3000, 0.905), np.full(3000, 0.5)])
    d = decide(p, np.array(["a", "b"]), {"a": 3000.0, "b": 3000.0}, np.array([0.905, 0.5]), belt_load, 1.0)
    full = max(d.regimes, key=lambda r: r.load_lo)
    assert full.load_lo == LOAD_EDGE and full.none_max == pytest.approx(0.15)
    levels = regime_levels(np.array([0.895, 0.905]), d.table(), d.none_max)
    assert levels.tolist() == pytest.approx([d.none_max, 0.15])


def test_more_calibration_belt_allows_an_event_and_the_level_moves_to_the_second_lowest():
    p = np.array([0.02, 0.2, 0.4, 0.6])
    d = decide(p, np.array(["r"] * 4), {"r": 5000.0}, np.full(4, 0.99), np.full(5000, 0.99), 1.0)
    (r,) = d.regimes
    assert r.events == 1 and r.none_max == pytest.approx(DECISION_MARGIN * 0.2)
    assert r.fa_bound_per_1000_m == pytest.approx(1000.0 * 4.7439 / 5000.0, rel=1e-3)


def test_the_classifier_keeps_its_levels_per_condition(monkeypatch):
    monkeypatch.setattr(vision.decision, "APPLY_REGIMES", True)
    rng = np.random.default_rng(1)
    from vision.classify import COMPONENT_FEATURES

    x = rng.normal(size=(200, len(COMPONENT_FEATURES)))
    y = np.where(x[:, 0] > 0, "wood", "none")
    clf = KindClassifier(members=1, none_max=0.01).fit(x, y)
    assert clf.levels(np.array([0.99])) == 0.01  # no regimes: none_max everywhere
    clf.regimes_ = np.array([[0.9, 1.0, 0.2]])
    back = KindClassifier.from_arrays(clf.to_arrays())
    np.testing.assert_allclose(back.levels(np.array([0.95, 0.5, np.nan])), [0.2, 0.01, 0.01])
    monkeypatch.setattr(vision.decision, "APPLY_REGIMES", False)  # as shipped: recorded, not applied
    assert back.levels(np.array([0.95])) == 0.01


def test_the_load_is_the_share_of_ore_coloured_belt_around_a_row():
    ore = np.array([150.0, 90.0, 50.0])
    belt = np.array([0.0, 140.0, 40.0])  # green-grey rubber
    rgb = np.zeros((100, 10, 3), np.float32)
    rgb[:50] = ore
    rgb[50:, :5] = ore
    rgb[50:, 5:] = belt
    cols = np.ones(10, bool)
    np.testing.assert_allclose(row_load(rgb, cols)[[0, 99]], [1.0, 0.5])
    # a window of 4,000 mm of 100 mm cells: +-20 rows
    assert load_at(rgb, cols, np.array([5.0, 95.0]), 100.0).tolist() == pytest.approx([1.0, 0.5])
    assert load_at(rgb, cols, np.array([50.0]), 100.0)[0] == pytest.approx((20 + 21 * 0.5) / 41)
    assert np.isnan(row_load(rgb, np.zeros(10, bool))).all()


def test_the_detector_applies_the_level_of_the_belt_it_sees(small_model, monkeypatch):
    """Every candidate carries the load around it and the level applied there; a level of zero for that load
    reports nothing, the cap reports what the classifier calls an object (with the per-condition levels applied)."""
    monkeypatch.setattr(vision.decision, "APPLY_REGIMES", True)
    model = dataclasses.replace(small_model)
    clf = model.classifier
    scene = BeltScene(load_tiles("heldout"), width_px=model.width_px, mm_per_px=model.mm_per_px, seed=5)
    image = scene.render(0, 2000)
    det = model.detector()
    det.report_all = True
    found = det.process(Frame.still(image, model.mm_per_px)).detections + det.flush()
    assert found and all(0.0 <= d.load <= 1.0 for d in found)
    saved = clf.regimes_
    try:
        clf.regimes_ = np.array([[0.0, 1.0, 0.0]])
        det = model.detector()
        assert all(d.none_max == 0.0 for d in det.process(Frame.still(image, model.mm_per_px)).detections + det.flush())
        clf.regimes_ = np.array([[0.0, 1.0, 1.0]])
        det = model.detector()
        reported = det.process(Frame.still(image, model.mm_per_px)).detections + det.flush()
        gated = [d for d in found if d.length_mm >= model.params.min_length_mm]
        assert len(reported) == len(gated) and all(d.none_max == 1.0 for d in reported)
    finally:
        clf.regimes_ = saved


def test_visible_extent_is_the_largest_uncovered_piece_along_the_object():
    clean = render_sprite("wood", 200.0, 30.0, 30.0, 2.0, seed=4)
    assert visible_extent_mm(clean, 30.0, 2.0) == pytest.approx(200.0, abs=8.0)
    buried = render_sprite("wood", 200.0, 30.0, 30.0, 2.0, seed=4, buried=0.7)
    assert visible_extent_mm(buried, 30.0, 2.0) < 150.0
    table = visibility_table(np.array([True, False, False]), np.array([True, True, False]),
                             {"visible_mm": np.array([120.0, 60.0, 20.0]), "buried": np.array([0.0, 0.3, 0.6]),
                              "coating": np.array([0.2, 0.4, 0.5]), "wet": np.array([False, True, False])})
    rows = {r["group"]: r for r in table}
    assert rows["visible >= 50 mm"] == {"group": "visible >= 50 mm", "objects": 2, "found": 1, "ceiling": 2}
    assert rows["visible < 50 mm"]["objects"] == 1 and rows["wet"]["ceiling"] == 1

