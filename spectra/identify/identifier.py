"""Identification of a spectrum by continuum-removed feature fits against real reference spectra.

For each spectrum and each reference (the reference as measured and as it would look finer, coarser and wet:
Hapke grain-size and pore-water variants, :func:`reference_variants`) the identifier fits the reference's
continuum-removed absorption ``a_r = 1 − CR_r`` to the spectrum's ``a_o`` with one depth scale ``s`` (grain size
and mixing change band depth, not band shape): ``a_o ≈ s·a_r``. As in Tetracorder, the **fit** is the share of the
spectrum's absorption the scaled reference explains, ``1 − |a_o − s·a_r|² / |a_o|²``, and the **depth** the
scaled reference depth. The distance that ranks references adds the mismatch of albedo and continuum slope
(what tells featureless spectra apart: dark magnetite, bright quartz, rising hematite):

    d² = (rms(a_o − s·a_r) / σ_shape)² + (Δ ln albedo / σ_albedo)² + (Δ slope / σ_slope)² + (ln s / σ_scale)²
         + Σ_features (Δ √band depth / σ_depth)²

Class evidence is the best-fitting reference of each class, ``exp(−d²/2)``, against an ``unknown`` alternative
``exp(−d²_unknown/2)``: a spectrum that no reference fits within ``d²_unknown`` is ``unknown``, never ore. A
spectrum with C–H overtone bands (1.21 µm and, where the grid has it, 1.73 µm) is organic matter whatever the
closest reference: its contaminant evidence is at least that of a reference at ``d²_organic``. Without such
positive evidence no class but ore is confident (:mod:`spectra.identify.temper`); dark, featureless spectra are
``unknown`` ("dark, featureless").

With a learned decision (:mod:`spectra.identify.learned`, fitted by :meth:`Identifier.from_library`) the class
probabilities are the geometric mean of the d² posterior's and the logistic regression's over the fits.

All of it is matrix products over (spectra × references): no loop per spectrum or channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import GridError, ModelError
from spectra.grid import InstrumentGrid
from spectra.hapke import (
    reff_from_ssa,
    scale_grain_size,
    ssa_from_reff,
    water_absorption_per_cm,
    wet,
)
from spectra.identify import temper as temper_mod
from spectra.identify.decision_store import stored_decision
from spectra.identify.features import FeatureBank
from spectra.identify.labels import relative_noise
import spectra.identify.learned as learned_mod
from spectra.identify.learned import Decision, decision_without, design, group_columns, training_set
from spectra.identify.references import (
    LINE_CLASSES,
    Reference,
    load_references,
    on_grid,
)

#: Output classes of the identifier: the line's three and ``unknown``.
ID_CLASSES = LINE_CLASSES + ("unknown",)
#: groups an identification can report besides the references' own (station code lists append them in this order)
EXTRA_GROUPS = ("unknown", "organic (C–H), unlisted", temper_mod.DARK_GROUP)
#: (grain factor, moisture mass fraction) of the reference variants
VARIANTS = ((1.0, 0.0), (0.5, 0.0), (2.0, 0.0), (1.0, 0.06))
#: (grain factor, moisture) of the further variants of the ore and gangue references only, on grids that reach
#: the 1.93 µm water band (:data:`WET_BAND_KEY`): the line's moist fines (shipped at 6–12 % water; the line's scene
#: draws 6–10 %), fine and as measured, with the 1.45 and 1.93 µm pore-water bands and the albedo drop of
#: :func:`spectra.hapke.wet` (w21h: with wet references at 6 % only, the full range called 41 % of a moist
#: hematite-fines lot waste through its 1.93 µm band; with them 15 %, 12 % with intimate ore blends in the learned
#: decision's training). Without the 1.93 µm band on the grid they changed little and cost contaminant recall
#: (``ingaas256``: wet 10 % contaminants 41 → 38 of 79), so they are off there.
ORE_VARIANTS = ((1.0, 0.10), (0.5, 0.10))
#: the feature whose presence on the grid switches :data:`ORE_VARIANTS` on
WET_BAND_KEY = "H2O 1.93"


@dataclass(frozen=True)
class IdentifierParams:
    """Widths of the distance terms and the ``unknown`` / organic thresholds (see the module docstring)."""

    sigma_shape: float = 0.012
    sigma_albedo: float = 0.35
    sigma_slope: float = 0.12
    sigma_scale: float = 0.9
    sigma_depth: float = 0.08
    d2_unknown: float = 20.0
    ch_depth_min: float = 0.02
    class_prior: tuple[float, float, float] = (0.80, 0.10, 0.10)
    top: int = 3
    #: site option: p(ore) > 0.5 only with positive ore evidence (:func:`spectra.identify.temper.ore_evidence`)
    ore_needs_evidence: bool = True


def reference_variants(reflectance: np.ndarray, wavelength_nm: np.ndarray,
                       variants: tuple[tuple[float, float], ...] = VARIANTS) -> np.ndarray:
    """(k, n) reference spectra → (len(variants)·k, n): each variant block in ``variants`` order."""
    w = ssa_from_reff(np.clip(reflectance, 1e-4, 0.999))
    alpha = water_absorption_per_cm(wavelength_nm)
    out = []
    for grain, moist in variants:
        v = scale_grain_size(w, grain) if grain != 1.0 else w
        v = wet(v, moist, alpha) if moist > 0 else v
        out.append(reflectance if (grain, moist) == (1.0, 0.0) else reff_from_ssa(v))
    return np.vstack(out) if out else np.zeros((0, np.shape(reflectance)[1]))


@dataclass
class Descriptors:
    """What the fits use, per spectrum: absorption on hull bins, ln albedo, slope, band depths and positions."""

    absorption: np.ndarray
    log_albedo: np.ndarray
    slope: np.ndarray
    depth: np.ndarray
    position_nm: np.ndarray
    #: (n,) mean reflectance over :data:`spectra.identify.temper.DARK_WINDOW_NM` (what "dark" is judged on)
    brightness: np.ndarray | None = None

    def take(self, idx: np.ndarray) -> Descriptors:
        return Descriptors(self.absorption[idx], self.log_albedo[idx], self.slope[idx], self.depth[idx],
                           self.position_nm[idx], None if self.brightness is None else self.brightness[idx])


@dataclass
class Identification:
    """Result for n spectra. ``p`` (n, 4) over :data:`ID_CLASSES`; ``best``/``fit``/``depth``/``d2`` (n, top) the
    best references (indices into ``Identifier.references``, one per reference sample) with Tetracorder fit,
    fitted depth and distance; ``klass``/``group`` (n,) strings ("unknown" when nothing fits); ``band_depth``
    (n, n_features) local-continuum depths; ``valid`` (n,) rows that could be identified."""

    p: np.ndarray
    best: np.ndarray
    fit: np.ndarray
    depth: np.ndarray
    d2: np.ndarray
    klass: np.ndarray
    group: np.ndarray
    band_depth: np.ndarray
    band_position_nm: np.ndarray
    valid: np.ndarray
    evidence: list[str] = field(default_factory=list)
    #: (n,) the reference that labels each spectrum (best of its decided class) and its Tetracorder fit
    class_ref: np.ndarray | None = None
    class_fit: np.ndarray | None = None

    @property
    def p_unknown(self) -> np.ndarray:
        return self.p[:, 3]


class Identifier:
    """Continuum-removed feature fits of spectra on ``grid`` against real references (see module docstring)."""

    def __init__(self, grid: InstrumentGrid, references: list[Reference], reflectance: np.ndarray,
                 params: IdentifierParams | None = None) -> None:
        r = np.asarray(reflectance, float)
        if r.ndim != 2 or r.shape != (len(references), grid.n_channels):
            raise ModelError(f"references: expected ({len(references)}, {grid.n_channels}) reflectance, got {r.shape}")
        self.grid = grid
        self.params = params or IdentifierParams()
        self.bank = FeatureBank.for_grid(grid)
        self.references = list(references)
        self.reference_reflectance = r
        self._class_of_ref = np.array([LINE_CLASSES.index(x.line_class) for x in references])
        #: the grid reaches the 1.93 µm water band: ore/gangue references get :data:`ORE_VARIANTS` (their rows
        #: follow the base blocks) and the learned decision trains on intimate ore blends
        #: (:func:`spectra.identify.learned.augment`)
        self.moist_ore_physics = WET_BAND_KEY in self.bank.keys
        self._wet_refs = np.flatnonzero(self._class_of_ref == LINE_CLASSES.index("ore")) \
            if ORE_VARIANTS and self.moist_ore_physics else np.zeros(0, int)
        variants = np.vstack([reference_variants(r, grid.wavelength_nm),
                              reference_variants(r[self._wet_refs], grid.wavelength_nm, ORE_VARIANTS)])
        self._ref_of_row = np.concatenate([np.tile(np.arange(len(references)), len(VARIANTS)),
                                           np.tile(self._wet_refs, len(ORE_VARIANTS))])
        self._ref = self.describe(variants)
        self._ref_norm2 = np.sum(self._ref.absorption ** 2, axis=1)
        self._refs_of_class = [np.flatnonzero(self._class_of_ref == c) for c in range(len(LINE_CLASSES))]
        self._ref_q = self._quadratic(self._ref)
        self._ref_q2 = np.sum(self._ref_q ** 2, axis=1)
        self._ref_a = self._ref.absorption.astype(np.float32)
        self._ref_n2 = np.maximum(self._ref_norm2, 1e-9).astype(np.float32)
        self._ref_depth = self._ref.absorption.max(axis=1)
        self._sample_of_ref = np.array([x.sample for x in references])
        self._group_names, self._group_refs = group_columns(references)
        self._ch121 = self.bank.keys.index("C-H 1.21") if "C-H 1.21" in self.bank.keys else None
        wl = grid.wavelength_nm
        self._noise_ch = np.flatnonzero((wl >= 1100.0) & (wl <= 1300.0))
        #: the learned decision over the fits (:mod:`spectra.identify.learned`); None: the d² posterior alone
        self.decision: Decision | None = None

    @property
    def d2_unknown_fixed(self) -> float:
        """``params.d2_unknown`` for the four shape/albedo/slope/scale terms and four band depths, scaled to the
        number of terms on this grid (a 400–2400 nm grid has nine band depths): the limit without calibration."""
        return self.params.d2_unknown * (4 + len(self.bank.features)) / 8.0

    @property
    def d2_unknown(self) -> float:
        """The ``unknown`` limit: calibrated with the learned decision (:mod:`spectra.identify.unknown_limit`),
        else :attr:`d2_unknown_fixed`."""
        return _limit(self.decision, self.d2_unknown_fixed)

    @classmethod
    def from_library(cls, grid: InstrumentGrid, root=None, params: IdentifierParams | None = None,
                     learned: bool = True) -> Identifier:
        """All shared reference spectra that cover ``grid`` (:func:`spectra.identify.references.load_references`),
        with the learned decision fitted on them (``learned``; deterministic, ~1 s; kept on disk for the next process,
        :mod:`spectra.identify.decision_store`)."""
        refs, refl, _ = on_grid(load_references(root), grid)
        idf = cls(grid, refs, refl, params)
        if learned:
            idf.decision = stored_decision(idf, lambda: decision_without(idf, training_set(idf), (), idf.params.class_prior))
        return idf

    def ch_snr(self, reflectance: np.ndarray) -> np.ndarray:
        """(n,) 1.21 µm C–H band depth over the spectrum's relative channel noise near it (0 off-grid): the
        project's robust estimator (:func:`spectra.identify.labels.relative_noise`) on 1.10–1.30 µm."""
        r = np.clip(np.asarray(reflectance, float), REFLECTANCE_FLOOR, None)
        if self._ch121 is None or self._noise_ch.size < 5:
            return np.zeros(r.shape[0])
        noise = relative_noise(r[:, self._noise_ch])
        depth = self.bank.band_depths(_smooth(r, 5))[0][:, self._ch121]
        return depth / np.maximum(noise / np.sqrt(5.0), 1e-4)

    def describe(self, reflectance: np.ndarray) -> Descriptors:
        """:class:`Descriptors` of (n, n_channels) reflectance (values clipped to ≥ 1e-4)."""
        r = np.clip(np.asarray(reflectance, float), 1e-4, None)
        binned = self.bank.binned(r)
        absorption = 1.0 - self.bank.hull_removed(binned)
        log_alb, slope = self.bank.albedo_slope(binned)
        depth, pos = self.bank.band_depths(_smooth(r, 5))
        return Descriptors(absorption, log_alb, slope, depth, pos, temper_mod.brightness(self.bank, binned))

    def _quadratic(self, d: Descriptors) -> np.ndarray:
        """The terms of d² that are plain squared differences, as one vector per spectrum (albedo, slope,
        √band depths, each over its σ), so that they cost one matrix product."""
        p = self.params
        return np.concatenate([d.log_albedo[:, None] / p.sigma_albedo, d.slope[:, None] / p.sigma_slope,
                               np.sqrt(np.maximum(d.depth, 0.0)) / p.sigma_depth], axis=1).astype(np.float32)

    def distances(self, d: Descriptors) -> np.ndarray:
        """d² (n, n_reference_rows) over every reference variant (float32)."""
        p = self.params
        q, a = self._quadratic(d), d.absorption.astype(np.float32)
        cross = a @ self._ref_a.T
        obs2 = np.sum(a * a, axis=1)[:, None]
        scale = np.clip(cross / self._ref_n2, 0.25, 4.0)
        d2 = (obs2 - scale * (2 * cross - scale * self._ref_n2)) * np.float32(1.0 / (a.shape[1] * p.sigma_shape ** 2))
        np.maximum(d2, 0.0, out=d2)
        d2 += np.sum(q * q, axis=1)[:, None] - 2 * (q @ self._ref_q.T) + self._ref_q2
        np.log(scale, out=scale)
        scale *= np.float32(1.0 / p.sigma_scale)
        d2 += scale * scale
        return d2

    def fit_and_scale(self, d: Descriptors, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tetracorder fit and depth scale of each spectrum against reference rows ``rows`` (n, m): both (n, m)."""
        a = d.absorption.astype(np.float32)
        cross = np.einsum("nb,nmb->nm", a, self._ref_a[rows])
        n2 = self._ref_n2[rows]
        scale = np.clip(cross / n2, 0.25, 4.0)
        obs2 = np.sum(a * a, axis=1)[:, None]
        resid = np.maximum(obs2 - scale * (2 * cross - scale * n2), 0.0)
        floor = a.shape[1] * (self.params.sigma_shape / 2) ** 2  # below this the absorption is noise
        fit = 1.0 - resid / np.maximum(np.maximum(obs2, scale * scale * n2), floor)
        return np.clip(fit, 0.0, 1.0), scale

    def identify(self, reflectance: np.ndarray, *, exclude_samples: np.ndarray | None = None) -> Identification:
        """Identify (n, n_channels) reflectance. ``exclude_samples`` (n,) sample ids whose references may not be
        used for that row (leave-one-sample-out validation); invalid rows (NaN, ≤ 0 everywhere) get p = NaN."""
        r = np.asarray(reflectance, float)
        if r.ndim == 1:
            r = r[None, :]
        if r.ndim != 2 or r.shape[1] != self.grid.n_channels:
            raise GridError(f"identifier on grid {self.grid.name!r} expects (n, {self.grid.n_channels}) "
                            f"reflectance, got shape {np.shape(reflectance)}")
        return self.decide_prepared(self.prepare(r, exclude_samples=exclude_samples), r)

    def decide_prepared(self, prepared: tuple, r: np.ndarray) -> Identification:
        """:meth:`identify` of (n, ch) ``r`` from its :meth:`prepare` output, for callers that also read the
        descriptors or distances (one distance computation, not two)."""
        d, d2_ref, row, valid = prepared
        snr = self.ch_snr(np.where(np.isfinite(r), r, REFLECTANCE_FLOOR)) if self.decision is not None else None
        return self._decide(d, d2_ref, row, valid, snr)

    def prepare(self, r: np.ndarray, *, exclude_samples: np.ndarray | None = None):
        """Descriptors, per-reference d² (n, k; inf where excluded), its variant rows and validity of (n, ch) r."""
        valid = np.all(np.isfinite(r), axis=1) & (np.nanmax(np.where(np.isfinite(r), r, 0), axis=1) > 0)
        d = self.describe(np.where(np.isfinite(r), r, 1e-4))
        d2_ref, row = self._per_reference(self.distances(d))
        if exclude_samples is not None:
            d2_ref = np.where(self._sample_of_ref[None, :] == np.asarray(exclude_samples)[:, None], np.inf, d2_ref)
        return d, d2_ref, row, valid

    def _per_reference(self, d2_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best variant per reference: d² (n, k) and the variant row it came from (n, k)."""
        n, k = d2_rows.shape[0], len(self.references)
        base = k * len(VARIANTS)
        stacked = d2_rows[:, :base].reshape(n, len(VARIANTS), k)
        v = np.argmin(stacked, axis=1)
        d2 = np.take_along_axis(stacked, v[:, None, :], axis=1)[:, 0]
        row = v * k + np.arange(k)
        if self._wet_refs.size:
            kw = self._wet_refs.size
            extra = d2_rows[:, base:].reshape(n, len(ORE_VARIANTS), kw)
            u = np.argmin(extra, axis=1)
            d2w = np.take_along_axis(extra, u[:, None, :], axis=1)[:, 0]
            better = d2w < d2[:, self._wet_refs]
            d2[:, self._wet_refs] = np.where(better, d2w, d2[:, self._wet_refs])
            row[:, self._wet_refs] = np.where(better, base + u * kw + np.arange(kw), row[:, self._wet_refs])
        return d2, row

    def _decide(self, d: Descriptors, d2_ref: np.ndarray, row: np.ndarray, valid: np.ndarray,
                snr: np.ndarray | None = None, decision: Decision | None = None) -> Identification:
        p_ = self.params
        n = d2_ref.shape[0]
        top = min(p_.top, d2_ref.shape[1])
        ii = np.arange(n)[:, None]
        best = np.argpartition(d2_ref, top - 1, axis=1)[:, :top] if top < d2_ref.shape[1] else \
            np.tile(np.arange(top), (n, 1))
        best = np.take_along_axis(best, np.argsort(d2_ref[ii, best], axis=1), axis=1)
        best_row = row[ii, best]
        class_d2 = np.stack([d2_ref[:, idx].min(axis=1) if idx.size else np.full(n, np.inf)
                             for idx in self._refs_of_class], axis=1).astype(float)
        organic = self.organic(d)
        class_d2[:, 2] = np.where(organic, 0.0, class_d2[:, 2])
        decision = decision or self.decision
        p = _posterior(class_d2, np.asarray(p_.class_prior, float), _limit(decision, self.d2_unknown_fixed))
        if decision is not None:
            if snr is None:
                raise ModelError("the learned decision needs the C–H signal-to-noise of each spectrum")
            p[:, :3] = _blend(decision.proba(design(self, d, d2_ref, snr)), p[:, :3]) * (1.0 - p[:, 3:4])
        dark = temper_mod.dark(d, organic)
        k = np.where(dark, 3, np.argmax(p, axis=1))  # tempering lowers the confidence, never changes the call
        p = temper_mod.temper(p, temper_mod.class_evidence(self.bank, d, organic, p_.ore_needs_evidence,
                                                            p_.ch_depth_min), dark)
        klass = np.array(ID_CLASSES)[k]
        group, class_ref = self.class_groups(k, organic, d2_ref, best[:, 0])
        group = np.where((k == 3) & dark, temper_mod.DARK_GROUP, group)
        fit, scale = self.fit_and_scale(d, best_row)
        depth = scale * self._ref_depth[best_row]
        class_fit = self.fit_and_scale(d, row[np.arange(n), class_ref][:, None])[0][:, 0]
        p[~valid] = np.nan
        return Identification(p, best, fit, depth, d2_ref[ii, best], klass, group, d.depth, d.position_nm, valid,
                              class_ref=class_ref, class_fit=class_fit)

    def class_groups(self, k: np.ndarray, organic: np.ndarray, d2_ref: np.ndarray,
                     best: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n,) material group and reference index that label each spectrum: the best-fitting reference *of the
        decided class* ``k`` (codes of :data:`ID_CLASSES`), so that a spectrum called ore is never labelled with
        the group of a nearer scrap or roofing reference. ``unknown``: the group "unknown" and the nearest
        reference; C–H spectra called contaminant whose nearest reference is no contaminant: "organic (C–H),
        unlisted"."""
        class_ref = best.copy()
        for c, idx in enumerate(self._refs_of_class):
            rows = np.flatnonzero(k == c)
            if rows.size and idx.size:
                class_ref[rows] = idx[np.argmin(d2_ref[np.ix_(rows, idx)], axis=1)]
        groups = np.array([x.group for x in self.references])
        group = np.where(k == 3, "unknown", groups[class_ref])
        unlisted = (k == 2) & organic & (self._class_of_ref[best] != 2)
        return np.where(unlisted, "organic (C–H), unlisted", group), class_ref

    def organic(self, d: Descriptors) -> np.ndarray:
        """(n,) spectra with C–H overtone bands (:func:`spectra.identify.temper.organic`: a C–H feature on the grid
        deeper than ``ch_depth_min``, minimum inside the band, the 1.21 µm band deeper than pore water's)."""
        return temper_mod.organic(self.bank, d, self.params.ch_depth_min)

    def evidence(self, ident: Identification, i: int, min_depth: float = 0.02) -> str:
        """Human string of the deciding features of spectrum ``i``: "C–H 1.21/1.40 µm, polyethylene-like
        (fit 0.93, Plastic_HDPE GDS387)"."""
        if not ident.valid[i]:
            return "not identified: invalid spectrum"
        by_bond: dict[str, list[str]] = {}
        keys = self.bank.keys
        ch = "C-H 1.21" in keys and ident.band_depth[i, keys.index("C-H 1.21")] > min_depth
        for j, f in enumerate(self.bank.features):
            if ident.band_depth[i, j] > min_depth and (f.key != "C-H 1.40" or ch):
                by_bond.setdefault(f.bond, []).append(f"{ident.band_position_nm[i, j] / 1000:.2f}")
        feats = "; ".join(f"{b} {'/'.join(v)} µm" for b, v in by_bond.items()) or "no absorption band > 2 %"
        ref = self.references[int(ident.best[i, 0])]
        if ident.group[i] == temper_mod.DARK_GROUP:
            return f"{feats}; dark, featureless (NIR cannot tell magnetite, mill scale or black plastic apart)"
        if ident.klass[i] == "unknown":
            return f"{feats}; unlike every reference (closest {ref.name}, d² {ident.d2[i, 0]:.0f})"
        if ident.class_ref is not None and ident.class_fit is not None:
            ref, fit = self.references[int(ident.class_ref[i])], float(ident.class_fit[i])
        else:
            fit = float(ident.fit[i, 0])
        return f"{feats}; {ident.group[i]}-like (fit {fit:.2f}, {ref.name})"


def _limit(decision: Decision | None, fixed: float) -> float:
    """The decision's calibrated ``unknown`` limit, or ``fixed``."""
    return fixed if decision is None or decision.d2_unknown is None else float(decision.d2_unknown)


def _posterior(class_d2: np.ndarray, prior: np.ndarray, d2_unknown: float) -> np.ndarray:
    """(n, 4) over :data:`ID_CLASSES`: p(unknown) = the ``unknown`` alternative against the best fit of any class;
    the rest shared by the class posteriors ``prior · exp(−d²/2)``."""
    best = class_d2.min(axis=1)
    p_unknown = 1.0 / (1.0 + np.exp(np.clip(0.5 * (d2_unknown - best), -50, 50)))
    logw = np.log(prior)[None, :] - 0.5 * (class_d2 - best[:, None])
    w = np.exp(logw)
    w /= w.sum(axis=1, keepdims=True)
    return np.concatenate([w * (1.0 - p_unknown)[:, None], p_unknown[:, None]], axis=1)


def _blend(p_learned: np.ndarray, p_d2: np.ndarray) -> np.ndarray:
    """Weighted geometric mean of the learned and the d² class probabilities, renormalised (n, 3)."""
    w = learned_mod.LEARNED_WEIGHT
    logp = w * np.log(np.maximum(p_learned, 1e-12)) + (1.0 - w) * np.log(np.maximum(p_d2, 1e-12))
    e = np.exp(logp - logp.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _smooth(r: np.ndarray, width: int) -> np.ndarray:
    """Moving mean over ``width`` (odd) channels, edges repeated: a sum of shifted slices, no loop per channel."""
    h = width // 2
    p = np.pad(np.asarray(r, np.float32), ((0, 0), (h, h)), mode="edge")
    n = r.shape[1]
    out = p[:, :n].copy()
    for k in range(1, width):  # `width` shifted slices (5), not channels
        out += p[:, k:k + n]
    return out / np.float32(width)
