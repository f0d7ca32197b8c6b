"""The line's per-spectrum class probabilities: the learned classifier and the identification together.

* Where the spectrum is **outside the classifier's domain** (:meth:`CalibratedLinearClassifier.in_domain`: every
  real spectrum unlike the simulated training set) the classifier says nothing and the identification's
  probabilities are used as they are, ``unknown`` included.
* Inside it, both are evidence about the same spot: ``p ∝ p_classifier · p_identification / prior`` over ore,
  waste and contaminant (the prior is in both; divided out once), times ``1 − p_unknown`` of the identification.

``unknown`` never adds to ore.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from spectra.grid import InstrumentGrid
from spectra.identify.identifier import Identification, Identifier, IdentifierParams


def line_probabilities(p_classifier: np.ndarray, in_domain: np.ndarray, ident: Identification,
                       prior: np.ndarray) -> np.ndarray:
    """(n, 4) over ore, waste, contaminant, unknown (rows of invalid spectra NaN)."""
    p_id = np.asarray(ident.p, float)
    known = p_id[:, :3]
    mixed = np.asarray(p_classifier, float)[:, :3] * known / np.asarray(prior, float)[None, :]
    s = mixed.sum(axis=1, keepdims=True)
    mixed = np.divide(mixed, s, out=known / np.maximum(known.sum(axis=1, keepdims=True), 1e-12), where=s > 1e-12)
    out = p_id.copy()
    dom = np.asarray(in_domain, bool) & np.all(np.isfinite(p_classifier), axis=1)
    out[dom, :3] = mixed[dom] * (1.0 - p_id[dom, 3:4])
    return out


@lru_cache(maxsize=4)
def _cached(name: str, wl: bytes, fwhm: bytes, ore_needs_evidence: bool) -> Identifier:
    return Identifier.from_library(InstrumentGrid(name, np.frombuffer(wl), np.frombuffer(fwhm)),
                                   params=IdentifierParams(ore_needs_evidence=ore_needs_evidence))


def identifier_for(grid: InstrumentGrid, ore_needs_evidence: bool = True) -> Identifier:
    """The identifier over the shared references on ``grid``, built once per process (~0.5 s); the site option
    ``ore_needs_evidence`` (:class:`IdentifierParams`)."""
    return _cached(grid.name, np.asarray(grid.wavelength_nm, float).tobytes(),
                   np.asarray(grid.fwhm_nm, float).tobytes(), bool(ore_needs_evidence))
