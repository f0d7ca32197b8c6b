"""Product fingerprints: does a lot look like earlier genuine lots of the product it is declared as?

The lot detector (:mod:`spectra.lotdetector`) compares each segment with the lot's own baseline, so a lot that
is waste from its first tonne looks normal to it. Customs see the same declared products (a brand of fines from
one supplier) again and again; their earlier genuine lots are in the archive. A fingerprint holds, for one
(supplier, product), the *signature* of each earlier genuine lot — the mean lot-detector feature vector of its
first ``segments`` segments and their mean reflectance — and checks a new lot's signature against them:

* deviation ``δ = s − μ`` from the mean signature ``μ`` of the earlier lots, with the feature directions a change
  of moisture or grain size moves projected out (:func:`_condition_complement`);
* covariance (lot-to-lot variation of this product): ``(ν·P + Σ δᵢδᵢᵀ)/(ν + n − 1) · (1 + 1/n)`` over the earlier
  lots, with the prior ``P = κ·C_w + ridge`` from their pooled within-segment covariance ``C_w`` (few lots,
  many feature dimensions: as in the lot detector);
* statistic: energy of the whitened deviation explained by a non-negative combination of the Hapke waste and
  contaminant directions around the product's mean reflectance (the lot detector's matched cone);
* limit: the ``1 − false_alarm`` quantile of the same statistic for each earlier lot left out in turn
  (leave-one-lot-out). With ``n`` lots no rate below ``1/(n + 1)`` can be shown: ``false_alarm_bound``.

Measured on simulated products built from held-out library samples (``docs/spectra.md``): a lot that is
(almost) entirely waste is flagged far more often than a 5 % admixture. A flag means "not like this product's
history": the lot must be sampled and assayed; it is not by itself a waste verdict.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, solve_triangular
from scipy.optimize import nnls

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import FingerprintError
from spectra.hapke import reff_from_ssa, scale_grain_size, ssa_from_reff, wet
from spectra.models.bundle import validity
from spectra.segment import model_from_metadata

FINGERPRINT_FORMAT = 2
#: fewest earlier genuine lots a fingerprint is built from
MIN_LOTS = 5
#: fewest valid spectra for a segment to count in a signature
MIN_SEGMENT_SPECTRA = 5


@dataclass(frozen=True)
class LotSignature:
    """What a lot looks like over its first segments: mean projected features (k,), mean reflectance (c,) and
    the pooled within-segment covariance of its spectra's projected features (k, k)."""

    features: np.ndarray
    reflectance: np.ndarray
    segments: int
    spectra: int
    within: np.ndarray


@dataclass(frozen=True)
class FingerprintCheck:
    """One lot against a fingerprint: ``statistic`` > ``threshold`` → ``flagged`` (not like the product)."""

    statistic: float
    threshold: float
    flagged: bool
    false_alarm_bound: float
    lots: int


class SignatureBuilder:
    """Accumulates a lot's signature segment by segment (feed valid spectra in lot order).

    ``features`` (callable): the lot detector's projected features of clipped reflectance; segments with fewer
    than :data:`MIN_SEGMENT_SPECTRA` spectra are skipped; after ``segments`` usable segments it is complete.
    """

    def __init__(self, lot_detector, segments: int = 3) -> None:
        if segments < 1:
            raise FingerprintError(f"signature: expected >= 1 segment, got {segments}")
        self._ld = lot_detector
        self.segments = int(segments)
        self._f: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._scatter: np.ndarray | float = 0.0
        self._n = 0

    @property
    def complete(self) -> bool:
        return len(self._f) >= self.segments

    def add(self, reflectance: np.ndarray, raw_features: np.ndarray | None = None) -> None:
        """Add one segment's valid spectra (n, c); ``raw_features``: their unprojected model features if known."""
        if self.complete:
            return
        r = np.asarray(reflectance, float)
        if r.ndim != 2 or r.shape[0] < MIN_SEGMENT_SPECTRA:
            return
        raw = self._ld.raw_features(np.clip(r, REFLECTANCE_FLOOR, None)) if raw_features is None else raw_features
        f = self._ld.project(np.asarray(raw, float))
        m = f.mean(axis=0)
        self._f.append(m)
        self._r.append(r.mean(axis=0))
        self._scatter = self._scatter + (f - m).T @ (f - m)
        self._n += r.shape[0]

    def signature(self) -> LotSignature:
        """The signature; FingerprintError before :attr:`complete`."""
        if not self.complete:
            raise FingerprintError(f"lot signature needs {self.segments} segments with >= {MIN_SEGMENT_SPECTRA} "
                                   f"valid spectra, got {len(self._f)}")
        within = np.asarray(self._scatter / max(self._n - len(self._f), 1), dtype=float)
        return LotSignature(np.mean(self._f, axis=0), np.mean(self._r, axis=0), len(self._f), self._n, within)


