"""The lot detector's admixture directions are those of an admixture that is as wet as the lot (w21k).

On a wet belt an admixed waste holds the lot's water as the ore does. A dry endmember's direction claims the
admixture brightens the lot where water absorbs (1.4–2.4 µm); the wet probe follows the admixture the simulator
(and a real pile) produces. Checked on the session's small model against noise-free Hapke scenes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from spectra.errors import ModelError
from spectra.lotdetector import LotDetectorModel
from spectra.scene import MixtureSimulator


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def wet_scene(model, rlib):
    """Noise-free mean reflectance of a held-out ore blend at 9 % water, with and without 5 % of one waste."""
    sim = MixtureSimulator(rlib, allowed_groups=set(model.info["test_groups"]) | set(model.info["train_groups"]))
    comp = sim.ore_blends(np.random.default_rng(3), 1)
    lm = model.lot_detector
    idx = next(i for i, e in enumerate(rlib.entries) if e.usgs_name == lm.waste.names[0])
    mixed = sim.admix(comp, idx, 0.05)
    clean_r = sim.render(comp, None, grain_factor=1.0, moisture_frac=0.09)[0]
    mixed_r = sim.render(mixed, None, grain_factor=1.0, moisture_frac=0.09)[0]
    return clean_r, mixed_r


def test_the_fitted_model_uses_wet_probes(model):
    assert model.lot_detector.params.wet_probes


def test_lot_moisture_is_the_calibrations_estimate(model, wet_scene):
    clean_r, _ = wet_scene
    assert 0.05 < model.lot_detector.lot_moisture_frac(clean_r) < 0.13


def test_wet_probe_follows_a_wet_admixture_better_than_a_dry_one(model, wet_scene):
    lm = model.lot_detector
    clean_r, mixed_r = wet_scene
    f = lm.features(np.vstack([clean_r, mixed_r]))
    actual = f[1] - f[0]
    wet_dir = lm.admix_directions(clean_r, lm.waste)[:, 0]
    dry = LotDetectorModel(lm.wavelength_nm, lm.raw_features, lm.novel, lm.waste, lm.contaminant, lm.ore,
                           dataclasses.replace(lm.params, wet_probes=False), lm.thresholds, lm.basis)
    dry_dir = dry.admix_directions(clean_r, dry.waste)[:, 0]
    assert _cosine(actual, wet_dir) > _cosine(actual, dry_dir) + 0.02
    assert _cosine(actual, wet_dir) > 0.9
    # contaminant probes stay dry
    np.testing.assert_allclose(lm.admix_directions(clean_r, lm.contaminant), dry.admix_directions(clean_r, dry.contaminant))


def test_wet_probes_need_a_moisture_calibration(model):
    lm = model.lot_detector
    with pytest.raises(ModelError, match="moisture"):
        LotDetectorModel(lm.wavelength_nm, lm.raw_features, lm.novel, lm.waste, lm.contaminant, lm.ore, lm.params)


def test_a_model_fitted_before_the_wet_probes_loads_with_dry_ones(model):
    lm = model.lot_detector
    header = lm.header()
    header["params"].pop("wet_probes")
    old = LotDetectorModel.from_arrays(lm.wavelength_nm, lm.raw_features, lm.novel, lm.to_arrays("x_"), "x_", header)
    assert not old.params.wet_probes
    rbar = np.full(lm.wavelength_nm.size, 0.2)
    dry = dataclasses.replace(lm.params, wet_probes=False)
    np.testing.assert_allclose(old.directions(rbar)[0], LotDetectorModel(
        lm.wavelength_nm, lm.raw_features, lm.novel, lm.waste, lm.contaminant, lm.ore, dry,
        basis=lm.basis).directions(rbar)[0])
