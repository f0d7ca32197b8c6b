"""The detector's speed helpers (issue 27, speed41) give the numbers of what they replace."""

from __future__ import annotations

import numpy as np
import pytest

from vision.classify import _neighbour_steps
from vision.filters import edge_padded
from vision.regime import row_load
from vision.scene import ore_mask


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (7, 1), (3, 4), (41, 29)])
def test_edge_padded_equals_numpy_pad(shape: tuple[int, int]) -> None:
    a = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    got = edge_padded(a)
    assert got.dtype == a.dtype and np.array_equal(got, np.pad(a, 1, mode="edge"))


def test_row_load_with_the_callers_ore_mask_is_the_same() -> None:
    rng = np.random.default_rng(4)
    rgb = rng.uniform(0, 255, (37, 23, 3)).astype(np.float32)
    belt = np.zeros((37, 23), bool)
    belt[:, 3:20] = True
    belt[5] = False  # a row without belt: NaN both ways
    want = row_load(rgb, belt)
    got = row_load(rgb, belt, ore_mask(rgb))
    assert np.isnan(want[5]) and np.array_equal(got, want, equal_nan=True)
    assert not np.array_equal(row_load(rgb, belt, np.zeros((37, 23), bool)), want, equal_nan=True)  # the mask is used


def test_neighbour_steps_of_several_channels_equal_each_channels_full_map_differences() -> None:
    v = np.random.default_rng(5).normal(size=(9, 11, 5)).astype(np.float32)
    pix = np.array([0, 5, 10, 11, 23, 50, 87, 98, 9 * 11 - 1])
    dy, dx = _neighbour_steps(v[..., :3], pix)
    assert dy.shape == dx.shape == (pix.size, 3) and dy.dtype == np.float32
    for k in range(3):
        full_y, full_x = np.zeros((9, 11), np.float32), np.zeros((9, 11), np.float32)
        full_y[1:-1] = v[2:, :, k] - v[:-2, :, k]
        full_x[:, 1:-1] = v[:, 2:, k] - v[:, :-2, k]
        one_y, one_x = _neighbour_steps(v[..., k], pix)
        assert np.array_equal(dy[:, k], full_y.ravel()[pix]) and np.array_equal(dx[:, k], full_x.ravel()[pix])
        assert np.array_equal(one_y, dy[:, k]) and np.array_equal(one_x, dx[:, k])
