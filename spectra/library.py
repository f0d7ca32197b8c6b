"""The USGS reference library: reading its JSON files, their class labels and physical-sample groups.

Class labels (``ore``, ``gangue``, ``waste``, ``contaminant``), materials and instruments come from the
table in ``shared/data/spectra/SOURCES.md`` (parsed, not re-typed). A file without a row is an error.
Grain-size fractions of one USGS sample (``HS195.1B``/``.2B``/``.4B``) share a *sample group* so that
train/test splits never put the same physical sample on both sides.

Two folders are read: ``usgs_splib07/`` and, when present, ``usgs_splib07a_more/`` (its own SOURCES.md; classes
also ``waste-phase`` — phases of smelting by-products, not waste by themselves — and ``mixture`` — real measured
intimate mixtures, used to check the mixing model). To them :func:`load_library` adds the **synthetic** waste
end-members of :data:`spectra.materials.SYNTHETIC_WASTE`, composed from their phases' real spectra by the
simulator's own intimate-mixing model (:func:`spectra.hapke.intimate_mixture`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from conveyor.resources import shared_data_dir
from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import GridError, LibraryError, SpectrumFormatError
from spectra.grid import InstrumentGrid
from spectra.hapke import MIXING_MODEL, intimate_mixture, reff_from_ssa, ssa_from_reff
from spectra.materials import SYNTHETIC_WASTE, SyntheticWaste, density_g_cm3
from spectra.resample import resample

CLASSES = ("ore", "gangue", "waste", "contaminant")
#: Classes of ``usgs_splib07a_more/`` that no model trains on: phases of by-products and measured mixtures.
EXTRA_CLASSES = ("waste-phase", "mixture")
FOLDERS = ("usgs_splib07", "usgs_splib07a_more")
#: Common wavelength axis (nm) of the synthetic end-members (their phases come from two instruments).
SYNTHETIC_AXIS_NM = np.arange(350.0, 2502.0, 2.0)


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
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("| File"):
            header = [c.strip().lower() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4:
            raise LibraryError(f"{md_path}: malformed table row {line[:80]!r}")
        file = cells[0].strip("`")
        mat_cell = cells[1]
        material, _, rest = mat_cell.partition(" — ")
        m = re.search(r"\*(.+?)\*", rest or mat_cell)
        usgs_name = m.group(1) if m else material
        klass = cells[2]
        if klass not in CLASSES + EXTRA_CLASSES:
            raise LibraryError(f"{md_path}: file {file}: expected class in {CLASSES + EXTRA_CLASSES}, got {klass!r}")
        instrument = cells[3]
        if "note" in header and len(cells) > header.index("instrument"):  # usgs_splib07a_more: | Note | Instrument |
            material, instrument = cells[header.index("note")], cells[header.index("instrument")]
        rows[file] = SourceRow(file, material.strip().strip("*"), usgs_name.strip(), klass, instrument)
    counts = dict(re.findall(r"^- (ore|gangue|waste-phase|waste|contaminant|mixture): (\d+)", text, flags=re.M))
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


def _read_folder(root: Path, folder: str, sources: Path) -> list[LibraryEntry]:
    table = parse_sources_table(sources)
    entries = []
    for f in sorted((root / folder).glob("*.json")):
        row = table.get(f.name)
        if row is None:
            raise LibraryError(f"{f.name}: no row in {sources}; every library file needs a class label")
        spec = read_usgs_json(f)
        entries.append(LibraryEntry(f.name, spec, row.material, row.usgs_name, row.klass, row.instrument,
                                    sample_group(row.usgs_name)))
    return entries


def _on_axis(spec: Spectrum, axis_nm: np.ndarray, max_gap_nm: float = 30.0) -> np.ndarray:
    """Reflectance linearly interpolated onto ``axis_nm`` over valid samples; NaN farther than ``max_gap_nm``
    from any valid sample (deleted channels, outside the instrument's range)."""
    ok = np.isfinite(spec.reflectance)
    wl, r = spec.wavelength_nm[ok], spec.reflectance[ok]
    out = np.interp(axis_nm, wl, r)
    pos = np.clip(np.searchsorted(wl, axis_nm), 1, wl.size - 1)
    gap = np.minimum(np.abs(axis_nm - wl[pos - 1]), np.abs(wl[pos] - axis_nm))
    out[(gap > max_gap_nm) | (axis_nm < wl[0] - 1e-6) | (axis_nm > wl[-1] + 1e-6)] = np.nan
    return out


def compose_synthetic(recipe: SyntheticWaste, entries: Sequence[LibraryEntry]) -> LibraryEntry:
    """The **synthetic** end-member of ``recipe``: its phases' real spectra (first entry whose USGS name contains
    the phase's ``spectrum``) mixed intimately by mass, density and crystal size on :data:`SYNTHETIC_AXIS_NM`.

    Raises :class:`LibraryError` when a phase has no library spectrum.
    """
    refl, mass, rho, grain, used = [], [], [], [], []
    for ph in recipe.phases:
        e = next((x for x in entries if ph.spectrum in x.usgs_name.lower()), None)
        if e is None:
            raise LibraryError(f"{recipe.name}: no library spectrum for phase {ph.spectrum!r}")
        refl.append(_on_axis(e.spectrum, SYNTHETIC_AXIS_NM))
        mass.append(ph.mass_frac)
        rho.append(density_g_cm3(e.material))
        grain.append(ph.grain_um)
        used.append(e.usgs_name)
    w = ssa_from_reff(np.clip(np.vstack(refl), REFLECTANCE_FLOOR, None))
    r = reff_from_ssa(intimate_mixture(np.array(mass), w, np.array(rho), np.array(grain)))
    r[np.any(np.isnan(np.vstack(refl)), axis=0)] = np.nan
    meta = {"synthetic": True, "phases": [{"spectrum": u, "stands_for": p.stands_for or u, "mass_frac": p.mass_frac,
                                           "grain_um": p.grain_um} for u, p in zip(used, recipe.phases)],
            "sources": list(recipe.sources), "grain_um": recipe.grain_um, "density_g_cm3": recipe.density_g_cm3}
    spec = Spectrum(recipe.name, SYNTHETIC_AXIS_NM.copy(), r, source=f"synthetic:{recipe.key}", meta=meta)
    return LibraryEntry(f"synthetic:{recipe.key}", spec, recipe.material, recipe.name, "waste",
                        "SYNTHETIC (phase mixture of USGS splib07a spectra)", f"synthetic-{recipe.key}")


def load_library(root: str | Path | None = None, *, synthetic: bool = True) -> SpectralLibrary:
    """Read ``usgs_splib07/*.json`` and (if present) ``usgs_splib07a_more/*.json`` under ``root`` (default: shared
    data) with labels from their SOURCES.md, then add the synthetic waste end-members (``synthetic``; only
    when the phase spectra of ``usgs_splib07a_more/`` are there).

    Raises :class:`LibraryError` when SOURCES.md is missing or a file has no row, and
    :class:`SpectrumFormatError` for a corrupt file.
    """
    root = Path(root) if root is not None else default_library_dir()
    sources = root / "SOURCES.md"
    if not sources.is_file():
        raise LibraryError(f"expected {sources} with the class table, not found")
    if not any((root / FOLDERS[0]).glob("*.json")):
        raise LibraryError(f"no *.json spectra under {root / FOLDERS[0]}")
    entries = _read_folder(root, FOLDERS[0], sources)
    more = root / FOLDERS[1]
    if (more / "SOURCES.md").is_file():
        entries += _read_folder(root, FOLDERS[1], more / "SOURCES.md")
    if synthetic and any(e.klass == "waste-phase" for e in entries):  # the phases live in usgs_splib07a_more
        entries += [compose_synthetic(r, entries) for r in SYNTHETIC_WASTE.values()]
    return SpectralLibrary(entries)


def library_digest(root: str | Path | None = None) -> str:
    """sha256 over both folders' SOURCES.md and JSON files (names and bytes), the synthetic recipes and the mixing
    model: the key of anything trained on the library."""
    root = Path(root) if root is not None else default_library_dir()
    h = hashlib.sha256()
    h.update((root / "SOURCES.md").read_bytes())
    for folder in FOLDERS:
        if folder != FOLDERS[0] and (root / folder / "SOURCES.md").is_file():
            h.update((root / folder / "SOURCES.md").read_bytes())
        for f in sorted((root / folder).glob("*.json")):
            h.update(f.name.encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    h.update(repr(sorted(SYNTHETIC_WASTE.items())).encode())
    h.update(MIXING_MODEL.encode())
    return h.hexdigest()
