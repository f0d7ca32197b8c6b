"""`oreline spectra evaluate --test-library DIR --labels CSV` without `--model`: a labelled folder of another
instrument's exports is identified the way the line identifies (features + references, explicit unknown), each
file on its own wavelength grid, and the bad files are named with their reason while the rest are scored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from conveyor.resources import shared_data_dir
from spectra.formats import read_spectrum
from tests.spectra.instrument_files import avasoft_text

OREL = Path(sys.executable).with_name("oreline")
#: a 256-pixel InGaAs range no shipped grid has (the shipped ingaas256 needs 890–1710 nm)
OWN_NM = np.linspace(955.3, 1645.8, 256)
REAL = {"pvc.txt": ("usgs_splib07a_contaminants", "plastic_vinyl_gds396", "contaminant"),
        "ldpe.txt": ("usgs_splib07a_contaminants", "plastic_ldpe_gds402", "contaminant"),
        "nylon.txt": ("usgs_splib07a_contaminants", "nylon_webbing_gds438", "contaminant"),
        "hematite.txt": ("usgs_splib07", "mineral_hematite_gds27", "ore"),
        "goethite.txt": ("usgs_splib07", "mineral_goethite_mpcma2-b", "ore"),
        "quartz.txt": ("usgs_splib07", "mineral_quartz_hs32.4b", "gangue")}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "blind"
    folder.mkdir()
    rng = np.random.default_rng(3)
    rows = ["file,class"]
    for name, (sub, stem, klass) in REAL.items():
        (path,) = (shared_data_dir() / "spectra" / sub).glob(f"*{stem}*.json")
        s = read_spectrum(path)
        ok = np.isfinite(s.reflectance)
        r = np.interp(OWN_NM, s.wavelength_nm[ok], s.reflectance[ok]) + rng.normal(0.0, 0.002, OWN_NM.size)
        (folder / name).write_text(avasoft_text(OWN_NM, np.clip(r, 0.005, None)), encoding="utf-8")
        rows.append(f"{name},{klass}")
    (folder / "zeros.txt").write_text(avasoft_text(OWN_NM, np.zeros(OWN_NM.size), columns="X"))
    (folder / "garbage.txt").write_text("this is not a spectrum\n")
    rows += ["zeros.txt,ore", "garbage.txt,contaminant"]
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder


def _run(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ORELINE_CACHE": str(tmp_path / "cache")}
    return subprocess.run([str(OREL), "spectra", "evaluate", *argv], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_a_blind_folder_is_identified_on_its_own_grid_and_bad_files_are_named(tmp_path):
    from spectra.cli import _evaluate_parser

    folder = _folder(tmp_path)
    opts = {"--test-library": folder, "--labels": folder / "labels.csv", "--out": tmp_path / "out"}
    argv = [str(a) for kv in opts.items() for a in kv]
    # "--opt=value" is the same request as "--opt value" (one run of the installed script; a second identical
    # run for the other spelling was the cost; "--ore-needs-evidence=off" below runs a "=" spelling through it)
    assert _evaluate_parser().parse_args([f"{k}={v}" for k, v in opts.items()]) == _evaluate_parser().parse_args(argv)
    out = _run(tmp_path, *argv)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "out" / "identification.json").read_text())
    rows = {r["file"]: r for r in report["rows"]}
    assert set(rows) == set(REAL)  # the two bad files are not scored ...
    errors = {e["file"]: e["error"] for e in report["errors"]}
    assert set(errors) == {"zeros.txt", "garbage.txt"}  # ... but named, each with its reason
    assert "expected finite reflectance above 0" in errors["zeros.txt"]
    assert "zeros.txt" in out.stdout and "garbage.txt" in out.stderr
    assert report["grids"] == {"own 955–1646 nm, 256 ch": len(REAL)}
    for name, (_sub, _stem, klass) in REAL.items():
        want = "ore" if klass == "gangue" else klass
        assert rows[name]["called"] == want, (name, rows[name]["called"], rows[name]["evidence"])
    assert all(rows[n]["p"][2] > 0.5 and "C–H" in rows[n]["evidence"] for n in ("pvc.txt", "nylon.txt"))
    assert "| ore + gangue called ore | 1.000 | ≥ 0.95 |" in out.stdout


def test_an_explicit_grid_the_files_do_not_cover_refuses_every_file_with_its_reason(tmp_path):
    folder = _folder(tmp_path)
    out = _run(tmp_path, "--test-library", str(folder), "--labels", str(folder / "labels.csv"), "--grid",
               "ingaas256", "--out", str(tmp_path / "out"))
    assert out.returncode == 2
    assert "none of the labelled files could be identified" in out.stderr
    assert "target grid 'ingaas256' needs 890.0–1710.0 nm" in out.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_ore_needs_evidence_is_accepted_with_a_test_library_but_not_with_a_model(tmp_path):
    folder = _folder(tmp_path)
    base = ["--test-library", str(folder), "--labels", str(folder / "labels.csv"), "--out", str(tmp_path / "o")]
    assert _run(tmp_path, *base, "--ore-needs-evidence=off").returncode == 0
    refused = _run(tmp_path, *base, "--model", str(tmp_path / "m.npz"), "--ore-needs-evidence", "off")
    assert refused.returncode == 2 and "--ore-needs-evidence goes with --loso or --test-library" in refused.stderr
