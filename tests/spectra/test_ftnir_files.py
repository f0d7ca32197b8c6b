"""FT-NIR and absorbance-exporting instruments' files: x in wavenumbers (cm⁻¹, descending, with or without a header)
and y as absorbance log10(1/R), in every reader (delimited two-column and multi-column, ENVI, ECOSTRESS, JCAMP-DX).
Each file is written from a real USGS spectrum the way such an instrument writes it, and must read to the same
reflectance as the nm / reflectance original; named transmittance and the like are refused with file and line; and
the installed ``oreline spectra evaluate --test-library`` identifies a wavenumber / absorbance file as it does the
nm original."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conveyor.resources import shared_data_dir
from spectra.constants import REFLECTANCE_RANGE
from spectra.errors import GridError, SpectrumFormatError
from spectra.formats import read_spectra, read_spectrum, write_csv
from spectra.grid import InstrumentGrid
from spectra.identify.blind import own_grid
from spectra.library import Spectrum
from spectra.units import WAVENUMBERS_IF_ABOVE
from tests.spectra.instrument_files import NIR256_NM, avasoft_text, ecostress_text, ftnir_csv, write_envi

OREL = Path(sys.executable).with_name("oreline")
#: an FT-NIR instrument's axis: 12,000 → 4,000 cm⁻¹ in 8 cm⁻¹ steps (833–2500 nm), descending as OPUS writes it
WAVENUMBER_CM = np.arange(12000.0, 3999.0, -8.0)
NM = 1e7 / WAVENUMBER_CM
#: the common grid every reading is compared on (inside both the FT-NIR and the AvaSoft range)
COMMON = InstrumentGrid("common 1100–1650 nm", np.arange(1100.0, 1651.0, 5.0), np.full(111, 10.0))


def _usgs(stem: str, sub: str = "usgs_splib07") -> Spectrum:
    (path,) = (shared_data_dir() / "spectra" / sub).glob(f"*{stem}*.json")
    return read_spectrum(path)


def _at(s: Spectrum, nm: np.ndarray) -> np.ndarray:
    ok = np.isfinite(s.reflectance)
    return np.interp(nm, s.wavelength_nm[ok], s.reflectance[ok])


HEMATITE = _usgs("hematite_gds27")
R = _at(HEMATITE, NM)  # the hematite's reflectance at the FT-NIR channels (order of WAVENUMBER_CM)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _original(tmp_path: Path, nm: np.ndarray = NM, r: np.ndarray = R) -> Spectrum:
    """The nm / reflectance original of the same channels, as our own CSV."""
    order = np.argsort(nm)
    write_csv(tmp_path / "original_nm.csv", nm[order], r[order])
    return read_spectrum(tmp_path / "original_nm.csv")


def _same_reflectance(s: Spectrum, original: Spectrum) -> None:
    assert np.all(np.diff(s.wavelength_nm) > 0)  # sorted ascending in nm
    np.testing.assert_allclose(s.resample(COMMON), original.resample(COMMON), rtol=0, atol=1e-6)


# --- delimited two-column exports ------------------------------------------------------------------
@pytest.mark.parametrize("header", ["Wavenumber (cm-1),Reflectance", "cm-1,R", "Wave number [cm^-1],Reflectance",
                                    "Wavenumber / cm⁻¹,Reflectance", "1/cm,reflectance"])
def test_bruker_like_csv_in_wavenumbers_with_a_header(tmp_path, header):
    s = read_spectrum(_write(tmp_path / "opus.csv", ftnir_csv(WAVENUMBER_CM, R, header=header)))
    _same_reflectance(s, _original(tmp_path))
    assert s.meta["x_unit"] == "cm-1" and s.meta["y_unit"] == "fraction"
    assert not any("inferred" in n for n in s.meta["notes"])


def test_bruker_like_csv_without_header_is_read_as_wavenumbers_and_noted(tmp_path):
    s = read_spectrum(_write(tmp_path / "opus.csv", ftnir_csv(WAVENUMBER_CM, R, header=None)))
    _same_reflectance(s, _original(tmp_path))
    assert s.meta["x_unit"] == "cm-1"
    assert any(f"every x value above {WAVENUMBERS_IF_ABOVE:g}" in n and "wavenumbers" in n for n in s.meta["notes"])


@pytest.mark.parametrize("header", ["Wavenumber (cm-1),Absorbance", "cm-1,log(1/R)", "cm-1,log 1/R",
                                    "cm-1,LOG10(1/R)", "Wavenumber,Pseudo-absorbance", "cm-1,A"])
def test_absorbance_csv_with_a_header(tmp_path, header):
    s = read_spectrum(_write(tmp_path / "abs.csv", ftnir_csv(WAVENUMBER_CM, R, header=header, absorbance=True)))
    _same_reflectance(s, _original(tmp_path))
    assert s.meta["y_unit"] == "absorbance"


def test_absorbance_over_nanometres_semicolon_separated(tmp_path):
    text = ftnir_csv(NM[::-1], R[::-1], header="Wavelength [nm];log(1/R)", absorbance=True, sep=";")
    s = read_spectrum(_write(tmp_path / "abs_nm.txt", text))
    _same_reflectance(s, _original(tmp_path))
    assert s.meta["x_unit"] == "nm" and s.meta["y_unit"] == "absorbance"


def test_values_without_a_unit_word_are_never_taken_for_absorbance(tmp_path):
    """An absorbance-looking column (0.08–1.8) without its word stays reflectance (today's rule): the docs say
    absorbance needs its unit word."""
    a = -np.log10(R)
    assert 0.05 < a.min() and a.max() < REFLECTANCE_RANGE[1]
    s = read_spectrum(_write(tmp_path / "plain.csv", "\n".join(f"{x:.4f},{v:.8f}" for x, v in zip(NM, a)) + "\n"))
    assert s.meta["y_unit"] == "fraction"
    np.testing.assert_allclose(s.reflectance, a, atol=1e-8)



# --- multi-column instrument exports ---------------------------------------------------------------
@pytest.mark.parametrize("columns", ["A", "SDRA"])
def test_multi_column_export_with_an_absorbance_column(tmp_path, columns):
    r = _at(HEMATITE, NIR256_NM)
    s = read_spectrum(_write(tmp_path / "ava.txt", avasoft_text(NIR256_NM, r, columns=columns)))
    assert s.meta["y_unit"] == "absorbance" and s.meta.get("column", "Absorbance") == "Absorbance"
    _same_reflectance(s, _original(tmp_path, NIR256_NM, r))


# --- ENVI, ECOSTRESS, JCAMP-DX ---------------------------------------------------------------------
@pytest.mark.parametrize("extra,absorbance", [((), False), (("z plot titles = {Wavenumber (cm-1), Absorbance}",), True),
                                              (("data units = log(1/R)",), True)])
def test_envi_library_in_wavenumbers(tmp_path, extra, absorbance):
    y = -np.log10(R) if absorbance else R
    sli = write_envi(tmp_path / "ftnir", np.vstack([y, y]), WAVENUMBER_CM, dtype="<f8", code=5, units="Wavenumber",
                     header_extra=extra)
    original = _original(tmp_path)
    for s in read_spectra(sli):
        _same_reflectance(s, original)
        assert s.meta["x_unit"] == "cm-1" and s.meta["y_unit"] == ("absorbance" if absorbance else "fraction")


@pytest.mark.parametrize("y_units,absorbance", [("Reflectance (percent)", False), ("Absorbance (log10(1/R))", True)])
def test_ecostress_text_in_wavenumbers(tmp_path, y_units, absorbance):
    y = -np.log10(R) if absorbance else 100.0 * R
    text = ecostress_text(WAVENUMBER_CM, y, x_units="Wavenumber (cm-1)", y_units=y_units)
    s = read_spectrum(_write(tmp_path / "ftnir.spectrum.txt", text))
    _same_reflectance(s, _original(tmp_path))
    assert s.meta["x_unit"] == "cm-1" and s.meta["y_unit"] == ("absorbance" if absorbance else "percent")


def test_jcamp_in_wavenumbers_and_absorbance(tmp_path):
    pairs = " ".join(f"{k:.4f},{-np.log10(v):.10f}" for k, v in zip(WAVENUMBER_CM, R))
    text = f"##TITLE=hematite\n##JCAMP-DX=4.24\n##XUNITS=1/CM\n##YUNITS=ABSORBANCE\n##XYPOINTS=(XY..XY)\n{pairs}\n##END=\n"
    _same_reflectance(read_spectrum(_write(tmp_path / "h.jdx", text)), _original(tmp_path))


# --- refusals and the checks after conversion ------------------------------------------------------
@pytest.mark.parametrize("name,text,message", [
    ("trans.csv", ftnir_csv(WAVENUMBER_CM[:20], R[:20], header="Wavenumber (cm-1),Transmittance"),
     r"trans\.csv: line 1: the values are named 'Transmittance' \(transmittance\); expected "
     r"reflectance \(fraction or %\) or absorbance"),
    ("counts.txt", "Wavelength (nm)\tIntensity (counts)\n900\t31000\n901\t31100\n",
     r"counts\.txt: line 1: .*\(intensity\); expected reflectance"),
    ("ava_t.txt", avasoft_text(NIR256_NM[:10], R[:10], columns="SDRT"),
     r"ava_t\.txt: line 5: column 'Transmittance' holds transmittance; expected a Reflectance or Absorbance column"),
    ("eco_t.spectrum.txt", ecostress_text(WAVENUMBER_CM[:10], R[:10], x_units="Wavenumber (cm-1)",
                                          y_units="Transmittance"),
     r"eco_t\.spectrum\.txt: line 15: expected Y Units reflectance \(percent or fraction\) or absorbance"),
    ("zero.csv", "Wavenumber (cm-1),Reflectance\n0,0.2\n8,0.3\n",
     r"zero\.csv: line 2: first column must be wavelength in nm or µm, or wavenumber in cm⁻¹"),
])
def test_named_other_quantities_and_bad_axes_are_refused_with_file_and_line(tmp_path, name, text, message):
    with pytest.raises(SpectrumFormatError, match=message):
        read_spectrum(_write(tmp_path / name, text))


def test_envi_transmittance_is_refused_with_its_header_line(tmp_path):
    sli = write_envi(tmp_path / "t", np.vstack([R]), WAVENUMBER_CM, units="Wavenumber", names=("a",),
                     header_extra=("z plot titles = {Wavenumber, Transmittance}",))
    with pytest.raises(SpectrumFormatError, match=r"t\.hdr: line 13: z plot titles: the values are named "
                                                   r"'Transmittance'"):
        read_spectra(sli)


def test_a_mid_infrared_file_in_wavenumbers_gets_the_coverage_errors_after_conversion(tmp_path):
    """4,000–400 cm⁻¹ is 2.5–25 µm: read (it is a spectrum), then refused by the NIR checks with their reasons."""
    k = np.arange(4000.0, 399.0, -4.0)
    s = read_spectrum(_write(tmp_path / "mir.csv", ftnir_csv(k, np.full(k.size, 0.3), header="cm-1,R")))
    assert s.wavelength_nm[0] == pytest.approx(2500.0) and s.wavelength_nm[-1] == pytest.approx(1e7 / 400.0)
    with pytest.raises(GridError, match="mir.csv"):
        s.resample(COMMON)
    with pytest.raises(GridError, match=r"expected at least \d+ finite channels .* inside 400–2400 nm, got 0 channels"):
        own_grid(s)


# --- the installed command, as a user runs it ------------------------------------------------------
def test_oreline_identifies_wavenumber_and_absorbance_files_as_their_nm_originals(tmp_path):
    folder = tmp_path / "ftnir"
    folder.mkdir()
    pvc = _at(_usgs("plastic_vinyl_gds396", "usgs_splib07a_contaminants"), NM)
    rows = ["file,class"]
    for stem, r, klass in (("hematite", R, "ore"), ("pvc", pvc, "contaminant")):
        order = np.argsort(NM)
        write_csv(folder / f"{stem}_nm.csv", NM[order], r[order])
        _write(folder / f"{stem}_opus.csv", ftnir_csv(WAVENUMBER_CM, r, header=None))
        _write(folder / f"{stem}_abs.csv", ftnir_csv(WAVENUMBER_CM, r, header="Wavenumber (cm-1),Absorbance",
                                                    absorbance=True))
        rows += [f"{stem}_{kind}.csv,{klass}" for kind in ("nm", "opus", "abs")]
    _write(folder / "labels.csv", "\n".join(rows) + "\n")
    env = {**os.environ, "ORELINE_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([str(OREL), "spectra", "evaluate", "--test-library", str(folder), "--labels",
                          str(folder / "labels.csv"), "--out", str(tmp_path / "out")], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "out" / "identification.json").read_text())
    got = {r["file"]: r for r in report["rows"]}
    assert not report["errors"] and len(got) == 6 and len(report["grids"]) == 1
    for stem, klass in (("hematite", "ore"), ("pvc", "contaminant")):
        nm = got[f"{stem}_nm.csv"]
        assert nm["called"] == klass, nm["evidence"]
        for kind in ("opus", "abs"):
            row = got[f"{stem}_{kind}.csv"]
            assert (row["called"], row["called_group"], row["evidence"]) == (nm["called"], nm["called_group"],
                                                                            nm["evidence"])
            np.testing.assert_allclose(row["p"], nm["p"], atol=1e-6)
    notes = {(n["file"], n["note"].split(":")[0]) for n in report["notes"]}
    assert ("hematite_opus.csv", "x unit inferred") in notes and ("hematite_nm.csv", "x unit inferred") not in notes


def test_free_header_text_naming_counts_does_not_refuse_a_two_column_file(tmp_path):
    """A metadata line above the rows is no column's name: its words (``counts``) refuse nothing."""
    path = tmp_path / "plain.csv"
    path.write_text("Instrument: X; detector counts averaged over 10 scans\n1000,0.30\n1100,0.31\n1200,0.32\n")
    spectrum = read_spectrum(path)
    assert spectrum.meta["y_unit"] == "fraction"
