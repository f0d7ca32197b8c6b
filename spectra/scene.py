"""What the spectrometer looks at: intimate mixtures of library endmembers on the belt.

Ore blends are drawn from the ``ore`` and ``gangue`` classes (1–3 ore spectra, 1–3 gangue spectra with
``gangue_frac_range`` of the mass); waste and contaminant admixtures are added at given mass fractions.
Mixing is linear in single-scattering albedo weighted by cross-section (Hapke), then grain size, moisture,
illumination/distance and lamp-colour changes are applied. Everything is vectorised over spectra.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import LibraryError
from spectra.hapke import (intimate_mixture, reff_from_ssa, scale_grain_size, ssa_from_reff,
                           water_absorption_per_cm, wet)
from spectra.library import LibraryEntry, ResampledLibrary, load_library
from spectra.materials import density_g_cm3, mineral_of, proxy_indices

#: Typical grain (particle) diameter on the belt by class, µm: fines of ore, coarser gangue, chunky foreign matter
#: (``waste-phase``: the < 60 µm powders of usgs_splib07a_more; ``mixture``: not simulated). Synthetic waste
#: end-members carry their own particle size (:data:`spectra.materials.SYNTHETIC_WASTE`).
GRAIN_UM = {"ore": 150.0, "gangue": 250.0, "waste": 300.0, "contaminant": 2000.0, "waste-phase": 60.0,
            "mixture": 150.0}


def grain_um_of(entry: LibraryEntry) -> float:
    """Particle diameter (µm) of a library entry on the belt: the synthetic recipe's, else its class's."""
    return float(entry.spectrum.meta.get("grain_um", GRAIN_UM[entry.klass]))


@dataclass
class SceneConfig:
    """Variability of the material and of the viewing conditions (all relative unless a unit is named)."""

    gangue_frac_range: tuple[float, float] = (0.03, 0.35)
    grain_log_sigma: float = 0.35
    moisture_frac_range: tuple[float, float] = (0.06, 0.10)  # shipped fines: ~6–10 % water (docs/spectra.md)
    illumination_sigma: float = 0.06
    distance_sigma: float = 0.04
    tilt_sigma_per_um: float = 0.03
    heterogeneity: float = 0.25
    endmember_jitter: float = 0.02


class MixtureSimulator:
    """Draws compositions over the entries of a resampled library and renders their reflectance.

    ``allowed_groups`` restricts which physical samples may be used (train/test splits).
    Compositions are mass fractions over all library entries, shape (k, n_entries).
    """

    def __init__(self, library: ResampledLibrary, allowed_groups: Iterable[str] | None = None,
                 config: SceneConfig | None = None) -> None:
        self.library = library
        self.grid = library.grid
        self.config = config or SceneConfig()
        entries = library.entries
        allowed = set(allowed_groups) if allowed_groups is not None else None
        self.allowed = np.array([allowed is None or e.group in allowed for e in entries])
        self.classes = np.array([e.klass for e in entries])
        self.materials = [e.material for e in entries]
        self.density = np.array([density_g_cm3(e.material) for e in entries])
        self.grain_um = np.array([grain_um_of(e) for e in entries])
        self.ssa = ssa_from_reff(np.clip(library.reflectance, REFLECTANCE_FLOOR, None))
        self.alpha_water = water_absorption_per_cm(self.grid.wavelength_nm)
        self._x_um = (self.grid.wavelength_nm - self.grid.wavelength_nm.mean()) / 1000.0

    def pool(self, klass: str) -> np.ndarray:
        """Indices of allowed entries of ``klass``."""
        return np.nonzero((self.classes == klass) & self.allowed)[0]

    def proxies(self, category: str, key: str) -> np.ndarray:
        """Allowed entries standing for cargo material ``key`` (see :mod:`spectra.materials`)."""
        idx = [i for i in proxy_indices(category, key, self.materials, list(self.classes)) if self.allowed[i]]
        if not idx:
            raise LibraryError(f"{category} material {key!r}: its library proxies are all outside the allowed samples")
        return np.array(idx)

    # --- compositions ------------------------------------------------------------------------------
    def ore_blends(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` random ore blends (mass fractions, (n, n_entries))."""
        ore, gangue = self.pool("ore"), self.pool("gangue")
        if ore.size == 0 or gangue.size == 0:
            raise LibraryError("ore blends need at least one allowed ore and one allowed gangue spectrum")
        comp = np.zeros((n, len(self.classes)))
        rows = np.arange(n)
        lo, hi = self.config.gangue_frac_range
        g_frac = rng.uniform(lo, hi, n)
        for pool, total, kmax in ((ore, 1.0 - g_frac, 3), (gangue, g_frac, 3)):
            k = rng.integers(1, min(kmax, pool.size) + 1, n)
            w = rng.dirichlet(np.ones(kmax), n) * (np.arange(kmax)[None, :] < k[:, None])
            w /= w.sum(axis=1, keepdims=True)
            picks = pool[rng.integers(0, pool.size, (n, kmax))]
            for j in range(kmax):
                np.add.at(comp, (rows, picks[:, j]), w[:, j] * total)
        return comp

    def jitter(self, comp: np.ndarray, rng: np.random.Generator, n_each: int, sigma: float | None = None) -> np.ndarray:
        """``n_each`` local variations of each composition, (k·n_each, n_entries): every mass fraction is
        multiplied by a lognormal factor (``sigma``, default the heterogeneity within a segment) and renormalised."""
        rep = np.repeat(comp, n_each, axis=0)
        f = rng.lognormal(0.0, self.config.heterogeneity if sigma is None else sigma, rep.shape)
        out = rep * f
        return out / out.sum(axis=1, keepdims=True)

    @staticmethod
    def admix(comp: np.ndarray, index: np.ndarray | int, mass_frac: np.ndarray | float) -> np.ndarray:
        """Add entry ``index`` (per row or one for all) at ``mass_frac`` of the mass; other parts scale by 1 - f."""
        comp = np.asarray(comp, float)
        f = np.broadcast_to(np.asarray(mass_frac, float), (comp.shape[0],))
        out = comp * (1.0 - f)[:, None]
        idx = np.broadcast_to(np.asarray(index, int), (comp.shape[0],))
        np.add.at(out, (np.arange(comp.shape[0]), idx), f)
        return out

    # --- rendering --------------------------------------------------------------------------------
    def render(self, comp: np.ndarray, rng: np.random.Generator | None = None, *, conditions: bool = True,
               grain_factor: np.ndarray | float | None = None, moisture_frac: np.ndarray | float | None = None,
               scale: np.ndarray | float | None = None) -> np.ndarray:
        """Scene reflectance (k, n_channels) for compositions (k, n_entries).

        With ``conditions`` and an ``rng``, grain size, moisture, illumination/distance and lamp tilt are
        drawn per spectrum unless given. Without, the clean Hapke mixture is returned.
        """
        comp = np.atleast_2d(np.asarray(comp, float))
        k = comp.shape[0]
        cfg = self.config
        used = np.flatnonzero(comp.any(axis=0))  # a blend uses a few of the library's entries
        w = intimate_mixture(comp[:, used], self.ssa[used], self.density[used], self.grain_um[used])
        if conditions and rng is not None:
            g = rng.lognormal(0.0, cfg.grain_log_sigma, k) if grain_factor is None else grain_factor
            m = rng.uniform(*cfg.moisture_frac_range, k) if moisture_frac is None else moisture_frac
        else:
            g = 1.0 if grain_factor is None else grain_factor
            m = 0.0 if moisture_frac is None else moisture_frac
        if np.any(np.asarray(g) != 1.0):
            w = scale_grain_size(w, np.asarray(g, float)[..., None] if np.ndim(g) else g)
        if np.any(np.asarray(m) != 0.0):
            w = wet(w, m, self.alpha_water)
        if conditions and rng is not None and cfg.endmember_jitter > 0:
            # sample-to-sample variability of the endmembers: a smooth multiplicative ripple in albedo
            ripple = 1.0 + cfg.endmember_jitter * (rng.standard_normal((k, 1)) * self._x_um
                                                   + rng.standard_normal((k, 1)) * (self._x_um ** 2 - 0.05))
            w = np.clip(w * ripple, 0.0, 1.0)
        r = reff_from_ssa(w)
        if conditions and rng is not None:
            if scale is None:
                scale = (1.0 + cfg.illumination_sigma * rng.standard_normal(k)) * (
                    1.0 + cfg.distance_sigma * rng.standard_normal(k)) ** -2
            tilt = 1.0 + cfg.tilt_sigma_per_um * rng.standard_normal((k, 1)) * self._x_um
            r = r * np.asarray(scale, float).reshape(-1, 1) * tilt
        elif scale is not None:
            r = r * np.asarray(scale, float).reshape(-1, 1)
        return r


