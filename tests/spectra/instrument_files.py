"""Writers of real instruments' file layouts for the tests: AvaSoft multi-column exports, two-detector spectra, ASD
binary files built byte by byte from the ASD file format (header 484 bytes, then the spectrum and the white
reference as 8-byte doubles, then the v6/v7 classifier, dependent-variable and calibration sections), ENVI spectral
libraries, and FT-NIR exports in wavenumbers (cm⁻¹, descending) and absorbance log10(1/R): Bruker OPUS-like CSV and
ECOSTRESS library text."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from spectra.grid import resolve_grid

#: The 256 pixel centres of the shipped InGaAs grid file (a real instrument's wavelengths).
NIR256_NM = resolve_grid("nir256_1014-1749nm").wavelength_nm


def counts(reflectance: np.ndarray, dark: float = 1500.0, white: float = 42000.0) -> tuple[np.ndarray, ...]:
    """(sample, dark, reference) counts that reference to ``reflectance``."""
    d = np.full(reflectance.shape, dark)
    w = np.full(reflectance.shape, white) * np.linspace(0.6, 1.0, reflectance.size)  # the lamp's shape
    return d + reflectance * (w - d), d, w


def dec(v: float, digits: int = 3) -> str:
    """A number with a decimal comma, as AvaSoft writes it."""
    return f"{v:.{digits}f}".replace(".", ",")


def avasoft_text(wl_nm: np.ndarray, reflectance: np.ndarray, *, columns: str = "SDRX", sep: str = ";",
                 newline: str = "\n", trailing_sep: bool = False, micrometres: bool = False,
                 extra_header: tuple[str, ...] = ()) -> str:
    """An AvaSoft 8 multi-column export. ``columns``: S sample, D dark, R reference, X reflectance [%], A absorbance
    (log10 1/R), T transmittance [%] (the reflectance written as if it were one)."""
    s, d, w = counts(reflectance)
    with np.errstate(divide="ignore"):  # absorbance of a zero reflectance: inf (written only when asked for)
        absorbance = -np.log10(reflectance)
    cols = {"S": ("Sample", "[counts]", s, 3), "D": ("Dark", "[counts]", d, 3), "R": ("Reference", "[counts]", w, 3),
            "X": ("Reflectance", "[%]", 100.0 * reflectance, 3), "A": ("Absorbance", "[AU]", absorbance, 9),
            "T": ("Transmittance", "[%]", 100.0 * reflectance, 3)}
    chosen = [cols[c] for c in columns]
    x = wl_nm / 1000.0 if micrometres else wl_nm
    head = ["Data measured with spectrometer [name]: 1811086U1", "Integration time [ms]:  15,000",
            "Averaging Nr. [scans]: 20", "Smoothing Nr. [pixels]: 0", *extra_header,
            sep.join(["Wave "] + [f"{n} " for n, _u, _v, _d in chosen]),
            sep.join(["[µm] " if micrometres else "[nm] "] + [f"{u} " for _n, u, _v, _d in chosen]), ""]
    rows = [sep.join([dec(x[i], 6 if micrometres else 3)] + [dec(v[i], digits) for _n, _u, v, digits in chosen])
            + (sep if trailing_sep else "") for i in range(wl_nm.size)]
    return newline.join(head + rows) + newline


def two_detector_text(splice_nm: float = 992.7, overlap: int = 0, step_nm: float = 3.1, n1: int = 30,
                      n2: int = 40) -> tuple[str, np.ndarray]:
    """A two-column (nm, %) tab export of two detectors meeting at ``splice_nm``: the second starts there (the
    wavelength repeated) or ``overlap`` channels before it. Returns the text and the true reflectance function
    sampled at the file's wavelengths (the detectors differ by 0.2 % absolute)."""
    det1 = np.round(np.arange(splice_nm - n1 * step_nm, splice_nm + 1e-9, step_nm), 1)
    det1[-1] = splice_nm
    det2 = np.round(splice_nm + step_nm * (np.arange(n2) - overlap), 1)
    def truth(x: np.ndarray) -> np.ndarray:
        return 0.25 + 0.05 * np.sin(x / 60.0)

    lines = ["Wavelength (nm)\tReflectance (%)"]
    lines += [f"{x:.1f}\t{100 * truth(x) - 0.1:.4f}" for x in det1]
    lines += [f"{x:.1f}\t{100 * truth(x) + 0.1:.4f}" for x in det2]
    return "\n".join(lines) + "\n", np.concatenate([det1, det2])


