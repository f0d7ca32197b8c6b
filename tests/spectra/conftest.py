"""Shared fixtures: the real library and one small model trained once per session (once for all pytest-xdist
workers: the first trains and saves it, the others load that file, as the line's stations do)."""

from __future__ import annotations

import pytest

from spectra.grid import ingaas256
from spectra.library import default_library_dir, load_library
from spectra.models.bundle import SpectraModel
from spectra.models.training import TrainConfig, train_model, training_hash
from tests.support import build_once, shared_build_dir


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
def model_path(small_config):
    # keyed like the line's cache: a session cache the runner keeps between runs never hands back a stale fit
    path = shared_build_dir() / f"spectra-small-{training_hash(default_library_dir(), small_config)}.npz"
    return build_once(path, lambda p: train_model(small_config, progress=None).save(p), lambda p: p)


@pytest.fixture(scope="session")
def model(model_path):
    return SpectraModel.load(model_path)
