"""Exports of other real instruments, written here in their exact field layouts: Ocean Insight OceanView /
SpectraSuite ``.txt``, Spectra Vista ``.sig``, Spectral Evolution ``.sed``, ENVI spectral libraries (``.sli`` +
``.hdr``) and the plain AvaSoft 2-column / ``.ttt`` exports; and their refusals (file, line, what was expected)."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.errors import SpectrumFormatError
from spectra.folder import read_files, spectrum_files
from spectra.formats import read_spectra, read_spectrum
from tests.spectra.instrument_files import write_envi

WL = np.round(np.linspace(900.0, 1700.0, 120), 2)


def truth(wl_nm: np.ndarray) -> np.ndarray:
    """A reflectance with a C–H-like band at 1.21 µm."""
    return 0.35 + 0.1 * (wl_nm - 900) / 800 - 0.08 * np.exp(-0.5 * ((wl_nm - 1210) / 12) ** 2)


def ocean_text(wl=WL, r=None, *, processed=False, comma=False, pixels=None, end=True, percent=True) -> str:
    r = truth(wl) if r is None else r
    word = "Processed " if processed else ""
    head = ["Data from FLMS12345__0__17-01-02-345.txt Node", "", "Date: Fri Dec 04 17:01:02 CET 2026",
            "User: lab", "Spectrometer: FLMS12345", "Trigger mode: 0", "Integration Time (sec): 1.000000E-1",
            "Scans to average: 10", "Electric dark correction enabled: true", "Nonlinearity correction enabled: true",
            "Boxcar width: 0", "XAxis mode: Wavelengths",
            f"Number of Pixels in {word}Spectrum: {pixels or wl.size}", f">>>>>Begin {word}Spectral Data<<<<<"]
    rows = [f"{x:.3f}\t{(100 if percent else 1) * y:.6f}" for x, y in zip(wl, r)]
    if comma:
        rows = [row.replace(".", ",") for row in rows]
    return "\n".join(head + rows + ([f">>>>>End {word}Spectral Data<<<<<"] if end else [])) + "\n"


def svc_text(wl=WL, r=None, *, reflectance_column=True, overlap=0) -> str:
    r = truth(wl) if r is None else r
    head = ["/*** Spectra Vista SIG Data ***/", "name= HR.000.sig", "instrument= HI: 1003021 (HR-1024)",
            "integration= 50, 50, 10, 50, 50, 10", "scan method= Time-based, Time-based", "units= Radiance, Radiance",
            "time= 12/4/2026 5:01:02 PM, 12/4/2026 5:01:12 PM", "factors= 1.000, 1.000, 1.000 [Avg., Avg., Avg.]",
            "data="]
    ref = 6000.0 + 1000 * np.sin(wl / 200)
    rows = [f"{x:.1f}  {a:.2f}  {a * y:.2f}" + (f"  {100 * y:.2f}" if reflectance_column else "")
            for x, a, y in zip(wl, ref, r)]
    if overlap:  # the second detector starts `overlap` channels before the first one ends
        k = wl.size // 2
        extra = [f"{x:.1f}  {a:.2f}  {a * y:.2f}  {100 * y:.2f}"
                 for x, a, y in zip(wl[k - overlap:k], ref[k - overlap:k], r[k - overlap:k])]
        rows = rows[:k] + extra + rows[k:]
    return "\n".join(head + rows) + "\n"


def sed_text(wl=WL, r=None, *, column="Tgt./Ref. %") -> str:
    r = truth(wl) if r is None else r
    head = ["Comment:", "Version: 2.3 [1.2.6010]", "File Name: C:\\data\\s001.sed", "Instrument: PSR-3500_SN1234 [3]",
            "Detectors: 512,256,256", "Measurement: REFLECTANCE", "Date: 12/04/2026,12/04/2026",
            "Time: 17:01:02.00,17:01:12.00", "Units: Radiance", "Wavelength Range: 900,1700", "Channels: 120",
            "Columns [4]:", "Data:"]
    ref = 0.5 + 0.1 * np.cos(wl / 300)
    cols = ["Wvl", "Rad. (Ref.)", "Rad. (Target)"] + ([column] if column else [])
    scale = 100.0 if "%" in (column or "") else 1.0
    rows = ["\t".join([f"{x:.1f}", f"{a:.6e}", f"{a * y:.6e}"] + ([f"{scale * y:.4f}"] if column else []))
            for x, a, y in zip(wl, ref, r)]
    return "\n".join(head + ["\t".join(cols)] + rows) + "\n"


def _check(s, wl=WL, atol=2e-4):
    assert np.allclose(s.wavelength_nm, wl, atol=0.06)
    assert np.allclose(s.reflectance, truth(s.wavelength_nm), atol=atol)


@pytest.mark.parametrize("kw", [{}, {"processed": True}, {"comma": True}, {"end": False}])
def test_ocean_insight_export(tmp_path, kw):
    f = tmp_path / "FLMS12345__0__17-01-02-345.txt"
    f.write_text(ocean_text(**kw), encoding="utf-8")
    s = read_spectrum(f)
    _check(s)
    assert s.meta["format"] == "ocean" and s.meta["y_unit"] == "percent"


def test_ocean_fraction_values_are_detected(tmp_path):
    f = tmp_path / "frac.txt"
    f.write_text(ocean_text(percent=False))
    s = read_spectrum(f)
    _check(s)
    assert s.meta["y_unit"] == "fraction"


def test_ocean_export_in_wavenumbers(tmp_path):
    wavenumber_cm = np.linspace(11100.0, 5900.0, 120)  # 901–1695 nm, descending
    text = ocean_text(wavenumber_cm, truth(1e7 / wavenumber_cm))
    f = tmp_path / "FLMS12345_wn.txt"
    f.write_text(text.replace("XAxis mode: Wavelengths", "XAxis mode: Wavenumbers"), encoding="utf-8")
    s = read_spectrum(f)
    _check(s, np.sort(1e7 / wavenumber_cm), atol=3e-6)
    assert s.meta["x_unit"] == "cm-1"


@pytest.mark.parametrize("kw", [{}, {"reflectance_column": False}, {"overlap": 4}])
def test_spectra_vista_sig(tmp_path, kw):
    f = tmp_path / "HR.000.sig"
    f.write_text(svc_text(**kw))
    s = read_spectrum(f)
    _check(s, atol=3e-4)
    if kw.get("overlap"):
        assert any("overlap" in n or "splice" in n for n in s.meta["notes"]), s.meta["notes"]


@pytest.mark.parametrize("column", ["Tgt./Ref. %", "Reflect. %", "Reflect. [1.0]", None])
def test_spectral_evolution_sed(tmp_path, column):
    f = tmp_path / "s001.sed"
    f.write_text(sed_text(column=column))
    s = read_spectrum(f)
    _check(s)
    assert s.meta["format"] == "sed"


@pytest.mark.parametrize("dtype,code,order,scale", [("<f4", 4, 0, None), (">f8", 5, 1, None),
                                                    ("<i2", 2, 0, 10000.0), ("<f4", 4, 0, None)])
def test_envi_spectral_library(tmp_path, dtype, code, order, scale):
    r = np.vstack([truth(WL), truth(WL) * 0.5])
    r[1, 5] = -1.23e34 if code in (4, 5) else r[1, 5]  # the USGS deleted channel
    sli = write_envi(tmp_path / "lib", r, WL / 1000.0, dtype=dtype, code=code, order=order, scale=scale)
    spectra = read_spectra(sli)
    assert [s.name for s in spectra] == ["a", "b"]
    _check(spectra[0], atol=1e-4)
    assert np.allclose(np.delete(spectra[1].reflectance, 5), np.delete(truth(WL) * 0.5, 5), atol=1e-4)
    assert np.isnan(spectra[1].reflectance[5]) == (code in (4, 5))


def test_plain_avasoft_two_column_and_ttt(tmp_path):
    head = ["Data measured with spectrometer [name]: 1811086U1", "Integration time [ms]:  15,000",
            "Averaging Nr. [scans]: 20", "Smoothing Nr. [pixels]: 0", "Wave ;Reflectance ", "[nm] ;[%] ", ""]
    rows = [f"{x:.3f};{100 * y:.3f}".replace(".", ",") for x, y in zip(WL, truth(WL))]
    for name in ("plain.csv", "scope.ttt", "refl.trt"):
        (tmp_path / name).write_text("\n".join(head + rows) + "\n", encoding="latin-1")
        s = read_spectrum(tmp_path / name)
        _check(s, atol=1e-3)


@pytest.mark.parametrize("name,text,expected", [
    ("o.txt", lambda: ocean_text(pixels=99), "line 134: header says 99 pixels"),
    ("o2.txt", lambda: ocean_text().replace(f"{WL[0]:.3f}\t", f"{WL[0]:.3f}\tx"), "line 15: expected numbers"),
    ("o3.txt", lambda: ocean_text().replace("XAxis mode: Wavelengths", "XAxis mode: Pixels"),
     "expected 'XAxis mode: Wavelengths' or 'Wavenumbers', got 'Pixels'"),
    ("s.sig", lambda: svc_text().replace("data=", "dat="), "expected a 'data=' line"),
    ("s2.sig", lambda: svc_text().replace("data=\n", "data=\n950.0  12.0\n"), "line 10: expected >= 3 numeric columns"),
    ("e.sed", lambda: sed_text().replace("Wvl\t", "Foo\t"), "line 14: expected a column line starting 'Wvl'"),
    ("e2.sed", lambda: sed_text(column=None).replace("Rad. (Ref.)", "Irr. A").replace("Rad. (Target)", "Irr. B"),
     "expected a reflectance column or reference and target columns"),
])
def test_refusals_name_file_line_and_what_was_expected(tmp_path, name, text, expected):
    f = tmp_path / name
    f.write_text(text())
    with pytest.raises(SpectrumFormatError) as info:
        read_spectrum(f)
    assert str(f) in str(info.value) and expected in str(info.value), str(info.value)


def test_envi_refusals(tmp_path):
    r = np.vstack([truth(WL)])
    sli = write_envi(tmp_path / "short", r, WL / 1000.0, names=("a",))
    sli.write_bytes(sli.read_bytes()[:100])
    with pytest.raises(SpectrumFormatError, match=r"short\.sli: expected 480 bytes"):
        read_spectra(sli)
    bad = write_envi(tmp_path / "dtype", r, WL / 1000.0, code=7, names=("a",))
    with pytest.raises(SpectrumFormatError, match=r"dtype\.hdr: line 9: data type: expected data type in"):
        read_spectra(bad)
    few = write_envi(tmp_path / "few", r, WL / 1000.0, names=("a",))
    hdr = few.with_suffix(".hdr")
    hdr.write_text(hdr.read_text().replace("samples = 120", "samples = 121"))
    with pytest.raises(SpectrumFormatError, match=r"few\.hdr: line \d+: expected a wavelength list of 121 values"):
        read_spectra(few)
    alone = tmp_path / "alone.sli"
    alone.write_bytes(b"\0" * 16)
    with pytest.raises(SpectrumFormatError, match=r"alone\.sli: expected its ENVI header alone\.hdr"):
        read_spectra(alone)


def test_a_folder_of_vendor_files_with_bad_ones_scores_the_rest(tmp_path):
    (tmp_path / "a.txt").write_text(ocean_text())
    (tmp_path / "b.sig").write_text(svc_text())
    (tmp_path / "c.sed").write_text(sed_text())
    write_envi(tmp_path / "d", np.vstack([truth(WL), truth(WL)]), WL / 1000.0)
    (tmp_path / "bad.sig").write_text("/*** Spectra Vista SIG Data ***/\nname= x\n")
    (tmp_path / "bad.sed").write_text(sed_text().replace("Wvl\t", "Foo\t"))
    got = read_files(spectrum_files(tmp_path))
    assert len(got.spectra) == 5
    assert sorted(e["file"].rsplit("/", 1)[1] for e in got.errors) == ["bad.sed", "bad.sig"]
    assert all(e["file"] in e["error"] for e in got.errors)
