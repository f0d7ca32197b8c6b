"""Reading (and writing, for replay and tests) spectrum files.

Formats, chosen by file suffix and checked by content:

* ``.json`` — USGS splib07 JSON (µm, fraction, ``null`` = deleted channel).
* ``.txt`` / ``.asc`` / ``.spectrum.txt`` — sniffed by content: ECOSTRESS/ASTER library text (``key: value``
  header whose values, e.g. ``Description:``, may run over several lines and blank lines; data from the first
  numeric row; ``X Units`` (µm, nm, wavenumber) and ``Y Units`` (reflectance %/fraction, absorbance) honoured)
  or a delimited two-column export as for ``.csv``.
* ``.csv`` — two columns (wavelength, reflectance) separated by comma, semicolon, tab or spaces, decimal point
  or decimal comma, optional header row; nm, µm or cm⁻¹ and percent, fraction or absorbance (from the header
  words or the values; below); or an instrument's multi-column export (AvaSoft
  ``Wave;Sample;Dark;Reference;Reflectance``), the reflectance picked by column name (or an absorbance column) or
  computed from sample, dark and reference (:mod:`spectra.delimited`). A detector splice (a repeated wavelength,
  or two detectors overlapping) is averaged and noted (:mod:`spectra.splice`).
* ``.sig`` (Spectra Vista), ``.sed`` (Spectral Evolution), ``.txt`` with ``>>>>>Begin Spectral Data<<<<<`` (Ocean
  Insight OceanView/SpectraSuite): :mod:`spectra.vendor`; ``.sli`` + ``.hdr`` ENVI spectral library (many spectra):
  :mod:`spectra.envi`; ``.ttt`` / ``.trt`` AvaSoft ASCII exports: as ``.csv``.
* ``.asd`` — ASD binary reflectance files, versions 1–8, through ``pyASDReader`` (:mod:`spectra.asd`).
* ``.jdx`` / ``.dx`` / ``.jcamp`` — JCAMP-DX 4.24 ``##XYDATA=(X++(Y..Y))`` (AFFN or ASDF SQZ/DIF/DUP
  compression) or ``##XYPOINTS=(XY..XY)``; ``##XUNITS`` NANOMETERS/MICROMETERS/1/CM, ``##YUNITS``
  REFLECTANCE, %/PERCENT, or ABSORBANCE (log10 1/R).
* ``.h5`` / ``.hdf5`` — our HDF5 archive: every dataset named ``reflectance`` (n, ch) or (ch,) whose
  wavelengths are in a ``wavelength_nm`` attribute of the dataset or its group, or a sibling dataset
  ``wavelength_nm``.

How units are decided (every reader, one conversion each in :mod:`spectra.units`): the x axis from its unit words
(nm; µm/um/micro; wavenumbers ``cm-1``/``cm^-1``/``cm⁻¹``/``1/cm``/``wavenumber`` → nm = 1e7 / cm⁻¹, sorted
ascending), else from the values (all above 3,000 → cm⁻¹, noted in ``meta["notes"]``; below 50 → µm; else nm).
The y axis: absorbance log10(1/R) (``absorbance``, ``log(1/R)``, ``log10(1/R)``...) → R = 10^−A only when named —
values are never guessed to be absorbance; percent from ``%``/``percent`` or any value above 1.6; a y named as
transmittance, radiance, counts or intensity is refused. ``meta["x_unit"]``/``meta["y_unit"]`` say what was read.

Every reader raises :class:`SpectrumFormatError` with the file name (and the line, for text) for unknown or corrupt
content. :mod:`spectra.folder` reads a folder file by file, each with its own error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectra.asd import read_asd
from spectra.envi import read_envi_sli
from spectra.delimited import (
    numeric_row,
    read_table,
    reflectance_columns,
    two_columns,
    wavelength_nm,
)
from spectra.errors import SpectrumFormatError
from spectra.library import Spectrum, read_usgs_json
from spectra.splice import join_detectors
from spectra.units import is_absorbance, is_wavenumber, nm_from_wavenumber, reflectance_from_absorbance
from spectra.vendor import is_ocean_text, read_ocean, read_sed, read_svc_sig

SUFFIXES = {
    ".json": "usgs_json",
    ".txt": "text",
    ".asc": "text",
    ".csv": "csv",
    ".jdx": "jcamp",
    ".dx": "jcamp",
    ".jcamp": "jcamp",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".asd": "asd",
    ".sig": "svc",
    ".sed": "sed",
    ".sli": "envi",
    ".ttt": "csv",
    ".trt": "csv",
}


def detect_format(path: str | Path) -> str:
    """Format name for ``path`` from its suffix; raises SpectrumFormatError for an unknown one."""
    suffix = Path(path).suffix.lower()
    try:
        return SUFFIXES[suffix]
    except KeyError:
        raise SpectrumFormatError(
            f"{path}: unknown spectrum file format {suffix!r}; expected one of {sorted(SUFFIXES)}"
        ) from None


def read_spectra(path: str | Path) -> list[Spectrum]:
    """All spectra in ``path`` (one for most formats, possibly many for HDF5)."""
    fmt = detect_format(path)
    if fmt == "hdf5":
        return read_hdf5(path)
    if fmt == "envi":
        return read_envi_sli(path)
    return [read_spectrum(path)]


def read_spectrum(path: str | Path) -> Spectrum:
    """The one spectrum in ``path``; raises SpectrumFormatError if the file holds several or none."""
    fmt = detect_format(path)
    if fmt == "usgs_json":
        return read_usgs_json(path)
    if fmt == "text":
        return read_text_spectrum(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "jcamp":
        return read_jcamp(path)
    if fmt == "asd":
        return read_asd(path)
    if fmt in ("svc", "sed"):
        p = Path(path)
        return (read_svc_sig if fmt == "svc" else read_sed)(p, _read_text(p))
    spectra = read_envi_sli(path) if fmt == "envi" else read_hdf5(path)
    if len(spectra) != 1:
        raise SpectrumFormatError(f"{path}: expected one spectrum, file holds {len(spectra)}")
    return spectra[0]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        try:
            return path.read_text(encoding="latin-1")
        except OSError as exc:
            raise SpectrumFormatError(f"{path}: cannot read ({exc})") from exc
    except OSError as exc:
        raise SpectrumFormatError(f"{path}: cannot read ({exc})") from exc


def _floats(tokens: Sequence[str], path: Path, lineno: int) -> list[float]:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        raise SpectrumFormatError(f"{path}: line {lineno}: expected numbers, got {' '.join(tokens)[:60]!r}") from None


# --- text formats: ECOSTRESS/ASTER library files and delimited exports ----------------------------
_KEY_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ._()/#-]{0,40}?)\s*:\s?(.*)$")


#: Header keys of ECOSTRESS/ASTER library files (besides ``Name``); one of them must be present.
_ECOSTRESS_KEYS = {"type", "class", "subclass", "particle size", "sample no.", "owner", "wavelength range",
                   "origin", "description", "measurement", "first column", "second column", "x units", "y units",
                   "first x value", "last x value", "number of x values", "additional information"}


def sniff_text_format(path: str | Path, text: str | None = None) -> str:
    """``"ecostress"`` when the lines before the first numeric row hold ``Name:`` and another ECOSTRESS/ASTER
    header key, else ``"csv"`` (a delimited export, whatever its suffix)."""
    text = _read_text(Path(path)) if text is None else text
    keys: set[str] = set()
    for line in text.splitlines():
        s = line.strip()
        if numeric_row(s) is not None:
            break
        m = _KEY_LINE.match(s)
        if m:
            keys.add(m.group(1).strip().lower())
    return "ecostress" if "name" in keys and keys & _ECOSTRESS_KEYS else "csv"


def read_delimited(path: str | Path) -> Spectrum:
    """Delimited text export → Spectrum (nm, fraction); see :mod:`spectra.delimited`. Content is sniffed.

    Two columns are (wavelength, reflectance); more columns need a column line naming them (an instrument's
    export such as AvaSoft's), and the reflectance column is picked by name (else an absorbance column) or
    computed from the sample, dark and reference columns. Non-numeric lines before the first numeric row are a
    header; ``#`` lines are comments. Wavelength in nm, µm or cm⁻¹ and reflectance in percent, fraction or
    absorbance are read from the header words (``nm``, ``µm``/``um``/``micro``, ``cm-1``/``wavenumber``...,
    ``%``/``percent``, ``absorbance``/``log(1/R)``...) or, without them, from the values (wavelengths all > 3,000
    are cm⁻¹, noted; < 50 are µm; any reflectance > 1.6 means percent; never absorbance). Empty value cells are
    NaN. A wavelength repeated at a detector splice, or an overlap of two detectors, is averaged
    (:mod:`spectra.splice`) and noted in ``meta["notes"]``. Raises :class:`SpectrumFormatError` naming the file
    and line.
    """
    path = Path(path)
    table = read_table(path, _read_text(path))
    if table.data.shape[1] == 2:
        x, y, x_text, y_unit = two_columns(path, table)
        notes: list[str] = []
        extra: dict = {}
    else:
        x, y, extra = reflectance_columns(path, table)
        x_text, y_unit, notes = extra.pop("x_unit_text"), extra.pop("y_unit"), extra.pop("notes")
    x_nm, x_unit, x_notes = wavelength_nm(path, x, x_text, table.lines[0])
    notes = x_notes + notes
    if np.any(~np.isfinite(x_nm)):
        bad = int(np.nonzero(~np.isfinite(x_nm))[0][0])
        raise SpectrumFormatError(f"{path}: line {table.lines[bad]}: expected a wavelength, got an empty cell")
    x_nm, y, splice_notes = join_detectors(x_nm, y, str(path), table.lines)
    return Spectrum(path.stem, x_nm, y, source=str(path),
                    meta={"header": table.header, "separator": table.separator, "x_unit": x_unit, "y_unit": y_unit,
                          "columns": table.names, **extra, "notes": notes + splice_notes})


def read_ecostress(path: str | Path) -> Spectrum:
    """ECOSTRESS/ASTER library text file → Spectrum (nm, fraction).

    The header is ``key: value`` lines; a value may go on over further lines, blank ones included (the
    ``Description:``), until the next key. The data start at the first row of two numbers, whatever came
    before; after that every non-blank line must be a row of numbers. ``X Units``/``Y Units`` are honoured
    (default µm and percent, as the library ships); values <= -9999 are deleted channels (NaN).
    """
    path = Path(path)
    text = _read_text(path)
    header: dict[str, str] = {}
    key: str | None = None
    lines = text.splitlines()
    first = None
    for i, line in enumerate(lines):
        s = line.strip()
        if numeric_row(s) is not None:
            first = i
            break
        m = _KEY_LINE.match(s)
        name = m.group(1).strip().lower() if m else ""
        # inside the free-text Description only a library key ends it ("XRD: ..." lines belong to it)
        if m and (key != "description" or name in _ECOSTRESS_KEYS or name == "name"):
            key = name
            header[key] = m.group(2).strip()
        elif key is not None:
            header[key] = (header[key] + "\n" + s).strip() if s else header[key] + "\n"
        elif s:
            raise SpectrumFormatError(f"{path}: line {i + 1}: expected an ECOSTRESS 'key: value' header, got {s[:60]!r}")
    header = {k: v.strip() for k, v in header.items()}
    if not header:
        raise SpectrumFormatError(f"{path}: expected an ECOSTRESS 'key: value' header, found none")
    if first is None:
        raise SpectrumFormatError(f"{path}: line {len(lines)}: header ends without data rows")
    rows: list[list[float]] = []
    for lineno in range(first + 1, len(lines) + 1):
        s = lines[lineno - 1].strip()
        if not s:
            continue
        parts = s.replace(",", " ").split()
        if len(parts) < 2:
            raise SpectrumFormatError(f"{path}: line {lineno}: expected two columns (wavelength, value), got {s[:60]!r}")
        rows.append(_floats(parts[:2], path, lineno))
    if len(rows) < 2:
        raise SpectrumFormatError(f"{path}: expected >= 2 data rows after the header, got {len(rows)}")
    data = np.array(rows)
    y_raw = np.where(data[:, 1] <= -9999, np.nan, data[:, 1])  # deleted channels
    y_line = next((i + 1 for i, line in enumerate(lines[:first]) if line.strip().lower().startswith("y units")), 0)
    y, y_unit = _ecostress_y(f"{path}: line {y_line}", header, y_raw)
    x, x_unit, notes = wavelength_nm(path, data[:, 0], header.get("x units", "micrometers"), first + 1)
    return Spectrum(header.get("name", path.stem), x, y, source=str(path),
                    meta={"header": header, "x_unit": x_unit, "y_unit": y_unit, "notes": notes})


def _ecostress_y(where: str, header: dict[str, str], y: np.ndarray) -> tuple[np.ndarray, str]:
    """Reflectance fraction from an ECOSTRESS file's ``Y Units`` (default percent, as the library ships):
    reflectance in percent or fraction, or absorbance; anything else is refused."""
    yunits = header.get("y units", "reflectance (percent)")
    if is_absorbance(yunits):
        return reflectance_from_absorbance(y), "absorbance"
    if "reflect" not in yunits.lower():
        raise SpectrumFormatError(f"{where}: expected Y Units reflectance (percent or fraction) or absorbance "
                                  f"log10(1/R), got {yunits!r}")
    percent = "percent" in yunits.lower() or "%" in yunits
    return (y / 100.0, "percent") if percent else (y, "fraction")


def read_text_spectrum(path: str | Path) -> Spectrum:
    """A ``.txt``/``.asc`` file: an Ocean Insight export (:mod:`spectra.vendor`), ECOSTRESS/ASTER library text or
    a delimited two-column export (sniffed)."""
    path = Path(path)
    text = _read_text(path)
    if is_ocean_text(text):
        return read_ocean(path, text)
    return read_ecostress(path) if sniff_text_format(path, text) == "ecostress" else read_delimited(path)


def read_csv(path: str | Path) -> Spectrum:
    """Two-column CSV export → Spectrum (nm, fraction); see :func:`read_delimited`."""
    return read_delimited(path)


# --- JCAMP-DX -------------------------------------------------------------------------------
_SQZ = {c: (i, 1) for i, c in enumerate("@ABCDEFGHI")} | {c: (-(i + 1), 1) for i, c in enumerate("abcdefghi")}
_DIF = {c: (i, 2) for i, c in enumerate("%JKLMNOPQR")} | {c: (-(i + 1), 2) for i, c in enumerate("jklmnopqr")}
_DUP = {c: (i + 1, 3) for i, c in enumerate("STUVWXYZ")} | {"s": (9, 3)}
_ASDF = _SQZ | _DIF | _DUP
_TOKEN = re.compile(r"([@A-Ia-i%J-Rj-rS-Zs])(\d*)|([+-]?\d*\.?\d+(?:[eE][+-]?\d+)?)|(\?)")


def _decode_asdf_line(line: str, path: Path) -> list[float]:
    """Decode one XYDATA line into [x, y1, y2, ...] (AFFN or ASDF compressed)."""
    vals: list[float] = []
    last_kind = 0
    last_dif = 0.0
    pos = 0
    line = line.strip()
    while pos < len(line):
        if line[pos] in " \t,;":
            pos += 1
            continue
        m = _TOKEN.match(line, pos)
        if not m or m.end() == pos:
            raise SpectrumFormatError(f"{path}: bad JCAMP data character {line[pos]!r} in {line[:50]!r}")
        pos = m.end()
        if m.group(4):
            vals.append(float("nan"))
            last_kind = 1
        elif m.group(3) is not None:
            vals.append(float(m.group(3)))
            last_kind = 1
        else:
            lead, kind = _ASDF[m.group(1)]
            digits = m.group(2)
            if kind == 3:  # DUP: repeat previous value/difference (count includes the original)
                count = int(f"{lead}{digits}")
                if not vals:
                    raise SpectrumFormatError(f"{path}: JCAMP DUP with nothing to repeat in {line[:50]!r}")
                for _ in range(count - 1):
                    if last_kind == 2:
                        vals.append(vals[-1] + last_dif)
                    else:
                        vals.append(vals[-1])
                continue
            num = float(f"{abs(lead)}{digits}") * (-1.0 if lead < 0 else 1.0)
            if kind == 1:
                vals.append(num)
                last_kind = 1
            else:
                if not vals:
                    raise SpectrumFormatError(f"{path}: JCAMP DIF with no previous value in {line[:50]!r}")
                vals.append(vals[-1] + num)
                last_dif = num
                last_kind = 2
    return vals


def read_jcamp(path: str | Path) -> Spectrum:
    """JCAMP-DX file → Spectrum (nm, fraction)."""
    path = Path(path)
    text = _read_text(path)
    labels: dict[str, str] = {}
    data_lines: list[str] = []
    data_kind = None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("$$") or not s:
            continue
        if s.startswith("##"):
            key, _, val = s[2:].partition("=")
            key = re.sub(r"[\s\-_/]", "", key).upper()
            val = val.split("$$")[0].strip()
            if key in ("XYDATA", "XYPOINTS"):
                data_kind = (key, val.replace(" ", "").upper())
                continue
            if key == "END":
                break
            labels[key] = val
            continue
        if data_kind is not None:
            data_lines.append(s.split("$$")[0])
    if "JCAMPDX" not in labels:
        raise SpectrumFormatError(f"{path}: not a JCAMP-DX file (no ##JCAMP-DX= label)")
    if data_kind is None or not data_lines:
        raise SpectrumFormatError(f"{path}: JCAMP-DX without ##XYDATA or ##XYPOINTS data")
    try:
        xfactor = float(labels.get("XFACTOR", "1"))
        yfactor = float(labels.get("YFACTOR", "1"))
    except ValueError as exc:
        raise SpectrumFormatError(f"{path}: bad XFACTOR/YFACTOR ({exc})") from exc
    if data_kind[1].startswith("(XY..XY)"):
        nums = _floats(re.split(r"[\s,;]+", " ".join(data_lines).strip()), path, 0)
        if len(nums) % 2:
            raise SpectrumFormatError(f"{path}: XYPOINTS needs x,y pairs, got {len(nums)} numbers")
        arr = np.array(nums).reshape(-1, 2)
        x, y = arr[:, 0] * xfactor, arr[:, 1] * yfactor
    elif data_kind[1].startswith("(X++(Y..Y))"):
        try:
            firstx, lastx, npoints = float(labels["FIRSTX"]), float(labels["LASTX"]), int(float(labels["NPOINTS"]))
        except (KeyError, ValueError) as exc:
            raise SpectrumFormatError(f"{path}: XYDATA needs numeric FIRSTX, LASTX, NPOINTS ({exc})") from exc
        ys: list[float] = []
        prev_last: float | None = None
        for s in data_lines:
            vals = _decode_asdf_line(s, path)
            if len(vals) < 2:
                continue
            line_y = vals[1:]
            # DIF form repeats the last y of the previous line as a check value
            if prev_last is not None and any(c in s for c in "%JKLMNOPQRjklmnopqr") and np.isclose(line_y[0], prev_last):
                line_y = line_y[1:]
            ys.extend(line_y)
            prev_last = vals[-1]
        if len(ys) != npoints:
            raise SpectrumFormatError(f"{path}: NPOINTS={npoints} but {len(ys)} y values decoded")
        x = np.linspace(firstx, lastx, npoints)
        y = np.array(ys) * yfactor
    else:
        raise SpectrumFormatError(f"{path}: unsupported JCAMP data table {data_kind[1]!r}; expected (X++(Y..Y)) or (XY..XY)")
    xunits = labels.get("XUNITS", "NANOMETERS").upper()
    if "MICRO" in xunits:
        x = x * 1000.0
    elif is_wavenumber(xunits):
        x = nm_from_wavenumber(x)
    elif "NANO" not in xunits:
        raise SpectrumFormatError(f"{path}: expected XUNITS NANOMETERS, MICROMETERS or 1/CM, got {xunits!r}")
    yunits = labels.get("YUNITS", "REFLECTANCE").upper()
    if is_absorbance(yunits):
        y = reflectance_from_absorbance(y)
    elif "%" in yunits or "PERCENT" in yunits:
        y = y / 100.0
    elif "REFLECT" not in yunits:
        raise SpectrumFormatError(f"{path}: expected YUNITS REFLECTANCE, %REFLECTANCE or ABSORBANCE, got {yunits!r}")
    return Spectrum(labels.get("TITLE", path.stem), x, y, source=str(path), meta={"labels": labels})


def write_jcamp(path: str | Path, wavelength_nm: np.ndarray, reflectance: np.ndarray, title: str = "spectrum") -> None:
    """Write an evenly spaced spectrum as JCAMP-DX (X++(Y..Y)) AFFN, nm and reflectance fraction."""
    wl = np.asarray(wavelength_nm, float)
    r = np.asarray(reflectance, float)
    lines = [f"##TITLE={title}", "##JCAMP-DX=4.24", "##DATA TYPE=NIR SPECTRUM", "##XUNITS=NANOMETERS",
             "##YUNITS=REFLECTANCE", "##XFACTOR=1", "##YFACTOR=1", f"##FIRSTX={wl[0]:.6f}", f"##LASTX={wl[-1]:.6f}",
             f"##NPOINTS={wl.size}", f"##FIRSTY={r[0]:.8g}", "##XYDATA=(X++(Y..Y))"]
    for i in range(0, wl.size, 8):
        chunk = " ".join(f"{v:.8g}" for v in r[i:i + 8])
        lines.append(f"{wl[i]:.6f} {chunk}")
    lines.append("##END=")
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")


def write_csv(path: str | Path, wavelength_nm: np.ndarray, reflectance: np.ndarray) -> None:
    """Write a two-column CSV (nm, reflectance fraction) with a header row."""
    rows = ["wavelength_nm,reflectance"] + [f"{w:.4f},{r:.8g}" for w, r in zip(wavelength_nm, reflectance)]
    Path(path).write_text("\n".join(rows) + "\n", encoding="ascii")


def read_hdf5(path: str | Path) -> list[Spectrum]:
    """Every ``reflectance`` dataset of an HDF5 archive → Spectra (one per row)."""
    import h5py

    path = Path(path)
    out: list[Spectrum] = []
    try:
        with h5py.File(path, "r") as f:
            found: list[tuple[str, Any]] = []  # h5py Datasets (h5py has no type information)
            f.visititems(lambda name, obj: found.append((name, obj))
                         if isinstance(obj, h5py.Dataset) and name.split("/")[-1] == "reflectance" else None)
            for name, ds in found:
                parent = ds.parent
                if "wavelength_nm" in ds.attrs:
                    wl = np.asarray(ds.attrs["wavelength_nm"], float)
                elif "wavelength_nm" in parent.attrs:
                    wl = np.asarray(parent.attrs["wavelength_nm"], float)
                elif "wavelength_nm" in parent:
                    wl = np.asarray(parent["wavelength_nm"][()], float)
                else:
                    raise SpectrumFormatError(f"{path}: dataset {name!r} has no wavelength_nm attribute or sibling")
                data = np.asarray(ds[()], float)
                data = data[None, :] if data.ndim == 1 else data
                if data.ndim != 2 or data.shape[1] != wl.size:
                    raise SpectrumFormatError(
                        f"{path}: dataset {name!r}: expected (n, {wl.size}) reflectance, got {data.shape}")
                for i, row in enumerate(data):
                    out.append(Spectrum(f"{name}[{i}]", wl, row, source=f"{path}::{name}[{i}]"))
    except (OSError, KeyError) as exc:
        raise SpectrumFormatError(f"{path}: not a readable HDF5 file ({exc})") from exc
    if not out:
        raise SpectrumFormatError(f"{path}: no 'reflectance' dataset found")
    return out


def write_hdf5(path: str | Path, wavelength_nm: np.ndarray, reflectance: np.ndarray, group: str = "spectra") -> None:
    """Write spectra (n, ch) as ``/<group>/reflectance`` with a ``wavelength_nm`` attribute."""
    import h5py

    with h5py.File(path, "w") as f:
        g = f.require_group(group)
        ds = g.create_dataset("reflectance", data=np.atleast_2d(np.asarray(reflectance, np.float32)))
        ds.attrs["wavelength_nm"] = np.asarray(wavelength_nm, float)
