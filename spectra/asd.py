"""ASD binary spectra (``.asd``: FieldSpec, LabSpec, TerraSpec, HandHeld; file versions 1–8) via ``pyASDReader``.

``pyASDReader`` (MIT) parses every version of the ASD file format and computes reflectance as the spectrum over
its stored white reference. It logs rather than raises, so this module checks what it returns and raises
:class:`SpectrumFormatError` naming the file and what was expected. Importing it would open a log file in the
current directory and configure the root logger; :func:`pyasdreader` imports it with that switched off.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from spectra.errors import SpectrumFormatError
from spectra.library import Spectrum

_IMPORT_LOCK = threading.Lock()
#: Bytes of the ASD file header (all versions): the spectrum data follow it.
HEADER_BYTES = 484
_MAGIC = {b"ASD", b"as2", b"as3", b"as4", b"as5", b"as6", b"as7", b"as8"}


def pyasdreader() -> Any:
    """The ``pyASDReader`` module, imported without its import-time log file and root-logger set-up."""
    with _IMPORT_LOCK:
        basic, file_handler = logging.basicConfig, logging.FileHandler
        logging.basicConfig = lambda *a, **k: None  # pyASDReader configures the root logger on import
        logging.FileHandler = lambda *a, **k: logging.NullHandler()  # type: ignore[assignment,misc]  # and opens a file
        try:
            import pyASDReader
        except ImportError as exc:
            raise SpectrumFormatError(
                "reading .asd files needs pyASDReader (pip install pyASDReader; a core dependency of oreline)") from exc
        finally:
            logging.basicConfig = basic
            logging.FileHandler = file_handler  # type: ignore[misc]  # put back the class replaced above
    for name in ("pyASDReader", "pyASDReader.asd_file_reader"):
        quiet = logging.getLogger(name)
        quiet.propagate = False  # its parse errors are turned into SpectrumFormatError here
        if not quiet.handlers:
            quiet.addHandler(logging.NullHandler())
    return pyASDReader


def read_asd(path: str | Path) -> Spectrum:
    """The reflectance spectrum of an ASD binary file (nm, fraction).

    The file must hold a reflectance spectrum (data type REF) with its white reference, as saved by RS³/Indico
    in reflectance mode; raw-DN, radiance and other files are refused, as are truncated or foreign files.
    """
    path = Path(path)
    try:
        head = path.read_bytes()[:HEADER_BYTES]
    except OSError as exc:
        raise SpectrumFormatError(f"{path}: cannot read ({exc})") from exc
    if head[:3] not in _MAGIC:
        raise SpectrumFormatError(f"{path}: byte 0: expected an ASD file signature (ASD, as2 ... as8), got {head[:3]!r}")
    if len(head) < HEADER_BYTES:
        raise SpectrumFormatError(f"{path}: expected a {HEADER_BYTES}-byte ASD header, file has {len(head)} bytes")
    asd = pyasdreader().ASDFile()
    if not asd.read(str(path)) or asd.metadata is None:
        raise SpectrumFormatError(f"{path}: ASD header (bytes 3–{HEADER_BYTES}) not readable; expected ASD file "
                                  "format version 1–8")
    meta = asd.metadata
    n = int(meta.channels)
    if asd.spectrumData is None or asd.spectrumData.spectra is None or len(asd.spectrumData.spectra) != n:
        raise SpectrumFormatError(f"{path}: byte {HEADER_BYTES}: expected {n} spectrum values (8-byte doubles), "
                                  "file is truncated")
    kind = getattr(meta.dataType, "name", str(meta.dataType))
    if kind != "dt_REF_TYPE":
        raise SpectrumFormatError(f"{path}: byte 186: expected a reflectance file (data type REF), got {kind}")
    if head[:3] == b"ASD":
        raise SpectrumFormatError(f"{path}: byte 0: an ASD version 1 file holds no white reference; expected a "
                                  "version 2–8 reflectance file")
    if asd.referenceData is None or asd.referenceData.spectra is None:
        raise SpectrumFormatError(f"{path}: byte {HEADER_BYTES + 8 * n}: expected the reference header and white "
                                  "reference after the spectrum, file is truncated")
    reference = np.asarray(asd.referenceData.spectra, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its np.divide(where=...) warns; channels without reference are set below
        computed = asd.reflectance
    if computed is None:
        raise SpectrumFormatError(f"{path}: reflectance not computable from the spectrum and its white reference")
    reflectance = np.asarray(computed, float)
    reflectance[~(reference != 0)] = np.nan  # no white signal: no reflectance there
    wl = float(meta.channel1Wavelength) + float(meta.wavelengthStep) * np.arange(n)
    info = {"instrument": getattr(meta.instrument, "name", str(meta.instrument)), "file_version": head[:3].decode(),
            "integration_time_ms": getattr(meta.intergrationTime_ms, "value", None),
            "splice_nm": [float(meta.splice1_wavelength), float(meta.splice2_wavelength)],
            "comments": meta.comments.decode("latin-1", "replace") if isinstance(meta.comments, bytes) else ""}
    return Spectrum(path.stem, wl, reflectance, source=str(path), meta=info)
