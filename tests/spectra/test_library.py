"""USGS library reader, SOURCES.md labels and physical-sample groups."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from spectra.errors import LibraryError, SpectrumFormatError
from spectra.library import (CLASSES, EXTRA_CLASSES, compose_synthetic, load_library, parse_sources_table,
                             read_usgs_json, sample_group)
from spectra.materials import SYNTHETIC_WASTE, Phase, SyntheticWaste


def test_library_has_all_labelled_files(library):
    assert len(library) == 117 + 42 + len(SYNTHETIC_WASTE)
    counts = {c: sum(e.klass == c for e in library.entries) for c in CLASSES + EXTRA_CLASSES}
    assert counts == {"ore": 14 + 10, "gangue": 37, "waste": 14 + len(SYNTHETIC_WASTE), "contaminant": 52 + 2,
                      "waste-phase": 17, "mixture": 13}
    # the more folder's table has a Note column: material from it, instrument from the next column
    e = next(e for e in library.entries if e.usgs_name == "Olivine KI3005 Fo11 <60um")
    assert e.klass == "waste-phase" and "fayalite" in e.material and e.instrument == "Beckman 5270"
    assert {e.group for e in library.entries if e.usgs_name.startswith("Hematite GDS69")} == {"gds69"}


def test_synthetic_end_members_are_labelled_and_composed_from_their_phases(library):
    syn = [e for e in library.entries if e.file.startswith("synthetic:")]
    assert len(syn) == len(SYNTHETIC_WASTE)
    for e in syn:
        assert e.klass == "waste" and e.usgs_name.startswith("SYNTHETIC") and e.material.startswith("SYNTHETIC")
        assert "SYNTHETIC" in e.instrument and e.spectrum.meta["synthetic"] and e.spectrum.meta["sources"]
        assert abs(sum(p["mass_frac"] for p in e.spectrum.meta["phases"]) - 1.0) < 1e-9
        r = e.spectrum.reflectance[(e.spectrum.wavelength_nm >= 900) & (e.spectrum.wavelength_nm <= 1700)]
        assert np.all(np.isfinite(r)) and 0.02 < r.min() and r.max() < 0.9
    # mill scale (black Fe oxides) is darker than the Ca-silicate blast-furnace slag
    dark = next(e for e in syn if "mill scale" in e.usgs_name).spectrum.reflectance
    bright = next(e for e in syn if "blast-furnace" in e.usgs_name).spectrum.reflectance
    assert np.nanmean(dark) < 0.5 * np.nanmean(bright)


def test_synthetic_phase_missing_is_an_error(library):
    recipe = SyntheticWaste("x", "SYNTHETIC x", (Phase("no such mineral", 1.0, 10.0),), 100.0, 3.0, ("none",))
    with pytest.raises(LibraryError, match="no such mineral"):
        compose_synthetic(recipe, library.entries)


def test_reader_converts_micrometres_and_nulls(library):
    e = next(e for e in library.entries if e.usgs_name == "Magnetite HS195.4B")
    s = e.spectrum
    assert s.wavelength_nm[0] == pytest.approx(350.0, abs=0.01) and s.wavelength_nm[-1] == pytest.approx(2500.0)
    gap = np.isnan(s.reflectance)
    assert gap.sum() == 45
    assert np.all((s.wavelength_nm[gap] >= 583) & (s.wavelength_nm[gap] <= 629))


def test_grain_size_fractions_share_a_group():
    assert sample_group("Magnetite HS195.1B") == sample_group("Magnetite HS195.4B") == "hs195"
    assert sample_group("Renyolds Tnl Sludge SM93-15") == sample_group("Renyolds TnlSldgWet SM93-15w")
    assert sample_group("Goethite MPCMA2-B FineGr adj") == sample_group("Goethite MPCMA2-C M-Crsgrad2")
    assert sample_group("Talc GDS23") == sample_group("Talc GDS23 74-250um fr")
    assert sample_group("Pyrite S26-8") != sample_group("Pyrite S29-4")


def _mini_library(tmp_path, library, drop_row: bool):
    root = tmp_path / "lib"
    (root / "usgs_splib07").mkdir(parents=True)
    e = library.entries[0]
    shutil.copy(e.spectrum.source, root / "usgs_splib07" / e.file)
    from conveyor.resources import shared_data_dir

    text = (shared_data_dir() / "spectra" / "SOURCES.md").read_text()
    if drop_row:
        text = "\n".join(row for row in text.splitlines() if e.file not in row)
    (root / "SOURCES.md").write_text(text.split("## Counts")[0] + text.split("## Files")[1])
    return root


def test_file_without_row_is_an_error(tmp_path, library):
    root = _mini_library(tmp_path, library, drop_row=True)
    with pytest.raises(LibraryError, match="no row"):
        load_library(root)
    assert len(load_library(_mini_library(tmp_path / "b", library, drop_row=False))) == 1


def test_counts_mismatch_is_an_error(tmp_path):
    md = tmp_path / "SOURCES.md"
    md.write_text("- ore: 3\n\n| `a.json` | hematite — *Hematite X1* | ore | BECK | x | x | x |\n")
    with pytest.raises(LibraryError, match="Counts"):
        parse_sources_table(md)


@pytest.mark.parametrize("content", ["{not json", json.dumps({"wavelengths": [0.9, 1.0]}),
                                     json.dumps({"wavelengths": [0.9, 1.0], "reflectance": [0.1]}),
                                     json.dumps({"wavelengths": [0.9, 1.0], "reflectance": ["a", 0.1]})])
def test_corrupt_json(tmp_path, content):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(SpectrumFormatError):
        read_usgs_json(p)
