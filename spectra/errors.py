"""Exceptions raised by the spectra package.

Every class also inherits the builtin it refines, so callers may catch either
``SpectraError`` or the builtin (``ValueError``, ``LookupError``, ``RuntimeError``...).
Messages say what was expected and what was got.
"""

from __future__ import annotations


class SpectraError(Exception):
    """Base class of every error raised by ``spectra``."""


class GridError(SpectraError, ValueError):
    """A wavelength grid that does not fit: wrong length, different grid, or outside the source range."""


class SpectrumFormatError(SpectraError, ValueError):
    """A spectrum file of unknown format, or a corrupt one (bad JSON/CSV/JCAMP/HDF5)."""


class LibraryError(SpectraError, LookupError):
    """The reference library is inconsistent: a file without a row in SOURCES.md, wrong counts, unknown class."""


class InvalidSpectrumError(SpectraError, ValueError):
    """A spectrum that cannot be scored: NaN/inf, all zero, saturated, wrong shape."""


class ReferencingError(SpectraError, RuntimeError):
    """Reflectance asked for before a valid dark and white reference were taken."""


class BackendError(SpectraError, RuntimeError):
    """A spectrometer backend that is unknown, closed or failed."""


class BackendUnavailableError(BackendError, ImportError):
    """A backend whose vendor SDK (e.g. ``seabreeze``) is not installed."""


class AcquisitionTimeout(SpectraError, TimeoutError):
    """An acquisition or reference procedure did not finish within its timeout."""


class ModelError(SpectraError, ValueError):
    """A model file that is corrupt, of another format version, or not trained."""


class FingerprintError(SpectraError, ValueError):
    """A product fingerprint that cannot be built, read or applied (too few lots, another model, a bad file)."""
