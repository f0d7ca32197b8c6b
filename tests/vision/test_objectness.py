"""The learned objectness score: features, fit, save/load, seeds in the candidate maps, truth masks of rendered
objects, the threshold set out of fold, and the fitted model's own appearance limit."""

import numpy as np
import pytest

from vision.detect import OFF_BELT_LOGODDS, DetectorParams, candidate_maps, cell_context, object_logodds
from vision.errors import ModelError
from vision.objectness import OBJECTNESS_FEATURES, ObjectnessModel, block_belt, context_cells, half_grid, objectness_features, to_cells, training_cells
from vision.scene import BeltScene, SceneObject
from vision.tiles import load_tiles

N = len(OBJECTNESS_FEATURES)


def _cells(h: int = 40, w: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cells = np.empty((h, w, 5), np.float32)
    cells[..., 0], cells[..., 1] = 0.40 + 0.01 * rng.normal(size=(h, w)), 0.30 + 0.01 * rng.normal(size=(h, w))
    cells[..., 2] = 0.3 * rng.normal(size=(h, w))  # rock: grey level varies from cell to cell
    cells[..., 3], cells[..., 4] = -1.5 + 0.2 * rng.normal(size=(h, w)), -1.2 + 0.2 * rng.normal(size=(h, w))
    return cells


def _with_slab(cells: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """A uniform slab: each cell's colour and level ordinary, but flat over its whole extent (concrete on rock)."""
    out = cells.copy()
    out[rows, cols, 2] = 0.1
    out[rows, cols, 3] = -2.5
    out[rows, cols, 4] = -3.0
    return out


def test_context_cells_are_odd_increasing_and_follow_the_cell_size():
    assert context_cells(4.0) == (5, 11)
    assert context_cells(8.0) == (3, 7)
    a, b = context_cells(40.0)
    assert a % 2 == 1 and b % 2 == 1 and b > a >= 3


def test_features_shape_and_belt_median_offsets():
    cells = _cells()
    belt = np.ones(cells.shape[1], bool)
    x = objectness_features(cells, np.zeros(cells.shape[:2], np.float32), np.zeros(cells.shape[:2], np.float32), belt, (5, 11))
    assert x.shape == (N, 20, 25) and x.dtype == np.float32 and x[5].flags.c_contiguous  # blocks of 2 x 2 cells
    assert abs(float(np.median(x[0]))) < 0.01  # chromaticity r relative to the belt's median
    # the spread of the grey level over the context box is low on a flat slab, high on rock
    slab = _with_slab(cells, slice(10, 30), slice(15, 35))
    xs = objectness_features(slab, np.zeros(cells.shape[:2], np.float32), np.zeros(cells.shape[:2], np.float32), belt, (5, 11))
    k = OBJECTNESS_FEATURES.index("spread@s")
    assert xs[k, 10, 12] < xs[k, 1, 1] - 1.0


def test_fit_learns_a_flat_slab_on_rock_and_round_trips():
    xs, ys = [], []
    rng = np.random.default_rng(1)
    for s in range(6):
        cells = _with_slab(_cells(seed=s), slice(10, 30), slice(15, 35))
        cover = np.zeros(cells.shape[:2])
        cover[10:30, 15:35] = 1.0
        x = objectness_features(cells, np.zeros(cover.shape, np.float32), np.zeros(cover.shape, np.float32), np.ones(cover.shape[1], bool), (5, 11))
        xi, yi = training_cells(x, half_grid(cover), block_belt(np.ones(cover.shape[1], bool)), rng, max_negative=300)
        assert yi.sum() == 90 and (yi == 0).sum() == 300  # blocks over half covered: 10 x 9
        xs.append(xi)
        ys.append(yi)
    m = ObjectnessModel(hidden=8, seed=0).fit(np.concatenate(xs), np.concatenate(ys))
    test = _with_slab(_cells(seed=99), slice(5, 25), slice(5, 25))
    x = objectness_features(test, np.zeros(test.shape[:2], np.float32), np.zeros(test.shape[:2], np.float32), np.ones(test.shape[1], bool), (5, 11))
    z = m.score(x)
    assert z.dtype == np.float32
    assert z.shape == (20, 25) and np.median(z[5:10, 5:10]) > 1.0 and np.median(z[15:, 15:]) < -1.0
    back = ObjectnessModel.from_arrays(m.to_arrays())
    np.testing.assert_allclose(back.score(x), z, rtol=1e-5, atol=1e-4)


def test_fit_and_load_refuse_bad_input():
    with pytest.raises(ModelError, match="one class only"):
        ObjectnessModel().fit(np.zeros((10, N)), np.zeros(10))
    with pytest.raises(ModelError, match=rf"expected \(n, {N}\)"):
        ObjectnessModel().fit(np.zeros((10, 3)), np.arange(10) % 2)
    with pytest.raises(ModelError, match="not fitted"):
        ObjectnessModel().score(np.zeros((N, 2), np.float32))
    m = ObjectnessModel(hidden=4).fit(np.random.default_rng(0).normal(size=(200, N)), np.arange(200) % 2)
    with pytest.raises(ModelError, match=f"expected {N} objectness features, got 3"):
        m.score(np.zeros((3, 2), np.float32))
    a = m.to_arrays()
    del a["obj_w2"]
    with pytest.raises(ModelError, match="lack key"):
        ObjectnessModel.from_arrays(a)


def test_block_grid_helpers():
    v = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(half_grid(v), [[2.5, 4.5], [8.5, 10.5]])  # the odd last row is edge-padded
    assert to_cells(half_grid(v), 3, 4).shape == (3, 4) and to_cells(half_grid(v), 3, 4)[2, 3] == 10.5
    assert block_belt(np.array([False, True, True, True, True])).tolist() == [False, True, True]  # edge-padded


def test_objectness_seeds_and_grows_candidates_only_above_its_threshold():
    z = np.full((40, 40), -5.0, np.float32)
    z[10:20, 10:20] = 4.0  # an object
    z[30:32, 30:32] = 4.0  # a speck: the 3-cell box dilutes it below the threshold
    raw = np.zeros((40, 40), np.float32)
    p = DetectorParams(threshold=3.0, smooth_cells=5, objectness_cells=3, objectness_threshold=2.0, objectness_grow=0.0)
    _, region, seed = candidate_maps(raw, p, objectness=z)
    assert seed[12:18, 12:18].all() and not seed[25:, 25:].any() and region[seed].all()
    p.objectness_threshold = np.inf  # a model without objectness: no seeds from it
    assert not candidate_maps(raw, p, objectness=z)[2].any()


def test_cell_context_marks_off_belt_cells_never_object():
    cells = _cells()
    belt = np.ones(cells.shape[:2], bool)
    belt[:, :10] = False
    p = DetectorParams(ridge_sigma_cells=1.0, objectness_threshold=0.0)
    ridge, x = cell_context(cells, np.zeros(cells.shape[:2], np.float32), belt, p, 4.0, True)
    assert ridge is not None and not ridge[:, :10].any() and x is not None and x.shape[0] == N
    m = ObjectnessModel(hidden=4).fit(x.reshape(N, -1).T[:400], np.arange(400) % 2)
    z = object_logodds(m, x, belt)
    assert (z[:, :10] == OFF_BELT_LOGODDS).all()
    assert cell_context(cells, np.zeros(cells.shape[:2], np.float32), belt, p, 4.0, False)[1] is None


def test_object_cover_is_the_pasted_sprite():
    tiles = load_tiles("fit")
    sc = BeltScene(tiles, width_px=512, mm_per_px=2.0, seed=3, dust_probability=0.0)
    obj = SceneObject("plastic", 200.0, 100.0, belt_mm=600.0, lateral_mm=0.0, seed=1)
    plain, with_obj = sc.render(0, 600), sc.render(0, 600, [obj])
    cover = sc.object_cover(0, 600, [obj])
    assert cover.shape == (600, 512) and cover.max() == pytest.approx(1.0)
    changed = np.abs(with_obj.astype(int) - plain.astype(int)).sum(axis=2) > 30
    inside = cover > 0.9
    assert changed[inside].mean() > 0.95  # the covered pixels are the object's
    assert inside.sum() == pytest.approx(np.pi / 4 * 100 * 50, rel=0.35)  # about an ellipse-ish 200 x 100 mm at 2 mm/px
    assert not sc.object_cover(0, 200, [obj]).any()  # rows before the object


def test_fitted_model_has_an_out_of_fold_objectness_threshold(small_model):
    p = small_model.params
    assert small_model.objectness is not None and np.isfinite(p.objectness_threshold)
    assert p.objectness_context_cells == 2 * context_cells(2 * small_model.ore.block_px * small_model.mm_per_px)[1] + 1


def test_the_shipped_4_mm_model_has_objectness_and_coarser_cells_do_not():
    """At 4 mm/px (cells of 8 mm) the shipped camera model has the objectness (FIT_VERSION 10: it lifts the realistic
    candidate ceiling, docs/vision.md); 8 mm/px models (cells of 16 mm) stay without (vision.fit.OBJECTNESS_MAX_CELL_MM)."""
    from vision.fit import OBJECTNESS_MAX_CELL_MM
    from vision.model_cache import cached_model

    m = cached_model(mm_per_px=4.0, width_px=512)  # the shipped model (tests/test_shipped_models.py keeps it current)
    assert m.ore.block_px * m.mm_per_px <= OBJECTNESS_MAX_CELL_MM < m.ore.block_px * 8.0
    assert m.objectness is not None and np.isfinite(m.params.objectness_threshold)
    assert m.detector().objectness is not None
