"""Scene types (vision.scenes) and the renderer's realistic effects, checked against the real CDM photographs."""

import numpy as np
import pytest

from vision.realism import dust_check, illumination_checks
from vision.scene import BeltScene, SceneObject
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