def _bstr(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("<h", len(raw)) + raw


def asd_bytes(wl0_nm: float, step_nm: float, dn: np.ndarray, white_dn: np.ndarray, *, version: bytes = b"as7",
              data_type: int = 1, it_ms: int = 17, splice_nm: tuple[float, float] = (1000.0, 1800.0)) -> bytes:
    """An ASD binary file: signature, 484-byte header, spectrum, reference header and reference (doubles)."""
    n = dn.size
    head = bytearray(484)
    head[0:3] = version
    comment = b"oreline test file"
    head[3:3 + len(comment)] = comment
    head[160:178] = struct.pack("<9h", 30, 15, 10, 4, 11, 126, 5, 338, 0)  # 2026-12-04 10:15:30
    head[178], head[179] = 0x60, 0x07  # program and file version
    struct.pack_into("<b l b l f f b", head, 181, 1, 1764843000, data_type, 1764842900, wl0_nm, step_nm, 2)
    struct.pack_into("<H", head, 204, n)
    struct.pack_into("<L h h H H f f f f h b", head, 390, it_ms, 0, 0, 0, 18000, 0.0, 2.0, wl0_nm,
                     wl0_nm + step_nm * (n - 1), 16, 3)
    struct.pack_into("<b", head, 431, 4)  # FieldSpec full range
    struct.pack_into("<L H H H H f f", head, 432, 0, 2048, 2048, 2048, 2048, *splice_nm)
    body = struct.pack(f"<{n}d", *dn)
    if version != b"ASD":
        body += b"\xff\xff" + struct.pack("<dd", 46000.5, 46000.6) + _bstr("white reference")
        body += struct.pack(f"<{n}d", *white_dn)
    if version >= b"as6":
        body += struct.pack("<bb", 0, 0) + b"".join(_bstr("") for _ in range(20)) + struct.pack("<H", 0) + b"\0\0"
        body += b"\x00\x00" + struct.pack("<h", 0) + b"\0" * 4
    if version >= b"as7":
        body += struct.pack("<b", 0)
    return bytes(head) + body


def write_asd(path: Path, wl0_nm: float, step_nm: float, reflectance: np.ndarray, **kw) -> Path:
    """An ASD reflectance file whose spectrum over its white reference is ``reflectance``."""
    white = 20000.0 + 5000.0 * np.cos(np.arange(reflectance.size) / 300.0)
    path.write_bytes(asd_bytes(wl0_nm, step_nm, reflectance * white, white, **kw))
    return path


def write_envi(stem: Path, spectra: np.ndarray, x: np.ndarray, *, dtype: str = "<f4", code: int = 4, order: int = 0,
               scale: float | None = None, names: tuple[str, ...] = ("a", "b"), header_extra: tuple[str, ...] = (),
               units: str = "Micrometers") -> Path:
    """An ENVI spectral library ``stem.sli`` + ``stem.hdr``: ``spectra`` (n, samples) at ``x`` in ``units``."""
    body = spectra * (scale or 1.0)
    stem.with_suffix(".sli").write_bytes(np.asarray(body, dtype).tobytes())
    x_text = ",\n ".join(", ".join(f"{w:.5f}" for w in x[i:i + 8]) for i in range(0, x.size, 8))
    lines = ["ENVI", "description = {", "  test library}", f"samples = {x.size}", f"lines = {spectra.shape[0]}",
             "bands = 1", "header offset = 0", "file type = ENVI Spectral Library", f"data type = {code}",
             "interleave = bsq", f"byte order = {order}", f"wavelength units = {units}",
             *([f"reflectance scale factor = {scale:g}"] if scale else []), *header_extra,
             "spectra names = {" + ", ".join(names) + "}", "wavelength = {",
             f" {x[0]:.5f}, " + x_text[x_text.index(",") + 1:].strip() + "}"]
    stem.with_suffix(".hdr").write_text("\n".join(lines) + "\n")
    return stem.with_suffix(".sli")


def ftnir_csv(wavenumber_cm: np.ndarray, reflectance: np.ndarray, *, header: str | None = "Wavenumber (cm-1),Reflectance",
              absorbance: bool = False, sep: str = ",") -> str:
    """A Bruker OPUS-like CSV export: wavenumbers in cm⁻¹ as given (descending, as OPUS writes them), then
    reflectance or absorbance log10(1/R); ``header`` None: no header line (OPUS's default)."""
    y = -np.log10(reflectance) if absorbance else reflectance
    rows = [f"{k:.4f}{sep}{v:.10f}" for k, v in zip(wavenumber_cm, y)]
    return "\n".join(([header] if header is not None else []) + rows) + "\n"


def ecostress_text(x: np.ndarray, y: np.ndarray, *, x_units: str, y_units: str) -> str:
    """An ECOSTRESS library text file: the ``key: value`` header (``X Units``, ``Y Units``), a blank line, rows."""
    head = ["Name: Hematite GDS27 (FT-NIR test)", "Type: Mineral", "Class: Oxide", "Subclass: Hematite",
            "Particle Size: 0-250 um", "Sample No.: GDS27", "Owner: USGS", "Wavelength Range: NIR",
            "Origin: test", "Description: written as an FT-NIR instrument would", "Measurement: Directional "
            "(10 Degree) Hemispherical Reflectance", "First Column: X", "Second Column: Y", f"X Units: {x_units}",
            f"Y Units: {y_units}", f"First X Value: {x[0]:.4f}", f"Last X Value: {x[-1]:.4f}",
            f"Number of X Values: {x.size}", "Additional Information: none", ""]
    return "\n".join(head + [f"{a:.4f}\t{b:.10f}" for a, b in zip(x, y)]) + "\n"
