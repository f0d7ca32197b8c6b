"""The union shipped (FIT_VERSION 18, issue 27): VisionModel.dense_judge saved and loaded with the model, switching
the union on in its detectors; the built-in fit at the net's scale is the union fit (vision.union_fit), other scales
and settings keep FIT_VERSION 13's recipe; the shipped 4 mm/px model carries the net and the judge, and the installed
`oreline` runs with it (tests/vision/test_evaluate_camera.py: `oreline vision evaluate` on realistic belt, nothing fitted)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vision import union_fit
from vision.classify import COMPONENT_FEATURES, KindClassifier
from vision.errors import ModelError
from vision import fit
from vision.fit import DENSE_JUDGE_PREFIX, FEATURES_FIT_VERSION, FIT_VERSION, SHIPPED_DIR, VisionModel, cache_key, cache_path, union_applies
from vision.model_cache import cached_model


def _shipped_path() -> Path:
    return cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)


@pytest.fixture(scope="module")
def shipped() -> VisionModel:
    return VisionModel.load(_shipped_path(), mm_per_px=4.0)


def _toy_judge(none_max: float = 0.3) -> KindClassifier:
    """A classifier with the DENSE_FEATURE column (as tests/vision/test_densenet_hybrid.py builds them)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, len(COMPONENT_FEATURES) + 1))
    return KindClassifier(members=1, seed=0, none_max=none_max).fit(x, np.where(x[:, -1] > 0.0, "wood", "none"))


def test_the_shipped_4mm_model_is_the_union_a_net_and_a_judge_with_the_nets_peak(shipped):
    assert shipped.dense is not None and shipped.dense.own_peak
    assert shipped.dense_judge is not None and shipped.classifier is not None
    assert shipped.dense_judge.mean_.shape == (len(COMPONENT_FEATURES) + 1,)  # the DENSE_FEATURE column
    assert shipped.classifier.mean_.shape == (len(COMPONENT_FEATURES),)  # FIT_VERSION 13's classifier, without it
    assert shipped.fitted_on["fit_version"] == FIT_VERSION == 18
    assert shipped.fitted_on["union"]["dense_seeds"]["own_peak"] is True
    det = shipped.detector()
    assert det.dense_seeds is shipped.dense and det.dense_classifier is shipped.dense_judge and det.dense_union


def test_the_unions_base_is_fit_version_13s_shipped_model_to_the_bit(shipped, tmp_path):
    """The base ships beside the union under its FIT 13 cache key (the model the union was confirmed on), and the
    union's classifier, density, objectness and parameters are its own."""
    base_path = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR, version=FEATURES_FIT_VERSION)
    assert sorted(p.name for p in SHIPPED_DIR.glob("*.npz")) == sorted([base_path.name, _shipped_path().name])
    base = union_fit.features_model(4.0, 512, 0, tmp_path)  # from the shipped copy: no fit
    assert (tmp_path / base_path.name).is_file() and base.dense is None and base.dense_judge is None
    with np.load(base_path, allow_pickle=False) as b, np.load(_shipped_path(), allow_pickle=False) as u:
        for key in b.files:
            if key != "fitted_on":
                np.testing.assert_array_equal(u[key], b[key], err_msg=key)
    assert base.version == "oreline-vision-model-8:f9ce9850fe" != shipped.version  # FIT 13 as shipped, confirmed on


def test_a_judge_is_saved_and_loaded_with_the_model_and_is_part_of_its_version(shipped, tmp_path):
    judge = _toy_judge()
    model = replace(shipped, dense_judge=judge)
    back = VisionModel.load(model.save(tmp_path / "m.npz"))
    assert back.dense_judge is not None and back.dense is not None
    x = np.random.default_rng(1).normal(size=(50, len(COMPONENT_FEATURES) + 1))
    np.testing.assert_array_equal(back.dense_judge.p_none(x), judge.p_none(x))
    assert back.dense_judge.none_max == 0.3 and back.dense.net.onnx_bytes == shipped.dense.net.onnx_bytes
    assert back.version == model.version != shipped.version
    assert replace(shipped, dense_judge=_toy_judge(0.2)).version != model.version  # the judge's decision counts
    det = back.detector()
    assert det.dense_classifier is back.dense_judge and det.dense_union and det.dense_seeds is back.dense