def lot_signature(lot_detector, segments: Iterable[np.ndarray], n_segments: int = 3) -> LotSignature:
    """Signature of a lot from its segments' valid spectra (each (n, c)), in lot order."""
    b = SignatureBuilder(lot_detector, n_segments)
    for s in segments:
        b.add(s)
        if b.complete:
            break
    return b.signature()


@dataclass
class ProductFingerprint:
    """Earlier genuine lots of one (supplier, product) and their leave-one-out limit (see module docstring)."""

    supplier: str
    product: str
    model_hash: str
    grid: str
    features: np.ndarray          # (n_lots, k) signatures
    reflectance: np.ndarray       # (n_lots, c) their mean reflectance
    segments: int
    within: np.ndarray            # (n_lots, k, k) their within-segment covariances
    false_alarm: float = 0.05
    ridge: float = 0.05
    between_to_within: float = 0.16
    prior_weight: float = 10.0
    lot_ids: list[str] = field(default_factory=list)
    loo_statistics: np.ndarray = field(default_factory=lambda: np.zeros(0))
    threshold: float = float("nan")

    @property
    def lots(self) -> int:
        return int(self.features.shape[0])

    @property
    def false_alarm_bound(self) -> float:
        """The smallest false-alarm rate the leave-one-out limit can show with this many lots."""
        return 1.0 / (self.lots + 1)

    # --- statistic ------------------------------------------------------------------------------------
    def _statistic(self, lot_detector, rows: np.ndarray, refl: np.ndarray, within: np.ndarray,
                   x: np.ndarray) -> float:
        n = rows.shape[0]
        mu = rows.mean(axis=0)
        keep = _condition_complement(lot_detector, refl.mean(axis=0))
        dev = (rows - mu) @ keep
        prior = keep @ within.mean(axis=0) @ keep * self.between_to_within
        prior[np.diag_indices_from(prior)] += self.ridge * np.trace(prior) / prior.shape[0] + 1e-12
        cov = (self.prior_weight * prior + dev.T @ dev) / (self.prior_weight + n - 1)
        try:
            chol, _ = cho_factor(cov * (1.0 + 1.0 / n), lower=True, check_finite=False)
        except LinAlgError as exc:
            raise FingerprintError(f"fingerprint {self.product!r}: lot covariance not positive definite ({exc})") \
                from exc
        dw, dc, _ = lot_detector.directions(refl.mean(axis=0))
        white = solve_triangular(chol, keep @ np.column_stack([x - mu, dw, dc]), lower=True, check_finite=False)
        d = white[:, 0]
        _, rn = nnls(white[:, 1:], d, maxiter=50 * (white.shape[1] - 1))
        return max(float(d @ d) - rn * rn, 0.0)

    def calibrate(self, lot_detector) -> "ProductFingerprint":
        """Leave-one-lot-out statistics and the limit at ``false_alarm``; returns self."""
        if self.lots < MIN_LOTS:
            raise FingerprintError(f"fingerprint {self.product!r} ({self.supplier}): expected >= {MIN_LOTS} earlier "
                                   f"genuine lots, got {self.lots}")
        keep = np.ones(self.lots, bool)
        loo = []
        for i in range(self.lots):
            keep[i] = False
            loo.append(self._statistic(lot_detector, self.features[keep], self.reflectance[keep], self.within[keep],
                                       self.features[i]))
            keep[i] = True
        self.loo_statistics = np.asarray(loo)
        self.threshold = float(np.quantile(self.loo_statistics, 1.0 - self.false_alarm, method="higher"))
        return self

    def check(self, model, signature: LotSignature) -> FingerprintCheck:
        """Check a new lot's signature. FingerprintError for another model/grid or an uncalibrated fingerprint."""
        self.check_model(model)
        if not np.isfinite(self.threshold):
            raise FingerprintError(f"fingerprint {self.product!r}: not calibrated")
        if signature.features.shape != (self.features.shape[1],):
            raise FingerprintError(f"fingerprint {self.product!r}: expected a signature of {self.features.shape[1]} "
                                   f"features, got {signature.features.shape}")
        t = self._statistic(model.lot_detector, self.features, self.reflectance, self.within, signature.features)
        return FingerprintCheck(t, self.threshold, bool(t > self.threshold), self.false_alarm_bound, self.lots)

    def check_model(self, model) -> None:
        """FingerprintError unless ``model`` is the model (training hash) and grid this was built with."""
        if model.training_hash != self.model_hash or model.grid.name != self.grid:
            raise FingerprintError(f"fingerprint {self.product!r} was built with model {self.model_hash[:12]} on "
                                   f"grid {self.grid!r}, got {model.training_hash[:12]} on {model.grid.name!r}; "
                                   "rebuild it (oreline fleet fingerprint)")

    # --- persistence --------------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        return {"format": FINGERPRINT_FORMAT, "supplier": self.supplier, "product": self.product,
                "model_hash": self.model_hash, "grid": self.grid, "segments": self.segments,
                "false_alarm": self.false_alarm, "ridge": self.ridge,
                "between_to_within": self.between_to_within, "prior_weight": self.prior_weight, "lot_ids": list(self.lot_ids),
                "threshold": self.threshold}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, header=np.array(json.dumps(self.header())), features=self.features,
                 reflectance=self.reflectance, within=self.within, loo_statistics=self.loo_statistics)
        return path


