"""The hybrid (Detector.dense_classifier, issue 27): with the dense net's seeds on, its own components are judged by a
second classifier (fitted with the DENSE_FEATURE column) and its decision, and the features' candidates are exactly
those of the detector with the net off (the net seeds none of their regions); with Detector.dense_union the second
classifier judges the features' candidates too, and a candidate is reported when either reports it; bench_vision_dense
--hybrid refuses a model without a net, naming the file."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vision.classify import COMPONENT_FEATURES, DENSE_FLOOR, KindClassifier
from vision.densenet import DenseNet, DenseSeeds

torch = pytest.importorskip("torch", reason="the dense detector's fit needs torch: pip install -e . (a core dependency)")
pytest.importorskip("onnxruntime", reason="the dense detector runs with onnxruntime: pip install -e . (a core dependency)")
from vision.densenet_fit import export, network  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BIG = {"length_range_mm": (200.0, 500.0)}


@pytest.fixture(scope="module")
def frames() -> list:
    from vision.densenet_data import stream

    return [f for f, _ in stream("heldout", 21, 3 * 8.192, scene={}, objects=BIG, objects_per_m=1.0)]


@pytest.fixture(scope="module")
def seeds(frames) -> DenseSeeds:
    """An untrained net (seeded weights) at a level its top 3 % of cells pass on the first frame: regions of its own
    beside the features' (what the net learned does not matter to the split)."""
    torch.manual_seed(7)
    net = DenseNet(export(torch, network(torch, np.array([0.4, 0.35, 0.0, -2.5, -2.0]), np.array([0.05, 0.02, 0.3, 0.7, 0.5])).eval()))
    logit, _ = net.frame_map(frames[0].image, 4.0)
    return DenseSeeds(net, float(np.quantile(logit[np.isfinite(logit)], 0.97)), own_peak=True)


