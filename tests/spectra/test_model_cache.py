"""The default NIR model's cache key (fit version, settings, data digests; no source bytes) and where fitting
happens: in the explicit preparation step, never while a station is built."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.prepare import prepare_station_models
from analysis.site import load_site
from conveyor.clock import SimulatedClock
from conveyor.errors import ConfigError
from conveyor.station import StationContext
from spectra import cache
from spectra.library import default_library_dir
from spectra.models import training
from spectra.models.training import TrainConfig, training_hash
from spectra.grid import DEFAULT_GRID
from spectra.station import from_config

OREL = Path(sys.executable).with_name("oreline")


def _ctx(tmp_path: Path) -> StationContext:
    return StationContext(SimulatedClock(), 1.8, 4.0, tmp_path, 3, None)


def test_the_key_is_fit_version_settings_and_data(monkeypatch):
    root = default_library_dir()
    key = training_hash(root, TrainConfig())
    assert training_hash(root, TrainConfig()) == key and len(key) == 32
    assert training_hash(root, TrainConfig(seed=1)) != key  # a setting
    assert training_hash(root, TrainConfig(grid="full")) != key  # the grid's digest
    monkeypatch.setattr(training, "FIT_VERSION", training.FIT_VERSION + "-next")
    assert training_hash(root, TrainConfig()) != key  # a new fitting procedure


def test_the_key_does_not_hash_source_bytes(tmp_path):
    """A copy of the spectra package whose fitting module differs only in a comment gives the same key."""
    import shutil

    repo = Path(__file__).resolve().parents[2]
    copy = tmp_path / "repo"
    for pkg in ("conveyor", "spectra"):
        shutil.copytree(repo / pkg, copy / pkg, ignore=shutil.ignore_patterns("__pycache__", "shipped"))
    source = copy / "spectra" / "models" / "training.py"
    source.write_text(source.read_text() + "\n# a comment edited by the test\n")
    code = ("from spectra.models.training import TrainConfig, training_hash; "
            "from spectra.library import default_library_dir; print(training_hash(default_library_dir(), TrainConfig()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=copy, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy),
                              "ORELINE_SHARED_DATA": str(default_library_dir().parent)})
    assert out.stdout.strip() == training_hash(default_library_dir(), TrainConfig())


def test_building_a_station_never_fits_a_missing_default_model(tmp_path, monkeypatch):
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ConfigError) as info:
        # a grid whose model does not ship (the shipped ones are copied from spectra/shipped)
        from_config("nir", {"kind": "spectrometer", "position_m": 1.0, "grid": "nir256_1014-1749nm"}, _ctx(tmp_path))
    assert info.value.path == "stations.nir.model"
    assert "default NIR model for grid 'nir256_1014-1749nm' is not fitted yet" in str(info.value)
    assert "oreline spectra train --grid nir256_1014-1749nm" in str(info.value) and "oreline run" in str(info.value)
    assert list((tmp_path / "cache" / "spectra").iterdir()) == []  # nothing was fitted or written


def test_preparation_puts_the_default_model_in_the_cache_and_the_station_uses_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path / "cache"))
    site = load_site()
    site["stations"] = {"nir": site["stations"]["nir"]}
    grid = site["stations"]["nir"].get("grid", DEFAULT_GRID)
    path = cache.default_model_path(TrainConfig(grid=grid))
    assert not path.is_file()
    assert set(prepare_station_models(site, stream=io.StringIO(), log_interval_s=0.5)) == {"nir"}
    assert path.is_file() and path.parent.is_relative_to(tmp_path)  # the shipped model, copied under its key
    model = cache.prepared_model(grid)
    assert model.training_hash in path.name and model.model_version == training.FIT_VERSION
    station = from_config("nir", {"kind": "spectrometer", "position_m": 1.0, "grid": grid}, _ctx(tmp_path))
    assert station.describe()[0].metadata["grid"] == grid


def test_station_error_through_the_installed_cli(tmp_path):
    """`oreline spectra evaluate` is an explicit step: it may fit; a bad grid is refused before anything runs."""
    out = subprocess.run([str(OREL), "spectra", "evaluate", "--grid=nosuchgrid"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "ORELINE_CACHE": str(tmp_path)}, check=False, timeout=120)
    assert out.returncode == 2 and "nosuchgrid" in out.stderr
    assert not any(tmp_path.rglob("*.npz"))
