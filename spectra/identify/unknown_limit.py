"""The ``unknown`` limit calibrated from data: how far from every reference an unseen sample of a known material is.

A fixed d² (20 on the four shape/albedo/slope/scale terms and four band depths) is not a calibrated limit: the
terms are not unit-variance on every grid (the full range has nine band depths and its hull shape over 1.6 µm
more). As a chemometrician sets a Q or T² limit from the calibration set's own residuals, the limit here is the
:data:`UNKNOWN_QUANTILE` quantile of the **nearest-reference d² of spectra of known materials whose own physical
sample is not among the references**: the learned decision's training renderings
(:func:`spectra.identify.learned.training_set`: grain size, water, brightness, mixing with ore, detector noise;
each described with its own sample left out). So a spectrum is ``unknown`` when it is farther from every
reference than 99 % of unseen samples of the materials the library holds. Dark, featureless renderings are left
out (they are decided apart, :func:`spectra.identify.temper.dark`). In leave-one-sample-out validation the limit is
refitted inside each fold, without the fold's samples (:func:`spectra.identify.learned.decision_without`).
"""

from __future__ import annotations

import numpy as np

#: share of unseen samples of known materials that must lie within the limit (a 1 % false-unknown rate)
UNKNOWN_QUANTILE = 0.99
#: fewest calibration renderings for a quantile; with fewer the fixed limit stays
MIN_CALIBRATION = 200


def calibrated_limit(nearest_d2: np.ndarray, is_dark: np.ndarray, fallback: float) -> float:
    """The :data:`UNKNOWN_QUANTILE` quantile of the finite ``nearest_d2`` of the rows that are not ``is_dark``;
    ``fallback`` when fewer than :data:`MIN_CALIBRATION` remain."""
    d2 = np.asarray(nearest_d2, float)[~np.asarray(is_dark, bool)]
    d2 = d2[np.isfinite(d2)]
    return float(np.quantile(d2, UNKNOWN_QUANTILE)) if d2.size >= MIN_CALIBRATION else float(fallback)
