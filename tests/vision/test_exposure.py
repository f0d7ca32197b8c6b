"""The run-time exposure normalisation (vision/exposure.py, issue 27 expo43): a frame whose ore is brighter than the
fit's range is darkened back to its top, a frame inside it is passed on as it is, and a frame without ore (or an empty
or NaN one) keeps gain 1 with the reason; the detector, the labelled-photo path and the benchmark switch use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.exposure import MIN_ORE_CELLS, REF_GREY, ExposureNorm, Gain, apply_gain, gain_for, ore_greys, photo_gain
from vision.frames import Frame
from vision.scene import BeltScene
from vision.tiles import load_tiles
from tests.vision.conftest import MM_PER_PX, WIDTH_PX
from tests.vision.test_labelled import make_labelled_set, write_yolo

REPO = Path(__file__).resolve().parents[2]
ORELINE = Path(sys.executable).parent / "oreline"
BLOCK = 2


def ore_image(grey: float, lines: int = 512, width: int = 256, seed: int = 0) -> np.ndarray:
    """A textured ore-coloured image (every cell passes vision.scene.ore_mask) whose cells' median grey is about ``grey``."""
    rng = np.random.default_rng(seed)
    base = np.array([1.25, 1.0, 0.75]) * grey  # reddish tan: r >= 0.92 g, r > 1.3 b; mean of the three = grey
    tex = rng.uniform(0.8, 1.2, (lines, width, 1))
    return np.clip(np.rint(base * tex), 0, 255).astype(np.uint8)


def belt_image(lines: int = 512, width: int = 256) -> np.ndarray:
    """Bare green belt: no ore-coloured cell."""
    return np.broadcast_to(np.array([60, 85, 45], np.uint8), (lines, width, 3)).copy()


def frame(image: np.ndarray, mm_per_px: float = 4.0) -> Frame:
    return Frame(image, 0, 0.0, 100.0, 0.0, 0.0, mm_per_px)


def _median(image: np.ndarray) -> float:
    return float(np.median(ore_greys(image, BLOCK)))


def test_a_frame_brightened_x158_comes_back_to_the_reference():
    inside = ore_image(REF_GREY / 1.08)
    bright = np.clip(np.rint(inside.astype(np.float64) * 1.58), 0, 255).astype(np.uint8)
    assert _median(bright) > 1.4 * REF_GREY  # well above the fit's range
    norm = ExposureNorm(BLOCK)
    out = norm.apply(frame(bright))
    assert norm.last is not None and norm.last.gain < 0.75 and norm.last.reason == ""
    assert abs(_median(out.image) - REF_GREY) <= 1.0  # within the rounding to whole grey levels
    assert out.image.dtype == np.uint8 and out.image.shape == bright.shape
    assert norm.gained == norm.frames == 1


def test_a_frame_inside_the_range_is_returned_unchanged():
    image = ore_image(0.85 * REF_GREY)
    f = frame(image)
    norm = ExposureNorm(BLOCK)
    out = norm.apply(f)
    assert out is f and out.image is image  # the same frame: bit-identical by construction
    assert norm.last == Gain(1.0, norm.last.ore_grey) and norm.gained == 0
    assert apply_gain(image, 1.0) is image


def test_dark_ore_is_never_brightened():
    g = photo_gain(ore_image(0.4 * REF_GREY), BLOCK)
    assert g.gain == 1.0 and g.ore_grey < 0.5 * REF_GREY and g.reason == ""


def test_clipped_pixels_become_the_gained_255():
    image = np.full((8, 8, 3), 255, np.uint8)
    assert np.all(apply_gain(image, 0.75) == 191)  # 255 x 0.75 = 191.25: no highlight invented, none kept


@pytest.mark.parametrize("image, reason", [
    (belt_image(), "ore-coloured cells"),  # no ore cells
    (np.zeros((0, 256, 3), np.uint8), "ore-coloured cells"),  # empty frame
    (np.full((64, 64, 3), np.nan, np.float32), "ore-coloured cells"),  # NaN
    (ore_image(150.0, lines=4, width=4), "ore-coloured cells"),  # too few ore cells to trust
])
def test_no_measurement_means_gain_one_with_a_reason(image, reason):
    g = photo_gain(image, BLOCK)
    assert g.gain == 1.0 and reason in g.reason


