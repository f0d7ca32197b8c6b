"""Reading many spectrum files, file by file: one bad file is reported with its own error, the rest are read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from spectra.errors import SpectrumFormatError
from spectra.formats import SUFFIXES, read_spectra
from spectra.library import Spectrum


@dataclass
class FilesRead:
    """What a set of files gave: the spectra read, ``errors`` [{"file", "error"}] of the files refused (the error
    names the file, the line and what was expected) and ``notes`` [{"file", "note"}] of what a reader did to a file
    it accepted (a detector splice averaged, reflectance computed from sample/dark/reference)."""

    spectra: list[Spectrum] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)


def spectrum_files(folder: str | Path) -> list[Path]:
    """Files of ``folder`` with a spectrum suffix (:data:`spectra.formats.SUFFIXES`), sorted by name."""
    return sorted(f for f in Path(folder).iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)


def read_files(paths: Iterable[str | Path]) -> FilesRead:
    """Read every file of ``paths``; a file that cannot be read goes to ``errors`` and the others are kept."""
    out = FilesRead()
    for path in paths:
        try:
            spectra = read_spectra(path)
        except (SpectrumFormatError, OSError) as exc:
            message = str(exc)
            out.errors.append({"file": str(path), "error": message if str(path) in message else f"{path}: {message}"})
            continue
        out.spectra.extend(spectra)
        for s in spectra:
            out.notes.extend({"file": str(path), "note": note} for note in s.meta.get("notes", []))
    return out
