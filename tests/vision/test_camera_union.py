"""The camera union's recipe (issue 27, cam44; not a default): the fit-only scene type ``realistic-camera`` (the
realistic belt at REAL_CAMERA's exposure), CAMERA_FIT_MIX threaded through the built-in fit's scenes, and the
camera union's base kept under its own cache key, never taken for FIT_VERSION 13's base (nor it for this)."""

import subprocess
import sys
from pathlib import Path

import pytest

from vision import union_fit
from vision.fit import FEATURES_FIT_VERSION, SHIPPED_DIR, _scene_kw, _scene_type, cache_path, stored_model
from vision.scenes import CAMERA_FIT_MIX, FIT_MIX, REAL_CAMERA, REALISTIC_SCENE, scene_options
from vision.union_fit import CAMERA_UNION_VERSION, base_path, check_mix

REPO = Path(__file__).resolve().parents[2]


def test_the_camera_scene_type_is_the_realistic_belt_at_the_real_cameras_exposure():
    scene, objects = scene_options("realistic-camera")
    assert scene == {**REALISTIC_SCENE, **REAL_CAMERA} and scene["camera_exposure"] == 1.51
    assert objects == scene_options("realistic")[1]
    assert "camera_exposure" not in scene_options("realistic")[0]  # the renderer's realistic belt unchanged


def test_the_built_in_mix_is_unchanged_and_the_camera_mix_swaps_its_second_realistic_slot():
    assert FIT_MIX == ("realistic", "today", "realistic", "dark-ore")
    assert CAMERA_FIT_MIX == ("realistic", "today", "realistic-camera", "dark-ore")
    assert [_scene_type(None, None, i) for i in range(4)] == list(FIT_MIX)
    assert [_scene_type(None, None, i, CAMERA_FIT_MIX) for i in range(6)] == list(CAMERA_FIT_MIX) + ["realistic", "today"]
    assert _scene_kw(None, None, 2, CAMERA_FIT_MIX)[0]["camera_exposure"] == REAL_CAMERA["camera_exposure"]
    assert "camera_exposure" not in _scene_kw(None, None, 2)[0]
    assert _scene_type({}, None, 2, CAMERA_FIT_MIX) == "custom"  # a given scene still wins over any mix


def test_the_camera_unions_base_has_its_own_cache_key_not_fit_13s():
    fit13 = cache_path(4.0, 512, 0, None, FEATURES_FIT_VERSION)
    assert base_path(4.0, 512, 0) == fit13
    camera = base_path(4.0, 512, 0, mix=CAMERA_FIT_MIX)
    assert camera != fit13 and camera != cache_path(4.0, 512, 0) and camera.parent == fit13.parent
    assert camera == cache_path(4.0, 512, 0, None, CAMERA_UNION_VERSION, base_mix=CAMERA_FIT_MIX)


def test_the_shipped_fit_13_base_is_never_taken_for_the_camera_unions(tmp_path):
    assert (SHIPPED_DIR / base_path(4.0, 512, 0).name).exists()
    assert stored_model(4.0, 512, 0, tmp_path, FEATURES_FIT_VERSION) is not None  # FIT 13's, from the shipped file
    assert stored_model(4.0, 512, 0, tmp_path, CAMERA_UNION_VERSION, base_mix=CAMERA_FIT_MIX) is None


def test_a_union_mix_with_an_unknown_scene_type_is_refused_before_any_fit(monkeypatch):
    monkeypatch.setattr(union_fit, "fit_vision_model", lambda **kw: pytest.fail("fitted a bad mix"))
    with pytest.raises(ValueError, match=r"unknown scene type 'realistic-kamera'"):
        union_fit.union_model(mix=("realistic", "realistic-kamera"))
    with pytest.raises(ValueError, match="at least one scene type"):
        check_mix(())
    assert check_mix(list(CAMERA_FIT_MIX)) == CAMERA_FIT_MIX


def test_refit_union_refuses_an_unknown_mix_naming_the_choices(tmp_path):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "refit_union.py"), str(tmp_path / "u.npz"), "--mix", "kamera"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 2 and "invalid choice: 'kamera'" in out.stderr and "'camera'" in out.stderr
    assert not (tmp_path / "u.npz").exists()
