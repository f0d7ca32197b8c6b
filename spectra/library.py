"""The USGS reference library: reading its JSON files, their class labels and physical-sample groups.

Class labels (``ore``, ``gangue``, ``waste``, ``contaminant``), materials and instruments come from the
table in ``shared/data/spectra/SOURCES.md`` (parsed, not re-typed). A file without a row is an error.
Grain-size fractions of one USGS sample (``HS195.1B``/``.2B``/``.4B``) share a *sample group* so that
train/test splits never put the same physical sample on both sides.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from conveyor.resources import shared_data_dir
from spectra.errors import GridError, LibraryError, SpectrumFormatError
from spectra.grid import InstrumentGrid
from spectra.resample import resample

CLASSES = ("ore", "gangue", "waste", "contaminant")


@dataclass(frozen=True, eq=False)
class Spectrum:
    """One reflectance spectrum: ``wavelength_nm`` (m,) ascending, ``reflectance`` (m,) fraction, NaN = missing."""

    name: str
    wavelength_nm: np.ndarray
    reflectance: np.ndarray
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        wl = np.asarray(self.wavelength_nm, dtype=float)
        r = np.asarray(self.reflectance, dtype=float)
        if wl.ndim != 1 or r.shape != wl.shape or wl.size < 2:
            raise SpectrumFormatError(
                f"{self.source or self.name}: expected equal-length 1-D wavelength and reflectance arrays "
                f"(>= 2 values), got {wl.shape} and {r.shape}"
            )
        if not np.all(np.isfinite(wl)):
            raise SpectrumFormatError(f"{self.source or self.name}: wavelengths must be finite")
        if wl[0] > wl[-1]:
            wl, r = wl[::-1].copy(), r[::-1].copy()
        if not np.all(np.diff(wl) > 0):
            raise SpectrumFormatError(f"{self.source or self.name}: wavelengths must be strictly monotonic")
        object.__setattr__(self, "wavelength_nm", wl)
        object.__setattr__(self, "reflectance", r)

    def resample(self, grid: InstrumentGrid) -> np.ndarray:
        """Reflectance (n,) on ``grid`` by band convolution; raises GridError outside the valid range."""
        return resample(self.wavelength_nm, self.reflectance, grid, what=self.source or self.name)


def read_usgs_json(path: str | Path) -> Spectrum:
    """Read one USGS splib07 JSON file (wavelengths in µm, ``null`` = deleted channel → NaN).

    Raises :class:`SpectrumFormatError` for unreadable or malformed files.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpectrumFormatError(f"{path}: not readable as JSON ({exc})") from exc
    if not isinstance(doc, dict) or not {"wavelengths", "reflectance"} <= set(doc):
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise SpectrumFormatError(f"{path}: expected a JSON object with 'wavelengths' and 'reflectance', got {got}")
    try:
        wl_um = np.array(doc["wavelengths"], dtype=float)
        refl = np.array([np.nan if v is None else v for v in doc["reflectance"]], dtype=float)
    except (TypeError, ValueError) as exc:
        raise SpectrumFormatError(f"{path}: wavelengths/reflectance must be lists of numbers or null ({exc})") from exc
    if wl_um.shape != refl.shape:
        raise SpectrumFormatError(f"{path}: {wl_um.size} wavelengths but {refl.size} reflectance values")
    refl[refl < -1e30] = np.nan  # raw USGS deleted-channel marker -1.23e34, should it appear
    if wl_um.size and np.nanmax(wl_um) > 100:
        raise SpectrumFormatError(f"{path}: wavelengths should be micrometres, got max {np.nanmax(wl_um)}")
    return Spectrum(str(doc.get("name", path.stem)), wl_um * 1000.0, refl, source=str(path),
                    meta={"id": doc.get("id", path.stem)})


@dataclass(frozen=True)
class SourceRow:
    """One row of the SOURCES.md table."""

    file: str
    material: str
    usgs_name: str
    klass: str
    instrument: str


def parse_sources_table(md_path: str | Path) -> dict[str, SourceRow]:
    """Parse the file table of SOURCES.md: file name → :class:`SourceRow`.

    Also checks the ``## Counts`` section against the table; raises :class:`LibraryError` on a
    malformed row, an unknown class or a count mismatch.
    """
    text = Path(md_path).read_text(encoding="utf-8")
    rows: dict[str, SourceRow] = {}
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4:
            raise LibraryError(f"{md_path}: malformed table row {line[:80]!r}")
        file = cells[0].strip("`")
        mat_cell = cells[1]
        material, _, rest = mat_cell.partition(" — ")
        m = re.search(r"\*(.+?)\*", rest)
        usgs_name = m.group(1) if m else material
        klass = cells[2]
        if klass not in CLASSES:
            raise LibraryError(f"{md_path}: file {file}: expected class in {CLASSES}, got {klass!r}")
        rows[file] = SourceRow(file, material.strip(), usgs_name.strip(), klass, cells[3])
    counts = dict(re.findall(r"^- (ore|gangue|waste|contaminant): (\d+)", text, flags=re.M))
    for klass, n in counts.items():
        got = sum(r.klass == klass for r in rows.values())
        if got != int(n):
            raise LibraryError(f"{md_path}: Counts section says {n} {klass} files, table has {got}")
    return rows


