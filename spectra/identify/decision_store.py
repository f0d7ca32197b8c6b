"""The identifier's learned decision (:mod:`spectra.identify.learned`) kept on disk, so that a line starts without
fitting it again: augmenting and describing the references and fitting the regression cost every process with a
spectrometer ~1 s on the full 400-2400 nm grid (``oreline demo``, ``run``, ``control-room``, each fault and line test).

The file, ``$ORELINE_CACHE/spectra/identifier-decision-<key>.npz`` (or under ``~/.cache/oreline``), is named by
everything the fit reads: the grid, the references on it (names, classes, groups, samples and spectra), the
identifier's parameters, the source of the ``spectra`` package (any change to it fits again) and the numpy and
scikit-learn versions. A missing, unreadable or unwritable file means a fit, as without the store; it is written whole
or not at all (a temporary name of this process, then moved into place)."""

from __future__ import annotations

import hashlib
import zipfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np

from conveyor.files import replace_atomically
from conveyor.resources import cache_root

from spectra.identify.learned import Decision

#: Part of every key: raise it when the file's layout changes.
STORE_FORMAT = "identifier-decision-1"
_PACKAGE = Path(__file__).resolve().parents[1]  # spectra/


def store_dir() -> Path:
    """``$ORELINE_CACHE/spectra`` or ``~/.cache/oreline/spectra`` (as :func:`spectra.cache.cache_dir`, without
    importing the models: an identifier's readers do not load scikit-learn)."""
    return cache_root() / "spectra"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 (hex) of every ``.py`` file of the ``spectra`` package (path and bytes) and the numpy and scikit-learn
    versions: computed once per process."""
    h = hashlib.sha256(f"numpy {np.__version__} sklearn {_version('scikit-learn')}".encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def decision_key(idf: Any) -> str:
    """The store's key (hex, 16 digits) of the learned decision of identifier ``idf``: its grid, references (on the
    grid and as read), parameters and :func:`code_digest`."""
    h = hashlib.sha256(f"{STORE_FORMAT} {code_digest()} {idf.grid.name} {idf.params!r}".encode())
    for a in (idf.grid.wavelength_nm, idf.grid.fwhm_nm, idf.reference_reflectance):
        h.update(np.ascontiguousarray(a, np.float64).tobytes())
    for r in idf.references:
        h.update(repr((r.file, r.name, r.sample, r.library_class, r.line_class, r.group, r.folder)).encode())
        h.update(np.ascontiguousarray(r.wavelength_nm, np.float64).tobytes())
        h.update(np.ascontiguousarray(r.reflectance, np.float64).tobytes())
    return h.hexdigest()[:16]


def decision_path(idf: Any) -> Path:
    """Where the learned decision of ``idf`` is kept (:func:`decision_key`)."""
    return store_dir() / f"identifier-decision-{decision_key(idf)}.npz"


def stored_decision(idf: Any, fit: Callable[[], Decision]) -> Decision:
    """The learned decision of ``idf`` from the store, else ``fit()``, stored for the next process."""
    path = decision_path(idf)
    try:
        with np.load(path, allow_pickle=False) as z:
            d2 = float(z["d2_unknown"])
            return Decision(z["mean"], z["scale"], z["coef"], z["intercept"], z["log_prior"],
                            None if np.isnan(d2) else d2)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # not stored yet, or not readable: fitted (and stored) again
    decision = fit()
    arrays: dict[str, Any] = {"mean": decision.mean, "scale": decision.scale, "coef": decision.coef, "intercept": decision.intercept,
              "log_prior": decision.log_prior,
              "d2_unknown": np.float64(np.nan if decision.d2_unknown is None else decision.d2_unknown)}
    try:
        replace_atomically(path, lambda tmp: np.savez(tmp, **arrays))
    except OSError:  # a read-only cache: fitted in every process, as without the store
        pass
    return decision


__all__ = ["STORE_FORMAT", "code_digest", "decision_key", "decision_path", "stored_decision", "store_dir"]
