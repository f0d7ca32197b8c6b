"""Scenes like a real belt: full burden, photographed object surfaces, burial, wet wood, dark ore (the renderer's
checks against real images: tests/vision/test_labelled.py's scene-types test, through `oreline vision evaluate`)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import vision.realism as realism
from vision.objects import photo_textures, render_sprite
from vision.realism import render_fingerprint, rendered_stats, rendered_stats_file
from vision.scene import BeltScene, SceneObject, ore_mask, random_objects
from vision.tiles import load_tiles


def test_full_burden_shows_ore_not_belt():
    tiles = load_tiles("heldout")
    kw = dict(width_px=512, mm_per_px=4.0, seed=3, dust_probability=0.0)
    patch = BeltScene(tiles, **kw)
    full = BeltScene(tiles, burden="full", **kw)
    cols = slice(patch.belt_x0 + 10, patch.belt_x0 + patch.belt_px - 10)
    ore_patch = ore_mask(patch.render(0, 2500)[:, cols]).mean()
    ore_full = ore_mask(full.render(0, 2500)[:, cols]).mean()
    assert ore_full > 0.85 and ore_full > ore_patch + 0.15
    dark = BeltScene(tiles, burden="full", ore_gain=(0.45, 0.45, 0.45), **kw).render(0, 500)[:, cols].mean()
    assert dark == pytest.approx(0.45 * full.render(0, 500)[:, cols].mean(), rel=0.08)
    with pytest.raises(ValueError, match="burden"):
        BeltScene(tiles, burden="heap", **kw)


def test_photo_surfaces_burial_and_wetness():
    photos = photo_textures()
    assert {"wood", "rusty_steel", "cloth", "concrete", "plastic", "rubber"} <= set(photos)
    rules = render_sprite("wood", 300, 60, 0, 1.0, 5)
    photo = render_sprite("wood", 300, 60, 0, 1.0, 5, surface="photo")
    assert photo.alpha.shape == rules.alpha.shape and not np.allclose(photo.rgb, rules.rgb)
    inside = photo.alpha > 0.99
    wet = render_sprite("wood", 300, 60, 0, 1.0, 5, surface="photo", wet=True)
    assert wet.rgb[inside].mean() < 0.7 * photo.rgb[inside].mean()
    buried = render_sprite("wood", 300, 60, 0, 1.0, 5, surface="photo", buried=0.4)
    assert buried.alpha.sum() == pytest.approx(0.6 * photo.alpha.sum(), rel=0.12)
    ore = np.array([130.0, 90.0, 60.0])
    cast = render_sprite("plastic", 200, 150, 0, 1.0, 2, surface="photo", ore_rgb=ore, cast=0.35)
    blue = render_sprite("plastic", 200, 150, 0, 1.0, 2, surface="photo")

    def chroma(s):
        return (s.rgb[s.alpha > 0.99] / s.rgb[s.alpha > 0.99].sum(axis=1, keepdims=True)).mean(axis=0)

    assert abs(chroma(cast)[0] - ore[0] / ore.sum()) < abs(chroma(blue)[0] - ore[0] / ore.sum())
    with pytest.raises(ValueError, match="surface"):
        render_sprite("wood", 300, 60, 0, 1.0, 5, surface="paint")


def test_realistic_objects_keep_kinds_sizes_and_places():
    a = random_objects(20000.0, np.random.default_rng(3), per_m=1.0)
    b = random_objects(20000.0, np.random.default_rng(3), per_m=1.0, buried_max=0.5, wet_share=0.5)
    assert [(o.kind, o.length_mm, o.belt_mm) for o in a] == [(o.kind, o.length_mm, o.belt_mm) for o in b]
    assert all(0 <= o.buried <= 0.5 for o in b) and any(o.wet for o in b) and not any(o.wet for o in b if o.kind != "wood")
    assert not any(o.buried or o.wet for o in a)
    scene = BeltScene(load_tiles("heldout"), width_px=512, mm_per_px=2.0, seed=1, burden="full", surface="photo", dust_probability=0.0)
    obj = SceneObject("rubber", 200, 120, belt_mm=500.0, seed=4, buried=0.3)
    with_obj, without = scene.render(0, 500, [obj]), scene.render(0, 500)
    assert (np.abs(with_obj.astype(int) - without).sum(axis=-1) > 30).mean() > 0.01


def test_rendered_stats_are_kept_by_what_the_belt_is_rendered_from(tmp_path, monkeypatch):
    """oreline vision evaluate --labelled's rendered side is rendered once and read back (the same figures), per
    arguments and per renderer (its modules' bytes, the held-out photos, the packages' versions)."""
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path / "cache"))
    small = dict(n=2, side_px=64)
    first = rendered_stats({}, **small)
    path = rendered_stats_file({}, **small)
    assert path.is_file() and path.parent == tmp_path / "cache" / "vision" / "realism"
    assert rendered_stats({}, **small) == first
    path.write_text(json.dumps({"stats": {k: 0.5 for k in first}}))  # read back, not rendered again
    assert rendered_stats({}, **small) == {k: 0.5 for k in first}
    path.write_text("{")  # a torn file: rendered again
    assert rendered_stats({}, **small) == first
    others = {rendered_stats_file({}, n=3, side_px=64), rendered_stats_file({}, seed=1, **small),
              rendered_stats_file({"shadow_depth": 0.3}, **small)}
    assert len(others) == 3 and path not in others
    package = tmp_path / "vision"
    package.mkdir()
    for f in Path(realism.__file__).parent.glob("*.py"):
        shutil.copy(f, package / f.name)
    assert render_fingerprint(package) == render_fingerprint()
    (package / "scene.py").write_text((package / "scene.py").read_text() + "\n# a comment: another renderer all the same\n")
    assert render_fingerprint(package) != render_fingerprint()
