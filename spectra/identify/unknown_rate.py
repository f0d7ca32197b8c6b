"""Per lot: is the share of spectra identified ``unknown`` in a segment above the lot's own baseline rate?

Every lot has some spectra no reference fits (mixed spots, edges, dust) and, in ore with magnetite, dark
featureless ones; what matters is a segment with more of them than this lot usually has. The baseline rate is the
pooled share over the lot's accepted segments (with a weak prior of :data:`PRIOR_RATE` over :data:`PRIOR_SPECTRA`
spectra). A segment is flagged, after ``warmup_segments`` segments, when its share is at least ``margin`` above
that rate and above **both** limits:

* the binomial (1 − α) quantile at that rate (spectra drawn independently at the baseline rate), and
* the (1 − α) prediction limit of the accepted segments' own shares (Student t with m − 1 degrees of freedom,
  mean + t·s·√(1 + 1/m)): the share moves from segment to segment with the ore itself (its magnetite, its
  moisture), more than counting noise, and the binomial limit alone flagged 5 of 34 clean segments of the demo
  lot (31–52 % unknown against a 24–32 % baseline).

Flagged segments do not join the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from spectra.identify.labels import MIN_DEPTH, detected_features, feature_text

PRIOR_RATE = 0.02
PRIOR_SPECTRA = 50.0


@dataclass(frozen=True)
class UnknownCheck:
    """One segment: share of valid spectra called unknown, the lot baseline rate, the limit, flag and features."""

    fraction: float
    baseline: float
    limit: float
    flagged: bool
    features: str


class UnknownBaseline:
    """The lot's running unknown rate; :meth:`update` once per segment, in order."""

    def __init__(self, feature_keys: list[str], *, warmup_segments: int = 3, alpha: float = 1e-3,
                 margin: float = 0.05) -> None:
        self.feature_keys = list(feature_keys)
        self.warmup_segments = warmup_segments
        self.alpha = alpha
        self.margin = margin
        self.unknown = 0.0
        self.spectra = 0.0
        self.segments = 0
        self.shares: list[float] = []  # the accepted segments' unknown shares

    @property
    def rate(self) -> float:
        return (self.unknown + PRIOR_RATE * PRIOR_SPECTRA) / (self.spectra + PRIOR_SPECTRA)

    def share_limit(self) -> float:
        """(1 − α) prediction limit of the next segment's share from the accepted segments' shares (NaN below two)."""
        m = len(self.shares)
        if m < 2:
            return float("nan")
        x = np.asarray(self.shares)
        t = float(stats.t.ppf(1.0 - self.alpha, m - 1))
        return float(x.mean() + t * x.std(ddof=1) * np.sqrt(1.0 + 1.0 / m))

    def update(self, unknown: np.ndarray, band_depth: np.ndarray | None = None,
               noise: np.ndarray | None = None) -> UnknownCheck:
        """``unknown`` (n,) bool over the segment's valid spectra; ``band_depth`` (n, n_features) their depths and
        ``noise`` (n,) their relative channel noise (:func:`spectra.identify.labels.relative_noise`)."""
        u = np.asarray(unknown, bool).reshape(-1)
        n, k = u.size, int(u.sum())
        rate = self.rate
        limit = float(stats.binom.ppf(1.0 - self.alpha, n, rate)) if n else 0.0
        if n:
            spread = self.share_limit()
            limit = max(limit, spread * n) if np.isfinite(spread) else limit
        frac = k / n if n else float("nan")
        flagged = bool(n and self.segments >= self.warmup_segments and k > limit and frac >= rate + self.margin)
        feats = ""
        if band_depth is not None and k:
            feats = describe_features(band_depth[u], self.feature_keys, noise=None if noise is None else noise[u])
        if not flagged:
            self.unknown += k
            self.spectra += n
            self.segments += 1
            if n:
                self.shares.append(frac)
        return UnknownCheck(frac, rate, limit / n if n else float("nan"), flagged, feats)


def describe_features(band_depth: np.ndarray, keys: list[str], min_depth: float = MIN_DEPTH,
                      noise: np.ndarray | None = None) -> str:
    """"C-H 1.21 µm 4 %, OH/H2O 1.45 µm 12 %": the features detected in the rows (median depth above
    ``min_depth`` and the noise; :func:`spectra.identify.labels.detected_features`)."""
    return feature_text(detected_features(band_depth, keys, noise, min_depth))
