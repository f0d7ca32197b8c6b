"""Scene types (vision.scenes) and the renderer's realistic effects, checked against the real CDM photographs."""

import numpy as np
import pytest

from vision.realism import dust_check, illumination_checks, patch_check, rendered_window_rows, saturated_patches, saturation_excess
from vision.scene import BeltScene, SceneObject, _painted, equalise_chroma, ore_mask, paint_out_ore, painted_out
from vision.scenes import FIT_MIX, SCENE_TYPES, scene_names, scene_options
from vision.tiles import load_tiles


def test_scene_names_parse_one_a_list_or_all_and_refuse_others():
    assert scene_names("all") == list(SCENE_TYPES) == ["today", "realistic", "dark-rubber", "wet-wood"]
    assert scene_names("today, wet-wood") == ["today", "wet-wood"]
    with pytest.raises(ValueError, match="today|realistic"):
        scene_names("fog")
    assert all(scene_options(n) for n in FIT_MIX)


def test_realistic_lighting_shadow_and_dust_are_within_the_real_spread():
    scene = scene_options("realistic")[0]
    checks = illumination_checks(0, scene=scene) + [dust_check(scene)]
    for c in checks:
        assert c.ok, c.line()
    today = illumination_checks(0, scene=scene_options("today")[0]) + [dust_check(scene_options("today")[0])]
    assert not any(c.ok for c in today), [c.line() for c in today]  # the old renderer was outside all three


def test_spillage_puts_ore_on_the_frame_beyond_the_belt_edges():
    tiles = load_tiles("heldout")
    plain = BeltScene(tiles, width_px=600, mm_per_px=4.0, seed=3, burden="full").render(0, 400).astype(float)
    spilt = BeltScene(tiles, width_px=600, mm_per_px=4.0, seed=3, burden="full", spillage_mm=80.0).render(0, 400).astype(float)
    sc = BeltScene(tiles, width_px=600, mm_per_px=4.0)
    left = slice(sc.belt_x0 - 20, sc.belt_x0)
    assert spilt[:, left].mean() > plain[:, left].mean() + 5  # ore is brighter than the dark steel frame
    np.testing.assert_array_equal(spilt[:, sc.belt_x0 + 30 : sc.belt_x0 + sc.belt_px - 30], plain[:, sc.belt_x0 + 30 : sc.belt_x0 + sc.belt_px - 30])


def test_wet_wood_is_darker_with_glints():
    tiles = load_tiles("heldout")
    sc = BeltScene(tiles, width_px=400, mm_per_px=2.0, seed=1, surface="photo")
    dry = sc.sprite(SceneObject("wood", 300, 80, 500.0, seed=5))
    wet = sc.sprite(SceneObject("wood", 300, 80, 500.0, seed=5, wet=True))
    inside = (dry.alpha > 0.99) & (wet.alpha > 0.99)
    g_dry, g_wet = dry.rgb[inside].mean(axis=-1), wet.rgb[inside].mean(axis=-1)
    assert np.median(g_wet) < 0.8 * np.median(g_dry)
    assert np.percentile(g_wet, 99.5) > 1.3 * np.percentile(g_wet, 50)  # specular glints well above the body colour


def _ore_window(side: int = 62) -> np.ndarray:
    rng = np.random.default_rng(4)
    base = np.array([150.0, 110.0, 60.0]) * rng.uniform(0.9, 1.1, (side, side, 1))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_a_saturated_square_of_ore_is_one_patch_and_plain_ore_none():
    plain = _ore_window()
    excess, ore = saturation_excess(plain)
    assert saturated_patches(excess, ore, 0.1) == (0, pytest.approx(ore.sum() * 16e-6))
    patched = plain.copy()
    patched[20:45, 20:45] = [200, 120, 20]  # 100 mm of a more saturated ore
    assert saturated_patches(*saturation_excess(patched), 0.1)[0] == 1
    patched[2:8, 2:8] = [200, 120, 20]  # 24 mm: below the 50 mm counted
    assert saturated_patches(*saturation_excess(patched), 0.1)[0] == 1


def test_equalise_chroma_pulls_each_tile_to_the_median_chroma_and_keeps_the_grey():
    all_tiles = load_tiles("heldout").tiles
    tiles = all_tiles[ore_mask(all_tiles).mean(axis=(1, 2)) > 0.8][:12]  # loaded tiles: ore pixels all over
    out = equalise_chroma(tiles, 0.0)

    def median_chroma(t):
        t = t.astype(np.float32)[ore_mask(t)]
        return np.median((t.max(-1) - t.min(-1)) / np.maximum(t.mean(-1), 1))
    before = np.array([median_chroma(t) for t in tiles])
    after = np.array([median_chroma(t) for t in out])
    assert after.std() < 0.3 * before.std()
    assert np.abs(out.astype(float).mean(-1) - tiles.astype(float).mean(-1)).mean() < 1.5
    assert equalise_chroma(tiles, 1.0) is tiles
    with pytest.raises(ValueError, match="chroma spread"):
        equalise_chroma(tiles, 1.5)
    with pytest.raises(ValueError, match="chroma_spread"):
        BeltScene(load_tiles("heldout"), width_px=64, mm_per_px=8.0, chroma_spread=-0.1)


def test_realistic_belt_has_the_real_photos_rate_of_saturated_patches_and_the_raw_mosaic_not():
    scene = scene_options("realistic")[0]
    check = patch_check(0, scene)
    assert check.ok, check.line()
    raw = patch_check(0, dict(scene, chroma_spread=1.0), length_m=10.0)  # unrelated photos side by side, as before
    assert raw.rendered > raw.real + 3 * raw.spread, raw.line()


@pytest.mark.parametrize("name", list(SCENE_TYPES))
def test_every_scene_type_renders_the_same_windows_however_its_frames_are_cut(name):
    """The realism checks read the patch check's 30 m as the first rows of the clipping check's 100 m
    (vision.realism._full_windows): 10 m is rendered in frames of 32 and 8 rows of windows, 16 m in two of 32."""
    scene = dict(scene_options(name)[0], burden="full")
    short = rendered_window_rows(scene, length_m=10.0, split="all")
    long = rendered_window_rows(scene, length_m=16.0, split="all")
    assert (len(short), len(long)) == (40, 64) and len(short[0]) > 0
    for a, b in zip(short, long):
        assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_tiles_painted_out_once_are_the_same_as_painted_in_any_stack():
    """The empty-belt tiles a bank uses are painted tile by tile and kept: a subset (a fit's fold) painted after its
    parent set gives, to the bit, what painting the subset alone gives."""
    tiles = load_tiles("heldout").tiles[:12]
    _painted.clear()
    whole = painted_out(tiles)
    assert len(_painted) == 12 and np.array_equal(whole, paint_out_ore(tiles))
    subset = tiles[[7, 2, 9]]
    assert np.array_equal(painted_out(subset), paint_out_ore(subset)) and len(_painted) == 12
    assert painted_out(tiles[:0]).shape == (0,) + tiles.shape[1:]
