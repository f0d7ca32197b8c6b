"""What the line shows users about identified spectra: group labels with shares and the features detected.

A feature is listed only when it is *detected*: its median local-continuum band depth over the spectra exceeds both
``min_depth`` and :data:`NOISE_SIGMAS` times the spectra's relative channel noise (:func:`relative_noise`), so a
noisy featureless spectrum does not show the minimum of its noise as a band. C–H 1.40 µm is listed only beside
C–H 1.21 µm: alone it is the O–H / water band at the same place. Used by the report
(:mod:`analysis.report.nir_identification`), the control room (:mod:`analysis.web.evidence`) and the lot's
unknown-rate alarm (:mod:`spectra.identify.unknown_rate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from spectra.constants import REFLECTANCE_FLOOR

#: A band must be this many times deeper than the relative channel noise to be listed.
NOISE_SIGMAS = 4.0
#: Shallowest band listed (fraction of the continuum).
MIN_DEPTH = 0.02
#: Groups below this share of the spectra are pooled into "other groups" in a label.
MIN_GROUP_SHARE = 0.05
NO_FEATURE = "no absorption band above noise (dark or featureless)"


def relative_noise(reflectance: np.ndarray) -> np.ndarray:
    """(n,) relative channel noise of (n, channels) reflectance: robust std of second differences over √6,
    divided by the mean reflectance (NaN rows give NaN)."""
    r = np.atleast_2d(np.asarray(reflectance, float))
    if r.shape[1] < 5:
        return np.full(r.shape[0], np.nan)
    d2 = np.diff(r, 2, axis=1)
    # np.median where nothing is NaN: the same value as np.nanmedian, whose small-array path (masked arrays) cost
    # ~1 ms a call on the line's one-spectrum calls
    median = np.median if np.isfinite(d2).all() else np.nanmedian
    mad = median(np.abs(d2 - median(d2, axis=1, keepdims=True)), axis=1)
    return 1.4826 * mad / np.sqrt(6.0) / np.maximum(np.nanmean(r, axis=1), REFLECTANCE_FLOOR)


def detected_features(band_depth: np.ndarray, keys: Sequence[str], noise: np.ndarray | float | None = None,
                      min_depth: float = MIN_DEPTH) -> dict[str, float]:
    """Feature key → median depth of the features detected in (n, n_features) ``band_depth`` (module docstring);
    ``noise`` the rows' relative channel noise (None: ``min_depth`` alone)."""
    keys = list(keys)
    d = np.asarray(band_depth, float).reshape(-1, len(keys)) if keys else np.zeros((0, 0))
    if not keys or not d.shape[0]:
        return {}
    with np.errstate(all="ignore"):
        median = np.nanmedian(d, axis=0)
        floor = min_depth
        if noise is not None and np.any(np.isfinite(noise)):
            floor = max(min_depth, NOISE_SIGMAS * float(np.nanmedian(np.asarray(noise, float))))
    deep = {k: float(v) for k, v in zip(keys, median) if np.isfinite(v) and v > floor}
    if "C-H 1.21" not in deep:
        deep.pop("C-H 1.40", None)
    return deep


def feature_text(features: Mapping[str, float]) -> str:
    """"C-H 1.21 µm 4 %, OH/H2O 1.45 µm 12 %" from :func:`detected_features`' result."""
    return ", ".join(f"{k} µm {100 * v:.0f} %" for k, v in features.items()) or NO_FEATURE


def group_shares(groups: Sequence[str] | np.ndarray) -> list[tuple[str, float]]:
    """(group, share) of the spectra's groups, most first; groups under :data:`MIN_GROUP_SHARE` pooled as
    "other groups" (listed last)."""
    names, counts = np.unique(np.asarray(groups, dtype=str), return_counts=True)
    if not counts.size:
        return []
    share = counts / counts.sum()
    order = np.argsort(-share, kind="stable")
    out = [(str(names[i]), float(share[i])) for i in order if share[i] >= MIN_GROUP_SHARE]
    rest = float(share[share < MIN_GROUP_SHARE].sum())
    return out + ([("other groups", rest)] if rest > 0 else [])


def mixture_label(shares: Sequence[tuple[str, float]]) -> str:
    """"Fe-oxide ore 78 %, magnetite ore 22 %" (one group alone: its name and share)."""
    return ", ".join(f"{g} {100 * s:.0f} %" for g, s in shares) or "no spectra"
