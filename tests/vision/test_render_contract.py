"""The rendering contract the fast belt renderer keeps: deterministic rows, one result for every tile-bank
layout, loading-dependent tile mix, and simulated frames cut on a fixed line grid (no sliver frames)."""

import numpy as np
import pytest

import vision.scene as scene_mod
from vision.errors import CameraTimeout
from vision.scene import BeltScene, ore_mask
from vision.sim_camera import SimulatedCamera
from vision.tiles import load_tiles


def test_same_seed_same_belt_other_seed_other_belt():
    tiles = load_tiles("fit")
    a = BeltScene(tiles, width_px=256, mm_per_px=8.0, seed=3).render(100, 400)
    b = BeltScene(tiles, width_px=256, mm_per_px=8.0, seed=3).render(100, 400)
    c = BeltScene(tiles, width_px=256, mm_per_px=8.0, seed=4).render(100, 400)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5.0


def test_unoriented_bank_renders_the_same_as_the_oriented_one(monkeypatch):
    tiles = load_tiles("fit")
    fast = BeltScene(tiles, width_px=128, mm_per_px=8.0, seed=5, empty_mm=[(1000.0, 2000.0)]).render(-37, 300)
    monkeypatch.setattr(scene_mod, "ORIENTED_MAX_BYTES", 0)
    scene_mod._bank.cache_clear()
    try:
        slow_scene = BeltScene(tiles, width_px=128, mm_per_px=8.0, seed=5, empty_mm=[(1000.0, 2000.0)])
        assert not slow_scene._bank.oriented
        np.testing.assert_array_equal(fast, slow_scene.render(-37, 300))
    finally:
        scene_mod._bank.cache_clear()


def test_loaded_stretches_show_more_ore_than_light_ones():
    scene = BeltScene(load_tiles("fit"), width_px=256, mm_per_px=8.0, seed=1, dust_probability=0.0)
    img = scene.render(0, 30000)[:, scene.belt_x0 : scene.belt_x0 + scene.belt_px]
    rows_mm = (np.arange(img.shape[0]) + 0.5) * scene.mm_per_px
    loading = scene._loadings(rows_mm)
    ore = ore_mask(img).mean(axis=1)
    assert np.corrcoef(loading, ore)[0, 1] > 0.3
    # the hash draws are uniform: the share of loaded-belt tiles follows the loading
    u = scene_mod._hash_uniform(1, np.arange(4000), np.arange(13), 5)
    assert u.shape == (5, 4000, 13) and 0.0 <= u.min() and u.max() < 1.0
    assert np.all(np.abs(u.mean(axis=(1, 2)) - 0.5) < 0.01)
    assert abs(np.corrcoef(u[0].ravel(), u[1].ravel())[0, 1]) < 0.02


def test_fed_windows_become_whole_contiguous_frames():
    """4.5 m windows at 8 mm/px are 562.5 lines: frames follow the line grid, one per window, none a sliver."""
    cam = SimulatedCamera(tiles="fit", width_px=256, frame_lines=2048, mm_per_px=8.0, free_run=False, seed=2).open()
    frames = []
    for i in range(6):
        cam.feed(i * 4.5, (i + 1) * 4.5, i * 1.5, (i + 1) * 1.5, float(i), i + 1.0)
        while True:
            try:
                frames.append(cam.grab(timeout_s=0.1))
            except CameraTimeout:
                break
    assert len(frames) == 6 and {f.lines for f in frames} <= {562, 563}
    for f, g in zip(frames, frames[1:]):
        assert g.start_belt_m == pytest.approx(f.end_belt_m, abs=1e-9)
    for i, f in enumerate(frames):
        assert abs(f.start_belt_m - i * 4.5) <= 0.004 + 1e-9 and abs(f.end_belt_m - (i + 1) * 4.5) <= 0.004 + 1e-9
    whole = cam.scene.render(0, sum(f.lines for f in frames))
    np.testing.assert_array_equal(np.concatenate([f.image for f in frames]), whole)