#: moisture changes (absolute) and grain-size factors lots of one product show (weather, crushing)
MOISTURE_STEPS = np.linspace(-0.06, 0.08, 15)
GRAIN_FACTORS = (0.8, 1.0, 1.25)
#: share of the condition curve's feature variance removed from the signature
CONDITION_VARIANCE = 0.995


def _condition_complement(lot_detector, reflectance: np.ndarray) -> np.ndarray:
    """(k, k) projector onto the features a change of moisture or grain size of ``reflectance`` does NOT move.

    Moisture darkens bulk material strongly and non-linearly at low moisture (between 1 % and 2 % a lot's
    signature moved ~20x as far as between two lots at 5 %), and grain size changes with crushing; neither is
    evidence of waste. The Hapke curve of ``reflectance`` wetted/dried by :data:`MOISTURE_STEPS` at each of
    :data:`GRAIN_FACTORS` lies in a few feature directions; the leading ones (:data:`CONDITION_VARIANCE` of its
    variance, at most 4) are projected out of every deviation and direction.
    """
    w = ssa_from_reff(np.clip(reflectance, REFLECTANCE_FLOOR, None))[None, :]
    probes = [reff_from_ssa(wet(np.repeat(scale_grain_size(w, g), MOISTURE_STEPS.size, axis=0), MOISTURE_STEPS,
                                lot_detector.alpha_water)) for g in GRAIN_FACTORS]
    f = lot_detector.features(np.clip(np.vstack(probes), REFLECTANCE_FLOOR, None))
    _, sv, vt = np.linalg.svd(f - f.mean(axis=0), full_matrices=False)
    share = np.cumsum(sv ** 2) / max(float(np.sum(sv ** 2)), 1e-30)
    r = min(int(np.searchsorted(share, CONDITION_VARIANCE)) + 1, 4)
    u = vt[:r]
    return np.eye(f.shape[1]) - u.T @ u


def build_fingerprint(model, supplier: str, product: str, signatures: list[LotSignature], *,
                      lot_ids: list[str] | None = None, false_alarm: float = 0.05) -> ProductFingerprint:
    """Fingerprint of (``supplier``, ``product``) from earlier genuine lots' signatures, calibrated.

    Raises FingerprintError with fewer than :data:`MIN_LOTS` lots or signatures of different lengths."""
    if model.lot_detector is None:
        raise FingerprintError(f"model {model.model_version} has no lot detector")
    if not 0.0 < false_alarm < 1.0:
        raise FingerprintError(f"false_alarm: expected a rate in (0, 1), got {false_alarm}")
    if len(signatures) < MIN_LOTS:
        raise FingerprintError(f"fingerprint {product!r} ({supplier}): expected >= {MIN_LOTS} earlier genuine lots, "
                               f"got {len(signatures)}")
    shapes = {s.features.shape for s in signatures}
    if len(shapes) > 1:
        raise FingerprintError(f"fingerprint {product!r}: signatures of different lengths {sorted(shapes)}")
    segments = {s.segments for s in signatures}
    fp = ProductFingerprint(supplier, product, model.training_hash, model.grid.name,
                            np.array([s.features for s in signatures]), np.array([s.reflectance for s in signatures]),
                            max(segments), np.array([s.within for s in signatures]),
                            false_alarm=false_alarm, lot_ids=list(lot_ids or []))
    return fp.calibrate(model.lot_detector)


