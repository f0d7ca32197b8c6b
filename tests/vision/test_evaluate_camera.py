"""`oreline vision evaluate --camera real --exposure-norm on` (issue 27): the rendered scene types seen through the real
camera's exposure (vision.scenes.REAL_CAMERA) and the run-time exposure normalisation, from the user's command as the
benchmark has them, with the shipped model (the union, tests/vision/test_union_model.py) and nothing fitted; `--camera`
refused with labelled photos (a real camera took them)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vision.fit import SHIPPED_DIR, VisionModel, cache_path
from vision.realism import realism_lengths
from vision.scenes import (CANDIDATE49_LIGHT, COLOUR49_CAMERA, EVALUATION_CAMERA, REAL_CAMERA, camera_scene_options,
                           scene_options)

ORELINE = Path(sys.executable).parent / "oreline"


def test_the_real_camera_applies_to_the_realistic_types_only():
    assert camera_scene_options("realistic", "real")[0] == {**scene_options("realistic")[0], **REAL_CAMERA}
    assert camera_scene_options("wet-wood", "real")[1] == scene_options("wet-wood")[1]
    assert camera_scene_options("today", "real") == scene_options("today")
    assert camera_scene_options("realistic") == scene_options("realistic")
    with pytest.raises(ValueError, match="expected camera calibrated, renderer, real, got 'phone'"):
        camera_scene_options("realistic", "phone")


def test_the_evaluations_camera_is_the_calibrated_lighting_and_colour_pipeline_on_the_realistic_types_only():
    """RULE_REND49's phase 2: evaluate and bench_vision_scenes see the realistic types through rend49's candidate; the
    fit's scene types (scene_options) are not changed by it."""
    assert EVALUATION_CAMERA == "calibrated"
    for name in ("realistic", "dark-rubber", "wet-wood"):
        scene, objects = camera_scene_options(name, "calibrated")
        assert scene == {**scene_options(name)[0], **CANDIDATE49_LIGHT, **COLOUR49_CAMERA} and objects == scene_options(name)[1]
        assert scene["lighting_variation"] == 0.406 and scene["camera_exposure"] == 1.40
        assert scene_options(name)[0]["lighting_variation"] == 0.48 and "camera_exposure" not in scene_options(name)[0]
    assert camera_scene_options("dark-rubber", "calibrated")[0]["ore_gain"] == (0.45, 0.45, 0.45)
    assert camera_scene_options("today", "calibrated") == scene_options("today")


def test_installed_oreline_evaluates_at_the_real_cameras_exposure_with_the_frames_darkened(tmp_path):
    env = dict(os.environ, ORELINE_CACHE=str(tmp_path / "cache"))  # empty: the shipped model is seeded, nothing fitted
    out = tmp_path / "ev"
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--scenes", "realistic", "--camera", "real", "--exposure-norm=on",
                        "--mm-per-px", "4", "--width-px=512", "--length-m", "4", "--realism-m", "10", "--out", str(out)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    # the shipped union evaluates realistic belt (this run was test_union_model.py's own, of 12 m at the renderer's camera)
    assert "realistic: recall (>= 50 mm)" in p.stdout
    shipped = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)
    report = json.loads(next(out.rglob("report.json")).read_text())
    assert report["model_version"] == VisionModel.load(shipped, mm_per_px=4.0).version
    assert [f.name for f in (tmp_path / "cache" / "vision").glob("model-*.npz")] == [shipped.name]
    # the renderer's own exposure never darkens a frame (expo43: 0 of 938); the camera's brighter ore does
    m = re.search(r"camera real; exposure normalisation: (\d+)/(\d+) frames darkened", p.stdout)
    assert m and 0 < int(m.group(1)) <= int(m.group(2)), p.stdout[-3000:]
    summary = json.loads((out / "scenes.json").read_text())
    assert [(r["scene"], r["camera"]) for r in summary] == [("realistic", "real")]
    assert summary[0]["table"]["exposure"]["on"] and summary[0]["table"]["exposure"]["gain_min"] < 1.0
    assert "camera real, exposure normalisation on" in (out / "scenes.md").read_text()


def test_installed_oreline_refuses_a_realism_belt_of_no_length(tmp_path):
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--scenes", "realistic", "--realism-m", "0", "--out", str(tmp_path / "ev")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "--realism-m must be > 0" in p.stderr and not (tmp_path / "ev").exists()
    assert realism_lengths(100.0) == {"clipping_m": 100.0, "belt_m": 30.0, "edge_m": 10.0}  # all_checks' own defaults
    assert realism_lengths(12.0) == {"clipping_m": 12.0, "belt_m": 12.0, "edge_m": 10.0}
    with pytest.raises(ValueError, match="realism belt > 0"):
        realism_lengths(-1.0)


def test_installed_oreline_refuses_a_camera_for_labelled_photos(tmp_path):
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(tmp_path), "--mm-per-px", "4", "--camera", "real",
                        "--out", str(tmp_path / "ev")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "--camera applies to rendered scene types, not to --labelled photos" in p.stderr
    assert not (tmp_path / "ev").exists()
