"""The camera's saturation in the renderer (issue 27, clip42): radiance above the clipped plateaus, the shoulder, the
sensor's clip after the lighting with its sub-pixels, and the clipped red pixels' colour check (vision.realism)."""

import hashlib

import numpy as np
import pytest

from vision.realism import clipped_colour_checks, clipped_red_colour, clipping_checks
from vision.scene import BeltScene, plateau_radiance, radiance_bank, shoulder, unshoulder
from vision.scenes import REAL_CAMERA, REAL_PLATEAU_GREY, scene_options
from vision.tiles import TileSet, load_tiles


def test_shoulder_is_linear_to_its_knee_reaches_255_and_is_undone():
    x = np.array([0.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 1000.0])
    y = shoulder(x, 150.0, 2.0)
    assert y[:3].tolist() == [0.0, 100.0, 150.0] and (np.diff(y) >= 0).all() and y[-2:].tolist() == [255.0, 255.0]
    assert y[3] < 200.0 and y[5] < 255.0  # compressed above the knee, 255 only from knee + 2 (255 - knee) = 360 on
    grey = np.linspace(0.0, 254.0, 100)
    np.testing.assert_allclose(shoulder(unshoulder(grey, 150.0, 3.0), 150.0, 3.0), grey, atol=1e-3)
    np.testing.assert_array_equal(shoulder(x, 255.0), np.minimum(x, 255.0))  # knee 255: a hard clip


def test_plateau_radiance_extrapolates_the_clipped_channel_from_its_ring():
    t = np.zeros((1, 30, 30, 3), np.uint8)
    t[0] = [180, 150, 90]  # ring colour: R/G 1.2, R/B 2.0
    t[0, 10:20, 10:20] = [255, 240, 130]  # a pale plateau clipped in red
    t[0, 14, 14] = [255, 255, 140]  # one pixel clipped in red and green
    t[0, 15, 15] = [255, 255, 255]  # one clipped in every channel
    mask = t >= 254
    rad = plateau_radiance(t, mask)
    # red from green (240 x 1.2) and from blue (130 x 2.0), averaged; the unclipped channels kept
    assert rad[0, 12, 12, 0] == pytest.approx((240 * 1.2 + 130 * 2.0) / 2) and rad[0, 12, 12, 1:].tolist() == [240.0, 130.0]
    assert rad[0, 14, 14, 0] == pytest.approx(140 * 2.0) and rad[0, 14, 14, 1] == 255.0  # never below the plateau
    assert rad[0, 15, 15].min() > 255.0  # lifted by its plateau's largest factor
    np.testing.assert_array_equal(rad[0, :5], t[0, :5].astype(np.float32))  # unclipped pixels as they are
    assert (rad >= t).all()


def _bright_tiles() -> TileSet:
    """Two loaded 200 px tiles (gain 1): one clipped in red everywhere, one in a 1 px checkerboard of clipped red."""
    t = np.full((2, 200, 200, 3), [200, 150, 80], np.uint8)
    t[0, ..., 0] = 255
    t[1, ::2, ::2, 0] = 255
    return TileSet(t, ("a", "b"), "test", gain=np.ones(2, np.float32))


def test_scene_pixel_clips_only_where_all_its_sub_pixels_do():
    tiles = _bright_tiles()
    mean, deficit = radiance_bank(tiles, 50, 1.0)
    assert mean.shape == deficit.shape == (2, 50, 50, 3)
    assert deficit[0].max() == pytest.approx(0.0, abs=1e-3) and deficit[1, ..., 0].min() > 10.0  # checkerboard: spread
    sc = BeltScene(tiles, width_px=128, mm_per_px=4.0, belt_width_m=0.4, burden="full", lighting_variation=0.0,
                   dust_probability=0.0, camera_exposure=1.2)
    img = sc.render(0, 400)[:, sc.belt_x0 + 10 : sc.belt_x0 + sc.belt_px - 10]
    red = img[..., 0]
    assert (red == 255).any() and (red < 254).any()  # tile a clips; the checkerboard's pixels do not, though bright
    assert np.all(img[red == 255][:, 1] < 254)  # green, below the knee, not clipped


def test_camera_option_leaves_other_scenes_alone_and_rejects_bad_values():
    tiles = load_tiles("heldout")
    opts = dict(width_px=256, mm_per_px=4.0, seed=3, burden="full")
    a = BeltScene(tiles, **opts).render(0, 200)
    b = BeltScene(tiles, **opts, camera_knee=100.0, camera_shoulder=5.0).render(0, 200)  # knee alone: off
    assert hashlib.sha256(a.tobytes()).digest() == hashlib.sha256(b.tobytes()).digest()
    with pytest.raises(ValueError, match="camera"):
        BeltScene(tiles, **opts, camera_exposure=-1.0)
    with pytest.raises(ValueError, match="camera"):
        BeltScene(tiles, **opts, camera_exposure=1.0, camera_knee=0.0)


def test_clipped_red_colour_of_windows():
    w = np.zeros((2, 4, 4, 3), np.uint8)
    w[0, 0, 0] = [255, 240, 150]
    w[1, 1, 1] = [254, 127, 127]
    w[1, 2, 2] = [200, 200, 200]  # not clipped in red: not counted
    got = clipped_red_colour(list(w))
    assert got == pytest.approx([(240 / 255 + 127 / 254) / 2, (150 / 255 + 127 / 254) / 2])
    assert np.isnan(clipped_red_colour([w[1, 2:, 2:]])).all()


@pytest.mark.slow
def test_orange_plateaus_fail_the_clipped_colour_check():
    scene = scene_options("realistic")[0]
    raised = clipped_colour_checks(0, dict(scene, plateau_grey=REAL_PLATEAU_GREY), length_m=30.0)
    assert not any(c.ok for c in raised), [c.line() for c in raised]  # orange: G/R 0.72, B/R 0.39 (edge41)
    assert raised[0].real == pytest.approx(0.953, abs=0.005) and raised[1].real == pytest.approx(0.583, abs=0.005)


@pytest.mark.slow
def test_real_camera_reproduces_the_cameras_clipping_shares():
    checks = clipping_checks(0, dict(scene_options("realistic")[0], **REAL_CAMERA))
    assert all(c.ok for c in checks), [c.line() for c in checks]  # 1.073 / 0.146 % against 1.122 / 0.149 (clip42)
