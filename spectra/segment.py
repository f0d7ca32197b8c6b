"""The segment-level NIR decision: is there waste or a contaminant in this segment?

**Line use: :class:`LotSegmentScorer`** — one per lot, fed each segment's per-spectrum arrays in order; it runs
the lot-adaptive matched-subspace detector of :mod:`spectra.lotdetector` (segment vs the lot's own baseline
along Hapke waste directions) plus the library-only novelty statistic. This is what the line uses.

The legacy per-spectrum-classifier statistic and the score type live in :mod:`spectra.segment_stats`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from spectra.cache import default_model_path
from spectra.errors import GridError, InvalidSpectrumError, ModelError
from spectra.lotdetector import LotDetector
from spectra.models.bundle import SpectraModel, validity
from spectra.models.training import TrainConfig
from spectra.identify.identifier import ID_CLASSES
from spectra.identify.labels import relative_noise
from spectra.identify.unknown_rate import UnknownBaseline, UnknownCheck
from spectra.segment_stats import MIN_VALID_SPECTRA, NirSegmentScore

# --- the line's scorer ----------------------------------------------------------------------------------
_MODEL_CACHE: dict[tuple[str, str], Any] = {}
_CACHE_LOCK = threading.Lock()


def _load_model(metadata: Mapping[str, Any]):
    """The SpectraModel named by NIR stream metadata (``model_path`` + ``model_hash``; cached per process)."""
    want = str(metadata.get("model_hash", ""))
    path = metadata.get("model_path")
    if not path:
        grid = metadata.get("grid")
        if not grid:
            raise ModelError("NIR stream metadata: expected 'model_path' (or 'grid' for the default model), "
                             "got neither")
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
        if model.lot_detector is None or model.lot_detector.thresholds is None:
            raise ModelError(f"model {model.model_version} has no calibrated lot detector; retrain it")
        self.model = model
        self.detector = LotDetector(model.lot_detector)
        self.segments_seen = 0
        self.unknown = UnknownBaseline([])

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> "LotSegmentScorer":
        """Scorer for a new lot from the NIR stream metadata (keys ``model_path``, ``model_hash``, ``grid``,
        ``wavelength_nm``). Raises :class:`ModelError` (missing/mismatched model) or :class:`GridError`."""
        obj = cls(_load_model(metadata))
        obj.unknown = UnknownBaseline(list(metadata.get("id_features", [])))
        return obj

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
        unk = self._unknown(arrays, valid)
        score = NirSegmentScore(
            d.t_waste, d.t_contaminant, d.novelty_fraction, n_valid, bool(d.flagged_waste),
            bool(d.flagged_contaminant), th.waste, th.contaminant, scored=bool(not d.warmup or d.library_flag),
            warmup=d.warmup, library_flag=bool(d.library_flag), novelty_threshold=th.library_novelty,
            est_waste_frac=d.est_waste_frac, est_contaminant_frac=d.est_contaminant_frac,
            baseline_segments=d.baseline_segments, flagged_unknown=unk.flagged if unk else False,
            unknown_fraction=unk.fraction if unk else nan, unknown_baseline=unk.baseline if unk else nan)
        if unk is not None and unk.features:
            object.__setattr__(score, "unknown_features", unk.features)  # not a field: the fields stay numbers
        return score

    def _unknown(self, arrays: Mapping[str, np.ndarray], valid: np.ndarray) -> UnknownCheck | None:
        """The unknown-share check of this segment when the station archived identifications (``id_class``)."""
        if "id_class" not in arrays:
            return None
        cls_ = np.asarray(arrays["id_class"]).reshape(-1)
        if cls_.shape[0] != valid.shape[0]:
            raise InvalidSpectrumError(f"segment arrays: 'id_class' has {cls_.shape[0]} values, "
                                       f"reflectance has {valid.shape[0]} spectra")
        depth = np.asarray(arrays["band_depth"], float)[valid] if "band_depth" in arrays else None
        noise = relative_noise(np.asarray(arrays["reflectance"], float)[valid]) if depth is not None else None
        return self.unknown.update(cls_[valid] == ID_CLASSES.index("unknown"), depth, noise)
