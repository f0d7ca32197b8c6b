"""The learned patch verifier: patches, fitting with torch, ONNX inside the model file, the detector's use of it."""

import copy
import sys

import numpy as np
import pytest

from vision.classify import NONE
from vision.decision import DECISION_MARGIN
from vision.detect import DetectorParams
from vision.errors import ModelError
from vision.fit import CandidatePool, VisionModel, train_classifier
from vision.frames import Frame
from vision.patchnet import PATCH_PX, patch_inputs, patch_of
from vision.patchnet_data import heldout_candidates
from vision.scene import BeltScene, random_objects
from vision.tiles import load_tiles

pytest.importorskip("torch", reason="the patch verifier's fit needs torch: pip install -e '.[fit]'")
from vision.patchnet_fit import fit_patchnet

#: Fits of the small model's belt and of the network (about 2 min on a busy 2-core machine); the verifier is not shipped.
pytestmark = pytest.mark.slow


def _labelled(model: VisionModel, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, patches, labels) of every candidate over 60 m of held-out belt with 3 objects per metre."""
    h = heldout_candidates(model, length_m=60.0, seed=seed, objects_per_m=3.0, scene={}, objects={})
    on = h.on_object()
    y = np.where(on.any(axis=1), h.object_kind[np.argmax(on, axis=1)], NONE)
    return h.x, h.patch, y


@pytest.fixture(scope="module")
def belt(small_model):
    """``belt(seed)``: :func:`_labelled` of the small model, each seed's 60 m taken once for the module (the tests
    only read it: the arrays are made read-only); six tests used seed 3, each loading it again from the cache."""
    done: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def get(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if seed not in done:
            arrays = _labelled(small_model, seed)
            for a in arrays:
                a.setflags(write=False)
            done[seed] = arrays
        return done[seed]

    return get


#: Epochs of the tests' fits (the built-in fit's are more, on some 20 times the candidates).
EPOCHS = 12


@pytest.fixture(scope="module")
def net(belt):
    x, patches, y = belt(3)
    return fit_patchnet(x, patches, y, seed=0, epochs=EPOCHS)


@pytest.fixture(scope="module")
def with_net(small_model, net):
    clf = copy.deepcopy(small_model.classifier)
    if list(clf.classes_) != list(net.classes_):
        pytest.skip(f"the small model's classes {clf.classes_.tolist()} differ from the belt's {net.classes_.tolist()}")
    clf.patchnet_ = net
    return VisionModel(small_model.ore, small_model.params, clf, small_model.width_px, small_model.fitted_on, small_model.objectness)


def test_patch_is_the_thumbnail_in_2x2_means_and_inputs_are_colour_and_difference_from_the_border():
    thumb = np.zeros((2 * PATCH_PX, 2 * PATCH_PX, 3), np.uint8)
    thumb[0::2, :, 0] = 100  # rows alternate 100 / 0 in red: the 2 x 2 mean is 50
    thumb[24:40, 24:40] = 200
    p = patch_of(thumb)
    assert p.shape == (PATCH_PX, PATCH_PX, 3) and p.dtype == np.uint8
    assert p[0, 0, 0] == 50 and p[16, 16].tolist() == [200, 200, 200]
    x = patch_inputs(p[None])
    assert x.shape == (1, 6, PATCH_PX, PATCH_PX) and x.dtype == np.float32
    assert x[0, 3, 0, 0] == 0.0 and x[0, 5, 16, 16] == pytest.approx(200 / 64.0)  # the border is the local ore
    with pytest.raises(ModelError, match="64x64x3 thumbnail"):
        patch_of(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ModelError, match="expected patches"):
        patch_inputs(np.zeros((2, 16, 16, 3), np.uint8))


def test_verifier_tells_objects_from_ore_on_belt_it_never_saw(belt, net):
    x, patches, y = belt(4)
    p_none = net.proba(x, patches)[:, list(net.classes_).index(NONE)]
    obj = y != NONE
    assert obj.sum() >= 10 and (~obj).sum() >= 10
    # area under the ROC curve of p(none) for "none" against objects
    auc = np.mean(p_none[~obj][:, None] > p_none[obj][None, :]) + 0.5 * np.mean(p_none[~obj][:, None] == p_none[obj][None, :])
    assert auc > 0.7  # the small model's MLPs: 0.85


def test_fit_is_deterministic(belt):
    # two fits of 2 epochs (a 12-epoch fit again cost 10 CPU s; another seed moves these probabilities by 0.11)
    x, patches, y = belt(3)
    first, again = (fit_patchnet(x, patches, y, seed=0, epochs=2) for _ in range(2))
    np.testing.assert_allclose(again.proba(x[:50], patches[:50]), first.proba(x[:50], patches[:50]), atol=1e-6)


def test_verifier_is_saved_as_onnx_inside_the_model_file(with_net, tmp_path, belt):
    path = with_net.save(tmp_path / "m.npz")
    with np.load(path) as z:
        assert z["pn_onnx"].dtype == np.uint8 and bytes(z["pn_onnx"][:2].tobytes()) != b""
    back = VisionModel.load(path).classifier
    assert back is not None and with_net.classifier is not None
    x, patches, _ = belt(3)
    assert back.needs_patches
    np.testing.assert_allclose(back.proba(x[:20], patches[:20]), with_net.classifier.proba(x[:20], patches[:20]), atol=1e-9)
    with pytest.raises(ModelError, match="needs each candidate's image patch"):
        back.proba(x[:20])
    with pytest.raises(ModelError, match="got 3 for 20"):
        back.proba(x[:20], patches[:3])


def test_detector_scores_each_candidate_with_its_own_patch(with_net, small_model):
    sc = BeltScene(load_tiles("heldout"), width_px=small_model.width_px, mm_per_px=small_model.mm_per_px, seed=8)
    rows = int(6000 / small_model.mm_per_px)
    objs = random_objects(6000.0, np.random.default_rng(8), per_m=2.0)
    det = with_net.detector()
    det.report_all = True
    found = det.process(Frame.still(sc.render(0, rows, objs), small_model.mm_per_px)).detections + det.flush()
    assert len(found) >= 3
    x = np.array([d.features for d in found])
    expected = with_net.classifier.p_none(x, np.stack([patch_of(d.thumbnail) for d in found]))
    np.testing.assert_allclose([d.p_none for d in found], expected, atol=1e-9)
    assert not np.allclose(expected, small_model.classifier.p_none(x))  # the patches changed the scores


@pytest.mark.usefixtures("fit_blas_threads")  # trains classifiers: one BLAS thread, as a fit
def test_fit_sets_the_decision_on_the_combined_p_none(belt):
    # the decision-only belt: seed 4's candidates, all taken as "none" (was seed 5's, another 60 m rendered and
    # detected for this test alone; seed 4 is belt the training set (seed 3) never saw, as seed 5 was)
    x, patches, y = belt(3)
    free_x, free_patches, _ = belt(4)
    pool = CandidatePool()
    pool.add((list(x), list(y), [100.0] * len(y), [np.nan] * len(y), list(patches)), 0, False)
    pool.add((list(free_x), [NONE] * len(free_x), [100.0] * len(free_x), [np.nan] * len(free_x), list(free_patches)), 0, True, "today", train=False)
    pool.add_belt("today", 60.0)
    clf, decision = train_classifier(pool, DetectorParams(min_length_mm=40.0), patchnet=True)
    assert clf.needs_patches
    lowest = clf.p_none(free_x, free_patches).min()
    assert decision.none_max == pytest.approx(min(0.5, DECISION_MARGIN * lowest))
    plain, _ = train_classifier(pool, DetectorParams(min_length_mm=40.0), patchnet=False)
    assert not plain.needs_patches


def test_fit_without_torch_names_the_extra(monkeypatch, belt):
    x, patches, y = belt(3)
    monkeypatch.setitem(sys.modules, "torch", None)  # as on an install without the fit extra
    with pytest.raises(ModelError, match=r"\.\[fit\]"):
        fit_patchnet(x, patches, y)


def test_a_verifier_model_without_onnxruntime_names_the_package(monkeypatch, with_net, tmp_path, belt):
    """A model file with a patch verifier, loaded where onnxruntime (a core dependency) is missing: a ModelError naming
    it and how to install it when the verifier is first asked, not an ImportError."""
    back = VisionModel.load(with_net.save(tmp_path / "m.npz")).classifier
    assert back is not None and back.patchnet_ is not None
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on a broken install without onnxruntime
    x, patches, _ = belt(3)
    with pytest.raises(ModelError, match=r"needs onnxruntime, a dependency of oreline: pip install 'onnxruntime"):
        back.patchnet_.proba(x[:5], patches[:5])