_SUFFIXES = (
    re.compile(r"\.[0-9A-Za-z]+$"),  # grain-size fraction: HS195.1B → HS195, GDS157.b → GDS157
    re.compile(r"(?<=\d)w$"),  # wet measurement of the same sample: SM93-15w → SM93-15
    re.compile(r"(?<=\d)-[A-Z]$"),  # size split: MPCMA2-B → MPCMA2
)


def sample_group(usgs_name: str) -> str:
    """Physical-sample id of a USGS spectrum name (grain-size/wet variants collapse to one id)."""
    tokens = usgs_name.split()
    ident = next((t for t in tokens[1:] if any(c.isdigit() for c in t)), None)
    if ident is None:
        return usgs_name.lower()
    for rx in _SUFFIXES:
        ident = rx.sub("", ident)
    return ident.lower()


@dataclass(frozen=True, eq=False)
class LibraryEntry:
    """A library spectrum with its class label and sample group."""

    file: str
    spectrum: Spectrum
    material: str
    usgs_name: str
    klass: str
    instrument: str
    group: str


class SpectralLibrary:
    """Labelled reference spectra. ``entries`` keep file order (sorted by file name)."""

    def __init__(self, entries: Sequence[LibraryEntry]) -> None:
        self.entries = list(entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def groups(self) -> list[str]:
        return sorted({e.group for e in self.entries})

    def resample(self, grid: InstrumentGrid, *, skip_uncovered: bool = False) -> "ResampledLibrary":
        """All entries convolved onto ``grid``.

        Raises GridError naming the first spectrum that does not cover the grid, unless
        ``skip_uncovered``: then such entries are left out and listed in ``ResampledLibrary.skipped``.
        """
        if not self.entries:
            raise LibraryError("cannot resample an empty library")
        kept, rows, skipped = [], [], []
        for e in self.entries:
            try:
                rows.append(resample(e.spectrum.wavelength_nm, e.spectrum.reflectance, grid, what=e.file))
                kept.append(e)
            except GridError as exc:
                if not skip_uncovered:
                    raise
                skipped.append((e.file, str(exc)))
        if not rows:
            raise LibraryError(f"no library spectrum covers grid {grid.name!r}")
        return ResampledLibrary(grid, kept, np.vstack(rows), skipped)


@dataclass(frozen=True, eq=False)
class ResampledLibrary:
    """Library spectra on one grid: ``reflectance`` (n_entries, n_channels)."""

    grid: InstrumentGrid
    entries: list[LibraryEntry]
    reflectance: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def indices(self, *, classes: Iterable[str] | None = None, groups: Iterable[str] | None = None) -> np.ndarray:
        cl = set(classes) if classes is not None else None
        gr = set(groups) if groups is not None else None
        return np.array([i for i, e in enumerate(self.entries)
                         if (cl is None or e.klass in cl) and (gr is None or e.group in gr)], dtype=int)


def default_library_dir() -> Path:
    """``<shared data>/spectra`` (see :func:`conveyor.resources.shared_data_dir`)."""
    return shared_data_dir() / "spectra"


def load_library(root: str | Path | None = None) -> SpectralLibrary:
    """Read every ``usgs_splib07/*.json`` under ``root`` (default: shared data) with labels from SOURCES.md.

    Raises :class:`LibraryError` when SOURCES.md is missing or a file has no row, and
    :class:`SpectrumFormatError` for a corrupt file.
    """
    root = Path(root) if root is not None else default_library_dir()
    sources = root / "SOURCES.md"
    if not sources.is_file():
        raise LibraryError(f"expected {sources} with the class table, not found")
    table = parse_sources_table(sources)
    files = sorted((root / "usgs_splib07").glob("*.json"))
    if not files:
        raise LibraryError(f"no *.json spectra under {root / 'usgs_splib07'}")
    entries = []
    for f in files:
        row = table.get(f.name)
        if row is None:
            raise LibraryError(f"{f.name}: no row in {sources}; every library file needs a class label")
        spec = read_usgs_json(f)
        entries.append(LibraryEntry(f.name, spec, row.material, row.usgs_name, row.klass, row.instrument,
                                    sample_group(row.usgs_name)))
    return SpectralLibrary(entries)
