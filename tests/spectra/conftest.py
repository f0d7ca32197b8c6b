"""Shared fixtures: the real library and one small model trained once per session."""

from __future__ import annotations

import pytest

from spectra.grid import ingaas256
from spectra.library import load_library
from spectra.models.training import TrainConfig, train_model


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture(scope="session")
def rlib(library):
    return library.resample(ingaas256(), skip_uncovered=True)


@pytest.fixture(scope="session")
def small_config():
    return TrainConfig(n_train_per_class=600, n_cal_per_class=300, n_cal_segments=60, spectra_per_segment=20,
                       n_lot_cal=60, lot_segments=12, lot_spectra_per_segment=30, n_lot_check=0)


@pytest.fixture(scope="session")
def model(small_config):
    return train_model(small_config, progress=None)


@pytest.fixture(scope="session")
def model_path(model, tmp_path_factory):
    return model.save(tmp_path_factory.mktemp("model") / "nir.npz")
