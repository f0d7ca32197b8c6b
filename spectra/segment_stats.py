"""Segment statistics and their calibration: the score type every NIR segment decision returns.

Legacy per-spectrum-classifier statistic (kept for reports; it does NOT meet the target on held-out samples):
per spectrum the classifier gives p_ore, p_waste, p_contaminant. The segment statistic for class c is the
mean over valid spectra of the clipped log-odds log(p_c / p_ore). On ore-only segments it has mean μ,
between-segment spread σ_b (ore blends vary) and within-segment spread σ_w, so for n valid spectra

    threshold(n) = μ + z · sqrt(σ_b² + σ_w² / n)

with z chosen on held-out simulated ore-only segments so that each flag fires on ≤ ``false_alarm / 2`` of
them (both flags together ≤ ``false_alarm``). The calibration is stored in the model.

:class:`NirSegmentScore` is also what the line's scorer (:class:`spectra.segment.LotSegmentScorer`) returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
from scipy import stats

from spectra.errors import InvalidSpectrumError

LOGIT_CLIP = 8.0
#: Fewer valid spectra than this and a segment is not scored (flags False; the caller marks it uninspected).
MIN_VALID_SPECTRA = 5


@dataclass(frozen=True)
class ClassCalibration:
    """Null distribution of one segment statistic: mean, between/within spread and the z multiplier."""

    mu: float
    sigma_between: float
    sigma_within: float
    z: float

    def threshold(self, n_valid: int) -> float:
        n = max(int(n_valid), 1)
        return float(self.mu + self.z * np.sqrt(self.sigma_between ** 2 + self.sigma_within ** 2 / n))


@dataclass(frozen=True)
class SegmentCalibration:
    """Calibrations of the waste and contaminant statistics and the false-alarm rate they were set for."""

    waste: ClassCalibration
    contaminant: ClassCalibration
    false_alarm: float
    calibration_segments: int
    spectra_per_segment: int
    empirical_false_alarm: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SegmentCalibration":
        return cls(ClassCalibration(**d["waste"]), ClassCalibration(**d["contaminant"]), float(d["false_alarm"]),
                   int(d["calibration_segments"]), int(d["spectra_per_segment"]), float(d["empirical_false_alarm"]))


@dataclass(frozen=True)
class NirSegmentScore:
    """What the NIR says about one segment.

    From :class:`LotSegmentScorer`: ``waste_score``/``contaminant_score`` are the lot GLRT statistics (NaN while
    the lot has no baseline), ``threshold``/``contaminant_threshold`` their calibrated limits;
    ``novelty_fraction`` the share of valid spectra outside the ore population (library-only statistic; above
    ``novelty_threshold`` it flags waste: ``library_flag``). ``scored`` False means the NIR gives no verdict on
    this segment — too few valid spectra, or a warm-up segment without a library flag — and the caller treats
    the segment as uninspected by NIR. ``est_waste_frac`` is the admixed mass fraction the fit implies.
    From the legacy :func:`score_segment`: mean log-odds against ore and their limits for ``n_valid`` spectra.
    """

    waste_score: float
    contaminant_score: float
    novelty_fraction: float
    n_valid: int
    flagged_waste: bool
    flagged_contaminant: bool
    threshold: float
    contaminant_threshold: float
    scored: bool = True
    warmup: bool = False
    library_flag: bool = False
    novelty_threshold: float = float("nan")
    est_waste_frac: float = float("nan")
    est_contaminant_frac: float = float("nan")
    baseline_segments: int = 0
    flagged_unknown: bool = False
    unknown_fraction: float = float("nan")
    unknown_baseline: float = float("nan")
    #: the features seen in the segment's unknown spectra ("C-H 1.21 µm 6 %"); set by the scorer, not a field
    #: (the fields stay numbers: tables and comparisons convert a score with ``dataclasses.astuple``)
    unknown_features: ClassVar[str] = ""


def log_odds(p_class: np.ndarray, p_ore: np.ndarray) -> np.ndarray:
    """Clipped log(p_class / p_ore) per spectrum."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.log(np.maximum(p_class, 1e-12)) - np.log(np.maximum(p_ore, 1e-12))
    return np.clip(lo, -LOGIT_CLIP, LOGIT_CLIP)


def fit_class_calibration(stat_per_spectrum: np.ndarray, alpha: float) -> ClassCalibration:
    """Calibrate on ore-only segments: ``stat_per_spectrum`` (n_segments, n_spectra) of log-odds.

    z is the larger of the normal quantile 1 − alpha and the value that puts exactly the empirical
    1 − alpha quantile of the segment means at the threshold.
    """
    s = np.asarray(stat_per_spectrum, float)
    n_seg, n = s.shape
    means = s.mean(axis=1)
    mu = float(means.mean())
    sw2 = float(s.var(axis=1, ddof=1).mean()) if n > 1 else 0.0
    sb2 = max(float(means.var(ddof=1)) - sw2 / n, 0.0)
    spread = np.sqrt(sb2 + sw2 / n) or 1e-9
    z_norm = float(stats.norm.ppf(1.0 - alpha))
    z_emp = float((np.quantile(means, 1.0 - alpha) - mu) / spread)
    return ClassCalibration(mu, float(np.sqrt(sb2)), float(np.sqrt(sw2)), max(z_norm, z_emp))


def score_segment(p_waste: np.ndarray, p_contaminant: np.ndarray, novel: np.ndarray, valid: np.ndarray,
                  calibration: SegmentCalibration, p_ore: np.ndarray | None = None) -> NirSegmentScore:
    """Score one segment from its per-spectrum arrays (all (n,)); invalid spectra are ignored.

    ``p_ore`` defaults to 1 − p_waste − p_contaminant. Raises :class:`InvalidSpectrumError` when the arrays
    differ in length.
    """
    arrays = [np.asarray(a) for a in (p_waste, p_contaminant, novel, valid)]
    if p_ore is not None:
        arrays.append(np.asarray(p_ore))
    n = {a.shape for a in arrays}
    if len(n) != 1 or len(next(iter(n))) != 1:
        raise InvalidSpectrumError(f"segment arrays must be 1-D and of equal length, got shapes {sorted(n)}")
    pw, pc, nov, val = (arrays[0].astype(float), arrays[1].astype(float), arrays[2].astype(bool),
                        arrays[3].astype(bool))
    po = arrays[4].astype(float) if p_ore is not None else np.clip(1.0 - pw - pc, 0.0, 1.0)
    val = val & np.isfinite(pw) & np.isfinite(pc) & np.isfinite(po)
    n_valid = int(val.sum())
    thr_w = calibration.waste.threshold(n_valid)
    thr_c = calibration.contaminant.threshold(n_valid)
    if n_valid < MIN_VALID_SPECTRA:
        return NirSegmentScore(float("nan"), float("nan"), float("nan"), n_valid, False, False, thr_w, thr_c, False)
    ws = float(log_odds(pw[val], po[val]).mean())
    cs = float(log_odds(pc[val], po[val]).mean())
    return NirSegmentScore(ws, cs, float(nov[val].mean()), n_valid, ws > thr_w, cs > thr_c, thr_w, thr_c, True)
