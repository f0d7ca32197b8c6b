"""The segment-level NIR decision: is there waste or a contaminant in this segment?

**Line use: :class:`LotSegmentScorer`** — one per lot, fed each segment's per-spectrum arrays in order; it runs
the lot-adaptive matched-subspace detector of :mod:`spectra.lotdetector` (segment vs the lot's own baseline
along Hapke waste directions) plus the library-only novelty statistic. This is what the line uses.

Legacy per-spectrum-classifier statistic (kept for reports; it does NOT meet the target on held-out samples):
per spectrum the classifier gives p_ore, p_waste, p_contaminant. The segment statistic for class c is the
mean over valid spectra of the clipped log-odds log(p_c / p_ore). On ore-only segments it has mean μ,
between-segment spread σ_b (ore blends vary) and within-segment spread σ_w, so for n valid spectra

    threshold(n) = μ + z · sqrt(σ_b² + σ_w² / n)

with z chosen on held-out simulated ore-only segments so that each flag fires on ≤ ``false_alarm / 2`` of
them (both flags together ≤ ``false_alarm``). The calibration is stored in the model.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from scipy import stats

from spectra.errors import GridError, InvalidSpectrumError, ModelError

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


# --- the line's scorer ----------------------------------------------------------------------------------
_MODEL_CACHE: dict[tuple[str, str], Any] = {}
_CACHE_LOCK = threading.Lock()


def _load_model(metadata: Mapping[str, Any]):
    """The SpectraModel named by NIR stream metadata (``model_path`` + ``model_hash``; cached per process)."""
    from spectra.models.bundle import SpectraModel

    want = str(metadata.get("model_hash", ""))
    path = metadata.get("model_path")
    if not path:
        grid = metadata.get("grid")
        if not grid:
            raise ModelError("NIR stream metadata: expected 'model_path' (or 'grid' for the default model), "
                             "got neither")
        from spectra.cache import default_model_path
        from spectra.models.training import TrainConfig

        path = str(default_model_path(TrainConfig(grid=str(grid))))
    key = (str(path), want)
    with _CACHE_LOCK:
        model = _MODEL_CACHE.get(key)
        if model is None:
            if not Path(path).is_file():
                raise ModelError(f"NIR model file {path} not found (stream metadata 'model_path')")
            model = SpectraModel.load(path)
            if want and model.training_hash != want:
                raise ModelError(f"NIR model {path}: expected training hash {want} (stream metadata), "
                                 f"got {model.training_hash}")
            if model.lot_detector is None or model.lot_detector.thresholds is None:
                raise ModelError(f"NIR model {path} ({model.model_version}) has no calibrated lot detector; retrain it")
            _MODEL_CACHE[key] = model
    if "wavelength_nm" in metadata and len(metadata["wavelength_nm"]) != model.grid.n_channels:
        raise GridError(f"NIR stream has {len(metadata['wavelength_nm'])} channels, model {path} expects "
                        f"{model.grid.n_channels}")
    return model


def model_from_metadata(metadata: Mapping[str, Any]):
    """The SpectraModel a NIR stream was scored with (its metadata names the file and hash; cached per process).
    Raises :class:`ModelError` or :class:`GridError` like :meth:`LotSegmentScorer.from_metadata`."""
    return _load_model(metadata)


class LotSegmentScorer:
    """Segment scores for ONE lot, stateful: call :meth:`score` once per segment, in order through the lot.

    Build it with :meth:`from_metadata` from the NIR station's ``StreamDescription.metadata`` (it names the
    model file and hash). The first ``warmup_segments`` segments with valid spectra form the lot baseline: they
    are scored only by the library-only novelty statistic and reported ``scored=False`` unless it flags them.
    Segments with fewer than :data:`MIN_VALID_SPECTRA` valid spectra are ``scored=False`` and leave the
    baseline untouched. Flagged (or merely suspicious) segments never join the baseline.
    """

    def __init__(self, model) -> None:
        from spectra.lotdetector import LotDetector

        if model.lot_detector is None or model.lot_detector.thresholds is None:
            raise ModelError(f"model {model.model_version} has no calibrated lot detector; retrain it")
        self.model = model
        self.detector = LotDetector(model.lot_detector)
        self.segments_seen = 0

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> "LotSegmentScorer":
        """Scorer for a new lot from the NIR stream metadata (keys ``model_path``, ``model_hash``, ``grid``,
        ``wavelength_nm``). Raises :class:`ModelError` (missing/mismatched model) or :class:`GridError`."""
        return cls(_load_model(metadata))

    @property
    def thresholds(self):
        return self.model.lot_detector.thresholds

    def score(self, arrays: Mapping[str, np.ndarray], *, features: np.ndarray | None = None,
              validity_checked: bool = False) -> NirSegmentScore:
        """Score one segment from its per-spectrum arrays: ``reflectance`` (n, channels), ``valid`` (n,) and
        optionally ``novel``, ``p_waste``, ... (n,). Raises :class:`GridError` for the wrong number of channels
        and :class:`InvalidSpectrumError` for arrays of different lengths or a missing ``reflectance``.

        Batch re-scoring (the fleet) may pass what it computed already: ``features`` (n_valid, channels), the
        model's features of the valid rows in order (``model.preprocessing.features``), and
        ``validity_checked=True`` when ``valid`` already excludes what :func:`spectra.models.bundle.validity`
        rejects. The result is the same as without them."""
        if "reflectance" not in arrays:
            raise InvalidSpectrumError(f"segment arrays: expected key 'reflectance', got {sorted(arrays)}")
        r = np.asarray(arrays["reflectance"], dtype=float)
        if r.ndim == 1 and r.size == 0:
            r = r.reshape(0, self.model.grid.n_channels)
        if r.ndim != 2 or r.shape[1] != self.model.grid.n_channels:
            raise GridError(f"segment reflectance: expected (n, {self.model.grid.n_channels}) on grid "
                            f"{self.model.grid.name!r}, got shape {r.shape}")
        n = r.shape[0]
        valid = np.ones(n, bool) if "valid" not in arrays else np.asarray(arrays["valid"]).astype(bool).reshape(-1)
        for key in ("valid", "novel", "p_ore", "p_waste", "p_contaminant", "t2", "q"):
            if key in arrays and np.asarray(arrays[key]).reshape(-1).shape[0] != n:
                raise InvalidSpectrumError(f"segment arrays: '{key}' has {np.asarray(arrays[key]).size} values, "
                                           f"reflectance has {n} spectra")
        from spectra.models.bundle import validity

        if n and not validity_checked:
            valid &= validity(r)[0]
        n_valid = int(valid.sum())
        th = self.thresholds
        lot_params = self.model.lot_detector.params
        self.segments_seen += 1
        nan = float("nan")
        if n_valid < MIN_VALID_SPECTRA:
            return NirSegmentScore(nan, nan, nan, n_valid, False, False, th.waste, th.contaminant, False,
                                   warmup=self.detector.baseline_segments < lot_params.warmup_segments,
                                   novelty_threshold=th.library_novelty,
                                   baseline_segments=self.detector.baseline_segments)
        if features is not None and np.shape(features)[0] != n_valid:
            raise InvalidSpectrumError(f"segment features: expected {n_valid} rows (one per valid spectrum), "
                                       f"got {np.shape(features)[0]}")
        d = self.detector.update(r[valid], features)
        return NirSegmentScore(
            d.t_waste, d.t_contaminant, d.novelty_fraction, n_valid, bool(d.flagged_waste),
            bool(d.flagged_contaminant), th.waste, th.contaminant, scored=bool(not d.warmup or d.library_flag),
            warmup=d.warmup, library_flag=bool(d.library_flag), novelty_threshold=th.library_novelty,
            est_waste_frac=d.est_waste_frac, est_contaminant_frac=d.est_contaminant_frac,
            baseline_segments=d.baseline_segments)
