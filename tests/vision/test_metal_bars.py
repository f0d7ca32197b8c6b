"""Metal bar evidence (vision/metal_bars.py, ``Detector.metal_bars``): a thin buried metal bar on realistic ore that the
shipped union misses is reported as metal with the switch on, object-free belt stays quiet, regions land where the bar
is in the detector's cells, a part-loaded frame is not searched, the switch is off unless set, and bad input is refused
with a clear error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vision.errors import FrameError
from vision.features import belt_columns, block_means
from vision.metal_bars import CELL_MM, FRAME_MIN_ORE, METAL_PARAMS, MetalBarStream, cell_block, metal_params, pale_or_blue
from vision.model_cache import cached_model
from vision.planks import PlankParams, PlankRegion, PlankStream, cell_regions
from vision.scene import SceneObject
from tests.vision.evidence_helpers import detections, fit_camera, on_object
from vision.station_settings import METAL_BARS

#: A metal bar 150 x 12 mm, 40 % buried, on realistic ore of fit tiles, seed 4: the shipped union reports nothing there.
BAR = SceneObject("metal", 150.0, 12.0, 4000.0, 100.0, 20.0, seed=11, buried=0.4)


@pytest.fixture(scope="module")
def shipped():
    return cached_model(mm_per_px=4.0, width_px=512)


@pytest.fixture(scope="module")
def bar_frame():
    return fit_camera(4, objects=[BAR]).grab()


def _detections(model, frames, on: bool):
    def attach(det) -> None:
        det.metal_bars = MetalBarStream(model.mm_per_px) if on else None
    return detections(model, frames, attach)


def _on_bar(found) -> list:
    return on_object(found, BAR)


def test_a_buried_bar_the_union_misses_is_reported_as_metal_with_the_switch_on(shipped, bar_frame):
    assert _on_bar(_detections(shipped, [bar_frame], on=False)) == []
    found = _on_bar(_detections(shipped, [bar_frame], on=True))
    assert len(found) == 1
    d = found[0]
    assert d.kind == "metal" and np.isfinite(d.metal_score) and d.metal_score >= METAL_PARAMS.level
    assert not np.isfinite(d.plank_score) and d.p_none <= d.none_max and d.load >= METAL_PARAMS.min_load
    assert 40.0 <= d.length_mm <= 200.0


def test_the_plank_evidence_on_its_own_cells_misses_that_bar(bar_frame):
    """Why the metal bars need 4 mm cells: on the plank evidence's 8 mm cells the bar is no region at the plank level."""
    rgb = block_means(bar_frame.image, 2)
    belt = np.broadcast_to(belt_columns(rgb), rgb.shape[:2])
    near = [r for r in cell_regions(rgb, belt, 8.0, PlankParams()) if abs((r.row + 0.5) * 8.0 - BAR.belt_mm) <= BAR.length_mm / 2]
    assert all(not r.reported(PlankParams()) for r in near)


def test_object_free_belt_stays_quiet(shipped):
    for scene_type, seed in (("realistic", 933), ("today", 933)):
        found = _detections(shipped, [fit_camera(seed, scene_type).grab() for _ in range(3)], on=True)
        assert [d for d in found if np.isfinite(d.metal_score)] == [], scene_type


def test_regions_are_placed_in_the_detectors_cells(bar_frame):
    st = MetalBarStream(4.0, metal_params(0.0))
    rgb = block_means(bar_frame.image, 2)
    cols = belt_columns(rgb)
    found = st.push_frame(bar_frame.image, np.repeat(cols, 2), 0, 1.0) + st.flush()
    best = max(found, key=lambda f: f[0].score)
    (r8, row8), = st.in_cells([best], 8.0)
    r4, row4 = best
    assert abs((row4 + r4.row + 0.5) * CELL_MM - BAR.belt_mm) <= BAR.length_mm / 2  # 4 mm cells: on the bar (its visible piece)
    assert abs((r4.col + 0.5) * CELL_MM - 1024.0 - BAR.lateral_mm) <= BAR.length_mm / 2
    assert abs((row8 + r8.row + 0.5) * 8.0 - (row4 + r4.row + 0.5) * CELL_MM) <= 1e-6
    assert abs((r8.col + 0.5) * 8.0 - (r4.col + 0.5) * CELL_MM) <= 1e-6
    assert r8.score == r4.score and r8.length_mm == r4.length_mm


