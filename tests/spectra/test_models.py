"""Model bundle: save/load, grid checks, held-out classification, novelty, unmixing and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from scipy.optimize import nnls

from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
from spectra.errors import GridError, InvalidSpectrumError, ModelError
from spectra.grid import InstrumentGrid, grid_by_name
from spectra.hapke import mass_fractions, reff_from_ssa
from spectra.models.bundle import SpectraModel
from spectra.models.classifier import CalibratedLinearClassifier
from spectra.models.training import split_groups
from spectra.models.unmixing import nnls_batch
from spectra.scene import MixtureSimulator


def test_split_keeps_physical_samples_on_one_side(library, model):
    train, test = set(model.info["train_groups"]), set(model.info["test_groups"])
    assert train and test and not train & test
    for e in library.entries:  # every grain-size fraction of a held-out sample is held out
        assert (e.group in test) != (e.group in train) or e.file in model.info["skipped_files"]
    assert split_groups(library, 0.3, 0) == split_groups(library, 0.3, 0)


def test_save_load_round_trip(model, model_path, rlib):
    loaded = SpectraModel.load(model_path, grid_by_name("ingaas256"))
    assert loaded.training_hash == model.training_hash and loaded.model_version == model.model_version
    x = rlib.reflectance[:10]
    a, b = model.score(x), loaded.score(x)
    assert np.allclose(a.p, b.p) and np.allclose(a.t2, b.t2) and np.allclose(a.abundances, b.abundances)


def test_loading_onto_another_grid_is_an_error(model_path):
    with pytest.raises(GridError, match="expected grid"):
        SpectraModel.load(model_path, grid_by_name("full"))
    shifted = InstrumentGrid("ingaas256", np.linspace(905.0, 1705.0, 256), np.full(256, 10.0))
    with pytest.raises(GridError):
        SpectraModel.load(model_path, shifted)


def test_corrupt_model_file(tmp_path, model_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ModelError):
        SpectraModel.load(bad)
    np.savez(tmp_path / "nohead.npz", x=np.zeros(3))
    with pytest.raises(ModelError, match="header"):
        SpectraModel.load(tmp_path / "nohead.npz")


def test_classifier_on_held_out_ore_is_ore(model, rlib):
    """Genuine ore of samples the model never saw is called ore (calibrated to the line's prior), not waste."""
    sim = MixtureSimulator(rlib, allowed_groups=model.info["test_groups"])
    det = DetectorModel(rlib.grid, DetectorConfig(), seed=11)
    rng = np.random.default_rng(11)
    X = simulate_referenced(det, sim.render(sim.ore_blends(rng, 300), rng), rng, 1.0, 0.1)
    b = model.score(X, unmix=False)
    assert np.allclose(b.p.sum(1), 1.0)
    assert b.p_ore.mean() > 0.7 and np.mean(b.p_waste > 0.5) < 0.05


def test_calibration_recovers_temperature_and_prior():
    rng = np.random.default_rng(4)
    clf = CalibratedLinearClassifier(("a", "b", "c"))
    y = rng.integers(0, 3, 20000)
    z = rng.standard_normal((y.size, 3))
    z[np.arange(y.size), y] += 1.0
    # true posterior with equal classes is softmax(z); the scores come 4x too confident
    clf.calibrate(4.0 * z, y)
    assert clf.temperature_ == pytest.approx(4.0, rel=0.1) and np.abs(clf.bias_).max() < 0.1
    clf.calibrate(4.0 * z, y, prior=np.array([0.9, 0.05, 0.05]))
    assert clf.bias_[1] < -2.0 and clf.bias_[2] < -2.0  # log(0.05/0.9) = -2.9


def test_far_from_training_is_outside_the_domain_not_the_prior(model, rlib):
    """A spectrum far outside the training spectra is outside the classifier's domain (the line then uses the
    identification, never the shrunk-to-prior probabilities); the training-like spectrum is inside."""
    clf = model.classifier
    x = model.preprocessing.features(rlib.reflectance[:1])
    far = x + 40.0 * np.sign(clf.coef_[1] - clf.coef_[0])[None, :] * clf.scale_[None, :]
    assert clf.shrink(far)[0] < 0.01 * clf.shrink(x)[0]
    assert not clf.in_domain(far)[0]
    assert clf.distance_ratio(far)[0] > 100 * clf.distance_ratio(x)[0]


def test_estimators_follow_the_sklearn_contract(model):
    """Hyperparameters in __init__ (get_params/clone), n_features_in_, clear shape errors."""
    from sklearn.base import clone

    clf = model.classifier
    assert clf.n_features_in_ == clf.mean_.size and model.novelty.n_features_in_ == model.novelty.mean_.size
    assert set(clone(clf).get_params()) == {"classes", "C", "n_components", "max_iter", "max_distance_ratio"}
    assert set(clone(model.novelty).get_params()) == {"explained", "max_components", "alpha"}
    with pytest.raises(ModelError, match=f"expects \\(n, {clf.n_features_in_}\\) features, got shape \\(3, 5\\)"):
        clf.predict_proba(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="features, got shape"):
        model.novelty.score(np.zeros(7))
    with pytest.raises(ModelError, match="not fitted"):
        CalibratedLinearClassifier().predict_proba(np.zeros((1, 3)))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 6))
    y = np.repeat([0, 1, 2], 30)
    X[y == 1, 0] += 3
    X[y == 2, 1] += 3
    fitted = CalibratedLinearClassifier(("a", "b", "c"), C=0.5, n_components=4).fit(X, y)
    assert np.mean(fitted.predict(X) == y) > 0.8


