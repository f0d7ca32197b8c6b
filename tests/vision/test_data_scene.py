import numpy as np
import pytest

from vision.errors import DataError, ImageFileError
from vision.scene import BeltScene, SceneObject, ore_mask
from vision.tiles import ATTRIBUTION, cdm_tile_paths, load_tiles, read_rgb, source_of


def test_split_is_by_source_and_disjoint():
    fit = {source_of(p) for p in cdm_tile_paths("fit")}
    held = {source_of(p) for p in cdm_tile_paths("heldout")}
    assert fit and held and not fit & held
    # every augmented source has its three versions on one side only
    assert sum(1 for p in cdm_tile_paths("fit")) % 3 == 0


def test_attribution_names_source_and_licence():
    assert "CC BY 4.0" in ATTRIBUTION and "guillermoecn/Mask_RCNN_TF2.4" in ATTRIBUTION and "CDM" in ATTRIBUTION


def test_corrupt_image_and_empty_folder(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ImageFileError, match="bad.jpg"):
        read_rgb(bad)
    with pytest.raises(DataError):
        load_tiles(tmp_path / "nothing-here")


def test_render_is_the_same_however_the_belt_is_cut():
    scene = BeltScene(load_tiles("fit"), width_px=512, mm_per_px=2.0, seed=4)
    obj = SceneObject("metal", 300, 30, belt_mm=600.0, lateral_mm=100.0, angle_deg=20, seed=1)
    whole = scene.render(0, 600, [obj])
    parts = np.concatenate([scene.render(0, 250, [obj]), scene.render(250, 350, [obj])])
    assert whole.shape == (600, 512, 3) and whole.dtype == np.uint8
    np.testing.assert_array_equal(whole, parts)
    plain = scene.render(0, 600)
    diff = np.abs(whole.astype(int) - plain.astype(int)).sum(-1) > 30
    rows, cols = np.nonzero(diff)
    assert 200 < rows.mean() < 400 and abs(cols.mean() - scene.col_of_lateral(100.0)) < 20


def test_empty_stretch_shows_bare_belt():
    scene = BeltScene(load_tiles("fit"), width_px=512, mm_per_px=2.0, seed=2, empty_mm=[(2000.0, 6000.0)], dust_probability=0.0)
    loaded = scene.render(0, 900)[:, scene.belt_x0 : scene.belt_x0 + scene.belt_px]
    empty = scene.render(1200, 1500)[:, scene.belt_x0 : scene.belt_x0 + scene.belt_px]
    assert ore_mask(empty).mean() < 0.02 < ore_mask(loaded).mean()


def test_bad_object_rejected():
    with pytest.raises(ValueError, match="kind"):
        SceneObject("banana", 100, 50, 0.0)
    with pytest.raises(ValueError, match="size"):
        SceneObject("wood", -1, 50, 0.0)
