"""Plank evidence at pixel scale (vision/planks.py, ``Detector.planks``): a plank on realistic ore that the shipped
union misses is reported as wood with the switch on, object-free belt stays quiet, each region is decided once across
frame edges, the switch is off unless set, and bad input is refused with a clear error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vision.errors import FrameError
from vision.features import belt_columns, cell_sums
from vision.frames import Frame
from vision.model_cache import cached_model
from vision.planks import PlankParams, PlankStream, cell_regions, plank_regions
from vision.planks_level import belt_scores, level_of
from vision.scene import SceneObject
from tests.vision.evidence_helpers import detections, fit_camera, on_object

#: A plank 200 x 20 mm across the belt on realistic ore of fit tiles, seed 4: the shipped union reports nothing there.
PLANK = SceneObject("wood", 200.0, 20.0, 4000.0, 100.0, 90.0, seed=7)


@pytest.fixture(scope="module")
def shipped():
    return cached_model(mm_per_px=4.0, width_px=512)


@pytest.fixture(scope="module")
def plank_frame() -> Frame:
    return fit_camera(4, objects=[PLANK]).grab()


def _detections(model, frames, planks: bool):
    def attach(det) -> None:
        det.planks = PlankStream(PlankParams(), det.cell_mm) if planks else None
    return detections(model, frames, attach)


def _on_plank(found) -> list:
    return on_object(found, PLANK)


def test_plank_the_union_misses_is_reported_as_wood_with_the_switch_on(shipped, plank_frame):
    assert _on_plank(_detections(shipped, [plank_frame], planks=False)) == []
    found = _on_plank(_detections(shipped, [plank_frame], planks=True))
    assert len(found) == 1
    d = found[0]
    assert d.kind == "wood" and np.isfinite(d.plank_score) and d.plank_score >= PlankParams().level
    assert 100.0 <= d.length_mm <= 300.0 and d.load >= PlankParams().min_load


def test_object_free_belt_stays_quiet(shipped):
    for scene_type, seed in (("realistic", 933), ("today", 933)):
        cam = fit_camera(seed, scene_type)
        found = _detections(shipped, [cam.grab() for _ in range(3)], planks=True)
        assert [d for d in found if np.isfinite(d.plank_score)] == [], scene_type


def test_switch_is_off_unless_set(shipped, plank_frame):
    det = shipped.detector()
    assert det.planks is None
    assert all(not np.isfinite(d.plank_score) for d in det.process(plank_frame).detections + det.flush())


def test_each_region_is_decided_once_across_a_frame_edge(plank_frame):
    rgb = cell_sums(plank_frame.image, 2).astype(np.float32) / 4
    belt = np.broadcast_to(belt_columns(rgb), rgb.shape[:2])
    whole = [r for r in cell_regions(rgb, belt, 8.0, PlankParams()) if r.reported(PlankParams())]
    cut = int(PLANK.belt_mm / 8.0)  # the frame edge through the plank's middle
    st = PlankStream(PlankParams(), 8.0)
    streamed = st.push(rgb[:cut], belt[:cut], 0) + st.push(rgb[cut:], belt[cut:], cut) + st.flush()
    reported = [(r, row0) for r, row0 in streamed if r.reported(PlankParams())]
    assert len(whole) == 1 and len(reported) == 1
    r, row0 = reported[0]
    assert abs((row0 + r.row) - whole[0].row) <= 1.0 and abs(r.col - whole[0].col) <= 1.0


def test_a_plank_region_has_its_place_and_size(plank_frame):
    rgb = cell_sums(plank_frame.image, 2).astype(np.float32) / 4
    regions = [r for r in plank_regions(plank_frame.image, 4.0, PlankParams(), belt_columns(rgb)) if r.reported(PlankParams())]
    assert len(regions) == 1
    r = regions[0]
    assert abs((r.row + 0.5) * 8.0 - PLANK.belt_mm) <= 20.0 and abs((r.col + 0.5) * 8.0 - 1024.0 - PLANK.lateral_mm) <= 40.0
    assert abs(abs(r.angle_deg) - 90.0) <= 20.0  # across the belt


def test_bad_input_is_refused_with_a_clear_error(shipped):
    rgb = np.full((64, 32, 3), 100.0, np.float32)
    belt = np.ones((64, 32), bool)
    bad = rgb.copy()
    bad[3, 4, 1] = np.nan
    with pytest.raises(FrameError, match="NaN"):
        cell_regions(bad, belt, 8.0, PlankParams())
    with pytest.raises(FrameError, match=r"\(h, w, 3\)"):
        PlankStream(PlankParams(), 8.0).push(rgb[..., 0], belt, 0)
    with pytest.raises(FrameError, match="belt mask"):
        cell_regions(rgb, belt[:, :10], 8.0, PlankParams())
    with pytest.raises(FrameError, match="uint8"):
        plank_regions(np.full((64, 64, 3), np.nan), 4.0, PlankParams())
    with pytest.raises(FrameError, match="mm_per_px"):
        plank_regions(np.zeros((64, 64, 3), np.uint8), float("nan"), PlankParams())
    with pytest.raises(FrameError, match="belt columns"):
        plank_regions(np.zeros((64, 64, 3), np.uint8), 4.0, PlankParams(), np.ones(5, bool))
    det = shipped.detector()
    det.planks = PlankStream(PlankParams(), det.cell_mm)
    with pytest.raises(FrameError, match="uint8"):
        det.process(Frame.still(np.full((2048, 512, 3), np.nan), 4.0))
    with pytest.raises(FrameError, match="shape"):
        det.process(Frame.still(np.zeros((2048, 512), np.uint8), 4.0))


def test_level_is_set_on_fit_belt_only():
    with pytest.raises(ValueError, match="reserved"):
        belt_scores("realistic", 61, 10.0, PlankParams())
    assert level_of([np.array([3.2, 9.7, 1.0]), np.array([4.0])], 3.0, 0.3) == 10.0  # above every region of 3 km each
    assert level_of([np.array([3.2, 9.7, 1.0])], 4.0, 0.3) == 3.5  # one allowed in 4 km: above the second highest


ROOT = Path(__file__).resolve().parents[2]


def test_the_wood_benchmark_reports_the_plank_evidence_per_case():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_wood", "--quick", "--seed", "951", "--planks"], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    cases = [line for line in r.stdout.splitlines() if ", plank evidence: wood found union " in line]
    assert len(cases) == 3
    for line in cases:
        union, with_p = (int(v) for v in re.findall(r"union\+?P? (\d+)/", line))
        assert with_p >= union  # the plank evidence adds reports, never takes the union's away
    total = [line for line in r.stdout.splitlines() if line.startswith("plank evidence, the wood cases:")]
    assert len(total) == 1 and f"level {PlankParams().level:g}" in total[0]


def test_the_dense_benchmark_refuses_planks_without_the_union():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_dense", "--planks", "--quick"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--planks needs --hybrid C.npz --union" in r.stderr, r.stderr[-2000:]
