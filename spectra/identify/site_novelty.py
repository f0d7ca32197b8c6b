"""Novelty that means something on a site: T²/Q refitted to the site's own genuine ore.

The shipped novelty model is fitted on *simulated* ore blends, so every real spectrum of a real ore unlike the
library is novel for ever (issue 21). As the lot detector does with its baseline, :func:`fit_site_novelty` refits
the PCA T²/Q model (:class:`spectra.models.novelty.PcaNovelty`) on the site's own ore spectra (for example the
lab-confirmed genuine segments ``oreline archive export-field-spectra`` writes): 70 % of them fit the model, the
other 30 % raise the limits to their empirical 1 − α quantile. "Unlike every reference" stays a separate answer:
the identification's ``unknown`` (:mod:`spectra.identify.identifier`), which does not depend on the site.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np

from spectra.errors import ModelError
from spectra.models.bundle import SpectraModel, validity
from spectra.models.novelty import PcaNovelty

MIN_SITE_SPECTRA = 60


def fit_site_novelty(model: SpectraModel, reflectance: np.ndarray, *, alpha: float = 0.01,
                     holdout: float = 0.3, seed: int = 0) -> SpectraModel:
    """A copy of ``model`` whose novelty is fitted on the site's genuine ore ``reflectance`` (n, channels).

    Raises :class:`ModelError` with fewer than :data:`MIN_SITE_SPECTRA` valid spectra, and ``GridError`` on the
    wrong number of channels. The copy's training hash gains ``-site<sha>`` of the spectra used.
    """
    r = model.check_input(reflectance)
    ok, _ = validity(r)
    r = r[ok]
    if r.shape[0] < MIN_SITE_SPECTRA:
        raise ModelError(f"site novelty needs >= {MIN_SITE_SPECTRA} valid ore spectra, got {r.shape[0]}")
    x = model.preprocessing.features(r)
    order = np.random.default_rng(seed).permutation(x.shape[0])
    n_cal = max(10, round(holdout * x.shape[0]))
    nov = PcaNovelty(alpha=alpha).fit(x[order[n_cal:]], x[order[:n_cal]])
    digest = hashlib.sha256(np.ascontiguousarray(r, np.float32).tobytes()).hexdigest()[:10]
    site = copy.copy(model)
    site.novelty = nov
    site.training_hash = f"{model.training_hash}-site{digest}"
    site.info = {**model.info, "site_novelty": {"spectra": int(r.shape[0]), "holdout": n_cal, "alpha": alpha,
                                                "components": int(nov.components_.shape[0]), "sha": digest,
                                                "base_model_hash": model.training_hash}}
    return site
