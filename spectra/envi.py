"""ENVI spectral libraries: a binary ``.sli`` of ``lines`` spectra × ``samples`` channels and its text ``.hdr``.

The header is ``key = value`` lines; a ``{...}`` value may run over several lines. Used keys: ``samples``,
``lines``, ``data type`` (1 uint8, 2 int16, 3 int32, 4 float32, 5 float64, 12 uint16, 13 uint32, 14 int64, 15
uint64), ``byte order`` (0 little, 1 big endian), ``header offset``, ``wavelength`` (one per sample),
``wavelength units`` (Micrometers / Nanometers / Wavenumber in cm⁻¹; else from the values, as
:func:`spectra.delimited.wavelength_nm`), ``spectra names``, ``reflectance scale factor`` (values divided by it;
without it, percent or fraction from the values) and what the values are: ``data units``, else the y title of
``z plot titles`` (absorbance → 10^−A; transmittance and the like refused). Values < −1e30 (the USGS deleted
channel) are NaN. Refusals name the file, the header line and what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from spectra.delimited import reflectance_fraction, wavelength_nm
from spectra.errors import SpectrumFormatError
from spectra.library import Spectrum
from spectra.splice import join_detectors

DTYPES = {1: "u1", 2: "i2", 3: "i4", 4: "f4", 5: "f8", 12: "u2", 13: "u4", 14: "i8", 15: "u8"}


def header_path(sli: Path) -> Path:
    """The ``.hdr`` of ``sli``: ``name.hdr`` or ``name.sli.hdr``; raises SpectrumFormatError when neither exists."""
    for cand in (sli.with_suffix(".hdr"), sli.with_name(sli.name + ".hdr")):
        if cand.is_file():
            return cand
    raise SpectrumFormatError(f"{sli}: expected its ENVI header {sli.with_suffix('.hdr').name} beside it, found none")


def read_header(hdr: Path) -> tuple[dict[str, str], dict[str, int]]:
    """``key → value`` of an ENVI header (braces joined over lines) and ``key → line`` where each started."""
    try:
        lines = hdr.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise SpectrumFormatError(f"{hdr}: cannot read ({exc})") from exc
    if not lines or lines[0].strip() != "ENVI":
        raise SpectrumFormatError(f"{hdr}: line 1: expected 'ENVI', got {(lines[0] if lines else '')[:40]!r}")
    out: dict[str, str] = {}
    where: dict[str, int] = {}
    i = 1
    while i < len(lines):
        s = lines[i]
        if "=" not in s:
            if s.strip():
                raise SpectrumFormatError(f"{hdr}: line {i + 1}: expected 'key = value', got {s[:60]!r}")
            i += 1
            continue
        key, value = (p.strip() for p in s.split("=", 1))
        start = i
        while value.startswith("{") and "}" not in value:
            i += 1
            if i >= len(lines):
                raise SpectrumFormatError(f"{hdr}: line {start + 1}: {key}: expected a closing '}}', file ended")
            value += " " + lines[i].strip()
        out[key.lower()] = value
        where[key.lower()] = start + 1
        i += 1
    return out, where


def _int(hdr: Path, h: dict, where: dict, key: str, default: int | None = None) -> int:
    if key not in h:
        if default is None:
            raise SpectrumFormatError(f"{hdr}: expected the key {key!r}, found none")
        return default
    try:
        return int(h[key])
    except ValueError:
        raise SpectrumFormatError(f"{hdr}: line {where[key]}: {key}: expected an integer, got {h[key][:40]!r}") from None


def _list(h: dict, key: str) -> list[str]:
    v = h.get(key, "").strip()
    return [c.strip() for c in v.strip("{}").split(",") if c.strip()] if v else []


def _wavelengths(hdr: Path, h: dict, where: dict, samples: int) -> tuple[np.ndarray, str, list[str]]:
    cells = _list(h, "wavelength")
    if len(cells) != samples:
        line = where.get("wavelength")
        raise SpectrumFormatError(f"{hdr}: {f'line {line}: ' if line else ''}expected a wavelength list of "
                                  f"{samples} values (samples), got {len(cells)}")
    try:
        wl = np.array([float(c) for c in cells])
    except ValueError:
        raise SpectrumFormatError(f"{hdr}: line {where['wavelength']}: expected numeric wavelengths") from None
    return wavelength_nm(hdr, wl, h.get("wavelength units", ""), where["wavelength"])


def _y_unit_text(h: dict) -> tuple[str, str]:
    """(the header key, its text) naming the values: ``data units``, else the y title of ``z plot titles``."""
    if h.get("data units", "").strip():
        return "data units", h["data units"].strip()
    titles = _list(h, "z plot titles")
    return ("z plot titles", titles[1]) if len(titles) >= 2 else ("", "")


def _reflectance(hdr: Path, h: dict, where: dict, values: np.ndarray) -> tuple[np.ndarray, str]:
    """Reflectance fraction of one spectrum's values: divided by ``reflectance scale factor`` where given, then
    absorbance (named by ``data units`` / ``z plot titles``) → 10^−A; without a scale factor or unit word, percent
    or fraction from the values. Another named quantity (transmittance...) is refused."""
    key, text = _y_unit_text(h)
    at = f"{hdr}: line {where[key]}: {key}" if key else f"{hdr}"
    if "reflectance scale factor" not in h:
        return reflectance_fraction(at, values, text)
    scale = h["reflectance scale factor"]
    try:
        scaled = values / float(scale)
    except ValueError:
        raise SpectrumFormatError(f"{hdr}: line {where['reflectance scale factor']}: reflectance scale factor: "
                                  f"expected a number, got {scale[:40]!r}") from None
    y, unit = reflectance_fraction(at, scaled, text)
    return (y, f"{unit}, scaled by 1/{scale}") if unit == "absorbance" else (scaled, f"scaled by 1/{scale}")


def read_envi_sli(path: str | Path) -> list[Spectrum]:
    """Every spectrum of an ENVI spectral library ``.sli`` (module docstring)."""
    path = Path(path)
    hdr = header_path(path)
    h, where = read_header(hdr)
    samples, nlines = _int(hdr, h, where, "samples"), _int(hdr, h, where, "lines")
    dtype_code, order = _int(hdr, h, where, "data type"), _int(hdr, h, where, "byte order", 0)
    offset, bands = _int(hdr, h, where, "header offset", 0), _int(hdr, h, where, "bands", 1)
    if dtype_code not in DTYPES or order not in (0, 1) or bands != 1:
        key = "data type" if dtype_code not in DTYPES else "byte order" if order not in (0, 1) else "bands"
        raise SpectrumFormatError(f"{hdr}: line {where[key]}: {key}: expected data type in {sorted(DTYPES)}, "
                                  f"byte order 0/1 and bands = 1 (a spectral library), got {h[key]!r}")
    wl_nm, x_unit, x_notes = _wavelengths(hdr, h, where, samples)
    dtype = np.dtype(("<" if order == 0 else ">") + DTYPES[dtype_code])
    raw = path.read_bytes()
    need = offset + samples * nlines * dtype.itemsize
    if len(raw) < need:
        raise SpectrumFormatError(f"{path}: expected {need} bytes ({nlines} spectra x {samples} channels of "
                                  f"{dtype.name} after {offset} header bytes), file has {len(raw)}")
    data = np.frombuffer(raw, dtype, samples * nlines, offset).astype(float).reshape(nlines, samples)
    data[data < -1e30] = np.nan
    names = re.split(r"\s*,\s*", h.get("spectra names", "").strip().strip("{}").strip())
    names = names if len(names) == nlines else [f"{path.stem}[{i}]" for i in range(nlines)]
    out = []
    for i in range(nlines):
        y, y_unit = _reflectance(hdr, h, where, data[i])
        x, y, notes = join_detectors(wl_nm, y, f"{path} (spectrum {i + 1})", [where["wavelength"]] * samples)
        out.append(Spectrum(names[i], x, y, source=f"{path}#{i}",
                            meta={"format": "envi", "x_unit": x_unit, "y_unit": y_unit, "notes": x_notes + notes}))
    return out
