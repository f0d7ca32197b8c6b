"""Delimited text exports of spectrometers: a table of numeric rows under an optional header.

Two layouts are read:

* two columns (wavelength, reflectance), with or without a header row;
* an instrument's multi-column export, e.g. AvaSoft's: header lines (``Integration time [ms]:  15,000``), a
  column line ``Wave ;Sample ;Dark ;Reference;Reflectance``, an optional units line ``[nm] ;[counts] ;...``, a
  blank line, then the rows. The reflectance column is picked by its header, else an absorbance column
  (``Absorbance``, ``log(1/R)``, ``A``: R = 10^−A); without either, reflectance is computed from the sample, dark
  and reference columns as (S − D) / (W − D); a ``Transmittance`` column (or another named quantity) is refused.

Units: wavelength in nm, µm or wavenumbers (cm⁻¹) from the unit words or the values (:func:`wavelength_nm`);
reflectance in percent or fraction, or absorbance when named (:func:`reflectance_fraction`; :mod:`spectra.units`).

Separators: semicolon, tab, comma (only when it splits a row into numbers) or spaces; decimal point, or decimal
comma with the other separators; trailing separators, CRLF line ends and a UTF-8 byte-order mark are accepted.
Every refusal raises :class:`SpectrumFormatError` naming the file, the line and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spectra.constants import REFLECTANCE_RANGE
from spectra.errors import SpectrumFormatError
from spectra.units import (
    WAVENUMBERS_IF_ABOVE,
    is_absorbance,
    is_wavenumber,
    nm_from_wavenumber,
    reflectance_from_absorbance,
    refused_y_unit,
)

NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")
#: Reflectance above this (as read) can only be percent: a fraction of bulk material stays below it.
PERCENT_IF_ABOVE = REFLECTANCE_RANGE[1]
#: Wavelengths below this (as read) are micrometres.
MICRONS_IF_BELOW = 50.0
_UNIT_CELL = re.compile(r"^[\[(].*[\])]$")
_BRACKETED = re.compile(r"[\[(]([^\])]*)[\])]")
_MICRO = re.compile(r"micro|\bum\b|[µμ]m|\(um\)|\[um\]")
_NANO = re.compile(r"nano|\bnm\b|\(nm\)|\[nm\]")
_PERCENT = re.compile(r"%|percent|\bpct\b")

#: Column roles of multi-column exports, matched against the lower-cased column name.
ROLES = {
    "wavelength": re.compile(r"wave|lambda|^wl$|nm\b"),
    "reflectance": re.compile(r"reflect|^refl\.?$|^%\s*r$|^r\s*%$"),
    "sample": re.compile(r"sample|scope|signal|target|raw"),
    "dark": re.compile(r"dark|background|bkg"),
    "reference": re.compile(r"reference|white|^ref\b"),
}


@dataclass
class Table:
    """Numeric rows of a delimited file: ``data`` (rows, cols), each row's 1-based ``lines``, column names and units
    (``""`` where the file has none), the header lines before the column line, and where the column line was."""

    data: np.ndarray
    lines: list[int]
    names: list[str]
    units: list[str]
    header: list[str]
    separator: str
    names_line: int = 0
    notes: list[str] = field(default_factory=list)


def separator(s: str) -> tuple[str | None, str]:
    """The column separator of a data row: semicolon, tab, comma (only if it splits the row into numbers) or spaces."""
    if ";" in s:
        return ";", "semicolon"
    if "\t" in s:
        return "\t", "tab"
    if "," in s:
        cells = [c.strip() for c in s.split(",")]
        if cells and not cells[-1]:
            cells.pop()
        if len(cells) >= 2 and all(NUMBER.match(c) for c in cells):
            return ",", "comma"
    return None, "whitespace"


def cells(s: str, sep: str | None) -> list[str]:
    """The stripped cells of a line, without trailing empty cells (a trailing separator is common in exports)."""
    out = [c.strip() for c in (s.split(sep) if sep else s.split())]
    while out and not out[-1]:
        out.pop()
    return out


def numeric_row(s: str) -> list[str] | None:
    """The cells of a row of >= 2 numbers (decimal point, or decimal comma unless comma-separated), else None."""
    if not s:
        return None
    row = cells(s, separator(s)[0])
    if len(row) < 2 or not all(NUMBER.match(c) for c in row):
        return None
    return row


def _unit_of(name: str) -> str:
    m = _BRACKETED.search(name)
    return m.group(1).strip() if m else ""


def _column_names(header: list[tuple[int, str]], sep: str | None, n: int) -> tuple[list[str], list[str], int]:
    """Names, units and 1-based line of the column line: the last header line that splits into ``n`` cells; a line
    of bracketed cells only (``[nm];[counts]``) right after it holds the units."""
    split = [(no, cells(s, sep)) for no, s in header]
    fits = [(no, c) for no, c in split if len(c) == n]
    if not fits:
        return [""] * n, [""] * n, 0
    no, last = fits[-1]
    if all(_UNIT_CELL.match(c) for c in last) and len(fits) >= 2:
        names_no, names = fits[-2]
        return names, [c.strip("[]() ") for c in last], names_no
    return last, [_unit_of(c) for c in last], no


def _parse_rows(path: Path, lines: list[str], first: int, sep: str | None, name: str,
                n: int, what: str) -> tuple[np.ndarray, list[int]]:
    rows: list[list[float]] = []
    linenos: list[int] = []
    for lineno in range(first + 1, len(lines) + 1):
        s = lines[lineno - 1].strip()
        if not s or s.startswith("#"):
            continue
        row = [c.strip() for c in (s.split(sep) if sep else s.split())]
        while len(row) > n and not row[-1]:
            row.pop()  # trailing separators; an empty last cell within the n columns is a deleted channel
        if len(row) != n:
            raise SpectrumFormatError(
                f"{path}: line {lineno}: expected {n} {name}-separated columns ({what}), got {len(row)}: {s[:60]!r}")
        vals = []
        for i, c in enumerate(row):
            t = c.replace(",", ".") if sep != "," else c
            if not t and i > 0:
                vals.append(float("nan"))  # an empty value cell is a deleted channel
                continue
            try:
                vals.append(float(t))
            except ValueError:
                raise SpectrumFormatError(f"{path}: line {lineno}: expected a number, got {c!r}") from None
        rows.append(vals)
        linenos.append(lineno)
    return np.array(rows, float).reshape(-1, n), linenos


def read_table(path: Path, text: str) -> Table:
    """The numeric table of ``text`` (the content of ``path``); SpectrumFormatError naming the line if there is none
    or a row does not have the first data row's number of columns."""
    lines = text.lstrip("\ufeff").splitlines()
    first = next((i for i, line in enumerate(lines) if numeric_row(line.strip()) is not None), None)
    if first is None:
        bad = next((i + 1 for i, line in enumerate(lines) if line.strip()), 0)
        raise SpectrumFormatError(
            f"{path}: line {bad}: expected rows of numbers (wavelength, reflectance), found no numeric row")
    sep, sep_name = separator(lines[first].strip())
    n = len(cells(lines[first].strip(), sep))
    header = [(i + 1, line.strip()) for i, line in enumerate(lines[:first])
              if line.strip() and not line.lstrip().startswith("#")]
    names, units, names_no = _column_names(header, sep, n)
    what = ", ".join(c for c in names if c) if any(names) else "wavelength, reflectance" if n == 2 else "values"
    data, linenos = _parse_rows(path, lines, first, sep, sep_name, n, what)
    if data.shape[0] < 2:
        raise SpectrumFormatError(f"{path}: line {first + 1}: expected >= 2 numeric rows, got {data.shape[0]}")
    return Table(data, linenos, names, units, [s for _no, s in header], sep_name, names_no)