def test_novelty_flags_an_unseen_material_class(model, rlib):
    """Pure contaminant spectra (a class never in the ore population) are flagged; ore blends mostly not."""
    sim = MixtureSimulator(rlib, allowed_groups=model.info["train_groups"])
    rng = np.random.default_rng(3)
    ore = model.score(sim.render(sim.ore_blends(rng, 300), rng), unmix=False)
    plastics = [i for i, e in enumerate(rlib.entries) if e.klass == "contaminant"]
    foreign = model.score(rlib.reflectance[plastics], unmix=False)
    assert foreign.novel.mean() > 0.9
    assert ore.novel.mean() < 0.1


def test_unmixing_recovers_known_abundances(model):
    um = model.unmixer
    assert um.minerals[-1] == "water" and len(um.minerals) == len(um.solids) + 1
    rng = np.random.default_rng(5)
    truth_xs = rng.dirichlet(np.ones(3), 50)
    idx = [um.solids.index(m) for m in ("hematite", "goethite", "quartz")]
    xs = np.zeros((50, len(um.solids)))
    xs[:, idx] = truth_xs
    refl = reff_from_ssa(xs @ um.endmembers)
    ab, res = um.unmix(refl, n_sweeps=300)
    truth_mass = mass_fractions(xs, um.density, um.grain_um)
    moisture = ab[:, -1]
    assert moisture.max() < 0.03  # dry mixtures: little water found
    assert np.abs(ab[:, :-1] - truth_mass * (1.0 - moisture[:, None])).max() < 0.05
    assert np.allclose(ab.sum(1), 1.0) and res.max() < 2e-3


def test_moisture_is_an_end_member(model, rlib):
    """Wet training blends through the detector: the water fraction comes back within 2 % moisture, and the
    water band is not taken for a hydroxyl mineral (the NNLS has a water column)."""
    sim = MixtureSimulator(rlib, allowed_groups=model.info["train_groups"])
    det = DetectorModel(rlib.grid, DetectorConfig(), seed=3)
    rng = np.random.default_rng(3)
    comps = sim.ore_blends(rng, 400)
    m = rng.uniform(0.0, 0.10, 400)
    X = simulate_referenced(det, sim.render(comps, rng, moisture_frac=m), rng, 1.0, 0.1)
    ab, _ = model.unmixer.unmix(X)
    assert np.sqrt(np.mean((ab[:, -1] - m) ** 2)) < 0.02


@pytest.mark.parametrize("bad,reason", [
    (np.nan, "NaN"), (np.inf, "NaN"), (0.0, "all-zero"), (5.0, "outside"), (0.3, "flat"),
])
def test_bad_spectra_are_invalid_not_scored(model, rlib, bad, reason):
    x = np.vstack([rlib.reflectance[0], rlib.reflectance[1]])
    if reason in ("all-zero", "flat"):
        x[1] = bad
    else:
        x[1, 5] = bad
    b = model.score(x)
    assert b.valid.tolist() == [True, False] and reason in b.reasons[1]
    assert np.all(np.isnan(b.p[1])) and not b.novel[1]
    with pytest.raises(InvalidSpectrumError):
        model.score_one(x[1])


def test_wrong_number_of_channels(model):
    with pytest.raises(GridError, match="expects"):
        model.score(np.ones((2, 100)))


def test_batched_nnls_matches_scipy():

    rng = np.random.default_rng(2)
    E = np.abs(rng.normal(0.5, 0.2, (64, 6))) + np.linspace(0, 1, 64)[:, None]
    Y = rng.dirichlet(np.ones(6) * 0.5, 40) @ E.T + 0.002 * rng.standard_normal((40, 64))
    ref = np.array([nnls(E, y)[0] for y in Y])
    assert np.abs(nnls_batch(E, Y, n_sweeps=400) - ref).max() < 1e-3
    assert np.allclose(nnls_batch(E, Y[:3]), ref[:3])
