"""The demo's fitted models ship with oreline (spectra/shipped, vision/shipped) so that a first run fits nothing.

A shipped model is found by its cache file name, which holds its key (training data and settings; for the camera
also the fitting code). When these tests fail, the code or data changed since the models were fitted: run
``make models`` and commit the new files.
"""

from __future__ import annotations

import filecmp

import pytest

from analysis.site import load_site
from spectra.cache import ALSO_SHIPPED_GRIDS, SHIPPED_DIR as SPECTRA_SHIPPED, default_model, default_model_path
from spectra.grid import DEFAULT_GRID
from spectra.models.training import TrainConfig
from vision.fit import SHIPPED_DIR as VISION_SHIPPED, cache_path
from vision.model_cache import cached_model

STALE = "the shipped {} model is missing or stale (its cache key changed): run `make models` and commit spectra/shipped, vision/shipped"


def _stations(kind: str) -> list[dict]:
    return [s for s in load_site()["stations"].values() if s["kind"] == kind and s.get("enabled", True)]


def test_the_demo_nir_model_is_shipped_and_current(tmp_path, monkeypatch):
    (section,) = _stations("spectrometer")
    _assert_nir_shipped(TrainConfig(grid=section.get("grid", DEFAULT_GRID)), tmp_path, monkeypatch)


def test_the_default_grid_is_the_demo_sites():
    (section,) = _stations("spectrometer")
    assert section.get("grid", DEFAULT_GRID) == DEFAULT_GRID and DEFAULT_GRID not in ALSO_SHIPPED_GRIDS


@pytest.mark.parametrize("grid", ALSO_SHIPPED_GRIDS)
def test_the_other_instruments_nir_model_is_shipped_and_current(grid, tmp_path, monkeypatch):
    _assert_nir_shipped(TrainConfig(grid=grid), tmp_path, monkeypatch)


def _assert_nir_shipped(config: TrainConfig, tmp_path, monkeypatch) -> None:
    shipped = SPECTRA_SHIPPED / default_model_path(config).name
    assert shipped.is_file(), STALE.format("NIR")
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path))
    model = default_model(config.grid)  # from the shipped copy: an empty cache, no training
    cached = default_model_path(config)
    assert cached.parent.is_relative_to(tmp_path) and filecmp.cmp(cached, shipped, shallow=False)
    assert model.training_hash in cached.name and model.grid.name == config.grid


def test_the_demo_camera_model_is_shipped_and_current(tmp_path, monkeypatch):
    (section,) = _stations("camera")
    scale = section.get("sim_mm_per_px", section["mm_per_px"])  # the simulated station renders at sim_mm_per_px
    width = int(round(section.get("width_px", 2048) * section["mm_per_px"] / scale))
    shipped = VISION_SHIPPED / cache_path(mm_per_px=scale, width_px=width, seed=0).name
    assert shipped.is_file(), STALE.format("camera")
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path))
    model = cached_model(mm_per_px=scale, width_px=width, seed=0)  # from the shipped copy, no fit
    assert filecmp.cmp(cache_path(mm_per_px=scale, width_px=width, seed=0), shipped, shallow=False)
    assert model.mm_per_px == scale and model.width_px == width