@dataclass
class LotProfile:
    """A lot's material: one ore blend (mass fractions over library entries), grain factor and moisture."""

    blend: np.ndarray
    grain_factor: float
    moisture_frac: float


#: Variation between the segments of one lot: composition (lognormal σ of each mass fraction), grain
#: size (lognormal σ) and moisture (absolute σ).
LOT_SEGMENT_DRIFT = (0.10, 0.05, 0.005)


def draw_lots(sim: MixtureSimulator, rng: np.random.Generator, n_lots: int) -> list[LotProfile]:
    """Random lot profiles (one declared product each)."""
    blends = sim.ore_blends(rng, n_lots)
    cfg = sim.config
    return [LotProfile(b, float(rng.lognormal(0.0, cfg.grain_log_sigma)), float(rng.uniform(*cfg.moisture_frac_range)))
            for b in blends]


#: lot-to-lot variation of one declared product (lognormal σ of each mass fraction; grain-size σ). An
#: assumption: equal to the segment-to-segment σ within a lot. Field data (archived lots of a brand) should set it.
PRODUCT_LOT_SIGMA = (0.10, 0.10)


def product_lot(sim: MixtureSimulator, rng: np.random.Generator, product: LotProfile,
                sigma: tuple[float, float] = PRODUCT_LOT_SIGMA) -> LotProfile:
    """One lot of a declared product: its blend with every mass fraction × exp(z), z ~ N(0, ``sigma[0]``), grain
    size × lognormal(``sigma[1]``), and the lot's own moisture (uniform over the scene's range: weather)."""
    z = rng.normal(0.0, sigma[0], product.blend.size)
    blend = product.blend * np.exp(z)
    return LotProfile(blend / blend.sum(), product.grain_factor * float(rng.lognormal(0.0, sigma[1])),
                      float(rng.uniform(*sim.config.moisture_frac_range)))


