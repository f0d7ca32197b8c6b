"""The held-out world of a trained model: only the library sample groups it did not train on.

Shared by the validation report (:mod:`spectra.models.evaluation`) and the fingerprint validation
(:mod:`spectra.models.fingerprint_eval`), so that neither trains and tests on the same physical sample.
"""

from __future__ import annotations

import numpy as np

from spectra.detector import DetectorConfig, DetectorModel
from spectra.errors import SpectraError
from spectra.library import load_library
from spectra.scene import MixtureSimulator


def held_out_world(model, seed: int):
    """(held-out groups, library on the model grid, simulator of held-out samples only, detector, rng) for
    ``model``; SpectraError when the model records no held-out groups."""
    groups = model.info.get("test_groups")
    if not groups:
        raise SpectraError("model records no held-out sample groups; train with a test fraction > 0")
    rlib = load_library().resample(model.grid, skip_uncovered=True)
    sim = MixtureSimulator(rlib, allowed_groups=groups)
    return groups, rlib, sim, DetectorModel(model.grid, DetectorConfig(), seed=seed), np.random.default_rng(seed)
