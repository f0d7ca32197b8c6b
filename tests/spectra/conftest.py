"""Shared fixtures: the real library and one small model trained once per session (once for all pytest-xdist
workers: the first trains and saves it, the others load that file, as the line's stations do)."""

from __future__ import annotations

import pytest

from spectra.grid import ingaas256
from spectra.library import load_library
from spectra.models.bundle import SpectraModel
from tests.spectra.small_model import small_config as small_config_copy, small_model_path


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture(scope="session")
def rlib(library):
    return library.resample(ingaas256(), skip_uncovered=True)


@pytest.fixture(scope="session")
def small_config():
    return small_config_copy()


@pytest.fixture(scope="session")
def model_path():
    return small_model_path()  # tests/fleet shares it


@pytest.fixture(scope="session")
def model(model_path):
    return SpectraModel.load(model_path)