class CargoScene:
    """The material under the probe on a simulated line, from a :class:`conveyor.cargo.CargoModel`.

    The declared product (``cargo.declared_product``) is one random ore blend per product name, the same in
    every run; each lot is a lot of it (:func:`product_lot`: blend, grain size and moisture vary from lot to lot), drawn
    from ``seed`` and the number of lots this scene has started (reproducible for a seed; lot ids carry a
    random suffix), so archives of a simulated line can build product fingerprints. Within the lot the material
    varies as :mod:`spectra.lots` assumes: per ``segment_mass_t`` of lot-relative tonnage every mass fraction
    is multiplied by ``exp(z)``, grain size by ``exp(g)`` and moisture shifted, all AR(1) over segments with
    σ :data:`LOT_SEGMENT_DRIFT` and lag-one correlation ``drift_rho``; each spectrum adds the spot-to-spot
    heterogeneity. Admixtures of the cargo between two lot-relative marks are added at their overlap-weighted
    mass fraction (locally gamma-distributed), drawn from the library spectra that stand for their material
    key (:mod:`spectra.materials`). Unknown material keys raise :class:`LibraryError` at construction.
    """

    def __init__(self, grid, cargo, seed: int = 0, library: ResampledLibrary | None = None,
                 segment_mass_t: float = 100.0, drift_rho: float = 0.8) -> None:
        if library is None:
            library = load_library().resample(grid, skip_uncovered=True)
        if not segment_mass_t > 0:
            raise ValueError(f"segment_mass_t: expected > 0 t, got {segment_mass_t}")
        self.sim = MixtureSimulator(library)
        self.cargo = cargo
        self.seed = int(seed)
        self.segment_mass_t = float(segment_mass_t)
        self.drift_rho = float(drift_rho)
        self._proxies: dict[tuple[str, str], Any] = {}
        for adm in cargo.admixtures:
            key = (adm.category, adm.material)
            if key not in self._proxies:
                self._proxies[key] = self.sim.proxies(adm.category, adm.material)
        self.lots_started = 0
        # the declared product: one blend per product name (any seed, any run); each lot is a lot of it
        product_seed = zlib.crc32(cargo.declared_product.strip().lower().encode("utf-8"))
        self.product = draw_lots(self.sim, np.random.default_rng(product_seed), 1)[0]
        self._new_lot(np.random.default_rng(self.seed))

    def _new_lot(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.lot = product_lot(self.sim, rng, self.product)
        self._drift_rng = np.random.default_rng(rng.integers(2 ** 63))
        self._drift: list[tuple[np.ndarray, float, float]] = []  # (blend, grain factor, moisture) per segment
        self._z: tuple[np.ndarray, float, float]  # the latest segment's drift state (log blend, grain, moisture)

    def start_lot(self, lot_id: str) -> None:
        """Draw the next lot's material (reproducible for a seed and the lot's order; ``lot_id`` is not used
        because line lot ids carry a random suffix)."""
        self.lots_started += 1
        self._new_lot(np.random.default_rng([self.seed, self.lots_started]))

    def segment_material(self, rel_t: float) -> tuple[np.ndarray, float, float]:
        """Blend (n_entries,), grain factor and moisture of the lot segment holding lot-relative mark ``rel_t``."""
        k = max(0, int(rel_t // self.segment_mass_t))
        comp_s, grain_s, moist_s = LOT_SEGMENT_DRIFT
        rho, rng = self.drift_rho, self._drift_rng
        innov = np.sqrt(max(1.0 - rho * rho, 0.0))
        n = self.lot.blend.size
        while len(self._drift) <= k:
            if self._drift:
                prev = self._z
                self._z = (rho * prev[0] + innov * comp_s * rng.standard_normal(n),
                           rho * prev[1] + innov * grain_s * rng.standard_normal(),
                           rho * prev[2] + innov * moist_s * rng.standard_normal())
            else:
                self._z = (comp_s * rng.standard_normal(n), grain_s * rng.standard_normal(),
                           moist_s * rng.standard_normal())
            blend = self.lot.blend * np.exp(self._z[0])
            self._drift.append((blend / blend.sum(), self.lot.grain_factor * float(np.exp(self._z[1])),
                                max(0.0, self.lot.moisture_frac + float(self._z[2]))))
        return self._drift[k]

    def composition(self, from_rel_t: float, to_rel_t: float) -> np.ndarray:
        """Mass fractions (n_entries,) of the material between two lot-relative marks."""
        blend, _, _ = self.segment_material(to_rel_t)
        comp = self.sim.jitter(blend[None, :], self.rng, 1)
        span = max(to_rel_t - from_rel_t, 1e-9)
        a, b = (from_rel_t, to_rel_t) if to_rel_t > from_rel_t else (to_rel_t - 1e-9, to_rel_t + 1e-9)
        for adm, overlap in self.cargo.admixtures_between(a, b):
            frac = adm.mass_fraction * min(1.0, overlap / span) * float(self.rng.gamma(4.0, 0.25))
            pool = self._proxies[(adm.category, adm.material)]
            comp = self.sim.admix(comp, pool[self.rng.integers(0, pool.size)], min(frac, 0.95))
        return comp[0]

    def reflectance(self, from_rel_t: float, to_rel_t: float) -> np.ndarray:
        """Scene reflectance (n_channels,) of the material between two lot-relative marks."""
        comp = self.composition(from_rel_t, to_rel_t)
        _, grain, moist = self.segment_material(to_rel_t)
        g = grain * float(self.rng.lognormal(0.0, 0.05))
        m = max(0.0, moist + 0.003 * float(self.rng.standard_normal()))
        self.last_truth = (comp, m)
        return self.sim.render(comp[None, :], self.rng, grain_factor=g, moisture_frac=m)[0]

    def truth_fractions(self, components: list[str]) -> np.ndarray:
        """Simulated mass fractions of the wet material last rendered by :meth:`reflectance`, over ``components``
        (unmixing minerals, optionally ``"water"``; the last entry takes every other mass: waste, contaminant,
        unmapped samples). NaN before the first spectrum."""
        out = np.full(len(components), np.nan)
        if getattr(self, "last_truth", None) is None:
            return out
        comp, m = self.last_truth
        index = {c: i for i, c in enumerate(components)}
        other = len(components) - 1
        col = np.array([index.get(mineral_of(e.material) or "", other) if e.klass in ("ore", "gangue") else other
                        for e in self.sim.library.entries])
        out[:] = 0.0
        np.add.at(out, col, comp)
        if "water" in index:
            out *= 1.0 - m
            out[index["water"]] = m
        return out
