"""The dense learned detector (vision/densenet*.py): ONNX equals torch, a tiny net trained here finds a rendered
object above the belt around it, the truth of its training frames, and clear errors on bad input."""

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage as ndi

from vision.classify import COMPONENT_FEATURES
from vision.densenet import IN_CHANNELS, OUT_CELLS, DenseNet, components, dense_inputs
from vision.densenet_data import DenseTrainingSet, cover_cells, stream
from vision.densenet_eval import level_of
from vision.errors import FrameError, ModelError, VisionError

torch = pytest.importorskip("torch", reason="the dense detector's fit needs torch: pip install -e . (a core dependency)")
pytest.importorskip("onnxruntime", reason="the dense detector runs with onnxruntime: pip install -e . (a core dependency)")
from vision.densenet_fit import export, fit_densenet, network  # noqa: E402

#: Large objects on today's belt: what a tiny net learns in a few seconds.
BIG = {"length_range_mm": (200.0, 500.0)}


def _frames(tiles: str, seed: int, n: int, per_m: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(inputs (IN_CHANNELS, h, w), cover (h/4, w/4)) of ``n`` streamed 2,048-line frames of today's belt."""
    out, ref = [], None
    for frame, cam in stream(tiles, seed, n * 8.192, scene={}, objects=BIG, objects_per_m=per_m):
        inp = dense_inputs(frame.image, 4.0, ref)
        ref = inp.last_ref
        out.append((inp.x[0], cover_cells(cam, frame, inp.x.shape[2] // OUT_CELLS, inp.x.shape[3] // OUT_CELLS)))
    return out[:n]


@pytest.fixture(scope="module")
def fit_frames():
    return _frames("fit", 5, 4, 3.0)


@pytest.fixture(scope="module")
def tiny(fit_frames):
    data = DenseTrainingSet(np.stack([x for x, _ in fit_frames]).astype(np.float16), np.stack([c for _, c in fit_frames]).astype(np.float16),
                            np.array(["today"] * len(fit_frames)))
    return fit_densenet(data, seed=0, epochs=60, learning_rate=0.01)


def test_onnx_run_equals_the_torch_forward_on_a_rendered_frame(fit_frames):
    torch.manual_seed(3)
    net = network(torch, np.array([0.4, 0.35, 0.0, -2.5, -2.0]), np.array([0.05, 0.02, 0.3, 0.7, 0.5])).eval()
    x = fit_frames[0][0][None].astype(np.float32)
    onnx_map = DenseNet(export(torch, net)).logit_map(x)
    with torch.no_grad():
        torch_map = net(torch.from_numpy(x)).numpy()[:, 0]
    assert onnx_map.shape == (1, x.shape[2] // OUT_CELLS, x.shape[3] // OUT_CELLS)
    assert np.abs(onnx_map - torch_map).max() <= 1e-5


def test_training_truth_marks_the_visible_object_pixels_and_nothing_on_object_free_belt(fit_frames):
    covers = np.stack([c for _, c in fit_frames])
    assert covers.max() == 1.0 and 0.0 < (covers >= 0.2).mean() < 0.2
    free = _frames("fit", 6, 1, 0.0)
    assert free[0][1].max() == 0.0


def test_tiny_net_peaks_higher_on_a_held_out_object_than_on_the_belt_around_it(tiny):
    dense, _ = tiny
    seen = 0
    for frame, cam in stream("heldout", 21, 3 * 8.192, scene={}, objects=BIG, objects_per_m=1.0):
        logit, _ = dense.frame_map(frame.image, 4.0)
        cover = cover_cells(cam, frame, *logit.shape)
        obj_labels, n = ndi.label(cover >= 0.5)
        for k in range(1, n + 1):
            on = obj_labels == k
            if on.sum() < 6:  # a sliver at the frame edge
                continue
            ring = ndi.binary_dilation(on, iterations=8) & ~ndi.binary_dilation(cover > 0, iterations=2) & np.isfinite(logit)
            assert logit[on].max() > logit[ring].max(), f"object {k}: peak {logit[on].max():.2f} <= belt around {logit[ring].max():.2f}"
            seen += 1
    assert seen >= 2


def test_components_give_each_connected_group_its_peak_and_the_level_halves_p_none():
    m = np.full((16, 8), -5.0, np.float32)
    m[2:4, 2:4] = [[0.0, 1.0], [2.0, 0.5]]
    m[10, 6] = 3.0
    comps = sorted(components(m), key=lambda c: c.row)
    assert [round(c.peak_logit, 3) for c in comps] == [2.0, 3.0]
    assert comps[0].rows == 2 and comps[1].rows == 1 and 2.0 <= comps[0].row <= 3.0
    lv = level_of(np.array([-1.0, 3.0]))
    assert np.isclose(1 / (1 + np.exp(lv)), 0.5 / (1 + np.exp(3.0)))


def test_bad_input_raises_the_vision_error_naming_the_problem(tiny):
    dense, _ = tiny
    with pytest.raises(ModelError, match="inputs \\(n, 6, h, w\\)"):
        dense.logit_map(np.zeros((1, 3, 64, 64), np.float32))
    x = np.zeros((1, IN_CHANNELS, 64, 64), np.float32)
    x[0, 2, 5, 7] = np.nan
    with pytest.raises(ModelError, match="non-finite value .* at \\(n, channel, row, col\\) \\(0, 2, 5, 7\\)"):
        dense.logit_map(x)
    with pytest.raises(ModelError, match="multiples of 4"):
        dense.logit_map(np.zeros((1, IN_CHANNELS, 62, 64), np.float32))
    with pytest.raises(FrameError, match="\\(H, W, 3\\) RGB frame, got shape \\(64, 64, 4\\)"):
        dense.frame_map(np.zeros((64, 64, 4), np.uint8), 4.0)
    with pytest.raises(FrameError, match="uint8 frame, got float32"):
        dense.frame_map(np.full((64, 64, 3), np.nan, np.float32), 4.0)
    with pytest.raises(VisionError, match="cannot load"):
        DenseNet(b"not onnx").logit_map(np.zeros((1, IN_CHANNELS, 64, 64), np.float32))
    assert issubclass(ModelError, RuntimeError) and issubclass(FrameError, ValueError)


def test_dense_seeds_are_the_map_above_the_level_at_cell_resolution_on_the_belt_only(tiny, fit_frames):
    from vision.densenet import DenseSeeds

    dense, _ = tiny
    x = fit_frames[0][0].astype(np.float32)
    feats, belt = x[:-1].transpose(1, 2, 0), np.broadcast_to(x[-1] > 0.5, x.shape[1:]).copy()
    belt[:, :20] = False  # a belt narrower than the columns the features found: the net sees that belt too
    x[-1] = belt
    logit = dense.logit_map(x[None])[0]
    level = float(np.quantile(logit, 0.99))
    cells = _seed_cells(DenseSeeds(dense, level), feats, belt)
    expected = np.repeat(np.repeat(logit >= level, OUT_CELLS, axis=0), OUT_CELLS, axis=1) & belt
    assert cells.shape == belt.shape and np.array_equal(cells, expected) and cells.any() and not cells[:, :20].any()
    odd = _seed_cells(DenseSeeds(dense, level), feats[:-3], belt[:-3])  # rows padded to whole output cells
    assert odd.shape == (belt.shape[0] - 3, belt.shape[1])


def _seed_cells(seeds, feats: np.ndarray, belt: np.ndarray) -> np.ndarray:
    """The cells the net adds on a block without any features' region: its own regions, the seeds (apply())."""
    region, seed = np.zeros(belt.shape, bool), np.zeros(belt.shape, bool)
    own = seeds.apply(seeds.logit_cells(feats, belt), belt, region, seed)
    assert own is not None and np.array_equal(own, region) and np.array_equal(own, seed)
    return own


def test_detector_with_dense_seeds_makes_candidates_on_the_objects_from_the_nets_cells_alone(tiny):
    """The shipped 4 mm/px model's detector with every feature seed switched off (thresholds at infinity), every
    candidate kept, on held-out frames of today's belt with large objects: no candidate without the tiny net's seeds;
    with them, candidates on the objects, through the component features and the classifier (a p(none) each)."""
    from vision.densenet import BASE_LOGIT, DenseSeeds
    from vision.evaluate import MATCH_MARGIN_MM
    from vision.model_cache import cached_model

    dense, _ = tiny
    model = cached_model(mm_per_px=4.0, width_px=512)
    off = dict(threshold=np.inf, fine_threshold=np.inf, broad_threshold=np.inf, ridge_threshold=np.inf,
               dark_ridge_threshold=np.inf, objectness_threshold=np.inf)
    results = []
    for seeds in (None, DenseSeeds(dense, BASE_LOGIT)):
        det = model.detector()
        det.params = replace(det.params, **off)
        det.report_all, det.dense_seeds, det.thin_sticks = True, seeds, False  # the net's candidates, not the sticks
        found, cam = [], None
        for frame, camera in stream("heldout", 21, 3 * 8.192, scene={}, objects=BIG, objects_per_m=1.0):
            found += det.process(frame).detections
            cam = camera
        found += det.flush()
        results.append((found, [o for o in cam.objects if o.belt_mm < cam.position_m * 1000.0]))
    assert results[0][0] == []
    found, truth = results[1]
    pos = np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in found]).reshape(-1, 2)
    hit = [(np.hypot(pos[:, 0] - o.belt_mm, pos[:, 1] - o.lateral_mm) <= o.length_mm / 2 + MATCH_MARGIN_MM).any() for o in truth]
    assert len(truth) >= 2 and sum(hit) >= len(truth) - 1, f"{sum(hit)} of {len(truth)} objects with a candidate"
    assert all(0.0 <= d.p_none <= 1.0 for d in found)
    # each has the net's peak log-odds as its last feature: at least the seeds' level (the net seeded every one of
    # them), and not one value for all
    peak = np.array([d.features[-1] for d in found])
    assert all(len(d.features) == len(COMPONENT_FEATURES) + 1 for d in found)
    assert (peak >= BASE_LOGIT).all() and np.ptp(peak) > 0.5


def test_dense_seeds_seed_the_features_regions_and_keep_their_own_apart(tiny, fit_frames):
    """apply(): the features' regions stay as they are (a component keeps its shape and its ring of ore), the net's
    cells in them seed them, and its own regions keep APART_CELLS from them."""
    from vision.densenet import APART_CELLS, DenseSeeds

    dense, _ = tiny
    x = fit_frames[0][0].astype(np.float32)
    feats, belt = x[:-1].transpose(1, 2, 0), np.broadcast_to(x[-1] > 0.5, x.shape[1:])
    seeds = DenseSeeds(dense, float(np.quantile(dense.logit_map(x[None])[0], 0.98)))
    cells = _seed_cells(seeds, feats, belt)
    region = ndi.binary_dilation(cells, iterations=2) & belt
    region[:, : region.shape[1] // 2] = False  # the features' regions on one half only
    region0, seed0 = region.copy(), np.zeros_like(region)
    seed = seed0.copy()
    logit = seeds.logit_cells(feats, belt)
    own = seeds.apply(logit, belt, region, seed)
    added = region & ~region0
    assert own is not None and np.array_equal(own, added)  # the net's own regions, returned
    assert seeds.peak_map(logit, own) is logit
    only_own = DenseSeeds(dense, seeds.level, own_peak=True).peak_map(logit, own)
    assert np.array_equal(only_own[own], logit[own]) and np.isneginf(only_own[~own]).all()
    assert (region >= region0).all() and np.array_equal(seed & region0, cells & region0) and (seed & region0).any()
    assert added.any() and np.array_equal(seed & added, added)
    far = ndi.distance_transform_cdt(~region0, metric="chessboard")
    assert far[added].min() >= APART_CELLS


def test_fit_is_deterministic_on_one_thread(fit_frames):
    x, c = fit_frames[0]
    data = DenseTrainingSet(x[None].astype(np.float16), c[None].astype(np.float16), np.array(["today"]))
    first, _ = fit_densenet(data, seed=4, epochs=2)
    again, _ = fit_densenet(data, seed=4, epochs=2)
    other, _ = fit_densenet(data, seed=5, epochs=2)
    assert first.onnx_bytes == again.onnx_bytes and first.onnx_bytes != other.onnx_bytes


def test_the_refit_passes_its_seeds_to_the_fit_and_no_other_model_s_detector_gets_them(monkeypatch):
    """The refit's seeds reach the fit as its ``dense`` option (every detector the fit builds), never through a
    process-global patch: a model outside the fit keeps a detector without them while the fit runs."""
    from dataclasses import replace

    import vision.densenet_refit as refit
    from vision.densenet import DenseSeeds
    from vision.model_cache import cached_model

    other = replace(cached_model(mm_per_px=4.0, width_px=512), dense=None, dense_judge=None)  # the union's base
    seeds = DenseSeeds(DenseNet(b"unused: the session opens at the first run"))
    seen: dict = {}

    def fit(**kw):
        seen.update(kw, other_seeds=other.detector().dense_seeds)
        return replace(other, fitted_on={}, dense=kw["dense"])

    monkeypatch.setattr(refit, "fit_vision_model", fit)
    model = refit.refit_model(seeds, wood_weight=4.0)
    assert seen["dense"] is seeds and seen["other_seeds"] is None and seen["kind_weight"] == {"wood": 4.0}
    assert model.dense is seeds and model.fitted_on["kind_weight"] == {"wood": 4.0}
    refit.refit_model(seeds)
    assert seen["kind_weight"] is None  # C's recipe: unweighted, as before


def test_a_model_saved_with_the_net_loads_with_it_and_one_without_loads_as_before(tmp_path):
    from dataclasses import replace as with_field

    from vision.densenet import DenseSeeds
    from vision.fit import VisionModel
    from vision.model_cache import cached_model

    shipped = with_field(cached_model(mm_per_px=4.0, width_px=512), dense=None, dense_judge=None)  # the union's base
    assert shipped.detector().dense_seeds is None
    torch.manual_seed(3)
    onnx = export(torch, network(torch, np.zeros(5), np.ones(5)))
    model = with_field(shipped, dense=DenseSeeds(DenseNet(onnx), 1.5))
    again = VisionModel.load(model.save(tmp_path / "dense.npz"))
    assert again.dense is not None and again.dense.net.onnx_bytes == onnx and again.dense.level == 1.5
    assert again.detector().dense_seeds is again.dense
    assert again.version == model.version != shipped.version
