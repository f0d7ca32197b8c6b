"""Candidate scales and ridge seeds, source folds, the classifier ensemble, out-of-fold calibration, duplicate labels, cache key."""

from pathlib import Path

import numpy as np
import pytest

import vision.fit
from vision.classify import COMPONENT_FEATURES, NONE, KindClassifier
from vision.detect import Detection, DetectorParams, candidate_maps, ridge_score
from vision.errors import DataError, ModelError
from vision.fit import CandidatePool, _kind_under, broad_cells_for, cache_path, fine_cells_for, fit_data_digest, none_max_from, train_classifier
from vision.scene import BeltScene, SceneObject
from vision.tiles import TileSet, augmented_tiles, load_tiles, source_fold, source_of, tile_fold

N_FEATURES = len(COMPONENT_FEATURES)


def test_fine_scale_seeds_a_thin_bar_the_base_scale_misses():
    raw = np.zeros((40, 40), np.float32)
    raw[5:35, 20:22] = 6.0  # two cells wide: the 5-cell box dilutes it to 2.4, the 3-cell box to 4
    p = DetectorParams(threshold=3.0, grow_margin=1.0, smooth_cells=5)
    assert not candidate_maps(raw, p)[2].any()
    p.fine_cells, p.fine_threshold = 3, 3.0
    _, region, seed = candidate_maps(raw, p)
    assert seed[10:30, 20:22].all() and not seed[:, :15].any() and region[seed].all()


def test_broad_scale_seeds_a_large_mildly_unusual_patch():
    raw = np.zeros((60, 60), np.float32)
    raw[15:45, 15:45] = 2.6
    p = DetectorParams(threshold=3.0, grow_margin=1.0, smooth_cells=5)
    assert not candidate_maps(raw, p)[2].any()
    p.broad_cells, p.broad_threshold = 13, 2.5
    _, region, seed = candidate_maps(raw, p)
    assert seed[30, 30] and not seed[2, 2] and region[seed].all()


def test_ridge_seeds_a_bright_bar_not_a_round_rock_and_only_on_belt():
    yy, xx = np.mgrid[0:60, 0:60].astype(np.float32)
    lum = np.zeros((60, 60), np.float32)
    lum[10:50, 14:17] = 0.5  # a bar 3 cells wide
    lum[((yy - 30) ** 2 + (xx - 42) ** 2) < 16] = 0.5  # a round rock of the same contrast
    r = ridge_score(lum, (1.0, 2.5))
    assert r[22:39, 36:49].max() < 0.6 * r[30, 15]  # the rock's rim is only weakly ridge-like
    p = DetectorParams(threshold=3.0, grow_margin=1.0, smooth_cells=5, ridge_sigma_cells=1.0, ridge_threshold=0.75 * float(r[30, 15]))
    raw = np.zeros_like(lum)
    _, region, seed = candidate_maps(raw, p, lum)
    assert seed[20:40, 15].all() and not seed[:, 30:].any() and region[seed].all()
    belt = np.ones_like(lum, bool)
    belt[:, :20] = False
    assert not candidate_maps(raw, p, lum, belt)[2][:, :20].any()


def test_scale_widths():
    assert (fine_cells_for(4.0), broad_cells_for(4.0)) == (3, 13)
    assert (fine_cells_for(16.0), broad_cells_for(16.0)) == (1, 5)


def test_folds_split_by_source_and_keep_jittered_copies_together():
    aug = augmented_tiles("fit", 2, 0)
    folds = [tile_fold(aug, k, 2) for k in range(2)]
    assert sum(len(f) for f in folds) == len(aug)
    sources = [{source_of(Path(n.split("#")[0])) for n in f.names} for f in folds]
    assert sources[0] and sources[1] and not sources[0] & sources[1]
    with pytest.raises(ValueError, match="n_folds"):
        source_fold(aug.names[0], 0)
    one = TileSet(aug.tiles[:1], aug.names[:1], "one tile")
    with pytest.raises(DataError, match="fold"):
        tile_fold(one, 1 - source_fold(aug.names[0], 2), 2)


def _blobs(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, list[str]]:
    x = rng.normal(size=(3 * n, N_FEATURES))
    x[:n, 0] += 4.0
    x[n : 2 * n, 1] += 4.0
    return x, ["wood"] * n + ["metal"] * n + [NONE] * n


def test_ensemble_averages_its_members_and_round_trips():
    x, y = _blobs(np.random.default_rng(0))
    ens = KindClassifier(hidden=(8,), members=3).fit(x, y)
    singles = [KindClassifier(hidden=(8,), members=1, seed=s).fit(x, y) for s in range(3)]
    np.testing.assert_allclose(ens.proba(x[:10]), np.mean([c.proba(x[:10]) for c in singles], axis=0), atol=1e-12)
    back = KindClassifier.from_arrays(ens.to_arrays())
    np.testing.assert_allclose(back.proba(x[:10]), ens.proba(x[:10]))
    with pytest.raises(ModelError, match="members"):
        KindClassifier(members=0).fit(x, y)


