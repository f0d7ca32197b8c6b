"""Simulated lots (one ship hold each), segment by segment, for calibrating and validating the lot detector.

Within one lot the ore is ONE declared product: one blend of library ore/gangue spectra, one grain size and
moisture level, which fluctuate modestly and slowly from segment to segment:

* every mass fraction of the blend is multiplied by ``exp(z)``, z an AR(1) process over segments with
  stationary σ ``comp_sigma`` (default 0.10, i.e. a 20 % gangue share varies about ±2 % absolute — the order
  of the ±0.5 % SiO₂ tolerance of a fines product around ~5 %) and lag-one correlation ``comp_rho`` (stockpile
  layering changes slowly);
* grain-size factor: AR(1) lognormal σ ``grain_sigma`` (0.05); moisture: AR(1) with σ ``moisture_sigma``
  (0.5 % absolute) around the lot's level;
* within a segment each spectrum sees a local variation of the blend (``SceneConfig.heterogeneity``), its own
  illumination/distance/lamp tilt and endmember ripple (``MixtureSimulator.render``), detector noise, and
  references of the age they have on the line (dark + white every ``reference_interval_s``).

Waste admixtures are one library entry per lot (one source of contamination per hold), at a mass fraction per
segment, distributed from spectrum to spectrum as ``f · Gamma(4, 1/4)`` (lumpy, mean f).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectra.detector import DetectorModel, simulate_referenced
from spectra.scene import LotProfile, MixtureSimulator, draw_lots


@dataclass(frozen=True)
class LotVariation:
    """Segment-to-segment variation within one lot (see module docstring)."""

    comp_sigma: float = 0.10
    comp_rho: float = 0.8
    grain_sigma: float = 0.05
    moisture_sigma: float = 0.005
    segment_duration_s: float = 120.0
    reference_interval_s: float = 600.0


def _ar1(rng: np.random.Generator, n: int, shape: tuple[int, ...], sigma: float, rho: float) -> np.ndarray:
    """(n, *shape) stationary AR(1) series with marginal σ ``sigma`` and lag-one correlation ``rho``."""
    out = np.empty((n, *shape))
    out[0] = sigma * rng.standard_normal(shape)
    innov = sigma * np.sqrt(max(1.0 - rho * rho, 0.0))
    for s in range(1, n):
        out[s] = rho * out[s - 1] + innov * rng.standard_normal(shape)
    return out


def simulate_lot(sim: MixtureSimulator, det: DetectorModel, rng: np.random.Generator, n_segments: int,
                 n_spectra: int, *, profile: LotProfile | None = None, variation: LotVariation | None = None,
                 admix_index: int | None = None, mass_frac: float | np.ndarray = 0.0,
                 start_time_h: float | None = None) -> np.ndarray:
    """Measured reflectance (n_segments, n_spectra, n_channels) of consecutive segments of one lot.

    ``profile`` defaults to a random lot of ``sim``'s allowed ore/gangue samples; ``admix_index`` is the library
    entry admixed at ``mass_frac`` (scalar or (n_segments,)) of the mass; ``start_time_h`` hours since the
    instrument was powered on (random within a day when None).
    """
    v = variation or LotVariation()
    if profile is None:
        profile = draw_lots(sim, rng, 1)[0]
    n_seg, n_sp = int(n_segments), int(n_spectra)
    blend = profile.blend
    z = _ar1(rng, n_seg, blend.shape, v.comp_sigma, v.comp_rho)
    base = blend[None, :] * np.exp(z)
    base /= base.sum(axis=1, keepdims=True)
    comps = sim.jitter(base, rng, n_sp)
    frac = np.broadcast_to(np.asarray(mass_frac, float), (n_seg,))
    if admix_index is not None and np.any(frac > 0):
        local = np.clip(np.repeat(frac, n_sp) * rng.gamma(4.0, 0.25, comps.shape[0]), 0.0, 0.95)
        comps = sim.admix(comps, int(admix_index), local)
    g_seg = profile.grain_factor * np.exp(_ar1(rng, n_seg, (), v.grain_sigma, v.comp_rho))
    m_seg = np.clip(profile.moisture_frac + _ar1(rng, n_seg, (), v.moisture_sigma, v.comp_rho), 0.0, None)
    grain = np.repeat(g_seg, n_sp) * rng.lognormal(0.0, 0.05, comps.shape[0])
    moist = np.clip(np.repeat(m_seg, n_sp) + 0.003 * rng.standard_normal(comps.shape[0]), 0.0, None)
    scene = sim.render(comps, rng, grain_factor=grain, moisture_frac=moist)
    t0_s = 3600.0 * (rng.uniform(0.0, 24.0) if start_time_h is None else float(start_time_h))
    t_s = t0_s + (np.arange(n_seg * n_sp) + rng.uniform()) * (v.segment_duration_s / n_sp)
    age_s = np.mod(t_s - t0_s + rng.uniform(0.0, v.reference_interval_s), v.reference_interval_s)
    r = simulate_referenced(det, scene, rng, t_s / 3600.0, age_s / 3600.0)
    return r.reshape(n_seg, n_sp, -1)

