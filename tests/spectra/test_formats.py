"""Spectrum file formats: round trips and corrupt input."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.errors import SpectrumFormatError
from spectra.formats import (read_csv, read_ecostress, read_hdf5, read_jcamp, read_spectra, read_spectrum,
                             write_csv, write_hdf5, write_jcamp)

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
    ("um.csv", "0.9,0.1\n1.0,0.2\n"),
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