def load_fingerprint(path: str | Path) -> ProductFingerprint:
    """Read a fingerprint file; FingerprintError when it is missing, corrupt or of another format."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            h = json.loads(str(z["header"]))
            arrays = {k: np.asarray(z[k], float) for k in ("features", "reflectance", "within", "loo_statistics")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise FingerprintError(f"{path}: not a readable fingerprint ({type(exc).__name__}: {exc})") from exc
    if h.get("format") != FINGERPRINT_FORMAT:
        raise FingerprintError(f"{path}: expected fingerprint format {FINGERPRINT_FORMAT}, got {h.get('format')!r}")
    try:
        return ProductFingerprint(
            supplier=h["supplier"], product=h["product"], model_hash=h["model_hash"], grid=h["grid"],
            features=arrays["features"], reflectance=arrays["reflectance"], segments=int(h["segments"]),
            within=arrays["within"], false_alarm=float(h["false_alarm"]), ridge=float(h["ridge"]),
            between_to_within=float(h["between_to_within"]), prior_weight=float(h["prior_weight"]),
            lot_ids=list(h.get("lot_ids", [])), loo_statistics=arrays["loo_statistics"],
            threshold=float(h["threshold"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise FingerprintError(f"{path}: fingerprint header incomplete ({type(exc).__name__}: {exc})") from exc


def fingerprint_key(supplier: str, product: str) -> str:
    """File-name-safe key of (supplier, product)."""
    def clean(s: str) -> str:
        return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in (s or "none").strip()) or "none"
    return f"{clean(supplier)}__{clean(product)}"


def load_fingerprints(folder: str | Path) -> dict[tuple[str, str], ProductFingerprint]:
    """Every ``*.npz`` fingerprint of ``folder`` by (supplier, product); FingerprintError for a bad file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FingerprintError(f"{folder}: expected a folder of fingerprints")
    out = {}
    for p in sorted(folder.glob("*.npz")):
        fp = load_fingerprint(p)
        out[(fp.supplier, fp.product)] = fp
    return out


class LiveFingerprintCheck:
    """The line's check of ONE lot against its product's fingerprint: feed each segment's NIR arrays in order.

    :meth:`add` returns the :class:`FingerprintCheck` once, when the signature is complete (after the
    fingerprint's ``segments`` usable segments), and None before and after.
    """

    def __init__(self, model, fingerprint: ProductFingerprint) -> None:
        fingerprint.check_model(model)
        self.model, self.fingerprint = model, fingerprint
        self.builder = SignatureBuilder(model.lot_detector, fingerprint.segments)
        self.result: FingerprintCheck | None = None

    def add(self, arrays) -> FingerprintCheck | None:
        """One segment's arrays: ``reflectance`` (n, c) and optionally ``valid`` (n,)."""
        if self.result is not None:
            return None
        r = np.asarray(arrays["reflectance"], float)
        if r.ndim != 2 or r.shape[1] != self.model.grid.n_channels:
            raise FingerprintError(f"segment reflectance: expected (n, {self.model.grid.n_channels}), got {r.shape}")
        valid = np.ones(len(r), bool) if "valid" not in arrays else np.asarray(arrays["valid"], bool).reshape(-1)
        if len(r):
            valid &= validity(r)[0]
        self.builder.add(r[valid])
        if not self.builder.complete:
            return None
        self.result = self.fingerprint.check(self.model, self.builder.signature())
        return self.result


#: ``(supplier, product, nir_metadata) -> LiveFingerprintCheck | None``: the line's product checks
ProductCheckFactory = Callable[[str, str, Mapping[str, Any]], LiveFingerprintCheck | None]


def live_checks(folder: str | Path, model_for: Callable[[Mapping[str, Any]], Any] | None = None
                ) -> ProductCheckFactory:
    """Factory for the line: ``(supplier, product, nir_metadata) -> LiveFingerprintCheck | None`` (None: this
    product has no fingerprint). Fingerprints are read once, here; ``model_for(metadata)`` gives the NIR model
    of the stream (default: :func:`spectra.segment.model_from_metadata`). FingerprintError for a bad folder."""
    prints = load_fingerprints(folder)
    model_of = model_for or model_from_metadata

    def make(supplier: str, product: str, metadata: Mapping[str, Any]) -> LiveFingerprintCheck | None:
        fp = prints.get((supplier, product))
        return None if fp is None else LiveFingerprintCheck(model_of(metadata), fp)

    return make
