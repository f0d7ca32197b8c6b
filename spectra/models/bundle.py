"""The trained NIR model: preprocessing + classifier + novelty + unmixing + segment calibration.

Saved as one ``.npz`` (no pickle): numeric arrays plus a JSON header with the format version, model
version, training-data hash, wavelength grid, class and mineral names, limits and calibration. Loading
onto a different grid raises :class:`GridError`; a corrupt or foreign file raises :class:`ModelError`.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline

from spectra.constants import REFLECTANCE_FLOOR, REFLECTANCE_RANGE
from spectra.errors import GridError, InvalidSpectrumError, ModelError
from spectra.grid import InstrumentGrid
from spectra.lotdetector import LotDetectorModel
from spectra.models.classifier import CalibratedLinearClassifier
from spectra.models.novelty import PcaNovelty
from spectra.models.unmixing import MineralUnmixer
from spectra.preprocessing import Absorbance, SavitzkyGolay, StandardNormalVariate
from spectra.preprocessing.kernel import features as preprocess
from spectra.segment_stats import SegmentCalibration

FORMAT_VERSION = 2
CLASSES = ("ore", "waste", "contaminant")


@dataclass(frozen=True)
class Preprocessing:
    """Feature settings of the model: log10(1/R) → SNV → Savitzky–Golay derivative.

    :meth:`features` (the line, training, the lot detector, the fleet) and :meth:`sklearn_pipeline` (the
    transformers) run the same kernel, :mod:`spectra.preprocessing.kernel`."""

    floor: float = REFLECTANCE_FLOOR
    window_length: int = 11
    polyorder: int = 2
    deriv: int = 1

    def features(self, reflectance: np.ndarray) -> np.ndarray:
        """Features (n, c) of reflectance (n, c); rows with NaN give NaN rows (the model marks them invalid first)."""
        return preprocess(reflectance, self.floor, self.window_length, self.polyorder, self.deriv)

    def sklearn_pipeline(self) -> Pipeline:
        """The same features as a scikit-learn pipeline of :mod:`spectra.preprocessing` transformers."""
        return make_pipeline(Absorbance(self.floor), StandardNormalVariate(),
                             SavitzkyGolay(self.window_length, self.polyorder, self.deriv, mode="nearest"))


def validity(reflectance: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Per-spectrum validity (n,) bool and a reason for each invalid row (finite, not all zero, in range)."""
    r = np.asarray(reflectance, float)
    finite = np.all(np.isfinite(r), axis=1)
    rr = np.where(np.isfinite(r), r, 0.0)
    zero = np.all(np.abs(rr) < 1e-9, axis=1)
    lo, hi = REFLECTANCE_RANGE
    out_of_range = np.any((rr < lo) | (rr > hi), axis=1)
    flat = np.ptp(rr, axis=1) < 1e-9
    ok = finite & ~zero & ~out_of_range & ~flat
    reasons = [""] * r.shape[0]
    for i in np.nonzero(~ok)[0]:
        reasons[i] = ("NaN/inf values" if not finite[i] else "all-zero spectrum" if zero[i] else
                      f"reflectance outside {lo}..{hi}" if out_of_range[i] else "flat (constant) spectrum")
    return ok, reasons


@dataclass
class ScoreBatch:
    """Scores of n spectra: p (n, 3) in CLASSES order, t2/q/residual (n,), novel/valid (n,), abundances (n, k)."""

    p: np.ndarray
    t2: np.ndarray
    q: np.ndarray
    novel: np.ndarray
    abundances: np.ndarray
    unmix_residual: np.ndarray
    valid: np.ndarray
    reasons: list[str]

    @property
    def p_ore(self) -> np.ndarray:
        return self.p[:, 0]

    @property
    def p_waste(self) -> np.ndarray:
        return self.p[:, 1]

    @property
    def p_contaminant(self) -> np.ndarray:
        return self.p[:, 2]


