"""Text exports of field and lab spectrometers, and ENVI spectral libraries.

* **Ocean Insight** OceanView / SpectraSuite ``.txt``: ``key: value`` header, then the rows between
  ``>>>>>Begin Spectral Data<<<<<`` (or ``Begin Processed Spectral Data``) and an optional ``>>>>>End ...`` line:
  wavelength and value, tab or space separated, decimal point or comma; ``XAxis mode: Wavenumbers`` → cm⁻¹.
* **Spectra Vista** (SVC HR-series) ``.sig``: ``key= value`` header, then ``data=`` and rows of wavelength,
  reference, target and (when written) reflectance in percent; without that column reflectance is target /
  reference.
* **Spectral Evolution** ``.sed``: ``key: value`` header, ``Data:``, a tab-separated column line (``Wvl``,
  ``Rad. (Ref.)``, ``Rad. (Target)``, ``Tgt./Ref. %`` or ``Reflect. %`` / ``Reflect. [1.0]``), then rows.
* **ENVI spectral library** ``.sli`` with its ``.hdr`` (``file type = ENVI Spectral Library``): ``lines`` spectra
  of ``samples`` channels, ``data type`` 1/2/3/4/5/12/13/14/15, ``byte order``, ``header offset``, ``wavelength``
  and ``wavelength units`` (µm, nm, Wavenumber), ``spectra names``, ``reflectance scale factor``, ``data units`` /
  ``z plot titles`` (absorbance); values < −1e30 are deleted (NaN).

Wavelengths in nm or µm and reflectance in percent or fraction are taken from the header words where the format
has them, else from the values (as :mod:`spectra.delimited`), and recorded in ``meta`` (``x_unit``, ``y_unit``,
``notes``). A detector splice (SVC and Spectral Evolution write the overlap of their detectors) is averaged
(:mod:`spectra.splice`). Every refusal is a :class:`SpectrumFormatError` naming the file, the line and what was
expected.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from spectra.delimited import fraction, wavelength_nm
from spectra.errors import SpectrumFormatError
from spectra.library import Spectrum
from spectra.splice import join_detectors
from spectra.units import is_wavenumber

_OCEAN_BEGIN = re.compile(r">>>>>\s*Begin\s+(Processed\s+)?Spectral\s+Data\s*<<<<<", re.I)
_OCEAN_END = re.compile(r">>>>>\s*End\s+(Processed\s+)?Spectral\s+Data\s*<<<<<", re.I)


def is_ocean_text(text: str) -> bool:
    """True when ``text`` is an OceanView / SpectraSuite export (has the Begin Spectral Data marker)."""
    return _OCEAN_BEGIN.search(text) is not None


def _number_rows(path: Path, lines: list[str], start: int, stop: re.Pattern | None = None,
                 min_cols: int = 2) -> tuple[np.ndarray, list[int]]:
    """Rows of numbers from ``lines[start:]`` (tab, space or semicolon separated; decimal comma allowed when the
    separator is not a comma) until ``stop`` or the end; blank lines skipped. Returns (rows, 1-based line numbers)."""
    rows, linenos = [], []
    width = None
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if stop is not None and stop.search(s):
            break
        if not s:
            continue
        cells = [c for c in re.split(r"[\t;]+|\s+", s) if c]
        if len(cells) < min_cols or (width is not None and len(cells) != width):
            want = f"{width}" if width is not None else f">= {min_cols}"
            raise SpectrumFormatError(f"{path}: line {i + 1}: expected {want} numeric columns, got {s[:60]!r}")
        try:
            rows.append([float(c.replace(",", ".")) for c in cells])
        except ValueError:
            raise SpectrumFormatError(f"{path}: line {i + 1}: expected numbers, got {s[:60]!r}") from None
        width = len(cells)
        linenos.append(i + 1)
    if len(rows) < 2:
        raise SpectrumFormatError(f"{path}: line {start + 1}: expected >= 2 data rows, got {len(rows)}")
    return np.array(rows), linenos


def _spectrum(path: Path, x: np.ndarray, x_unit_text: str, y: np.ndarray, y_unit: str, linenos: list[int],
              header: dict, notes: list[str], fmt: str) -> Spectrum:
    x_nm, x_unit, x_notes = wavelength_nm(path, x, x_unit_text, linenos[0])
    x_nm, y, splice = join_detectors(x_nm, y, str(path), linenos)
    return Spectrum(str(header.get("name") or path.stem), x_nm, y, source=str(path),
                    meta={"format": fmt, "header": header, "x_unit": x_unit, "y_unit": y_unit,
                          "notes": x_notes + notes + splice})


def _key_values(lines: list[str], stop: int, sep: str) -> dict[str, str]:
    out = {}
    for s in lines[:stop]:
        if sep in s:
            k, v = s.split(sep, 1)
            out[k.strip().lower()] = v.strip()
    return out


def read_ocean(path: Path, text: str) -> Spectrum:
    """OceanView / SpectraSuite ``.txt`` export (module docstring)."""
    lines = text.splitlines()
    begin = next((i for i, s in enumerate(lines) if _OCEAN_BEGIN.search(s)), None)
    if begin is None:
        raise SpectrumFormatError(f"{path}: expected a '>>>>>Begin Spectral Data<<<<<' line, found none")
    header = _key_values(lines, begin, ":")
    data, linenos = _number_rows(path, lines, begin + 1, _OCEAN_END)
    if data.shape[1] != 2:
        raise SpectrumFormatError(f"{path}: line {linenos[0]}: expected 2 columns (wavelength, value), "
                                  f"got {data.shape[1]}")
    pixels = header.get("number of pixels in spectrum") or header.get("number of pixels in processed spectrum")
    if pixels and pixels.strip().isdigit() and int(pixels) != data.shape[0]:
        raise SpectrumFormatError(f"{path}: line {linenos[-1]}: header says {pixels} pixels, found "
                                  f"{data.shape[0]} data rows")
    mode = header.get("xaxis mode", "wavelengths").lower()
    if "wavelength" not in mode and not is_wavenumber(mode):
        raise SpectrumFormatError(f"{path}: expected 'XAxis mode: Wavelengths' or 'Wavenumbers', got "
                                  f"{header.get('xaxis mode')!r}")
    y, y_unit = fraction(data[:, 1], header.get("processing", ""))
    notes = [f"Ocean Insight export, reflectance read as {y_unit}"]
    return _spectrum(path, data[:, 0], "nm" if "wavelength" in mode else "cm-1", y, y_unit, linenos, header, notes,
                     "ocean")


def read_svc_sig(path: Path, text: str) -> Spectrum:
    """Spectra Vista ``.sig`` (module docstring)."""
    lines = text.splitlines()
    start = next((i for i, s in enumerate(lines) if s.strip().lower().startswith("data=")), None)
    if start is None:
        raise SpectrumFormatError(f"{path}: expected a 'data=' line before the spectrum rows, found none")
    header = _key_values(lines, start, "=")
    data, linenos = _number_rows(path, lines, start + 1, min_cols=3)
    if data.shape[1] >= 4:
        y, y_unit = data[:, 3] / 100.0, "percent"
        notes = ["SVC .sig: reflectance from the 4th column (percent)"]
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(data[:, 1] > 0, data[:, 2] / np.where(data[:, 1] > 0, data[:, 1], 1.0), np.nan)
        y_unit, notes = "fraction", ["SVC .sig without a reflectance column: reflectance = target / reference"]
    return _spectrum(path, data[:, 0], "nm", y, y_unit, linenos, header, notes, "svc")


def _sed_column(names: list[str]) -> tuple[int | None, str]:
    for i, n in enumerate(names):
        low = n.lower()
        if "reflect" in low or "tgt./ref" in low or "tgt/ref" in low:
            return i, "percent" if "%" in low else "fraction"
    return None, ""


def read_sed(path: Path, text: str) -> Spectrum:
    """Spectral Evolution ``.sed`` (module docstring)."""
    lines = text.splitlines()
    start = next((i for i, s in enumerate(lines) if s.strip().lower().startswith("data:")), None)
    if start is None or start + 1 >= len(lines):
        raise SpectrumFormatError(f"{path}: expected a 'Data:' line and a column line, found none")
    header = _key_values(lines, start, ":")
    names = [c.strip() for c in lines[start + 1].split("\t") if c.strip()]
    if not names or not names[0].lower().startswith("wvl") and "wave" not in names[0].lower():
        raise SpectrumFormatError(f"{path}: line {start + 2}: expected a column line starting 'Wvl', got "
                                  f"{lines[start + 1][:60]!r}")
    data, linenos = _number_rows(path, lines, start + 2)
    if data.shape[1] != len(names):
        raise SpectrumFormatError(f"{path}: line {linenos[0]}: expected {len(names)} columns ({', '.join(names)}), "
                                  f"got {data.shape[1]}")
    col, unit = _sed_column(names)
    if col is not None:
        y, y_unit = (data[:, col] / 100.0, "percent") if unit == "percent" else (data[:, col], "fraction")
        notes = [f"Spectral Evolution .sed: reflectance from column {names[col]!r} ({y_unit})"]
    else:
        ref = next((i for i, n in enumerate(names) if "ref" in n.lower()), None)
        tgt = next((i for i, n in enumerate(names) if "target" in n.lower() or "tgt" in n.lower()), None)
        if ref is None or tgt is None:
            raise SpectrumFormatError(f"{path}: line {start + 2}: expected a reflectance column or reference and "
                                      f"target columns, got {', '.join(names)}")
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(data[:, ref] > 0, data[:, tgt] / np.where(data[:, ref] > 0, data[:, ref], 1.0), np.nan)
        y_unit, notes = "fraction", [f"reflectance = {names[tgt]!r} / {names[ref]!r}"]
    return _spectrum(path, data[:, 0], "", y, y_unit, linenos, header, notes, "sed")
