"""Instrument grids from a file (`--grid FILE`, station `grid = "FILE"`): reading, refusals with line numbers,
the installed CLI in a subprocess, and a station on a site's own grid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conveyor.cargo import CargoModel
from conveyor.clock import SimulatedClock
from conveyor.errors import ConfigError
from conveyor.station import StationContext
from spectra.cli import cli_evaluate, cli_train
from spectra.errors import GridError
from spectra.models.bundle import SpectraModel
from spectra.grid import GRID_DIR, read_grid_file, resolve_grid, write_grid_file
from spectra.station import from_config

OREL = Path(sys.executable).with_name("oreline")
EXAMPLE = GRID_DIR / "nir256_1014-1749nm.csv"


def _ctx(tmp_path):
    return StationContext(SimulatedClock(), 1.8, 4.0, Path(tmp_path), 3, None)


def test_shipped_example_grid():
    g = read_grid_file(EXAMPLE)
    assert g.n_channels == 256 and g.range_nm == (1014.0, 1749.0)
    assert np.all(np.diff(g.wavelength_nm) > 0) and 6.0 < g.fwhm_nm.min() < g.fwhm_nm.max() < 8.0
    assert resolve_grid("nir256_1014-1749nm").same_as(g) and resolve_grid(str(EXAMPLE)).same_as(g)


def test_round_trip_and_separators(tmp_path):
    g = read_grid_file(EXAMPLE)
    write_grid_file(tmp_path / "g.csv", g)
    assert read_grid_file(tmp_path / "g.csv").same_as(g)
    (tmp_path / "s.txt").write_text("# pixel table\nWavelength [nm];FWHM [nm]\n1000,5;6,0\n1003,5;6,1\n1006,5;6,2\n")
    s = read_grid_file(tmp_path / "s.txt")
    assert np.allclose(s.wavelength_nm, [1000.5, 1003.5, 1006.5]) and np.allclose(s.fwhm_nm, [6.0, 6.1, 6.2])
    (tmp_path / "t.csv").write_text("1000\t6\n1010\t6\n")
    assert read_grid_file(tmp_path / "t.csv").n_channels == 2


@pytest.mark.parametrize("content,message", [
    ("centre_nm,fwhm_nm\n1000,6\n1010,6\n1005,6\n", r"line 4: centres must ascend; 1005 nm after 1010 nm \(unsorted\)"),
    ("1000,6\n1010,6\n1010,6\n", r"line 3: duplicate centre 1010 nm \(already on line 2\)"),
    ("1000,6\n0,6\n", r"line 2: centre wavelength must be a finite number > 0"),
    ("-5,6\n1000,6\n", r"line 1: centre wavelength must be a finite number > 0"),
    ("1000,6\n1010,0\n", r"line 2: FWHM must be a finite number > 0 nm, got 0"),
    ("1000,6\n1010,-2\n", r"line 2: FWHM must be a finite number > 0 nm, got -2"),
    ("1000,6\n1010,nan\n", r"line 2: FWHM must be a finite number"),
    ("1000,6,1\n1010,6\n", r"line 1: expected 2 columns"),
    ("nm,fwhm\n1000,6\nabc,6\n", r"line 3: expected two numbers"),
    ("1000,6\n", r"expected >= 2 rows"),
])
def test_bad_grid_files_are_refused_with_the_line(tmp_path, content, message):
    p = tmp_path / "grid.csv"
    p.write_text(content)
    with pytest.raises(GridError, match=message) as info:
        read_grid_file(p)
    assert str(p) in str(info.value)


def test_unknown_grid_name():
    with pytest.raises(GridError, match="grid file"):
        resolve_grid("no-such-grid")


def _run(*args, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, ORELINE_CACHE=str(cache))
    return subprocess.run([str(OREL), *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("command,style,other", [("train", "--grid={}", "--grid {}"),
                                                  ("evaluate", "--grid {}", "--grid={}")])
def test_cli_refuses_a_bad_grid_file_before_any_work(tmp_path, monkeypatch, capsys, command, style, other):
    """Each command and each spelling through the installed script once; each command's other spelling through its
    entry point in this process (the same parser: a second script start of the same refusal was the cost)."""
    bad = tmp_path / "site grid.csv"
    bad.write_text("centre_nm,fwhm_nm\n1014,7\n1017,7\n1016,7\n")

    def args(spelling: str) -> list[str]:
        opt = spelling.format(bad)
        return ([opt] if "=" in opt else opt.split(" ", 1)) + [f"--out={tmp_path / 'm.npz'}"]

    res = _run("spectra", command, *args(style), cache=tmp_path / "cache")
    assert res.returncode == 2
    assert "line 4: centres must ascend" in res.stderr and "site grid.csv" in res.stderr
    monkeypatch.setenv("ORELINE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as stop:
        {"train": cli_train, "evaluate": cli_evaluate}[command](args(other))
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "line 4: centres must ascend" in err and "site grid.csv" in err
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.npz"))


def test_station_refuses_a_bad_grid_file(tmp_path, model_path):
    (tmp_path / "g.csv").write_text("1014,7\n1014,7\n")
    with pytest.raises(ConfigError, match="line 2: duplicate centre") as info:
        from_config("nir", {"kind": "spectrometer", "position_m": 1.0, "grid": "g.csv", "model": str(model_path)},
                    _ctx(tmp_path))
    assert info.value.path == "stations.nir.grid"


def test_station_model_on_another_grid_than_the_file(tmp_path, model_path):
    with pytest.raises(ConfigError, match="grid") as info:
        from_config("nir", {"kind": "spectrometer", "position_m": 1.0, "grid": str(EXAMPLE), "model": str(model_path)},
                    _ctx(tmp_path))
    assert info.value.path == "stations.nir.model"


@pytest.mark.slow
def test_train_on_a_site_grid_file_then_run_the_station(tmp_path):
    grid_file = tmp_path / "avantes.csv"
    grid_file.write_text(EXAMPLE.read_text())
    out = tmp_path / "site.npz"
    # --quick: the whole training path at TrainConfig.small's sizes; the grid file's channels reaching the model,
    # the station and evaluate is what is checked, not the model's accuracy
    res = _run("spectra", "train", f"--grid={grid_file}", f"--out={out}", "--quick", "--n-per-class=300",
               cache=tmp_path / "cache")
    assert res.returncode == 0, res.stderr
    assert "on grid avantes" in res.stdout
    model = SpectraModel.load(out, read_grid_file(grid_file))
    assert model.grid.n_channels == 256 and model.grid.range_nm == (1014.0, 1749.0)
    ctx = replace(_ctx(tmp_path), cargo=CargoModel("fines"))
    st = from_config("nir", {"kind": "spectrometer", "position_m": 30.0, "grid": "avantes.csv",
                             "model": str(out)}, ctx)
    desc = st.describe()[0]
    assert len(desc.metadata["wavelength_nm"]) == 256 and desc.metadata["grid"] == "avantes"
    res = _run("spectra", "evaluate", "--model", str(out), "--grid", str(grid_file), f"--out={tmp_path / 'rep'}",
               "--segments=10", "--spectra-per-segment=10", "--lots=2", "--lot-segments=6",
               "--fingerprint-products=0", "--family-lots=0", "--group-check=0", cache=tmp_path / "cache")
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["grid"] == "avantes"
