"""A learned decision over the feature fits: regularised logistic regression trained on the real references.

The Tetracorder-style distances rank references well, but how far "closest ore" must be from "closest
contaminant" before a spectrum is a contaminant differs by material and range. This stage learns that from the
real references themselves, rendered physically (:func:`augment`: grain size, pore water, brightness, linear
mixing with ore at 5–30 %, detector noise) and described **with their own physical sample left out of the
references** (so the training rows look like spectra of unseen samples, as every line spectrum is):

* inputs (:func:`design`): ln(1 + d²) of the best reference of each class and of each material group, the √band
  depths and band-minimum offsets of every diagnostic feature on the grid, ln albedo, slope, the C–H (organic)
  flag and the 1.21 µm C–H depth relative to the spectrum's own channel noise;
* model: standardised inputs, L2 multinomial logistic regression (scikit-learn), classes weighted to balance,
  then the class prior applied (``prior``) — probabilities over ore / waste / contaminant; ``unknown`` stays the
  identifier's (no reference fits).

:func:`fit_decision` fits it on all references; :mod:`spectra.identify.validation` refits it for every held-out
physical sample with that sample's spectra, its augmentations and its references all excluded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
from spectra.hapke import WET_SOLID_DENSITY_G_CM3, scale_grain_size, ssa_from_reff
from spectra.identify.temper import dark
from spectra.identify.unknown_limit import calibrated_limit
from spectra.identify.wetting import wet_albedo

#: augmented renderings per real reference spectrum used to train the decision
N_AUGMENT = 24
#: share of the augmented renderings mixed with 5–30 % ore
MIX_SHARE = 0.5
#: largest share of the second ore/gangue reference in an ore rendering's intimate blend (w21h)
ORE_BLEND_MAX = 0.5
#: weight of the learned log-probabilities against the d² posterior's (1: the learned decision alone)
LEARNED_WEIGHT = 0.5
#: L2 inverse strength of the logistic regression (chosen once on leave-one-sample-out, never per file)
C_REG = 0.3


@dataclass
class Decision:
    """Standardisation and multinomial logistic coefficients over :func:`design` inputs; ``log_prior`` added."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (3, m)
    intercept: np.ndarray  # (3,)
    log_prior: np.ndarray  # (3,)
    #: the calibrated ``unknown`` limit on nearest-reference d² (:mod:`spectra.identify.unknown_limit`); None: fixed
    d2_unknown: float | None = None

    def proba(self, x: np.ndarray) -> np.ndarray:
        """(n, 3) class probabilities over ore, waste, contaminant."""
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept + self.log_prior
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def group_columns(references) -> tuple[list[str], list[np.ndarray]]:
    """Material groups in first-seen order and the reference indices of each."""
    names = list(dict.fromkeys(r.group for r in references))
    groups = np.array([r.group for r in references])
    return names, [np.flatnonzero(groups == g) for g in names]


def design(idf, d, d2_ref: np.ndarray, ch_snr: np.ndarray) -> np.ndarray:
    """(n, m) inputs of the decision for descriptors ``d`` and per-reference d² ``d2_ref`` (n, k; inf = excluded)."""
    cols = [np.log1p(np.min(np.where(np.isfinite(d2_ref[:, idx]), d2_ref[:, idx], 1e4), axis=1))
            if idx.size else np.full(d2_ref.shape[0], np.log1p(1e4))
            for idx in list(idf._refs_of_class) + list(idf._group_refs)]
    bank = idf.bank
    centre = np.array([0.5 * (f.window_nm[0] + f.window_nm[1]) for f in bank.features])
    half = np.array([0.5 * (f.window_nm[1] - f.window_nm[0]) for f in bank.features])
    offset = (d.position_nm - centre[None, :]) / half[None, :]
    return np.column_stack(cols + [np.sqrt(np.maximum(d.depth, 0.0)), offset, d.log_albedo, d.slope,
                                   idf.organic(d).astype(float), np.clip(ch_snr, 0.0, 20.0)])


