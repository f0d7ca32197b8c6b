"""The local load (issue 27, zone44): each candidate judged at the lower of the whole belt's load and the ore's share
in its neighbourhood (:func:`vision.regime.local_load`, ``Detector.local_load``), so a candidate on the ore's boundary
beside the bare strip at the belt's side falls under the part-loaded decision; the interior of a full burden, and
every load with the switch off, unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.detect import Detection
from vision.fit import SHIPPED_DIR, VisionModel, cache_path
from vision.regime import LOAD_WINDOW_MM, LOCAL_LOAD_HALF_MM, judged_load, local_load
from vision.scenes import camera_scene_options
from vision.sim_camera import SimulatedCamera
from vision.station_settings import LOCAL_LOAD


REPO = Path(__file__).resolve().parents[2]
CELL_MM = 8.0


def _loop(ore: np.ndarray, rows: np.ndarray, cols: np.ndarray, cell_mm: float, half_mm: float) -> np.ndarray:
    """The local load by a loop over the candidates (the reference)."""
    h, w = ore.shape
    hr, hc = max(1, int(round(LOAD_WINDOW_MM / cell_mm / 2))), int(round(half_mm / cell_mm))
    out = []
    for r, c in zip(rows, cols):
        r, c = min(max(int(round(r)), 0), h - 1), min(max(int(round(c)), 0), w - 1)
        out.append(ore[max(r - hr, 0) : r + hr + 1, max(c - hc, 0) : c + hc + 1].mean())
    return np.array(out)


def test_the_summed_table_matches_a_loop_over_windows():
    rng = np.random.default_rng(4)
    ore = rng.random((700, 90)) < 0.7
    rows, cols = rng.uniform(-5, 705, 200), rng.uniform(-3, 93, 200)
    for half_mm in (0.0, 40.0, LOCAL_LOAD_HALF_MM):
        np.testing.assert_allclose(local_load(ore, rows, cols, CELL_MM, half_mm), _loop(ore, rows, cols, CELL_MM, half_mm), rtol=0, atol=1e-12)


def test_beside_a_bare_strip_the_local_load_falls_below_the_full_burden():
    """Ore over columns 0..96 (of 150, 8 mm cells): a candidate 40 cells (320 mm) inside the boundary sees ore only;
    one on the boundary's last ore column sees half its window (+-25 cells) beyond it."""
    ore = np.zeros((600, 150), bool)
    ore[:, :97] = True
    got = local_load(ore, np.array([300.0, 300.0, 300.0]), np.array([56.0, 96.0, 76.0]), CELL_MM)
    assert got[0] == 1.0
    assert got[1] == pytest.approx(26 / 51)
    assert got[2] == pytest.approx(46 / 51)  # 20 cells (160 mm) inside: just above the full burden's bin (0.9)


def test_a_candidate_at_the_blocks_very_edge_sees_the_cells_in_view():
    ore = np.zeros((100, 60), bool)
    ore[:, :10] = True
    got = local_load(ore, np.array([0.0, 99.0, 50.0, 50.0]), np.array([0.0, 59.0, -4.0, 70.0]), CELL_MM)
    assert got[0] == pytest.approx(10 / 26)  # columns 0..25, rows 0..99 (the window clipped to the block)
    assert got[1] == 0.0
    assert got[2] == pytest.approx(10 / 26)  # a centre off the block clipped to its first column
    assert got[3] == 0.0


def test_bad_input_gives_nan_or_a_clear_error():
    ore = np.ones((50, 40), bool)
    got = local_load(ore, np.array([np.nan, 10.0, np.inf]), np.array([5.0, np.nan, 3.0]), CELL_MM)
    assert np.isnan(got).all()
    assert np.isnan(local_load(np.zeros((0, 40), bool), np.array([1.0]), np.array([1.0]), CELL_MM)).all()
    assert np.isnan(local_load(np.zeros((50, 0), bool), np.array([1.0]), np.array([1.0]), CELL_MM)).all()
    assert local_load(ore, np.zeros(0), np.zeros(0), CELL_MM).shape == (0,)
    with pytest.raises(ValueError, match="rows and cols alike"):
        local_load(ore, np.zeros(3), np.zeros(2), CELL_MM)
    with pytest.raises(ValueError, match="cell_mm > 0"):
        local_load(ore, np.zeros(1), np.zeros(1), 0.0)
    with pytest.raises(ValueError, match="half_mm >= 0"):
        local_load(ore, np.zeros(1), np.zeros(1), CELL_MM, float("nan"))
    with pytest.raises(ValueError, match="ore"):
        local_load(np.ones(5, bool), np.zeros(1), np.zeros(1), CELL_MM)


def test_the_judged_load_is_the_lower_and_nan_stays_strict():
    got = judged_load(np.array([0.999, 0.999, 0.5, np.nan, np.nan]), np.array([0.6, np.nan, 0.8, 0.7, np.nan]))
    np.testing.assert_array_equal(got[:3], [0.6, 0.999, 0.5])
    assert np.isnan(got[3:]).all()  # no belt rows: the strictest decision, whatever lies around


@pytest.fixture(scope="module")
def model() -> VisionModel:
    """The shipped 4 mm/px union (it ships with the code)."""
    return VisionModel.load(cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR))


def _candidates(model: VisionModel, on: bool, belt_m: float = 9.0) -> list[Detection]:
    """Every candidate (``report_all``) over ``belt_m`` of object-free realistic belt (the real edge: a bare strip
    ~123 mm wide beside the ore at the belt's sides), the local load on or off."""
    cam = SimulatedCamera(tiles="heldout", seed=1081, objects=[], width_px=model.width_px, frame_lines=1024, mm_per_px=model.mm_per_px,
                          scene_options=camera_scene_options("realistic")[0]).open()
    det = model.detector()
    det.report_all, det.local_load = True, on
    det.full_burden_judge = False  # the judge per load is its own switch (test_full_burden_judge.py): here both
    # classifiers judge on either side of the bin's edge, as when the local load was measured, so p(none) is the same
    found: list[Detection] = []
    while cam.position_m < belt_m:
        found += det.process(cam.grab()).detections
    return found + det.flush()


def test_the_detector_judges_boundary_candidates_at_the_local_load(model):
    """The same candidates with the switch on and off; on, those beside the bare strip are judged below the full
    burden's bin, those in the interior at the whole belt's load, and the decision follows the load used."""
    off, on = _candidates(model, False), _candidates(model, True)
    assert [(d.belt_m, d.lateral_m, d.p_none) for d in on] == [(d.belt_m, d.lateral_m, d.p_none) for d in off]
    assert all(d.load == d.belt_load for d in off)
    assert all(d.load <= d.belt_load for d in on)
    inner = [d for d in on if abs(d.lateral_m) < 0.5]
    edge = [d for d in on if abs(d.lateral_m) > 0.72]
    assert inner and edge
    assert all(d.load == d.belt_load for d in inner)
    assert all(d.belt_load > 0.95 and d.load < 0.9 for d in edge)
    levels = {round(d.none_max, 9) for d in edge}
    assert levels == {round(float(model.classifier.none_max), 9)} | ({round(float(model.dense_judge.none_max), 9)}
                                                                     if any(d.second_judge for d in edge) else set())


def test_the_switch_follows_the_setting_unless_set(model):
    assert model.detector().local_load is LOCAL_LOAD
