"""All real reference spectra of both library folders, for the classifier and its group-out checks.

``usgs_splib07/`` is read by :func:`spectra.library.load_library`. ``usgs_splib07a_more/`` (issue 14) has its
own SOURCES.md table (``| file | *USGS name* | class | note | instrument | ...``); its ``ore`` and
``contaminant`` rows are real samples of those classes and join them here. Its ``waste-phase`` rows are
phases, not waste (olivine and pyroxene also occur in rock), and its ``mixture`` rows are measured test
mixtures: neither is a training class, so both are left out. An entry already in the library (same file
name, e.g. once ``load_library`` reads both folders) is not added twice.
"""

from __future__ import annotations

import re
from pathlib import Path

from spectra.errors import LibraryError
from spectra.library import LibraryEntry, SpectralLibrary, read_usgs_json, sample_group

MORE_FOLDER = "usgs_splib07a_more"
#: Classes of the second folder that are real samples of a library class (name there → class here).
MORE_CLASSES = {"ore": "ore", "contaminant": "contaminant"}


def more_entries(root: Path) -> list[LibraryEntry]:
    """Real ``ore``/``contaminant`` entries of ``root/usgs_splib07a_more`` (empty when the folder is absent)."""
    folder = root / MORE_FOLDER
    table = folder / "SOURCES.md"
    if not table.is_file():
        return []
    out = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5:
            raise LibraryError(f"{table}: malformed table row {line[:80]!r}")
        klass = MORE_CLASSES.get(cells[2])
        if klass is None:
            continue
        file = cells[0].strip("`")
        m = re.search(r"\*(.+?)\*", cells[1])
        usgs_name = m.group(1) if m else cells[1]
        path = folder / file
        if not path.is_file():
            raise LibraryError(f"{table}: listed file {file} not found in {folder}")
        out.append(LibraryEntry(file, read_usgs_json(path), cells[3], usgs_name, klass, cells[4],
                                sample_group(usgs_name)))
    return out


def with_more(library: SpectralLibrary, root: Path) -> SpectralLibrary:
    """``library`` plus the second folder's real ore and contaminant samples not already in it."""
    have = {e.file for e in library.entries}
    return SpectralLibrary(list(library.entries) + [e for e in more_entries(root) if e.file not in have])
