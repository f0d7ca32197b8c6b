"""Hapke mixing, grain size, moisture and the mixture simulator."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.hapke import reff_from_ssa, scale_grain_size, ssa_from_reff, wet, water_absorption_per_cm
from spectra.errors import LibraryError
from spectra.scene import MixtureSimulator


def test_ssa_round_trip():
    r = np.linspace(0.01, 0.95, 50)
    assert np.allclose(reff_from_ssa(ssa_from_reff(r)), r, atol=1e-6)


def test_coarser_grains_deepen_bands_and_moisture_absorbs_at_1450():
    w = np.array([0.5, 0.9])
    assert np.all(scale_grain_size(w, 2.0) < w) and np.all(scale_grain_size(w, 0.5) > w)
    wl = np.array([1300.0, 1450.0])
    wetted = wet(np.array([[0.9, 0.9]]), 0.08, water_absorption_per_cm(wl))[0]
    assert wetted[1] < wetted[0] < 0.9


def test_intimate_mixture_is_not_linear_in_reflectance(rlib):
    sim = MixtureSimulator(rlib)
    bright = next(i for i, e in enumerate(rlib.entries) if e.usgs_name == "Quartz HS32.1B")
    dark = next(i for i, e in enumerate(rlib.entries) if e.usgs_name == "Magnetite HS195.1B")
    comp = np.zeros((1, len(rlib.entries)))
    comp[0, bright], comp[0, dark] = 0.5, 0.5
    mixed = sim.render(comp, conditions=False)[0]
    linear = 0.5 * rlib.reflectance[bright] + 0.5 * rlib.reflectance[dark]
    assert np.all(mixed < linear - 0.05)  # dark grains dominate intimate mixtures


def test_blends_and_admixtures(rlib):
    sim = MixtureSimulator(rlib)
    rng = np.random.default_rng(0)
    comps = sim.ore_blends(rng, 200)
    assert np.allclose(comps.sum(1), 1.0)
    assert set(sim.classes[np.nonzero(comps.sum(0))[0]]) <= {"ore", "gangue"}
    waste = sim.proxies("waste", "slag")
    mixed = sim.admix(comps, waste[0], 0.05)
    assert np.allclose(mixed[:, waste[0]], 0.05) and np.allclose(mixed.sum(1), 1.0)
    r = sim.render(mixed, rng)
    assert r.shape == (200, rlib.grid.n_channels) and np.all(np.isfinite(r)) and r.min() > 0


def test_cargo_waste_keys_map_to_synthetic_end_members_not_the_old_stand_ins(rlib):
    sim = MixtureSimulator(rlib)
    names = lambda key: {rlib.entries[i].usgs_name for i in sim.proxies("waste", key)}  # noqa: E731
    assert names("slag") == {"SYNTHETIC BOF/EAF steel slag", "SYNTHETIC blast-furnace slag (air-cooled)"}
    assert names("mill_scale") == {"SYNTHETIC mill scale"} and names("pyrite_cinder") == {"SYNTHETIC pyrite cinder"}
    assert all(not n.startswith("SYNTHETIC") for n in names("pyrite") | names("scrap"))  # real spectra only
    assert "SYNTHETIC EAF dust/sludge" in names("sludge")
    with pytest.raises(LibraryError, match="known keys"):
        sim.proxies("waste", "unobtainium")
    # synthetic end-members carry their own particle size: EAF dust is fine, so 5 % of its mass is a far larger
    # share of the cross-section than 5 % of crushed slag
    dust, slag = sim.proxies("waste", "eaf_dust")[0], sim.proxies("waste", "steel_slag")[0]
    assert sim.grain_um[dust] < 0.1 * sim.grain_um[slag]