def wavelength_nm(path: Path, x: np.ndarray, unit_text: str, line: int = 0) -> tuple[np.ndarray, str, list[str]]:
    """Wavelength in nm (the file's order), its unit and notes, from the unit words (cm⁻¹/wavenumber, nm,
    µm/um/micro; :mod:`spectra.units`) or, without them, the values (all > 3,000: wavenumbers, noted; < 50: µm;
    else nm). ``line``: the first data row, named in the error."""
    u = unit_text.lower()
    notes: list[str] = []
    if is_wavenumber(u):
        unit = "cm-1"
    elif _MICRO.search(u):
        unit = "um"
    elif _NANO.search(u):
        unit = "nm"
    elif np.nanmin(x) > WAVENUMBERS_IF_ABOVE:
        unit = "cm-1"
        notes.append(f"x unit inferred: no unit word and every x value above {WAVENUMBERS_IF_ABOVE:g} "
                     f"({np.nanmin(x):g}–{np.nanmax(x):g}), read as wavenumbers in cm⁻¹")
    else:
        unit = "um" if np.nanmax(x) < MICRONS_IF_BELOW else "nm"
    with np.errstate(divide="ignore"):
        x_nm = nm_from_wavenumber(x) if unit == "cm-1" else x * 1000.0 if unit == "um" else x
    if np.nanmax(x_nm) < MICRONS_IF_BELOW * 10 or np.nanmin(x) <= 0:
        raise SpectrumFormatError(
            f"{path}: line {line}: first column must be wavelength in nm or µm, or wavenumber in cm⁻¹ (> 0; NIR "
            f"350–2500 nm), got {np.nanmin(x):g}–{np.nanmax(x):g}")
    return x_nm, unit, notes


def fraction(y: np.ndarray, unit_text: str) -> tuple[np.ndarray, str]:
    """Reflectance as a fraction: percent from the unit words (%, percent) or from the values (any > 1.6)."""
    if _PERCENT.search(unit_text.lower()) or np.nanmax(y) > PERCENT_IF_ABOVE:
        return y / 100.0, "percent"
    return y, "fraction"


