"""Spectrum file formats: round trips and corrupt input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spectra.errors import SpectrumFormatError
from spectra.formats import (read_ecostress, read_hdf5, read_jcamp, read_spectra, read_spectrum,
                             sniff_text_format, write_csv, write_hdf5, write_jcamp)

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "spectra"

WL = np.linspace(900.0, 1700.0, 81)
R = 0.2 + 0.1 * np.sin(WL / 100.0)


def test_csv_round_trip(tmp_path):
    write_csv(tmp_path / "a.csv", WL, R)
    s = read_spectrum(tmp_path / "a.csv")
    assert np.allclose(s.wavelength_nm, WL) and np.allclose(s.reflectance, R, atol=1e-7)


def test_jcamp_affn_round_trip(tmp_path):
    write_jcamp(tmp_path / "a.jdx", WL, R)
    s = read_jcamp(tmp_path / "a.jdx")
    assert np.allclose(s.wavelength_nm, WL) and np.allclose(s.reflectance, R, atol=1e-7)


def test_jcamp_compressed_difdup(tmp_path):
    # y = 10, 12, 14, 14, 14, 13 encoded with SQZ/DIF/DUP, percent reflectance
    text = ("##TITLE=x\n##JCAMP-DX=4.24\n##XUNITS=NANOMETERS\n##YUNITS=%REFLECTANCE\n##FIRSTX=1000\n"
            "##LASTX=1005\n##NPOINTS=6\n##XFACTOR=1\n##YFACTOR=1\n##XYDATA=(X++(Y..Y))\n1000 A0KT%Tj\n##END=\n")
    (tmp_path / "c.dx").write_text(text)
    s = read_jcamp(tmp_path / "c.dx")
    assert np.allclose(s.reflectance, [0.10, 0.12, 0.14, 0.14, 0.14, 0.13])
    assert np.allclose(s.wavelength_nm, np.arange(1000, 1006))


def test_ecostress_text(tmp_path):
    lines = ["Name: Hematite test", "X Units: Wavelength (micrometers)", "Y Units: Reflectance (percent)", ""]
    lines += [f"{w / 1000:.4f}\t{100 * r:.4f}" for w, r in zip(WL[::-1], R[::-1])]
    (tmp_path / "e.spectrum.txt").write_text("\n".join(lines))
    s = read_ecostress(tmp_path / "e.spectrum.txt")
    assert s.name == "Hematite test"
    assert np.allclose(s.wavelength_nm, WL, atol=0.1) and np.allclose(s.reflectance, R, atol=1e-5)


def test_hdf5_round_trip(tmp_path):
    write_hdf5(tmp_path / "a.h5", WL, np.vstack([R, R * 2]))
    spectra = read_hdf5(tmp_path / "a.h5")
    assert len(spectra) == 2 and np.allclose(spectra[1].reflectance, 2 * R, atol=1e-6)
    with pytest.raises(SpectrumFormatError, match="one spectrum"):
        read_spectrum(tmp_path / "a.h5")


@pytest.mark.parametrize("name,content", [
    ("bad.csv", "wavelength,reflectance\n900,0.1\n950,abc\n"),
    ("short.csv", "900,0.1\n"),
    ("zero.csv", "0,0.1\n1.0,0.2\n"),
    ("bad.jdx", "##TITLE=x\n##XYDATA=(X++(Y..Y))\n900 1 2\n"),
    ("npts.jdx", "##TITLE=x\n##JCAMP-DX=4.24\n##FIRSTX=900\n##LASTX=910\n##NPOINTS=5\n##XYDATA=(X++(Y..Y))\n900 1 2\n##END=\n"),
    ("units.jdx", "##TITLE=x\n##JCAMP-DX=4.24\n##XUNITS=SECONDS\n##FIRSTX=900\n##LASTX=901\n##NPOINTS=2\n##XYDATA=(X++(Y..Y))\n900 1 2\n##END=\n"),
    ("bad.txt", "just text without header\n1 2\n"),
    ("bad.h5", "not hdf5"),
    ("x.spc", "whatever"),
])
def test_corrupt_or_unknown_files(tmp_path, name, content):
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(SpectrumFormatError):
        read_spectra(p)


# --- real published layouts (tests/resources/spectra, written after the ECOSTRESS/ASTER and spectrometer formats)
def _expected() -> np.ndarray:
    return np.loadtxt(RESOURCES / "goethite_hs36_expected_1014_1749.txt")


@pytest.mark.parametrize("name", ["ecostress_goethite_hs36.spectrum.txt", "aster_jhu_goethite_hs36.txt"])
def test_ecostress_multiline_description_and_blank_lines_in_header(name):
    s = read_spectrum(RESOURCES / name)
    h = s.meta["header"]
    assert s.name == "Goethite FeO(OH)"
    # the header goes on after the blank lines of the description: units and counts are read
    assert h["y units"] == "Reflectance (percent)" and h["x units"] == "Wavelength (micrometers)"
    assert int(h["number of x values"]) == s.wavelength_nm.size
    assert h["description"].startswith("Goethite, brown") or h["description"].startswith("Brown earthy")
    assert np.all(np.diff(s.wavelength_nm) > 0) and 400 < s.wavelength_nm[0] < 410 and s.wavelength_nm[-1] > 2490
    ref = _expected()
    ok = np.isfinite(s.reflectance)
    assert np.allclose(np.interp(ref[:, 0], s.wavelength_nm[ok], s.reflectance[ok]), ref[:, 1], atol=2e-3)


def test_ecostress_description_keeps_its_own_colon_lines():
    h = read_spectrum(RESOURCES / "ecostress_goethite_hs36.spectrum.txt").meta["header"]
    assert "XRD: goethite" in h["description"] and "Chemistry: Fe2O3" in h["description"]
    assert "xrd" not in h and h["measurement"].startswith("Directional")


def test_aster_deleted_channels_become_nan():
    s = read_spectrum(RESOURCES / "aster_jhu_goethite_hs36.txt")
    gap = (s.wavelength_nm > 1350) & (s.wavelength_nm < 1360)
    assert gap.any() and np.all(np.isnan(s.reflectance[gap])) and np.isfinite(s.reflectance[~gap]).all()


@pytest.mark.parametrize("name,sep,unit", [
    ("avantes_nir256_semicolon_decimal_comma.txt", "semicolon", "percent"),
    ("tab_um_fraction_noheader.txt", "tab", "fraction"),
    ("comma_nm_percent.csv", "comma", "percent"),
])
def test_delimited_exports_sniffed_by_content(name, sep, unit):
    path = RESOURCES / name
    if path.suffix == ".txt":
        assert sniff_text_format(path) == "csv"
    s = read_spectrum(path)
    assert s.meta["separator"] == sep and s.meta["y_unit"] == unit
    ref = _expected()
    assert np.allclose(s.wavelength_nm, ref[:, 0], atol=0.006) and np.allclose(s.reflectance, ref[:, 1], atol=1e-5)


def test_library_files_are_sniffed_as_ecostress():
    assert sniff_text_format(RESOURCES / "ecostress_goethite_hs36.spectrum.txt") == "ecostress"
    assert sniff_text_format(RESOURCES / "aster_jhu_goethite_hs36.txt") == "ecostress"


@pytest.mark.parametrize("content,wl0,r0", [
    ("900 0,25\n910 0,26\n", 900.0, 0.25),                 # spaces, decimal comma
    ("0.900\t25.0\n0.910\t26.0\n", 900.0, 0.25),           # µm by value, percent by value
    ("nm;R\n900;0.25;\n910;0.26;\n", 900.0, 0.25),          # trailing separator
    ("# comment\nWavelength [um],Reflectance\n0.9,0.25\n0.91,0.26\n", 900.0, 0.25),
    ("Wavelength;Reflectance [%]\n900;1,2\n910;1,3\n", 900.0, 0.012),  # percent from the header only
])
def test_delimited_variants(tmp_path, content, wl0, r0):
    p = tmp_path / "s.txt"
    p.write_text(content)
    s = read_spectrum(p)
    assert s.wavelength_nm[0] == pytest.approx(wl0) and s.reflectance[0] == pytest.approx(r0)


def test_empty_reflectance_cell_is_nan(tmp_path):
    p = tmp_path / "gap.csv"
    p.write_text("nm,r\n900,0.2\n910,\n920,0.3\n")
    assert np.isnan(read_spectrum(p).reflectance[1])


@pytest.mark.parametrize("name,content,message", [
    ("ragged.txt", "nm;R\n900;0,1\n910;0,2;7\n920;0,3\n", r"ragged.txt: line 3: expected 2 semicolon-separated"),
    ("word.csv", "nm,R\n900,0.1\n910,n/a\n", r"word.csv: line 3: expected a number, got 'n/a'"),
    ("word.txt", "900\t0.1\n910\tabc\n", r"word.txt: line 2: expected a number, got 'abc'"),
    ("nodata.txt", "Wavelength;Reflectance\nnothing here\n", r"nodata.txt: line 1: .*no numeric row"),
    ("dup.csv", "900,0.1\n910,0.2\n905,0.3\n920,0.3\n908,0.1\n", r"dup.csv: line 5: wavelength 908 nm goes back"),
    ("neg.csv", "-900,0.1\n910,0.2\n", r"neg.csv: line 1: first column must be wavelength"),
    ("eco_trailing.txt", "Name: x\nType: Mineral\n\n2.5 10\n2.4 11\nthe end\n",
     r"eco_trailing.txt: line 6: expected numbers, got .the end."),
    ("eco_text.txt", "Name: x\nType: Mineral\n\n2.5 10\n2.4 eleven\n", r"eco_text.txt: line 5: expected numbers"),
    ("eco_nodata.txt", "Name: x\nType: Mineral\nDescription: words\n\nmore words\n", r"eco_nodata.txt: .*without data"),
    ("eco_trans.txt", "Name: x\nType: Mineral\nY Units: Transmittance (percent)\n\n2.5 10\n2.4 11\n",
     r"eco_trans.txt: line 3: expected Y Units reflectance"),
])
def test_bad_text_files_name_file_and_line(tmp_path, name, content, message):
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(SpectrumFormatError, match=message):
        read_spectrum(p)
