"""Model bundle: save/load, grid checks, held-out classification, novelty, unmixing and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.detector import DetectorConfig, DetectorModel
from spectra.errors import GridError, InvalidSpectrumError, ModelError
from spectra.grid import InstrumentGrid, grid_by_name
from spectra.hapke import reff_from_ssa
from spectra.models.bundle import SpectraModel
from spectra.models.training import simulate_labelled, split_groups
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


def test_classifier_on_held_out_samples(model, rlib):
    sim = MixtureSimulator(rlib, allowed_groups=model.info["test_groups"])
    det = DetectorModel(rlib.grid, DetectorConfig(), seed=11)
    X, y = simulate_labelled(sim, det, np.random.default_rng(11), 300, (0.2, 0.5), 900.0)
    b = model.score(X, unmix=False)
    acc = np.mean(np.argmax(b.p, 1) == y)
    # chance is 1/3. Held-out samples are hard for the small test model (see docs/spectra.md for the full model)
    assert acc > 0.4
    assert np.allclose(b.p.sum(1), 1.0)


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
    rng = np.random.default_rng(5)
    truth_xs = rng.dirichlet(np.ones(3), 50)
    idx = [um.minerals.index(m) for m in ("hematite", "goethite", "quartz")]
    xs = np.zeros((50, len(um.minerals)))
    xs[:, idx] = truth_xs
    refl = reff_from_ssa(xs @ um.endmembers)
    ab, res = um.unmix(refl, n_sweeps=300)
    from spectra.hapke import mass_fractions

    truth_mass = mass_fractions(xs, um.density, um.grain_um)
    assert np.abs(ab - truth_mass).max() < 0.05
    assert np.allclose(ab.sum(1), 1.0) and res.max() < 1e-3


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
    from scipy.optimize import nnls

    from spectra.models.unmixing import nnls_batch

    rng = np.random.default_rng(2)
    E = np.abs(rng.normal(0.5, 0.2, (64, 6))) + np.linspace(0, 1, 64)[:, None]
    Y = rng.dirichlet(np.ones(6) * 0.5, 40) @ E.T + 0.002 * rng.standard_normal((40, 64))
    ref = np.array([nnls(E, y)[0] for y in Y])
    assert np.abs(nnls_batch(E, Y, n_sweeps=400) - ref).max() < 1e-3
    assert np.allclose(nnls_batch(E, Y[:3]), ref[:3])