def augment(reflectance: np.ndarray, wavelength_nm: np.ndarray, grid, ore_rows: np.ndarray, n_per: int,
            rng: np.random.Generator, porous: np.ndarray | bool = True,
            ore_blend: bool = False,
            solid_density_g_cm3: np.ndarray | float = WET_SOLID_DENSITY_G_CM3
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_per`` physical renderings of each reference row: (spectra (k·n_per, n), source row, mixed ore row).

    Grain factor lognormal (σ 0.5), water 0–12 % on half (pore water on ``porous`` rows, a surface film on the
    others: :mod:`spectra.identify.wetting`; pore water against each row's ``solid_density_g_cm3``), brightness ×0.85–1.15, and on half a mixture with a random ore/gangue
    reference (the source row keeps its class): an areal mixture at 5–30 %, or with ``ore_blend`` for an ore/gangue
    source an intimate blend (Hapke albedo, before grain size and water) at 5–50 %, as the line's ore is; then the
    detector."""
    k = reflectance.shape[0]
    src = np.repeat(np.arange(k), n_per)
    m = src.size
    grain = np.exp(rng.normal(0.0, 0.5, m)).clip(0.3, 3.0)
    moist = np.where(rng.random(m) < 0.5, rng.uniform(0.0, 0.12, m), 0.0)
    mix_row = rng.choice(ore_rows, m)
    frac = np.where(rng.random(m) < MIX_SHARE, rng.uniform(0.05, 0.30, m), 0.0)
    # ore with ore is an intimate mixture (one blend of grains, as the line's ore is), up to half and half
    blend = np.isin(src, ore_rows) & (frac > 0) & ore_blend
    if ore_blend:
        frac = np.where(blend, rng.uniform(0.05, ORE_BLEND_MAX, m), frac)
    w_all = ssa_from_reff(np.clip(reflectance, 1e-4, 0.999))
    w = np.where(blend[:, None], (1.0 - frac[:, None]) * w_all[src] + frac[:, None] * w_all[mix_row], w_all[src])
    w = scale_grain_size(w, grain[:, None])
    r = wet_albedo(w, wavelength_nm, moist, np.broadcast_to(np.asarray(porous, bool), (k,))[src],
                   np.broadcast_to(np.asarray(solid_density_g_cm3, float), (k,))[src])
    areal = np.where(blend, 0.0, frac)
    r = (1.0 - areal[:, None]) * r + areal[:, None] * reflectance[mix_row]
    r *= rng.uniform(0.85, 1.15, m)[:, None]
    det = DetectorModel(grid, DetectorConfig(), seed=int(rng.integers(1 << 31)))
    r = simulate_referenced(det, np.clip(r, 1e-4, 1.2), rng, t_h=rng.uniform(0, 8, m),
                            reference_age_h=rng.uniform(0, 0.5, m))
    return r, src, np.where(frac > 0, mix_row, -1)


def fit_decision(x: np.ndarray, y: np.ndarray, prior: np.ndarray, c_reg: float = C_REG) -> Decision:
    """Fit the decision on inputs ``x`` (n, m) and line-class indices ``y`` (n,) in 0..2 (balanced weights)."""
    from sklearn.linear_model import LogisticRegression  # here: sklearn costs ~0.8 s of start-up to every reader

    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), 1e-6)
    lr = LogisticRegression(C=c_reg, class_weight="balanced", max_iter=500)
    lr.fit((x - mean) / scale, y)
    coef = np.zeros((3, x.shape[1]))
    icpt = np.full(3, -30.0)  # a class absent from training gets no probability
    for j, c in enumerate(lr.classes_):
        sign = 1.0 if lr.coef_.shape[0] > 1 else (0.5 if j else -0.5)  # binary: ±½ of the one logit
        row = j if lr.coef_.shape[0] > 1 else 0
        coef[int(c)] = sign * lr.coef_[row] if lr.coef_.shape[0] == 1 else lr.coef_[row]
        icpt[int(c)] = sign * lr.intercept_[row] if lr.coef_.shape[0] == 1 else lr.intercept_[row]
    return Decision(mean, scale, coef, icpt, np.log(np.asarray(prior, float)))


@dataclass
class TrainingSet:
    """Augmented reference renderings described against the references with their own sample left out."""

    x_parts: tuple  # (descriptors, d2_ref (n, k) with the own sample at inf, ch_snr (n,))
    y: np.ndarray  # line-class index 0..2
    sample: np.ndarray  # physical sample of the source spectrum
    mixed_sample: np.ndarray  # physical sample of the ore mixed in ("" when none)


def training_set(idf, n_per: int = N_AUGMENT, seed: int = 11) -> TrainingSet:
    """:func:`augment` every reference of ``idf`` and describe the renderings without their own sample."""
    rng = np.random.default_rng(seed)
    refs = idf.references
    ore_rows = np.flatnonzero(idf._class_of_ref == 0)
    r, src, mix = augment(idf.reference_reflectance, idf.grid.wavelength_nm, idf.grid, ore_rows, n_per, rng,
                          porous=np.array([x.porous for x in refs]), ore_blend=idf.moist_ore_physics,
                          solid_density_g_cm3=np.array([x.solid_density_g_cm3 for x in refs]))
    samples = np.array([x.sample for x in refs])
    d, d2_ref, _, _ = idf.prepare(r, exclude_samples=samples[src])
    return TrainingSet((d, d2_ref, idf.ch_snr(r)), idf._class_of_ref[src], samples[src],
                       np.where(mix >= 0, samples[np.maximum(mix, 0)], ""))


def decision_without(idf, ts: TrainingSet, held_out, prior) -> Decision:
    """Fit the decision on ``ts`` with the physical samples ``held_out`` (a collection of sample ids) removed
    everywhere: their renderings, the renderings they were mixed into and their references (empty: fit on all);
    the ``unknown`` limit is calibrated on the same rows (:func:`spectra.identify.unknown_limit.calibrated_limit`)."""
    d, d2_ref, snr = ts.x_parts
    out = np.array(sorted(held_out), dtype=object)
    keep = ~np.isin(ts.sample, out) & ~np.isin(ts.mixed_sample, out)
    d2 = d2_ref[keep]
    if out.size:
        d2 = np.where(np.isin(idf._sample_of_ref, out)[None, :], np.inf, d2)
    kept = d.take(np.flatnonzero(keep))
    dec = fit_decision(design(idf, kept, d2, snr[keep]), ts.y[keep], prior)
    dec.d2_unknown = calibrated_limit(d2.min(axis=1), dark(kept, idf.organic(kept)), idf.d2_unknown_fixed)
    return dec