def reflectance_fraction(where: str, y: np.ndarray, unit_text: str, name: str | None = None) -> tuple[np.ndarray, str]:
    """Reflectance as a fraction from a y column whose unit words are ``unit_text``: absorbance log10(1/R) → 10^−A
    (only when named: :mod:`spectra.units`), else percent or fraction (:func:`fraction`). A column whose ``name``
    (default: ``unit_text``; "" for free header text, which names no column) is transmittance, radiance, counts or
    intensity raises SpectrumFormatError (``where``: the file and line)."""
    if is_absorbance(unit_text):
        return reflectance_from_absorbance(y), "absorbance"
    name = unit_text if name is None else name
    refused = refused_y_unit(name)
    if refused is not None:
        raise SpectrumFormatError(
            f"{where}: the values are named {name.strip()[:60]!r} ({refused}); expected reflectance (fraction "
            f"or %) or absorbance log10(1/R)")
    return fraction(y, unit_text)


def _role(names: list[str], role: str, exclude: set[int]) -> int | None:
    pattern = ROLES[role]
    for i, name in enumerate(names):
        bare = _BRACKETED.sub("", name).strip().lower()
        if i not in exclude and pattern.search(bare):
            return i
    return None


def _is_a(name: str) -> bool:
    """True for a column named ``A`` (absorbance), units aside."""
    return _BRACKETED.sub("", name).strip().lower() == "a"


def two_columns(path: Path, table: Table) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(wavelength as read, reflectance fraction, the x unit text, the y unit) of a two-column table. The unit words
    are those of the last header line (both columns') and of the column's name and unit where the header names the
    columns; a second column named ``A`` means absorbance. Only a column line's own name for the second column can
    refuse it (``Transmittance``): free header text (``detector counts averaged: 10``) names no column."""
    unit_text = " ".join(table.header[-1:])
    x_text, y_text = (" ".join([unit_text] + [w for w in (n, u) if w and w not in unit_text]).strip()
                      for n, u in zip(table.names, table.units))
    y_text += " absorbance" if _is_a(table.names[1]) else ""
    where = f"{path}: line {table.names_line or table.lines[0]}"
    y_name = f"{table.names[1]} {table.units[1]}" if table.names_line else ""
    y, y_unit = reflectance_fraction(where, table.data[:, 1], y_text, y_name)
    return table.data[:, 0], y, x_text, y_unit


def _y_column(names: list[str], units: list[str], iw: int) -> int | None:
    """The reflectance column, else the absorbance column (named ``Absorbance``, ``log(1/R)``..., or ``A``)."""
    ir = _role(names, "reflectance", {iw})
    if ir is not None:
        return ir
    return next((i for i, (n, u) in enumerate(zip(names, units))
                 if i != iw and (is_absorbance(f"{n} {u}") or _is_a(n))), None)


def reflectance_columns(path: Path, table: Table) -> tuple[np.ndarray, np.ndarray, dict]:
    """(wavelength as read, reflectance fraction, meta) of a multi-column table, picked by column header: the
    Reflectance column, else an absorbance column (10^−A), else (Sample − Dark) / (Reference − Dark). A column of
    transmittance (or another named quantity) without either is refused."""
    names, units = table.names, table.units
    where = f"{path}: line {table.names_line}" if table.names_line else f"{path}"
    if not any(names):
        raise SpectrumFormatError(
            f"{where}: {table.data.shape[1]} columns without a column line; expected a header naming the wavelength "
            f"and Reflectance columns (or Sample, Dark and Reference)")
    iw = _role(names, "wavelength", set())
    iw = 0 if iw is None else iw
    x = table.data[:, iw]
    ir = _y_column(names, units, iw)
    if ir is not None:
        y, yunit = reflectance_fraction(where, table.data[:, ir], f"{names[ir]} {units[ir]}")
        return x, y, {"x_unit_text": f"{names[iw]} {units[iw]}", "y_unit": yunit,
                      "column": names[ir], "notes": [f"reflectance from column {names[ir]!r} ({yunit})"]}
    other = next(((n, word) for i, n in enumerate(names)
                  if i != iw and (word := refused_y_unit(_BRACKETED.sub("", n)))), None)
    if other is not None:
        raise SpectrumFormatError(
            f"{where}: column {other[0]!r} holds {other[1]}; expected a Reflectance or Absorbance column, or Sample, "
            f"Dark and Reference columns of a reflectance measurement")
    found = {role: _role(names, role, {iw}) for role in ("sample", "dark", "reference")}
    idx = {role: i for role, i in found.items() if i is not None}
    if len(idx) < len(found):
        raise SpectrumFormatError(
            f"{where}: expected a Reflectance column, or Sample, Dark and Reference columns; got columns "
            f"{', '.join(repr(c) for c in names)}")
    s, d, w = (table.data[:, idx[r]] for r in ("sample", "dark", "reference"))
    span = w - d
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(span > 0, (s - d) / np.where(span > 0, span, 1.0), np.nan)
    notes = [(f"reflectance computed as (Sample − Dark) / (Reference − Dark) from columns "
              f"{names[idx['sample']]!r}, {names[idx['dark']]!r}, {names[idx['reference']]!r}")]
    bad = int(np.sum(~(span > 0)))
    if bad:
        notes.append(f"{bad} channel(s) with Reference <= Dark set to NaN (no signal)")
    return x, y, {"x_unit_text": f"{names[iw]} {units[iw]}", "y_unit": "fraction", "column": "computed",
                  "notes": notes}
