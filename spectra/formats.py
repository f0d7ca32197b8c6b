"""Reading (and writing, for replay and tests) spectrum files.

Formats, chosen by file suffix and checked by content:

* ``.json`` — USGS splib07 JSON (µm, fraction, ``null`` = deleted channel).
* ``.txt`` / ``.asc`` / ``.spectrum.txt`` — ECOSTRESS/ASTER text: ``key: value`` header, blank line, two
  columns (wavelength, descending µm; reflectance in percent). ``X Units``/``Y Units`` headers are honoured.
* ``.csv`` — two columns: wavelength in nm, reflectance as a fraction; an optional non-numeric header row.
* ``.jdx`` / ``.dx`` / ``.jcamp`` — JCAMP-DX 4.24 ``##XYDATA=(X++(Y..Y))`` (AFFN or ASDF SQZ/DIF/DUP
  compression) or ``##XYPOINTS=(XY..XY)``; ``##XUNITS`` NANOMETERS/MICROMETERS/1/CM, ``##YUNITS``
  REFLECTANCE, %/PERCENT, or ABSORBANCE (log10 1/R).
* ``.h5`` / ``.hdf5`` — our HDF5 archive: every dataset named ``reflectance`` (n, ch) or (ch,) whose
  wavelengths are in a ``wavelength_nm`` attribute of the dataset or its group, or a sibling dataset
  ``wavelength_nm``.

Every reader raises :class:`SpectrumFormatError` with the file name for unknown or corrupt content.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from spectra.errors import SpectrumFormatError
from spectra.library import Spectrum, read_usgs_json

SUFFIXES = {
    ".json": "usgs_json",
    ".txt": "ecostress",
    ".asc": "ecostress",
    ".csv": "csv",
    ".jdx": "jcamp",
    ".dx": "jcamp",
    ".jcamp": "jcamp",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
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
    return [read_spectrum(path)]


def read_spectrum(path: str | Path) -> Spectrum:
    """The one spectrum in ``path``; raises SpectrumFormatError if the file holds several or none."""
    fmt = detect_format(path)
    if fmt == "usgs_json":
        return read_usgs_json(path)
    if fmt == "ecostress":
        return read_ecostress(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "jcamp":
        return read_jcamp(path)
    spectra = read_hdf5(path)
    if len(spectra) != 1:
        raise SpectrumFormatError(f"{path}: expected one spectrum, file holds {len(spectra)}")
    return spectra[0]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="strict")
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


def read_ecostress(path: str | Path) -> Spectrum:
    """ECOSTRESS/ASTER library text file → Spectrum (nm, fraction)."""
    path = Path(path)
    text = _read_text(path)
    header: dict[str, str] = {}
    rows: list[list[float]] = []
    in_data = False
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not in_data:
            if not s:
                if header:
                    in_data = True
                continue
            if ":" in s and not re.match(r"^[-+0-9.]", s):
                k, _, v = s.partition(":")
                header[k.strip().lower()] = v.strip()
                continue
            if not header:
                raise SpectrumFormatError(f"{path}: expected an ECOSTRESS 'key: value' header, got {s[:60]!r}")
            in_data = True
        if not s:
            continue
        parts = s.replace(",", " ").split()
        if len(parts) < 2:
            raise SpectrumFormatError(f"{path}: line {lineno}: expected two columns, got {s[:60]!r}")
        rows.append(_floats(parts[:2], path, lineno))
    if not header:
        raise SpectrumFormatError(f"{path}: expected an ECOSTRESS 'key: value' header, found none")
    if len(rows) < 2:
        raise SpectrumFormatError(f"{path}: expected >= 2 data rows after the header, got {len(rows)}")
    data = np.array(rows)
    xunits = header.get("x units", "micrometers").lower()
    yunits = header.get("y units", "reflectance (percent)").lower()
    x = data[:, 0] * (1.0 if "nanomet" in xunits else 1000.0)
    y = data[:, 1] / (100.0 if "percent" in yunits or "%" in yunits else 1.0)
    y[(y < -1e30) | (data[:, 1] <= -9999)] = np.nan
    return Spectrum(header.get("name", path.stem), x, y, source=str(path), meta={"header": header})


def read_csv(path: str | Path) -> Spectrum:
    """Two-column CSV (wavelength nm, reflectance fraction) → Spectrum. Empty cells become NaN."""
    path = Path(path)
    text = _read_text(path)
    rows: list[tuple[float, float]] = []
    reader = csv.reader(io.StringIO(text))
    for lineno, rec in enumerate(reader, 1):
        if not rec or all(not c.strip() for c in rec) or rec[0].lstrip().startswith("#"):
            continue
        if len(rec) < 2:
            raise SpectrumFormatError(f"{path}: line {lineno}: expected 2 columns (nm, reflectance), got {rec!r}")
        a, b = rec[0].strip(), rec[1].strip()
        try:
            x = float(a)
        except ValueError:
            if not rows and lineno == 1:
                continue  # header row
            raise SpectrumFormatError(f"{path}: line {lineno}: expected a wavelength in nm, got {a!r}") from None
        try:
            y = float(b) if b else float("nan")
        except ValueError:
            raise SpectrumFormatError(f"{path}: line {lineno}: expected a reflectance, got {b!r}") from None
        rows.append((x, y))
    if len(rows) < 2:
        raise SpectrumFormatError(f"{path}: expected >= 2 numeric rows, got {len(rows)}")
    data = np.array(rows)
    if np.nanmax(data[:, 0]) < 50:
        raise SpectrumFormatError(f"{path}: first column must be wavelength in nm, got max {np.nanmax(data[:, 0])}")
    return Spectrum(path.stem, data[:, 0], data[:, 1], source=str(path))


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
    elif "1/CM" in xunits or "WAVENUMBER" in xunits:
        x = 1e7 / x
    elif "NANO" not in xunits:
        raise SpectrumFormatError(f"{path}: expected XUNITS NANOMETERS, MICROMETERS or 1/CM, got {xunits!r}")
    yunits = labels.get("YUNITS", "REFLECTANCE").upper()
    if "ABSORB" in yunits:
        y = 10.0 ** (-y)
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
            found: list[tuple[str, object]] = []
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
