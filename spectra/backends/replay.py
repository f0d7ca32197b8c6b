"""Replay backend: spectra from files (CSV, JCAMP-DX, USGS JSON, ECOSTRESS text, our HDF5 archive).

Files are read in sorted order (a folder) or as given (one file), convolved onto the instrument grid when
their wavelengths differ, and returned as the raw counts a referenced instrument would have produced:
counts = D + R / R_white · (W − D) with a constant dark ``dark_counts`` and white ``white_counts``, so that
referencing gives the file's reflectance back. With ``loop`` the sequence repeats; otherwise reading past
the end raises :class:`BackendError`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from spectra.driver import ReadKind, Spectrometer
from spectra.errors import BackendError, GridError, SpectrumFormatError
from spectra.folder import read_files, spectrum_files
from spectra.formats import SUFFIXES
from spectra.grid import InstrumentGrid
from spectra.resample import to_grid

log = logging.getLogger(__name__)


def replay_files(path: str | Path) -> list[Path]:
    """Spectrum files in ``path`` (a file, or a folder read in sorted order)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise BackendError(f"replay: expected a spectrum file or folder, {p} does not exist")
    files = spectrum_files(p)
    if not files:
        raise BackendError(f"replay: no spectrum files ({', '.join(sorted(SUFFIXES))}) in {p}")
    return files


def load_on_grid(path: str | Path, grid: InstrumentGrid) -> np.ndarray:
    """All spectra of ``path`` as reflectance (k, n) on ``grid`` (convolved when the grid differs).

    Files are read one by one: a file that cannot be read, or does not cover ``grid``, is logged as a warning with its
    error (file, line, what was expected) and the others are replayed; SpectrumFormatError when none can be."""
    files = replay_files(path)
    read = read_files(files)
    for e in read.errors:
        log.warning("replay: skipped %s", e["error"])
    for n in read.notes:
        log.info("replay: %s: %s", n["file"], n["note"])
    rows, problems = [], [e["error"] for e in read.errors]
    for s in read.spectra:
        try:
            rows.append(to_grid(s.wavelength_nm, s.reflectance, grid, what=s.source))
        except GridError as exc:  # e.g. a file that does not cover the instrument's range
            log.warning("replay: skipped %s", exc)
            problems.append(str(exc))
    if not rows:
        raise SpectrumFormatError(f"none of the {len(files)} spectrum files in {path} can be replayed on grid "
                                  f"{grid.name!r}; first error: {problems[0]}")
    return np.vstack(rows)


class ReplaySpectrometer(Spectrometer):
    """Replays reflectance files as raw counts."""

    def __init__(self, grid: InstrumentGrid, *, path: str | Path, loop: bool = True, dark_counts: float = 1000.0,
                 white_counts: float = 45000.0, **kwargs) -> None:
        super().__init__(grid, **kwargs)
        try:
            self.spectra = load_on_grid(path, grid)
        except SpectrumFormatError as exc:
            raise BackendError(f"replay: {exc}") from exc
        self.loop = bool(loop)
        self.index = 0
        self._dark = float(dark_counts)
        self._white = float(white_counts)

    def _read(self, kind: ReadKind, tonnage_mark_t: float | None) -> np.ndarray:
        n = self.grid.n_channels
        if kind == "dark":
            return np.full(n, self._dark)
        if kind == "white":
            return np.full(n, self._white)
        if self.index >= len(self.spectra):
            if not self.loop:
                raise BackendError(f"replay exhausted after {len(self.spectra)} spectra")
            self.index = 0
        r = self.spectra[self.index]
        self.index += 1
        counts = self._dark + r / self.white_reflectance * (self._white - self._dark)
        return np.clip(counts, 0.0, self.full_scale_counts)
