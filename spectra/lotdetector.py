"""Lot-adaptive segment detector: each segment against the lot's own running baseline, along Hapke directions.

Within one lot (one ship hold) the ore blend varies little, so a small admixture shows as a *change* of the
segment-mean spectrum against the lot's own recent clean segments, in a direction the physics predicts.

Per segment (features f = log10(1/R) → SNV → Savitzky–Golay first derivative, as the per-spectrum model):

* Features are projected on a fixed basis (the leading principal components of the training spectra's
  features, ``basis``): it keeps the spectral shapes ore, waste and contaminants have and drops noise-only
  channel combinations (detector edges, saturated water bands), and makes the per-segment algebra small.
* ``m`` = mean projected feature vector of the segment's valid spectra, ``r̄`` = their mean reflectance.
* Baseline = mean ``μ`` of the last ``window_segments`` accepted (clean) segments' ``m`` (and of their mean
  reflectance).
* Deviation ``δ = m − μ``. Its null covariance, built from the lot itself:
  ``Σ = (ν·P + Σᵢ δᵢδᵢᵀ/cᵢ) / (ν + k) · c + S/n`` with the prior
  ``P = κ·C_w + ridge + g gᵀ + h hᵀ`` where
  ``C_w`` is the lot's own pooled within-segment covariance of spectra (local heterogeneity of THIS blend:
  its components, grain and moisture, plus viewing and detector noise), ``κ`` the ratio of between-segment to
  within-segment blend variation, ``S/n`` the sampling covariance of this segment's own mean (its spectra's
  covariance S over n), ``g``/``h`` the Hapke directions of a grain-size (σ ``grain_sigma``) and a
  moisture (σ ``moisture_sigma``) change of the baseline, ``δᵢ`` the deviations of the last
  ``scatter_window`` accepted segments (``k`` of them; a Bayesian inverse-Wishart update with weight ``ν``)
  and ``c = 1 + 1/n_baseline``. The window keeps a long lot like the calibration lots: with all of a lot's
  deviations the estimate drifted away from what the limits were calibrated on.
* Matched subspace (Hapke): for each waste (resp. contaminant) endmember of the training library, the
  direction ``dₑ`` in which ``m`` moves when ``probe_mass_frac`` of it is admixed into the baseline
  (cross-section-weighted albedo mixing), per unit mass fraction. With ``wet_probes`` a *waste* endmember is
  admixed as the lot holds it: wetted (:func:`spectra.hapke.wet`, pore water of mineral fines) at the lot's own
  moisture, estimated from the baseline's mean reflectance by the model's moisture calibration (``moisture``).
  Waste fines on a wet belt are wet too; a dry endmember's direction claims the admixture brightens the lot
  where water absorbs (1.4–2.4 µm), which a wet admixture does not. Contaminant probes stay dry: plastic, wood
  and fabric pieces do not hold water as the ore's pores do (a film, or pore water against their own solid,
  :mod:`spectra.identify.wetting`), and the fines' pore-water model wetting them raised false alarms
  (round w21k, docs/spectra.md). Statistic = energy of the whitened deviation
  explained by a NON-NEGATIVE combination of those directions (one-sided GLRT on a cone, NNLS):
  ``T = ‖L⁻¹δ‖² − min_{a≥0} ‖L⁻¹δ − L⁻¹D a‖²``; ``Σa`` estimates the admixed mass fraction.
* A segment is flagged when ``T`` exceeds the threshold calibrated on simulated training-sample lots; it
  joins the baseline only when both statistics are below the ``accept_quantile`` of the null (so an
  admixture is not learnt as normal). The baseline is short (4 segments) and accepts all but the top 0.5 % of
  the null: within a lot the blend drifts (AR(1), lag-one correlation 0.8), and a long baseline that refused
  10 % of clean segments fell behind the drift in long lots, refused more and more segments and raised false
  alarms in runs (2.8 % of segments in 70-segment lots, 4.8 % in their second half; now 0.4 %).

Library-only statistic (no baseline needed): the share of the segment's spectra outside the ore population of
the training library (PCA T²/Q novelty of the per-spectrum model). It flags bulk non-ore material such as a
whole cargo of slag from the first tonne (the lot baseline would otherwise learn it as normal), with a high,
conservative threshold — the largest of ``library_min_fraction``, the ``1 − library_false_alarm`` quantile on
training lots and the same quantile for ore the novelty model has not seen (group cross-validation in
:func:`spectra.models.training.unseen_ore_novelty`) — and reports it as waste. With the USGS library unseen ore
can be 100 % novel, so that limit is 1.0 and the flag does not fire: the NIR cannot recognise whole-lot waste.
(Non-negative unmixing of the segment on library waste
endmembers was tried and rejected: synthetic hematite pigments and maghemite in the waste class make ore look
like 90 % "waste".) During warm-up (fewer than ``warmup_segments`` baseline segments) it is the only
statistic: an unflagged warm-up segment is reported *not scored* (the caller treats it as uninspected by NIR).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, solve_triangular
from scipy.optimize import nnls
from threadpoolctl import ThreadpoolController

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import ModelError
from spectra.hapke import (reff_from_ssa, scale_grain_size, ssa_from_reff,
                           water_absorption_per_cm, wet)


#: The wet probes' moisture is capped here: beyond it the line's fines would be past pore saturation (12.7 %), a
#: slurry, and a moisture estimate that high is an estimate off its calibration (0–15 %), not a lot.
MAX_PROBE_MOISTURE_FRAC = 0.15


@dataclass(frozen=True)
class LotDetectorParams:
    """Tuning of the lot detector (see module docstring). Fractions are mass fractions."""

    warmup_segments: int = 2
    window_segments: int = 4
    #: the covariance update uses the lot's last this many accepted deviations (0 = all of them)
    scatter_window: int = 14
    between_to_within: float = 0.16
    prior_weight: float = 10.0
    ridge: float = 0.05
    grain_sigma: float = 0.05
    moisture_sigma: float = 0.005
    probe_mass_frac: float = 0.05
    bulk_density_g_cm3: float = 4.6
    bulk_grain_um: float = 150.0
    accept_quantile: float = 0.995
    false_alarm: float = 0.01
    #: the waste/contaminant limits are this one-sided confidence bound of their quantile (bootstrap over the
    #: calibration lots), not the point quantile, which rests on a few exceedances clustered in a few lots and
    #: gave 1.2 % false alarms instead of <= 1 % in the shipped nir-2.4 (round w21l); 0 = the point quantile
    #: (models fitted before w21l)
    limit_confidence: float = 0.9
    library_false_alarm: float = 0.002
    library_min_fraction: float = 0.60
    #: sampling covariance of the segment mean from the segment's own spectra (robust to odd spectra, but a
    #: lumpy admixture inflates it) or from the baseline's (True / False)
    own_sampling_covariance: bool = True
    #: admixture directions of waste endmembers wetted at the lot's estimated moisture (needs the model's
    #: ``moisture``) instead of dry ones; models fitted before w21k lack the key and load with False
    wet_probes: bool = True


@dataclass(frozen=True)
class LotThresholds:
    """Calibrated limits: lot statistics (flag and baseline acceptance) and library-only waste/contaminant shares."""

    waste: float
    contaminant: float
    accept_waste: float
    accept_contaminant: float
    library_novelty: float
    calibration_lots: int = 0
    calibration_segments: int = 0
    spectra_per_segment: int = 0
    check_false_alarm: float = float("nan")
    check_segments: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LotThresholds":
        kw: dict[str, Any] = {k: (int(v) if k in ("calibration_lots", "calibration_segments", "spectra_per_segment",
                                                  "check_segments") else float(v)) for k, v in d.items()}
        return cls(**kw)


@dataclass
class Endmembers:
    """Library endmembers: albedo (k, c), density g/cm³ (k,), grain µm (k,), names (k)."""

    ssa: np.ndarray
    density_g_cm3: np.ndarray
    grain_um: np.ndarray
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.ssa.shape[0])


class LotDetectorModel:
    """The lot detector's fixed part: endmembers, parameters, thresholds, feature function.

    ``features`` maps reflectance (n, c) to features (n, c) (the model's :class:`Preprocessing`); ``novel`` maps
    features (n, c) to the per-spectrum novelty flags (n,) bool (the model's PCA T²/Q novelty); ``moisture`` maps
    reflectance (n, c) to moisture mass fractions (n,) (the model's unmixer calibration), needed with
    ``params.wet_probes``.
    """

    def __init__(self, wavelength_nm: np.ndarray, features, novel, waste: Endmembers, contaminant: Endmembers,
                 ore: Endmembers, params: LotDetectorParams | None = None,
                 thresholds: LotThresholds | None = None, basis: np.ndarray | None = None,
                 moisture=None) -> None:
        self.wavelength_nm = np.asarray(wavelength_nm, float)
        self.raw_features = features
        self.basis = None if basis is None else np.asarray(basis, float)
        if self.basis is not None and (self.basis.ndim != 2 or self.basis.shape[1] != self.wavelength_nm.size):
            raise ModelError(f"lot detector: expected a (k, {self.wavelength_nm.size}) feature basis, "
                             f"got {self.basis.shape}")
        self.novel = novel
        self.waste, self.contaminant, self.ore = waste, contaminant, ore
        self.params = params or LotDetectorParams()
        self.thresholds = thresholds
        self.moisture = moisture
        if self.params.wet_probes and moisture is None:
            raise ModelError("lot detector: wet_probes needs the model's moisture calibration (moisture=...)")
        self.alpha_water = water_absorption_per_cm(self.wavelength_nm)
        c = self.wavelength_nm.size
        for name, e in (("waste", waste), ("contaminant", contaminant), ("ore", ore)):
            if e.ssa.ndim != 2 or e.ssa.shape[1] != c or len(e) == 0:
                raise ModelError(f"lot detector: expected {name} endmembers (k >= 1, {c}), got {e.ssa.shape}")

    def features(self, reflectance: np.ndarray) -> np.ndarray:
        """Projected features (n, k) of reflectance (n, c)."""
        f = self.raw_features(reflectance)
        return f if self.basis is None else f @ self.basis.T

    def project(self, raw: np.ndarray) -> np.ndarray:
        return raw if self.basis is None else raw @ self.basis.T

    # --- physics ------------------------------------------------------------------------------------
    def lot_moisture_frac(self, rbar: np.ndarray) -> float:
        """Moisture mass fraction of the lot at mean reflectance ``rbar`` (c,), for the wet probes (0 without them)."""
        if not self.params.wet_probes:
            return 0.0
        rb = np.clip(np.asarray(rbar, float), REFLECTANCE_FLOOR, None)
        return float(np.clip(self.moisture(rb[None, :])[0], 0.0, MAX_PROBE_MOISTURE_FRAC))

    def probe_ssa(self, which: Endmembers, moisture_frac: float) -> np.ndarray:
        """(k, c) albedo of the endmembers as admixed into a lot at ``moisture_frac``: waste wetted like the lot's
        ore fines, contaminants dry (see the module docstring)."""
        if moisture_frac > 0.0 and which is self.waste:
            return wet(which.ssa, moisture_frac, self.alpha_water)
        return which.ssa

    def admix_directions(self, rbar: np.ndarray, which: Endmembers) -> np.ndarray:
        """(c, k) change of the feature vector per unit mass fraction of each endmember admixed into ``rbar``."""
        p = self.params
        f0 = p.probe_mass_frac
        wb = ssa_from_reff(np.clip(rbar, REFLECTANCE_FLOOR, None))
        a = f0 / (which.density_g_cm3 * which.grain_um)
        b = (1.0 - f0) / (p.bulk_density_g_cm3 * p.bulk_grain_um)
        x = (a / (a + b))[:, None]
        w = (1.0 - x) * wb[None, :] + x * self.probe_ssa(which, self.lot_moisture_frac(rbar))
        fb = self.features(np.clip(rbar, REFLECTANCE_FLOOR, None)[None, :])[0]
        return ((self.features(reff_from_ssa(w)) - fb) / f0).T

    def condition_directions(self, rbar: np.ndarray) -> np.ndarray:
        """(c, 2) feature change for one σ of grain size and of moisture around ``rbar`` (Hapke)."""
        p = self.params
        wb = ssa_from_reff(np.clip(rbar, REFLECTANCE_FLOOR, None))[None, :]
        rows = np.vstack([reff_from_ssa(scale_grain_size(wb, 1.0 + p.grain_sigma))[0],
                          reff_from_ssa(wet(wb, p.moisture_sigma, self.alpha_water))[0]])
        fb = self.features(np.clip(rbar, REFLECTANCE_FLOOR, None)[None, :])[0]
        return (self.features(rows) - fb).T

    def directions(self, rbar: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Waste (c, k_w), contaminant (c, k_c) and condition (c, 2) directions around ``rbar`` (c,).

        The same values as :meth:`admix_directions` (per group) and :meth:`condition_directions`, from ONE
        feature evaluation of all probe spectra (features are per row, so stacking them changes nothing).
        """
        p = self.params
        f0 = p.probe_mass_frac
        rb = np.clip(np.asarray(rbar, float), REFLECTANCE_FLOOR, None)
        wb = ssa_from_reff(rb)
        b = (1.0 - f0) / (p.bulk_density_g_cm3 * p.bulk_grain_um)
        moisture_frac = self.lot_moisture_frac(rb)
        mixes = []
        for which in (self.waste, self.contaminant):
            a = f0 / (which.density_g_cm3 * which.grain_um)
            x = (a / (a + b))[:, None]
            mixes.append(reff_from_ssa((1.0 - x) * wb[None, :] + x * self.probe_ssa(which, moisture_frac)))
        conditions = [reff_from_ssa(scale_grain_size(wb[None, :], 1.0 + p.grain_sigma))[0],
                      reff_from_ssa(wet(wb[None, :], p.moisture_sigma, self.alpha_water))[0]]
        f = self.features(np.vstack([rb[None, :], *mixes, *conditions]))
        fb, kw, kc = f[0], len(self.waste), len(self.contaminant)
        return (((f[1:1 + kw] - fb) / f0).T, ((f[1 + kw:1 + kw + kc] - fb) / f0).T,
                (f[1 + kw + kc:] - fb).T)

    # --- persistence --------------------------------------------------------------------------------
    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {}
        for name in ("waste", "contaminant", "ore"):
            e: Endmembers = getattr(self, name)
            out[f"{prefix}{name}_ssa"] = e.ssa
            out[f"{prefix}{name}_density"] = e.density_g_cm3
            out[f"{prefix}{name}_grain"] = e.grain_um
        if self.basis is not None:
            out[f"{prefix}basis"] = self.basis
        return out

    def header(self) -> dict[str, Any]:
        return {"params": asdict(self.params),
                "thresholds": self.thresholds.to_dict() if self.thresholds else None,
                "names": {n: getattr(self, n).names for n in ("waste", "contaminant", "ore")}}

    @classmethod
    def from_arrays(cls, wavelength_nm: np.ndarray, features, novel, arrays, prefix: str,
                    header: dict, moisture=None) -> "LotDetectorModel":
        ends = {}
        for name in ("waste", "contaminant", "ore"):
            ends[name] = Endmembers(np.asarray(arrays[f"{prefix}{name}_ssa"], float),
                                    np.asarray(arrays[f"{prefix}{name}_density"], float),
                                    np.asarray(arrays[f"{prefix}{name}_grain"], float),
                                    list(header.get("names", {}).get(name, [])))
        th = header.get("thresholds")
        # a model fitted before the wet probes was calibrated with dry ones
        params = LotDetectorParams(**{"wet_probes": False, "limit_confidence": 0.0, **header["params"]})
        return cls(wavelength_nm, features, novel, ends["waste"], ends["contaminant"], ends["ore"],
                   params, LotThresholds.from_dict(th) if th else None,
                   np.asarray(arrays[f"{prefix}basis"], float) if f"{prefix}basis" in arrays else None,
                   moisture=moisture)


@dataclass(frozen=True)
class LotDecision:
    """The detector's view of one segment.

    ``t_waste``/``t_contaminant``: lot GLRT statistics (NaN in warm-up); ``est_waste_frac``/``est_contaminant_frac``:
    mass fractions of the NNLS fit (NaN in warm-up); ``novelty_fraction``: share of novel spectra (library-only
    statistic; ``library_flag`` when above its limit, counted as waste); ``baseline_segments``: segments in the
    baseline window; ``warmup``: no lot baseline yet;
    ``accepted``: the segment joined the baseline.
    """

    t_waste: float
    t_contaminant: float
    est_waste_frac: float
    est_contaminant_frac: float
    novelty_fraction: float
    flagged_waste: bool
    flagged_contaminant: bool
    library_flag: bool
    baseline_segments: int
    warmup: bool
    accepted: bool


_BLAS: ThreadpoolController | None = None
_BLAS_LOCK = threading.Lock()


def _single_thread_blas():
    """Context manager: BLAS (numpy's and scipy's OpenBLAS) on one thread while it is open.

    One segment's algebra is a few (120 x 256) @ (256 x 40) products and (40 x 40) solves. With threaded BLAS
    each call wakes a thread pool, and numpy and scipy each ship their own OpenBLAS: their spinning pools fight
    for the cores and turn a 1 ms segment into ~70 ms on a 2-core host. The limit is process-wide while open
    (as ``threadpoolctl.threadpool_limits``); the controller is built once, on first use, so every BLAS
    library loaded by then is covered.
    """
    global _BLAS
    with _BLAS_LOCK:
        if _BLAS is None:
            _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


@dataclass(frozen=True)
class _Baseline:
    """What one scoring step needs from the baseline window; it changes only when a segment is accepted.

    ``mu`` (k,) baseline mean features, ``cw_lot`` (k, k) pooled within-segment covariance, ``sigma0`` (k, k)
    the null covariance without the segment's own sampling term, ``directions`` (k, k_w + k_c) waste then
    contaminant admixture directions, ``n_waste`` = k_w, ``c`` = 1 + 1/n_baseline.
    """

    mu: np.ndarray
    cw_lot: np.ndarray
    sigma0: np.ndarray
    directions: np.ndarray
    n_waste: int
    c: float


class LotDetector:
    """Stateful detector for ONE lot. Call :meth:`update` once per segment, in order through the lot.

    Without thresholds (calibration runs) nothing is flagged and every segment is accepted. Everything that
    depends only on the baseline window (its mean, prior covariance and the Hapke directions around its mean
    reflectance) is computed once per accepted segment, not once per scored segment.
    """

    def __init__(self, model: LotDetectorModel) -> None:
        self.model = model
        self._m: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._cw: list[np.ndarray] = []
        self._dof: list[int] = []
        self._scatter: np.ndarray | float = 0.0
        self._k = 0
        self._deviations: list[np.ndarray] = []
        self._baseline: _Baseline | None = None
        self._baseline_params: LotDetectorParams | None = None

    @property
    def baseline_segments(self) -> int:
        return min(len(self._m), self.model.params.window_segments)

    def _baseline_state(self) -> _Baseline:
        """The cached :class:`_Baseline` (rebuilt after an accepted segment or a change of parameters)."""
        model, p = self.model, self.model.params
        if self._baseline is not None and self._baseline_params is p:
            return self._baseline
        w, nb = p.window_segments, self.baseline_segments
        mu = np.mean(self._m[-w:], axis=0)
        rb = np.mean(self._r[-w:], axis=0)
        cw_lot = np.sum(self._cw[-w:], axis=0) / max(sum(self._dof[-w:]), 1)
        c = 1.0 + 1.0 / nb
        prior = cw_lot * p.between_to_within
        prior[np.diag_indices_from(prior)] += p.ridge * np.trace(prior) / prior.shape[0] + 1e-12
        dw, dc, g = model.directions(rb)
        prior += g @ g.T
        sigma0 = (p.prior_weight * prior + self._scatter) / (p.prior_weight + self._k) * c
        self._baseline = _Baseline(mu, cw_lot, sigma0, np.hstack([dw, dc]), dw.shape[1], c)
        self._baseline_params = p
        return self._baseline

    def update(self, reflectance: np.ndarray, features: np.ndarray | None = None) -> LotDecision:
        """Score one segment from its valid spectra (n, c) reflectance (n >= 2) and update the baseline.

        ``features``: the model's features of exactly these spectra, ``raw_features(clip(reflectance, REFLECTANCE_FLOOR))``
        (n, c), when the caller has computed them already (batch re-scoring); ModelError if the shape differs.
        BLAS runs single-threaded during the call (see :func:`_single_thread_blas`)."""
        with _single_thread_blas():
            return self._update(reflectance, features)

    def _update(self, reflectance: np.ndarray, features: np.ndarray | None) -> LotDecision:
        model, p, th = self.model, self.model.params, self.model.thresholds
        r = np.asarray(reflectance, float)
        if features is None:
            raw = model.raw_features(np.clip(r, REFLECTANCE_FLOOR, None))
        else:
            raw = np.asarray(features, float)
            if raw.shape != r.shape:
                raise ModelError(f"lot detector: expected features of shape {r.shape} (one row per spectrum), "
                                 f"got {raw.shape}")
        feats = model.project(raw)
        n = feats.shape[0]
        m = feats.mean(axis=0)
        rbar = r.mean(axis=0)
        dev = feats - m
        cw = dev.T @ dev
        nov = float(np.mean(model.novel(raw)))
        lflag = th is not None and nov > th.library_novelty
        nb = self.baseline_segments
        nan = float("nan")
        if len(self._m) < p.warmup_segments:
            accepted = not lflag
            if accepted:
                self._accept(m, rbar, cw, n - 1, None, 1.0)
            return LotDecision(nan, nan, nan, nan, nov, lflag, False, lflag, nb, True, accepted)
        base = self._baseline_state()
        d = m - base.mu
        sampling = cw / max(n - 1, 1) if p.own_sampling_covariance else base.cw_lot
        # The limits were calibrated at ``spectra_per_segment`` spectra; with more, S/n would shrink below what
        # the calibration saw while the lot's own segment-to-segment variation does not, and the false-alarm
        # rate would grow with n (4 % at 240 spectra vs 0.3-0.6 % at 40-120). Cap n at the calibrated count.
        n_eff = min(n, th.spectra_per_segment) if th is not None and th.spectra_per_segment > 0 else n
        sigma = base.sigma0 + sampling / n_eff
        try:
            chol, _ = cho_factor(sigma, lower=True, check_finite=False)
        except LinAlgError as exc:  # pragma: no cover - ridge keeps Σ positive definite
            raise ModelError(f"lot detector: baseline covariance not positive definite ({exc})") from exc
        # one triangular solve for the deviation and every direction (columns: δ, waste..., contaminant...)
        white = solve_triangular(chol, np.column_stack([d, base.directions]), lower=True, check_finite=False)
        dw = white[:, 0]
        energy = float(dw @ dw)
        stats = []
        for hw in (white[:, 1:1 + base.n_waste], white[:, 1 + base.n_waste:]):
            a, rn = nnls(hw, dw, maxiter=50 * hw.shape[1])
            stats.append((max(energy - rn * rn, 0.0), float(a.sum())))
        (tw, fw), (tc, fc) = stats
        flag_w = th is not None and tw > th.waste
        flag_c = th is not None and tc > th.contaminant
        accepted = th is None or (tw <= th.accept_waste and tc <= th.accept_contaminant and not lflag)
        if accepted:
            self._accept(m, rbar, cw, n - 1, d, base.c)
        return LotDecision(tw, tc, fw, fc, nov, flag_w or lflag, flag_c, lflag, nb, False, accepted)

    def _accept(self, m, rbar, cw, dof, d, c) -> None:
        w = self.model.params.window_segments
        self._m = (self._m + [m])[-w:]
        self._r = (self._r + [rbar])[-w:]
        self._cw = (self._cw + [cw])[-w:]
        self._dof = (self._dof + [int(dof)])[-w:]
        if d is not None:
            win = self.model.params.scatter_window
            if win > 0:
                self._deviations = (self._deviations + [d / np.sqrt(c)])[-win:]
                x = np.asarray(self._deviations)
                self._scatter, self._k = x.T @ x, len(self._deviations)
            else:
                self._scatter = self._scatter + np.outer(d, d) / c
                self._k += 1
        self._baseline = None


def run_lot(model: LotDetectorModel, segments: np.ndarray) -> list[LotDecision]:
    """Decisions for consecutive segments (n_segments, n_spectra, c) of one lot (all spectra valid)."""
    det = LotDetector(model)
    return [det.update(s) for s in segments]


def calibrate(model: LotDetectorModel, lots: list[np.ndarray], *, spectra_per_segment: int) -> LotThresholds:
    """Thresholds from clean simulated lots (each (n_segments, n_spectra, c)), at ``params.false_alarm``
    per segment (split evenly between the waste and contaminant flags, each limit the ``limit_confidence``
    bound of its quantile over the lots, :func:`quantile_bound`; the library-only novelty flag at
    ``library_false_alarm``, not below ``library_min_fraction``)."""
    p = model.params
    saved = model.thresholds

    def quantiles(decs: list[LotDecision], accept: LotThresholds | None) -> LotThresholds:
        post = [d for d in decs if not d.warmup]
        if len(post) < 50:
            raise ModelError(f"lot detector calibration needs >= 50 post-warm-up segments, got {len(post)}")
        tw = np.array([d.t_waste for d in post])
        tc = np.array([d.t_contaminant for d in post])
        lot_of = np.repeat(np.arange(len(lots)), [sum(not d.warmup for d in run) for run in _split(decs, lots)])
        nov = np.array([d.novelty_fraction for d in decs])
        q, ql = 1.0 - p.false_alarm / 2.0, 1.0 - p.library_false_alarm
        return LotThresholds(
            waste=quantile_bound(tw, lot_of, q, p.limit_confidence),
            contaminant=quantile_bound(tc, lot_of, q, p.limit_confidence),
            accept_waste=accept.accept_waste if accept else float(np.quantile(tw, p.accept_quantile)),
            accept_contaminant=(accept.accept_contaminant if accept
                                else float(np.quantile(tc, p.accept_quantile))),
            library_novelty=max(float(np.quantile(nov, ql)), p.library_min_fraction),
            calibration_lots=len(lots), calibration_segments=len(post), spectra_per_segment=int(spectra_per_segment))

    try:
        # pass 1: everything joins the baseline; pass 2: baseline acceptance as in operation
        model.thresholds = None
        first = quantiles([d for lot in lots for d in run_lot(model, lot)], None)
        model.thresholds = first
        return quantiles([d for lot in lots for d in run_lot(model, lot)], first)
    finally:
        model.thresholds = saved


def _split(decs: list[LotDecision], lots: list[np.ndarray]) -> list[list[LotDecision]]:
    """``decs`` of consecutive lots cut back into one list per lot."""
    out, k = [], 0
    for lot in lots:
        out.append(decs[k:k + len(lot)])
        k += len(lot)
    return out


def quantile_bound(t: np.ndarray, lot_of: np.ndarray, q: float, confidence: float, n_boot: int = 400) -> float:
    """The ``q`` quantile of ``t``, or with ``confidence`` > 0 its one-sided upper confidence bound: the
    ``confidence`` quantile of the ``q`` quantiles of ``n_boot`` bootstrap resamples of whole lots (``lot_of``:
    each value's lot). Segments of one lot are correlated and the tail exceedances cluster in a few lots, so
    the lot, not the segment, is the resampled unit (fixed seed: a refit gives the same limits)."""
    point = float(np.quantile(t, q))
    if confidence <= 0.0:
        return point
    ids = np.unique(lot_of)
    by_lot = [t[lot_of == i] for i in ids]
    rng = np.random.default_rng(0)
    boot = [np.quantile(np.concatenate([by_lot[j] for j in rng.integers(0, ids.size, ids.size)]), q)
            for _ in range(n_boot)]
    return max(point, float(np.quantile(boot, confidence)))


def false_alarm_rate(model: LotDetectorModel, lots: list[np.ndarray]) -> tuple[float, int]:
    """Share of scored (post-warm-up or library-flagged) clean segments flagged, and their number."""
    decs = [d for lot in lots for d in run_lot(model, lot)]
    scored = [d for d in decs if not d.warmup or d.flagged_waste or d.flagged_contaminant]
    if not scored:
        return float("nan"), 0
    return float(np.mean([d.flagged_waste or d.flagged_contaminant for d in scored])), len(scored)