def _second_classifier() -> KindClassifier:
    """A classifier with the DENSE_FEATURE column that calls a component an object by that column alone."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=(200, len(COMPONENT_FEATURES)))
    dense_col = rng.uniform(-3.0, 3.0, 200)
    kinds = np.where(dense_col > 0.0, "wood", "none")
    return KindClassifier(members=1, seed=0, none_max=0.3).fit(np.column_stack([base, dense_col]), kinds)


def _run(model, frames, seeds=None, second=None, union=False) -> list:
    det = model.detector()
    det.report_all, det.dense_seeds, det.dense_classifier, det.dense_union = True, seeds, second, union
    # the split of merged candidates off (vision/split.py): it judges pieces of the candidates left unreported, so a
    # classifier that reports more would drop their pieces; these tests check the candidates and their judges alone
    det.split_merged = False
    det.thin_sticks = False  # nor the thin sticks, an evidence of their own with no features (vision/sticks.py)
    found = [d for f in frames for d in det.process(f).detections]
    return found + det.flush()


def _key(d) -> tuple:
    return (round(d.belt_m, 6), round(d.lateral_m, 6))


def test_hybrid_keeps_the_features_candidates_and_judges_the_nets_own_by_the_second_classifier(frames, seeds):
    from vision.model_cache import cached_model

    model = cached_model(mm_per_px=4.0, width_px=512)
    second = _second_classifier()
    off = sorted(_run(model, frames), key=_key)
    hybrid = _run(model, frames, seeds, second)
    feats = sorted([d for d in hybrid if not d.dense_own], key=_key)
    own = [d for d in hybrid if d.dense_own]
    # the features' candidates: bit-identical to the net off (components, statistics, the shipped classifier's calls
    # and decision); their rows carry the floor in the DENSE_FEATURE column (the net's peak on its own regions only)
    assert off and [_key(d) for d in feats] == [_key(d) for d in off]
    for a, b in zip(feats, off):
        assert (a.kind, a.probability, a.p_none, a.none_max, a.length_mm, a.width_mm, a.area_mm2, a.load, a.frame_id) == \
            (b.kind, b.probability, b.p_none, b.none_max, b.length_mm, b.width_mm, b.area_mm2, b.load, b.frame_id)
        assert np.array_equal(a.features[:-1], b.features) and a.features[-1] == DENSE_FLOOR
    # the net's own: scored by the second classifier on their rows (the net's peak in the last column), its decision
    assert own, "the net made no region of its own"
    assert all(d.second_judge for d in own) and not any(d.second_judge for d in feats)
    x = np.array([d.features for d in own])
    assert x.shape[1] == len(COMPONENT_FEATURES) + 1 and (x[:, -1] > DENSE_FLOOR).all()
    np.testing.assert_allclose([d.p_none for d in own], second.p_none(x), rtol=1e-9)
    assert all(d.none_max == 0.3 for d in own)
    assert not np.allclose([d.p_none for d in own], model.classifier.p_none(x))


def test_union_keeps_every_report_of_the_shipped_classifier_and_adds_those_of_the_second(frames, seeds):
    """dense_union: what the shipped classifier reports stays to the bit; a features' candidate it left unreported is
    reported with the second classifier's call when that reports it; the net's own are judged as in the hybrid."""
    from vision.model_cache import cached_model

    model = cached_model(mm_per_px=4.0, width_px=512)
    second = _second_classifier()
    everything = KindClassifier(members=1, seed=0, none_max=1.0).fit(*_second_rows())  # its decision passes every p(none)
    hybrid = sorted(_run(model, frames, seeds, second), key=_key)
    union = sorted(_run(model, frames, seeds, everything, union=True), key=_key)
    assert [_key(d) for d in union] == [_key(d) for d in hybrid]
    added = 0
    for u, h in zip(union, hybrid):
        if h.dense_own:
            continue
        if h.p_none <= h.none_max:  # the shipped classifier reported it: unchanged
            assert (u.kind, u.probability, u.p_none, u.none_max) == (h.kind, h.probability, h.p_none, h.none_max)
            assert not u.second_judge
        elif h.length_mm >= model.params.min_length_mm:  # it did not: the second reports it, with its own call
            added += 1
            assert u.none_max == 1.0 and u.p_none <= 1.0 and u.p_none == pytest.approx(everything.p_none(u.features[None])[0])
            assert u.second_judge
    assert added, "no features' candidate was left unreported by the shipped classifier on these frames"
    # a second classifier that reports nothing adds nothing: the union is the hybrid
    never = KindClassifier(members=1, seed=0, none_max=0.0).fit(*_second_rows())
    union_never = sorted(_run(model, frames, seeds, never, union=True), key=_key)
    feats = [(d.kind, d.p_none, d.none_max) for d in hybrid if not d.dense_own]
    assert [(d.kind, d.p_none, d.none_max) for d in union_never if not d.dense_own] == feats


def _second_rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(200, len(COMPONENT_FEATURES) + 1))
    return x, np.where(x[:, 0] > 0.0, "plastic", "none")


def test_without_the_second_classifier_the_net_still_seeds_the_features_regions_and_one_classifier_judges_all(frames, seeds):
    """dense_classifier None: as before the hybrid (the seeds' w27p behaviour), every candidate by the model's own."""
    from vision.model_cache import cached_model

    model = cached_model(mm_per_px=4.0, width_px=512)
    found = _run(model, frames, seeds)
    assert any(d.dense_own for d in found)
    x = np.array([d.features for d in found])
    np.testing.assert_allclose([d.p_none for d in found], model.classifier.p_none(x), rtol=1e-9, atol=1e-300)
    assert len({d.none_max for d in found} - {float(model.classifier.none_max)}) <= len(model.classifier.regimes_)


def test_bench_hybrid_refuses_a_model_without_a_net_or_a_missing_file_naming_it(tmp_path):
    from vision.model_cache import cached_model

    path = replace(cached_model(mm_per_px=4.0, width_px=512), dense=None, dense_judge=None).save(tmp_path / "no-net.npz")
    for given, says in ((path, f"--hybrid {path}: the model carries no dense net"),
                        (tmp_path / "missing.npz", f"cannot read vision model {tmp_path / 'missing.npz'}")):
        proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_dense", "--hybrid", str(given), "--quick"],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and says in proc.stderr, proc.stderr[-2000:]


def test_bench_union_without_hybrid_is_refused_saying_what_it_needs():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_dense", "--union", "--quick"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--union needs --hybrid C.npz" in proc.stderr, proc.stderr[-2000:]

