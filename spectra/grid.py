"""Instrument wavelength grids: channel centres and band widths (FWHM) in nanometres.

Named grids:

* ``ingaas256`` — 256-pixel InGaAs array, 900–1700 nm, 10 nm FWHM (InGaAs-only sites; its model ships too).
* ``full`` — 400–2400 nm every 4 nm (501 channels), 10 nm FWHM (default line instrument, :data:`DEFAULT_GRID`:
  docs/spectra.md "Instrument range decided by measurement"). The nominal range of a full-range
  instrument is 350–2500 nm, but several library spectra have deleted channels above 2.448 µm and the
  Beckman spectra start at 0.35 µm, so the grid stops where the whole library can be convolved honestly.

A site's own spectrometer comes as a grid file (:func:`read_grid_file`): CSV, one row per pixel, ``centre nm,
FWHM nm``, ascending, with an optional header row and ``#`` comments. Shipped examples live in ``spectra/grids/``
and can be named without their ``.csv`` (``nir256_1014-1749nm``). :func:`resolve_grid` takes a name or a path.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spectra.errors import GridError


@dataclass(frozen=True, eq=False)
class InstrumentGrid:
    """Channel centres ``wavelength_nm`` (n,) ascending and Gaussian band FWHM ``fwhm_nm`` (n,)."""

    name: str
    wavelength_nm: np.ndarray
    fwhm_nm: np.ndarray

    def __post_init__(self) -> None:
        wl = np.asarray(self.wavelength_nm, dtype=float)
        fw = np.broadcast_to(np.asarray(self.fwhm_nm, dtype=float), wl.shape).copy()
        if wl.ndim != 1 or wl.size < 2:
            raise GridError(f"grid {self.name!r}: expected a 1-D array of >= 2 wavelengths, got shape {wl.shape}")
        if not (np.all(np.isfinite(wl)) and np.all(np.diff(wl) > 0)):
            raise GridError(f"grid {self.name!r}: wavelengths must be finite and strictly ascending")
        if not np.all(fw > 0):
            raise GridError(f"grid {self.name!r}: FWHM must be > 0 nm, got min {fw.min()}")
        wl.setflags(write=False)
        fw.setflags(write=False)
        object.__setattr__(self, "wavelength_nm", wl)
        object.__setattr__(self, "fwhm_nm", fw)

    @property
    def n_channels(self) -> int:
        return int(self.wavelength_nm.size)

    @property
    def range_nm(self) -> tuple[float, float]:
        return float(self.wavelength_nm[0]), float(self.wavelength_nm[-1])

    def digest(self) -> str:
        """Short hash of centres and widths (rounded to 1 pm), for model keys."""
        payload = np.round(np.concatenate([self.wavelength_nm, self.fwhm_nm]), 3).tobytes()
        return hashlib.sha256(payload).hexdigest()[:16]

    def same_as(self, other: "InstrumentGrid", tol_nm: float = 0.01) -> bool:
        """True when both grids have the same channels within ``tol_nm``."""
        return (
            self.n_channels == other.n_channels
            and bool(np.all(np.abs(self.wavelength_nm - other.wavelength_nm) <= tol_nm))
            and bool(np.all(np.abs(self.fwhm_nm - other.fwhm_nm) <= max(tol_nm, 0.05 * self.fwhm_nm.min())))
        )

    def check_same(self, other: "InstrumentGrid", what: str = "spectrum") -> None:
        """Raise :class:`GridError` unless ``other`` is the same grid."""
        if not self.same_as(other):
            raise GridError(
                f"{what}: expected grid {self.name!r} ({self.n_channels} ch, {self.range_nm[0]:.1f}–"
                f"{self.range_nm[1]:.1f} nm), got {other.name!r} ({other.n_channels} ch, "
                f"{other.range_nm[0]:.1f}–{other.range_nm[1]:.1f} nm)"
            )

    def to_dict(self) -> dict:
        return {"name": self.name, "wavelength_nm": self.wavelength_nm.tolist(), "fwhm_nm": self.fwhm_nm.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "InstrumentGrid":
        return cls(str(d["name"]), np.asarray(d["wavelength_nm"], float), np.asarray(d["fwhm_nm"], float))

    @classmethod
    def from_wavelengths(cls, wavelength_nm: np.ndarray, fwhm_nm: float | np.ndarray | None = None,
                         name: str = "custom") -> "InstrumentGrid":
        """A grid from channel centres; FWHM defaults to 1.5× the local channel spacing."""
        wl = np.asarray(wavelength_nm, dtype=float)
        if fwhm_nm is None:
            fwhm_nm = 1.5 * np.gradient(wl) if wl.size >= 2 else np.ones_like(wl)
        return cls(name, wl, np.broadcast_to(np.asarray(fwhm_nm, float), wl.shape))


def ingaas256() -> InstrumentGrid:
    """256-pixel InGaAs grid, 900–1700 nm, 10 nm FWHM."""
    return InstrumentGrid("ingaas256", np.linspace(900.0, 1700.0, 256), np.full(256, 10.0))


def full_range() -> InstrumentGrid:
    """Full-range grid 400–2400 nm, 4 nm step (501 channels), 10 nm FWHM."""
    wl = np.arange(400.0, 2400.0 + 1e-9, 4.0)
    return InstrumentGrid("full", wl, np.full(wl.size, 10.0))


GRIDS = {"ingaas256": ingaas256, "full": full_range}
#: The line's default instrument grid (docs/spectra.md "Instrument range decided by measurement": the full range
#: detects slag and mill scale better per segment and identifies contaminants better per spectrum; since w21i, with
#: water's measured absorption, it holds on the line's moist ore too). ``ingaas256`` ships as well, for InGaAs-only
#: sites.
DEFAULT_GRID = "full"
#: Folder of shipped grid files, usable by their stem as a grid name.
GRID_DIR = Path(__file__).with_name("grids")


def shipped_grid_names() -> list[str]:
    """Names of the grid files shipped in :data:`GRID_DIR`."""
    return sorted(p.stem for p in GRID_DIR.glob("*.csv"))


def grid_by_name(name: str) -> InstrumentGrid:
    """A named grid (built in, or a shipped grid file by stem); raises :class:`GridError` for an unknown name."""
    if name in GRIDS:
        return GRIDS[name]()
    if name in shipped_grid_names():
        return read_grid_file(GRID_DIR / f"{name}.csv")
    raise GridError(f"expected grid name in {sorted(GRIDS) + shipped_grid_names()} or a grid file, got {name!r}")


def resolve_grid(spec: str | Path, base_dir: str | Path | None = None) -> InstrumentGrid:
    """A grid from a name or a grid-file path (relative paths are tried as given, then under ``base_dir``)."""
    text = str(spec)
    if text in GRIDS or text in shipped_grid_names():
        return grid_by_name(text)
    candidates = [Path(text)] + ([Path(base_dir) / text] if base_dir is not None and not Path(text).is_absolute() else [])
    for path in candidates:
        if path.is_file():
            return read_grid_file(path)
    raise GridError(f"expected a grid name in {sorted(GRIDS) + shipped_grid_names()} or an existing grid file "
                    f"(CSV: centre nm, FWHM nm), got {text!r}")


_SEP = re.compile(r"\s*[,;\t]\s*|\s+")


def read_grid_file(path: str | Path) -> InstrumentGrid:
    """Instrument grid from a CSV file: one row per pixel, ``centre_nm, fwhm_nm`` (comma, semicolon, tab or
    spaces; decimal point, or decimal comma with a non-comma separator), an optional header row, ``#`` comments.

    The grid is named after the file stem. Raises :class:`GridError` naming the file and line for a row that is
    not two numbers, a centre or FWHM that is not > 0, a centre not above the previous one (unsorted) or equal
    to an earlier one (duplicate), or fewer than 2 rows.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GridError(f"{path}: cannot read grid file ({exc})") from exc
    centres: list[float] = []
    fwhms: list[float] = []
    line_of: dict[float, int] = {}
    header_seen = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        s = raw.split("#", 1)[0].strip()
        if not s:
            continue
        sep = ";" if ";" in s else "\t" if "\t" in s else "," if "," in s else None
        cells = [c.strip() for c in (s.split(sep) if sep else s.split())]
        while len(cells) > 2 and not cells[-1]:
            cells.pop()
        if sep != ",":
            cells = [c.replace(",", ".") for c in cells]
        try:
            values = [float(c) for c in cells]
        except ValueError:
            if not centres and not header_seen:
                header_seen = True  # the optional header row
                continue
            raise GridError(f"{path}: line {lineno}: expected two numbers (centre nm, FWHM nm), got {raw.strip()[:60]!r}") from None
        if len(values) != 2:
            raise GridError(f"{path}: line {lineno}: expected 2 columns (centre nm, FWHM nm), got {len(values)}")
        centre, fwhm = values
        if not (np.isfinite(centre) and centre > 0):
            raise GridError(f"{path}: line {lineno}: centre wavelength must be a finite number > 0 nm, got {cells[0]}")
        if not (np.isfinite(fwhm) and fwhm > 0):
            raise GridError(f"{path}: line {lineno}: FWHM must be a finite number > 0 nm, got {cells[1]}")
        if centre in line_of:
            raise GridError(f"{path}: line {lineno}: duplicate centre {centre:g} nm (already on line {line_of[centre]})")
        if centres and centre < centres[-1]:
            raise GridError(f"{path}: line {lineno}: centres must ascend; {centre:g} nm after {centres[-1]:g} nm "
                            f"(unsorted)")
        line_of[centre] = lineno
        centres.append(centre)
        fwhms.append(fwhm)
    if len(centres) < 2:
        raise GridError(f"{path}: expected >= 2 rows of centre nm, FWHM nm, got {len(centres)}")
    return InstrumentGrid(path.stem, np.array(centres), np.array(fwhms))


def write_grid_file(path: str | Path, grid: InstrumentGrid) -> None:
    """Write ``grid`` as a grid file (``centre_nm,fwhm_nm`` header, one row per channel)."""
    rows = ["centre_nm,fwhm_nm"] + [f"{w:.4f},{f:.4f}" for w, f in zip(grid.wavelength_nm, grid.fwhm_nm)]
    Path(path).write_text("\n".join(rows) + "\n", encoding="ascii")
