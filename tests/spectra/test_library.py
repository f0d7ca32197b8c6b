"""USGS library reader, SOURCES.md labels and physical-sample groups."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from spectra.errors import LibraryError, SpectrumFormatError
from spectra.library import CLASSES, load_library, parse_sources_table, read_usgs_json, sample_group


def test_library_has_all_labelled_files(library):
    assert len(library) == 117
    counts = {c: sum(e.klass == c for e in library.entries) for c in CLASSES}
    assert counts == {"ore": 14, "gangue": 37, "waste": 14, "contaminant": 52}


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
        text = "\n".join(l for l in text.splitlines() if e.file not in l)
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