def test_none_max_rule():
    assert none_max_from(np.array([])) == vision.fit.NONE_MAX_CAP
    assert none_max_from(np.array([0.9, 0.3, 0.7])) == pytest.approx(0.3 * vision.fit.NONE_MAX_MARGIN)
    # too few candidates to extrapolate a tail: the margin rule alone
    assert none_max_from(np.array([0.9, 0.3, 0.7]), belt_m=100.0) == pytest.approx(0.3 * vision.fit.NONE_MAX_MARGIN)


def test_tail_level_extrapolates_a_power_law_to_the_target_rate():
    # candidates on 100 m of normal belt whose count below p grows as p**2 (10 per metre in all): the level at which
    # the rate is 0.1 per 1,000 m is sqrt(1e-4 / 10) ~ 0.0032, far below the lowest value seen
    rng = np.random.default_rng(3)
    p = np.sqrt(rng.uniform(size=1000))
    level = vision.fit.tail_level(p, 100.0, 1e-4)
    assert level == pytest.approx(np.sqrt(1e-4 / 10), rel=0.6)
    assert level < 0.2 * p.min() * 10
    assert none_max_from(p, belt_m=100.0) == pytest.approx(min(level, 0.5 * p.min()))
    # a steeper tail (count ~ p**4) needs less extrapolation downwards
    assert vision.fit.tail_level(p ** 0.5, 100.0, 1e-4) > level


def test_decision_is_calibrated_out_of_fold():
    """Fold 1's normal belt holds object-like ore. A classifier trained on it calls it "none" (in sample); only one
    that never saw it shows how low p(none) gets on unseen ore, and the decision follows that."""
    rng = np.random.default_rng(1)
    pool = CandidatePool()
    for k in (0, 1):
        x, y = _blobs(rng)
        pool.add((list(x), y, [100.0] * len(y)), k, False)
    odd = rng.normal(size=(30, N_FEATURES))
    odd[:, 0] += 4.0
    pool.add((list(odd), [NONE] * 30, [100.0] * 30), 1, True)
    pool.add((list(rng.normal(size=(30, N_FEATURES))), [NONE] * 30, [100.0] * 30), 0, True)
    clf = train_classifier(pool, DetectorParams(min_length_mm=40.0))
    in_sample = none_max_from(clf.p_none(np.array(pool.x)[np.asarray(pool.normal)]))  # no belt given: margin rule
    assert clf.none_max < 0.5 * in_sample
    one_fold = CandidatePool(pool.x, pool.y, pool.length_mm, [0] * len(pool.x), pool.normal)
    clf1 = train_classifier(one_fold, DetectorParams(min_length_mm=40.0))
    assert clf1.none_max == pytest.approx(none_max_from(clf1.p_none(np.array(pool.x)[np.asarray(pool.normal)])))


def test_second_piece_of_an_object_is_trained_as_its_kind():
    objs = [SceneObject("wood", 300, 60, belt_mm=1000.0, lateral_mm=0.0), SceneObject("metal", 200, 20, belt_mm=4000.0, lateral_mm=300.0)]
    piece = Detection("cloth", 0.5, 80, 40, 3e3, 1.1, 0.0, 0.0, 0.0, 5.0, np.zeros((64, 64, 3), np.uint8), 1)
    assert _kind_under(piece, objs) == "wood"


def test_cache_key_is_fit_version_settings_and_data_not_source(monkeypatch, tmp_path):
    assert len(fit_data_digest()) == 12
    a = cache_path(2.0, 1024, 0, tmp_path)
    assert a == cache_path(2.0, 1024, 0, tmp_path) and a.parent == tmp_path
    assert cache_path(2.0, 1024, 0, tmp_path, normal_m=20.0) != a  # a fit setting
    monkeypatch.setattr(vision.fit, "FIT_VERSION", vision.fit.FIT_VERSION + 1)
    assert cache_path(2.0, 1024, 0, tmp_path) != a
    monkeypatch.setattr(vision.fit, "FIT_VERSION", vision.fit.FIT_VERSION - 1)
    monkeypatch.setattr(vision.fit, "fit_data_digest", lambda: "0" * 12)
    assert cache_path(2.0, 1024, 0, tmp_path) != a


def test_frame_beyond_belt_does_not_depend_on_frame_cuts():
    scene = BeltScene(load_tiles("heldout"), width_px=300, mm_per_px=8.0, seed=2)
    whole = scene.render(0, 1100)  # crosses the 512-row period of the frame texture
    np.testing.assert_array_equal(scene.render(500, 30), whole[500:530])
    np.testing.assert_array_equal(scene.render(1000, 100), whole[1000:1100])