def test_a_part_loaded_frame_is_not_searched(bar_frame):
    st = MetalBarStream(4.0, metal_params(0.0))
    cols = np.repeat(belt_columns(block_means(bar_frame.image, 2)), 2)
    assert st.push_frame(bar_frame.image, cols, 0, FRAME_MIN_ORE - 0.01) == []
    assert st.flush() == []
    assert st.push_frame(bar_frame.image, cols, 0, FRAME_MIN_ORE) + st.flush() != []


def _streak(colour: tuple[float, float, float]) -> tuple[np.ndarray, PlankRegion]:
    """Ore cells (160, 130, 60) with a vertical streak 3 cells wide, 16 long of ``colour``, and its region."""
    rgb = np.empty((40, 40, 3), np.float32)
    rgb[:] = (160.0, 130.0, 60.0)
    rgb[12:28, 19:22] = colour
    return rgb, PlankRegion(20.0, 20.0, 64.0, 12.0, 0.0, 100.0, 1.0, 12, 27, 16)


def test_a_pale_or_bluish_streak_is_no_bar():
    assert not pale_or_blue(*_streak((120.0, 100.0, 60.0)))  # darker, less green than the ore: a coated metal bar
    assert pale_or_blue(*_streak((230.0, 190.0, 110.0)))  # as little green as the bar, but paler than the ore by far
    assert pale_or_blue(*_streak((110.0, 100.0, 130.0)))  # dark but blue
    assert not pale_or_blue(*_streak((160.0, 130.0, 60.0)))  # no streak at all


def test_the_cells_are_4_mm_at_every_scale():
    assert [cell_block(s) for s in (4.0, 2.0, 1.0, 8.0)] == [1, 2, 4, 1]
    assert MetalBarStream(1.0).cell_mm == CELL_MM and MetalBarStream(4.0).cell_mm == CELL_MM


def test_switch_is_off_unless_set(shipped, bar_frame):
    det = shipped.detector()
    assert det.metal_bars is None and METAL_BARS is False
    assert all(not np.isfinite(d.metal_score) for d in det.process(bar_frame).detections + det.flush())


def test_bad_input_is_refused_with_a_clear_error():
    for bad in (0.0, -4.0, float("nan")):
        with pytest.raises(FrameError, match="mm_per_px"):
            MetalBarStream(bad)
    st = MetalBarStream(4.0)
    with pytest.raises(FrameError, match=r"\(h, w, 3\)"):
        st.push(np.zeros((64, 32), np.float32), np.ones((64, 32), bool), 0)
    rgb = np.full((64, 32, 3), 100.0, np.float32)
    rgb[2, 3, 0] = np.inf
    with pytest.raises(FrameError, match="NaN or inf"):
        PlankStream(METAL_PARAMS, CELL_MM).push(rgb, np.ones((64, 32), bool), 0)


ROOT = Path(__file__).resolve().parents[2]


def test_the_scenes_benchmark_prints_the_union_alone_beside_the_metal_bars():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_scenes", "--quick", "--metal-bars", "on"], cwd=ROOT,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "metal bars on" in r.stdout
    cases = [line for line in r.stdout.splitlines() if "; the union alone " in line and "recall >= 50 mm" in line]
    assert len(cases) == 6
    for line in cases:
        with_m = int(re.search(r"recall >= 50 mm [\d.]+ % \((\d+)/", line).group(1))
        union = int(re.search(r"the union alone (\d+)/", line).group(1))
        assert with_m >= union  # the evidence adds reports, never takes the union's away


def test_the_wood_benchmark_diagnoses_metal():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_wood", "--quick", "--seed", "951", "--kind", "metal",
                        "--camera", "calibrated", "--planks"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    heads = [line for line in r.stdout.splitlines() if ": metal objects >= 50 mm:" in line]
    assert [h.split(":")[0] for h in heads] == ["metal on realistic belt", "metal on today's belt"]
    assert "wood objects" not in r.stdout
    assert any(line.startswith("plank evidence, the metal cases: metal ") for line in r.stdout.splitlines())