def test_a_stream_without_ore_keeps_gain_one_and_says_why():
    norm = ExposureNorm(BLOCK)
    f = frame(belt_image())
    assert norm.apply(f) is f
    assert norm.last is not None and norm.last.gain == 1.0 and "ore-coloured cells" in norm.last.reason


def test_gain_for_refuses_nothing_and_says_why():
    assert gain_for(float("nan"), 10 * MIN_ORE_CELLS).reason and gain_for(float("nan"), 10 * MIN_ORE_CELLS).gain == 1.0
    assert gain_for(2 * REF_GREY, 10 * MIN_ORE_CELLS).gain == pytest.approx(0.5)
    with pytest.raises(ValueError, match="darkening gain"):
        apply_gain(belt_image(), 1.2)
    with pytest.raises(ValueError, match="block >= 1"):
        ExposureNorm(0)


def test_the_running_stretch_does_not_pump_with_one_bright_frame():
    norm = ExposureNorm(BLOCK, stretch_m=30.0)
    for k in range(6):  # 6 x 2.048 m of ore inside the range
        norm.apply(frame(ore_image(0.9 * REF_GREY, seed=k)))
    norm.apply(frame(ore_image(1.3 * REF_GREY, seed=9)))  # one lighting knot's bright frame
    assert norm.last is not None and norm.last.gain == 1.0  # the stretch's median is still inside the range
    for k in range(20):  # 40 m of bright ore: the stretch moves on
        norm.apply(frame(ore_image(1.3 * REF_GREY, seed=20 + k)))
    assert norm.last.gain == pytest.approx(1 / 1.3, abs=0.01)


def test_the_detector_darkens_before_it_detects(small_model):
    """The detector with the switch on reports what it reports, switched off, on the frame darkened beforehand."""
    scene = BeltScene(load_tiles("heldout"), width_px=WIDTH_PX, mm_per_px=MM_PER_PX, seed=5)
    image = np.clip(np.rint(scene.render(0, 512, []).astype(np.float64) * 1.6), 0, 255).astype(np.uint8)
    on, off = small_model.detector(), small_model.detector()
    on.exposure = ExposureNorm(on.block)
    r_on = on.process(frame(image, MM_PER_PX))
    assert on.exposure.last is not None and on.exposure.last.gain < 1.0
    r_off = off.process(frame(apply_gain(image, on.exposure.last.gain), MM_PER_PX))
    assert (r_on.material_fraction, r_on.belt_fraction, r_on.unusual_share) == (r_off.material_fraction, r_off.belt_fraction, r_off.unusual_share)
    assert [(d.belt_m, d.kind) for d in r_on.detections + on.flush()] == [(d.belt_m, d.kind) for d in r_off.detections + off.flush()]


def test_the_switch_is_off_unless_set(small_model):
    assert small_model.detector().exposure is None


@pytest.mark.slow
def test_cli_evaluate_labelled_darkens_bright_photos(model_file, tmp_path):
    folder = tmp_path / "bright"
    items = make_labelled_set(folder, n_images=2)
    for name, _ in items:  # the photos exposed like the real camera's: 1.58 x brighter
        p = folder / name
        Image.fromarray(np.clip(np.rint(np.asarray(Image.open(p), float) * 1.58), 0, 255).astype(np.uint8)).save(p)
    write_yolo(folder, items)
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(folder), "--model", str(model_file), "--mm-per-px",
                        str(MM_PER_PX), "--exposure-norm", "on", "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "exposure normalisation on: 2 of 2 photos darkened" in p.stdout
    table = json.loads((tmp_path / "out" / "labelled.json").read_text())
    assert table["exposure_norm"] is True
    assert all(0.5 < r["exposure_gain"] < 0.8 for r in table["per_image"])


@pytest.mark.slow
def test_benchmark_flags_run_as_a_user_runs_them():
    # --local-load on too: the one quick benchmark run for this switch and tests/vision/test_local_load.py's (the
    # local load judges candidates; the frames' darkening checked here comes before it and does not depend on it)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_scenes", "--quick", "--camera", "real", "--exposure-norm", "on",
                           "--local-load", "on"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "camera real" in proc.stdout and "exposure normalisation on" in proc.stdout and "local load on" in proc.stdout
    assert "frames darkened, gain min 0.7" in proc.stdout  # the realistic belt at the camera's exposure: about ref / 132
    bad = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_scenes", "--quick", "--camera", "phone"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--camera" in bad.stderr