def test_a_model_without_a_judge_loads_with_none_and_its_detector_keeps_the_union_off(shipped, tmp_path):
    with np.load(_shipped_path(), allow_pickle=False) as z:
        old = {k: z[k] for k in z.files if not k.startswith(DENSE_JUDGE_PREFIX)}  # as a file written before the judge
    np.savez(tmp_path / "old.npz", **old)
    model = VisionModel.load(tmp_path / "old.npz")
    assert model.dense_judge is None and model.dense is not None
    det = model.detector()
    assert det.dense_seeds is model.dense and det.dense_classifier is None and not det.dense_union
    plain = replace(shipped, dense=None, dense_judge=None)
    assert VisionModel.load(plain.save(tmp_path / "plain.npz")).detector().dense_seeds is None


def test_a_judge_without_a_net_is_refused_naming_the_file(shipped, tmp_path):
    with pytest.raises(ModelError, match="no dense net") as saving:
        replace(shipped, dense=None).save(tmp_path / "judge-only.npz")
    assert str(tmp_path / "judge-only.npz") in str(saving.value) and not (tmp_path / "judge-only.npz").exists()
    with np.load(_shipped_path(), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("dense_")}
    np.savez(tmp_path / "no-net.npz", **arrays)
    with pytest.raises(ModelError, match="has a dense judge .* but no dense net") as loading:
        VisionModel.load(tmp_path / "no-net.npz")
    assert str(tmp_path / "no-net.npz") in str(loading.value)
    arrays = {k: v for k, v in arrays.items() if k != f"{DENSE_JUDGE_PREFIX}cls_mean"}
    np.savez(tmp_path / "broken.npz", **arrays)
    with pytest.raises(ModelError, match="its dense judge: kind classifier arrays lack key 'cls_mean'") as broken:
        VisionModel.load(tmp_path / "broken.npz")
    assert str(tmp_path / "broken.npz") in str(broken.value)


def test_the_built_in_fit_is_the_union_at_the_nets_scale_only(shipped, tmp_path, monkeypatch):
    calls: list[tuple] = []

    def union(**kw):
        calls.append(("union", kw))
        return shipped

    def features_only(**kw):
        calls.append(("13", kw))
        return replace(shipped, dense=None, dense_judge=None)

    monkeypatch.setattr("vision.model_cache.union_model", union)
    monkeypatch.setattr("vision.model_cache.fit_vision_model", features_only)
    cached_model(mm_per_px=4.0, width_px=512, seed=3, cache_dir=tmp_path)  # seed 3: nothing shipped, so a fit
    cached_model(mm_per_px=2.0, width_px=1024, seed=3, cache_dir=tmp_path)
    cached_model(mm_per_px=4.0, width_px=512, seed=3, cache_dir=tmp_path, normal_m=20.0)  # not the built-in settings
    assert [c[0] for c in calls] == ["union", "13", "13"]
    assert calls[0][1] == {"mm_per_px": 4.0, "width_px": 512, "seed": 3, "cache_dir": tmp_path}
    assert calls[2][1]["normal_m"] == 20.0
    assert VisionModel.load(cache_path(4.0, 512, 3, tmp_path)).dense_judge is not None  # the union, cached


def test_only_the_unions_cache_key_follows_fit_version(monkeypatch):
    assert union_applies(4.0) and not union_applies(2.0) and not union_applies(4.0, scene={})
    before = {(mm, tuple(kw)): cache_key(mm, int(2048 / mm), **kw) for mm, kw in ((4.0, {}), (2.0, {}), (1.0, {}), (4.0, {"normal_m": 20.0}))}
    monkeypatch.setattr(fit, "FIT_VERSION", FIT_VERSION + 1)
    after = {(mm, tuple(kw)): cache_key(mm, int(2048 / mm), **kw) for mm, kw in ((4.0, {}), (2.0, {}), (1.0, {}), (4.0, {"normal_m": 20.0}))}
    assert [k for k in before if before[k] != after[k]] == [(4.0, ())]  # other scales' cached FIT 13 models stay valid


def test_a_union_fit_without_torch_or_onnx_says_what_to_install_before_fitting(monkeypatch):
    monkeypatch.setattr(union_fit, "FIT_PACKAGES", ("torch", "oreline_no_such_package"))
    monkeypatch.setattr(union_fit, "fit_vision_model", lambda **kw: pytest.fail("fitted before checking the packages"))
    with pytest.raises(ModelError, match=r"needs oreline_no_such_package: pip install -e '\.\[fit\]' \(make fit-extra\)"):
        union_fit.union_model()