class SpectraModel:
    """All NIR models on one grid. Use :meth:`score` on reflectance (n, n_channels)."""

    def __init__(self, grid: InstrumentGrid, preprocessing: Preprocessing, classifier: CalibratedLinearClassifier,
                 novelty: PcaNovelty, unmixer: MineralUnmixer, calibration: SegmentCalibration,
                 model_version: str, training_hash: str, info: dict[str, Any] | None = None,
                 lot_detector: LotDetectorModel | None = None) -> None:
        self.grid = grid
        self.preprocessing = preprocessing
        self.classifier = classifier
        self.novelty = novelty
        self.unmixer = unmixer
        self.calibration = calibration
        self.model_version = model_version
        self.training_hash = training_hash
        self.info = dict(info or {})
        self.lot_detector = lot_detector

    @property
    def classes(self) -> tuple[str, ...]:
        return self.classifier.classes

    @property
    def minerals(self) -> list[str]:
        return self.unmixer.minerals

    def check_input(self, reflectance: np.ndarray) -> np.ndarray:
        """(n, n_channels) float64 or GridError for the wrong number of channels / dimensions."""
        r = np.asarray(reflectance, dtype=float)
        if r.ndim == 1:
            r = r[None, :]
        if r.ndim != 2 or r.shape[1] != self.grid.n_channels:
            raise GridError(f"model on grid {self.grid.name!r} expects (n, {self.grid.n_channels}) reflectance, "
                            f"got shape {np.shape(reflectance)}")
        return r

    def score(self, reflectance: np.ndarray, *, unmix: bool = True) -> ScoreBatch:
        """Score spectra; invalid rows (NaN/inf, all zero, out of range) get NaN scores and ``valid`` False."""
        r = self.check_input(reflectance)
        n = r.shape[0]
        valid, reasons = validity(r)
        k = len(self.minerals)
        p = np.full((n, len(self.classes)), np.nan)
        t2 = np.full(n, np.nan)
        q = np.full(n, np.nan)
        ab = np.full((n, k), np.nan)
        res = np.full(n, np.nan)
        if valid.any():
            rv = r[valid]
            x = self.preprocessing.features(rv)
            p[valid] = self.classifier.predict_proba(x)
            t2[valid], q[valid] = self.novelty.score(x)
            if unmix:
                ab[valid], res[valid] = self.unmixer.unmix(rv)
        novel = np.zeros(n, bool)
        novel[valid] = self.novelty.novel(t2[valid], q[valid])
        return ScoreBatch(p, t2, q, novel, ab, res, valid, reasons)

    def score_one(self, reflectance: np.ndarray) -> ScoreBatch:
        """Score a single spectrum (n_channels,); raises InvalidSpectrumError when it is not valid."""
        b = self.score(np.asarray(reflectance, float)[None, :] if np.ndim(reflectance) == 1 else reflectance)
        if not b.valid[0]:
            raise InvalidSpectrumError(f"spectrum not scorable: {b.reasons[0]}")
        return b

    # --- persistence ------------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "model_version": self.model_version,
            "training_hash": self.training_hash,
            "grid": self.grid.to_dict(),
            "classes": list(self.classes),
            "minerals": self.minerals,
            "preprocessing": vars(self.preprocessing),
            "calibration": self.calibration.to_dict(),
            "info": self.info,
            "lot_detector": self.lot_detector.header() if self.lot_detector is not None else None,
        }

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` (.npz); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {**self.classifier.to_arrays("clf_"), **self.novelty.to_arrays("nov_"),
                  **self.unmixer.to_arrays("unmix_")}
        if self.lot_detector is not None:
            arrays.update(self.lot_detector.to_arrays("lot_"))
        arrays["header_json"] = np.array(json.dumps(self.header()))
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")  # one per process: concurrent fits
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, grid: InstrumentGrid | None = None) -> "SpectraModel":
        """Read a model; with ``grid`` it must be that grid (GridError otherwise). ModelError if corrupt."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ModelError(f"{path}: not a readable model file ({exc})") from exc
        try:
            head = json.loads(str(arrays["header_json"]))
        except (KeyError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: model header missing or corrupt ({exc})") from exc
        if head.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{path}: expected model format version {FORMAT_VERSION}, got {head.get('format_version')!r}")
        try:
            model_grid = InstrumentGrid.from_dict(head["grid"])
            classes = tuple(head["classes"])
            model = cls(model_grid, Preprocessing(**head["preprocessing"]),
                        CalibratedLinearClassifier.from_arrays(classes, arrays, "clf_"),
                        PcaNovelty.from_arrays(arrays, "nov_"),
                        MineralUnmixer.from_arrays(list(head["minerals"]), arrays, "unmix_"),
                        SegmentCalibration.from_dict(head["calibration"]), str(head["model_version"]),
                        str(head["training_hash"]), head.get("info", {}))
            if head.get("lot_detector"):
                nov = model.novelty
                model.lot_detector = LotDetectorModel.from_arrays(
                    model_grid.wavelength_nm, model.preprocessing.features, lambda f: nov.novel(*nov.score(f)),
                    arrays, "lot_", head["lot_detector"], moisture=model.unmixer.moisture)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, (GridError, ModelError)):
                raise
            raise ModelError(f"{path}: model content incomplete or inconsistent ({exc})") from exc
        n_feat = model.classifier.mean_.size
        if n_feat != model_grid.n_channels or model.novelty.mean_.size != n_feat \
                or model.unmixer.endmembers.shape[1] != n_feat:
            raise ModelError(f"{path}: arrays do not match the {model_grid.n_channels}-channel grid")
        if grid is not None:
            model_grid.check_same(grid, what=f"model {path.name}")
        return model
