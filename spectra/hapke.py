"""Hapke radiative transfer for intimate particulate mixtures.

Reflectance factor of a semi-infinite layer of isotropic scatterers (Hapke 1981, 2012) with the
Chandrasekhar H-function approximation ``H(x) = (1 + 2x) / (1 + 2x·sqrt(1 - w))``::

    REFF(w) = w / (4 (μ0 + μ)) · H(μ0) · H(μ)

for illumination at 30° and nadir view by default (μ0 = cos 30°, μ = 1). Intimate mixtures are linear
in single-scattering albedo ``w`` weighted by geometric cross-section, i.e. by mass fraction /
(density × grain diameter). Grain size enters through Hapke's equivalent-slab model: the internal
transmission Θ of a grain scales as Θ^((D'/D)^β) when the sieve diameter changes from D to D'. For a slab
Θ = exp(-α D), β = 1; measured on the real hematite GDS69 series (seven sieve fractions, 150–250 µm to < 10 µm,
``oreline spectra evaluate`` section "Grain size"), the optical path grows only as the square root of the sieve
size: β = 1 mispredicts one fraction from another by 0.099 RMS reflectance, β = 0.5 by 0.035.
"""

from __future__ import annotations

import numpy as np

from spectra.water_constants import N_WATER, water_alpha_per_cm

MU0_DEFAULT = float(np.cos(np.deg2rad(30.0)))
MU_DEFAULT = 1.0
#: External (S_e) and internal (S_i) surface reflection coefficients of a grain (typical silicates/oxides).
S_E = 0.06
S_I = 0.60
#: Exponent of the sieve-size ratio acting on the grain's optical path (see module docstring).
GRAIN_PATH_EXPONENT = 0.5
#: Identifies the mixing/grain/moisture physics in model keys (changes when the physics does).
MIXING_MODEL = "hapke-xs-v2/grain-beta0.5/water-v3-segelstein-lekner-dorf-above-saturation"


def reff_from_ssa(w: np.ndarray, mu0: float = MU0_DEFAULT, mu: float = MU_DEFAULT) -> np.ndarray:
    """Reflectance factor (fraction) from single-scattering albedo ``w`` in [0, 1] (any shape)."""
    w = np.clip(np.asarray(w, dtype=float), 0.0, 1.0)
    gamma = np.sqrt(1.0 - w)
    h0 = (1.0 + 2.0 * mu0) / (1.0 + 2.0 * mu0 * gamma)
    h = (1.0 + 2.0 * mu) / (1.0 + 2.0 * mu * gamma)
    return w / (4.0 * (mu0 + mu)) * h0 * h


def ssa_from_reff(reff: np.ndarray, mu0: float = MU0_DEFAULT, mu: float = MU_DEFAULT) -> np.ndarray:
    """Single-scattering albedo from reflectance factor (inverse of :func:`reff_from_ssa`), any shape.

    Values are clipped to the physical range [0, REFF(1)]. With γ = √(1 − w), :func:`reff_from_ssa` is
    ``r = C (1 − γ²) / (K (1 + 2μ₀γ)(1 + 2μγ))`` (K = 4(μ₀ + μ), C = (1 + 2μ₀)(1 + 2μ)), a quadratic in γ solved
    in closed form (exact, and several times faster than a table look-up over 501 channels).
    """
    k, c = 4.0 * (mu0 + mu), (1.0 + 2.0 * mu0) * (1.0 + 2.0 * mu)
    kr = k * np.clip(np.asarray(reff, dtype=float), 0.0, c / k)
    a = 4.0 * mu0 * mu * kr + c
    b = 2.0 * (mu0 + mu) * kr
    gamma = (np.sqrt(np.maximum(b * b - 4.0 * a * (kr - c), 0.0)) - b) / (2.0 * a)
    return 1.0 - gamma * gamma


def theta_from_ssa(w: np.ndarray) -> np.ndarray:
    """Grain internal transmission Θ in [0, 1] from albedo (equivalent-slab model inverted)."""
    y = np.clip((np.asarray(w, float) - S_E) / (1.0 - S_E), 0.0, 1.0)
    return y / (1.0 - S_I + S_I * y)


def ssa_from_theta(theta: np.ndarray) -> np.ndarray:
    """Albedo from grain internal transmission Θ (equivalent-slab model)."""
    t = np.clip(np.asarray(theta, float), 0.0, 1.0)
    return S_E + (1.0 - S_E) * (1.0 - S_I) * t / (1.0 - S_I * t)


def scale_grain_size(w: np.ndarray, factor: np.ndarray | float, exponent: float = GRAIN_PATH_EXPONENT) -> np.ndarray:
    """Albedo after changing sieve grain diameter by ``factor`` (> 1 coarser: deeper bands, darker)."""
    theta = theta_from_ssa(w)
    f = np.asarray(factor, float) ** exponent
    return np.maximum(np.minimum(ssa_from_theta(theta ** f), 1.0), np.minimum(w, S_E))


def intimate_mixture(mass_frac: np.ndarray, ssa: np.ndarray, density_g_cm3: np.ndarray,
                     grain_um: np.ndarray) -> np.ndarray:
    """Albedo (..., n_channels) of intimate mixtures: mass fractions (..., k) of components with albedo (k, n),
    density and grain size (k,) → cross-section-weighted mean albedo (Hapke 2012, eq. 10.1 and 10.3)."""
    return cross_section_fractions(mass_frac, density_g_cm3, grain_um) @ np.asarray(ssa, float)


def cross_section_fractions(mass_fraction: np.ndarray, density_g_cm3: np.ndarray, grain_um: np.ndarray) -> np.ndarray:
    """Relative geometric cross-section of each component: m / (ρ D), rows normalised to 1.

    ``mass_fraction`` (..., k); ``density_g_cm3`` and ``grain_um`` broadcast to it.
    """
    x = np.asarray(mass_fraction, float) / (np.asarray(density_g_cm3, float) * np.asarray(grain_um, float))
    s = x.sum(axis=-1, keepdims=True)
    return np.divide(x, s, out=np.zeros_like(x), where=s > 0)


def mass_fractions(cross_section: np.ndarray, density_g_cm3: np.ndarray, grain_um: np.ndarray) -> np.ndarray:
    """Inverse of :func:`cross_section_fractions`: mass fractions from cross-section fractions."""
    x = np.asarray(cross_section, float) * np.asarray(density_g_cm3, float) * np.asarray(grain_um, float)
    s = x.sum(axis=-1, keepdims=True)
    return np.divide(x, s, out=np.zeros_like(x), where=s > 0)


def water_absorption_per_cm(wavelength_nm: np.ndarray) -> np.ndarray:
    """Absorption coefficient of liquid water (1/cm), α = 4πk/λ from its measured optical constants (Segelstein
    1981, continuing Hale & Querry 1973; :mod:`spectra.water_constants`): 0.45, 31, 5.8, 124 and 25 cm⁻¹ at 970,
    1450, 1650, 1940 and 2120 nm."""
    return water_alpha_per_cm(wavelength_nm)


#: Particles and density the moisture path refers to: the line's ore fines (µm, g/cm³; cf. spectra.scene.GRAIN_UM).
WET_GRAIN_UM = 150.0
WET_SOLID_DENSITY_G_CM3 = 4.6


def water_path_cm(moisture_frac: np.ndarray | float, grain_um: float = WET_GRAIN_UM,
                  solid_density_g_cm3: np.ndarray | float = WET_SOLID_DENSITY_G_CM3) -> np.ndarray:
    """Path through liquid water per grain traversal (cm): the pore water's volume per volume of solid,
    ``m / (1 - m) · ρ_solid / ρ_water``, times the grain diameter (the water held between and around the grains
    is crossed once per grain the light crosses). 8 % moisture on 150 µm ore fines: 0.40 × 150 µm = 60 µm."""
    m = np.clip(np.asarray(moisture_frac, float), 0.0, 0.95)
    return m / (1.0 - m) * solid_density_g_cm3 * grain_um * 1e-4


#: Porosity of packed moist fines (random packing of angular grains: 0.35–0.45); with the solid density it sets the
#: moisture that fills the pores (:func:`pore_saturation_frac`).
PACKED_POROSITY = 0.4


def pore_saturation_frac(porosity: float = PACKED_POROSITY,
                         solid_density_g_cm3: np.ndarray | float = WET_SOLID_DENSITY_G_CM3) -> np.ndarray | float:
    """Moisture (water mass / wet mass) that fills the pores: φ ρ_w / (φ ρ_w + (1 - φ) ρ_s); 0.127 for ore fines."""
    return porosity / (porosity + (1.0 - porosity) * solid_density_g_cm3)


def _fresnel(cos_i: np.ndarray, n: float) -> np.ndarray:
    """Unpolarised Fresnel reflectance of a plane interface into relative index ``n`` at incidence cos ``cos_i``."""
    sin_t = np.sqrt(1.0 - cos_i * cos_i) / n
    cos_t = np.sqrt(np.maximum(1.0 - sin_t * sin_t, 0.0))
    rs = ((cos_i - n * cos_t) / (cos_i + n * cos_t)) ** 2
    rp = ((n * cos_i - cos_t) / (n * cos_i + cos_t)) ** 2
    return 0.5 * (rs + rp)


def water_interface(mu0: float = MU0_DEFAULT, n: float = N_WATER) -> tuple[float, float]:
    """Reflectances of the air–water surface of a wet layer (Lekner & Dorf 1988): the external one for the
    illumination (Fresnel at μ0) and the internal one for diffuse light from below, 1 - (1 - r̄_e) / n² with r̄_e
    the hemispherical external reflectance (0.47 for water: the light trapped that darkens wet ground)."""
    mu = np.linspace(0.0, 1.0, 2001)
    f = _fresnel(mu, n) * 2.0 * mu
    r_hemi = float(np.sum((f[1:] + f[:-1]) * 0.5 * np.diff(mu)))
    return float(_fresnel(np.array(mu0), n)), 1.0 - (1.0 - r_hemi) / n ** 2


R_EXTERNAL, R_INTERNAL = water_interface()


def wet_surface(reff: np.ndarray, wetted_frac: np.ndarray | float) -> np.ndarray:
    """Reflectance of a particulate surface of reflectance ``reff`` (under the water) whose ``wetted_frac`` is
    covered by water (Lekner & Dorf 1988, Appl. Opt. 27:1278; the MARMIT form, Bablet et al. 2018): light enters
    through the water surface, and what the grains return is partly reflected back down by it, for another
    chance to be absorbed: r_e + (1 - r_e)(1 - r_i) R / (1 - r_i R), no free parameter."""
    r = np.asarray(reff, float)
    film = R_EXTERNAL + (1.0 - R_EXTERNAL) * (1.0 - R_INTERNAL) * r / (1.0 - R_INTERNAL * r)
    return wetted_frac * film + (1.0 - wetted_frac) * r


def wet(w: np.ndarray, moisture_frac: np.ndarray | float, alpha_water_cm: np.ndarray,
        grain_um: float = WET_GRAIN_UM,
        solid_density_g_cm3: np.ndarray | float = WET_SOLID_DENSITY_G_CM3) -> np.ndarray:
    """Albedo of grains wetted by ``moisture_frac`` (mass of water / wet mass), all from water's constants:

    * the pore water absorbs: the internal transmission Θ is multiplied by exp(-α_water · :func:`water_path_cm`);
    * water beyond what the pores hold (:func:`pore_saturation_frac`) stands as a free surface over the grains,
      which traps light (:func:`wet_surface`); it covers the surface in proportion to the excess, all of it once
      the excess equals the pore water (a slurry, like the wet tunnel sludge). Below saturation the water sits in
      the pores and menisci between the grains and only absorbs.

    ``solid_density_g_cm3`` (scalar or one per row): the solid the water wets; the same mass of water is 3× the
    volume per volume of solid on wood (1.5 g/cm³) as on ore fines (4.6 g/cm³) — a third of the path.

    Returned as the albedo whose reflectance factor (default geometry) is the wet surface's."""
    m = np.asarray(moisture_frac, float)[..., None] if np.ndim(moisture_frac) else float(moisture_frac)
    rho_in = np.asarray(solid_density_g_cm3, float)
    rho: np.ndarray | float = rho_in[..., None] if rho_in.ndim else float(rho_in)
    theta = theta_from_ssa(w) * np.exp(-alpha_water_cm * water_path_cm(m, grain_um, rho))
    w_pore = ssa_from_theta(theta)
    m_sat = pore_saturation_frac(solid_density_g_cm3=rho)
    covered = np.clip((np.asarray(m) - m_sat) / m_sat, 0.0, 1.0)
    if not np.any(covered > 0.0):
        return w_pore
    return ssa_from_reff(wet_surface(reff_from_ssa(w_pore), covered))


def band_depth(reflectance: np.ndarray, wavelength_nm: np.ndarray, centre_nm: float = 1450.0,
               shoulders_nm: tuple[float, float] = (1300.0, 1650.0)) -> np.ndarray:
    """Continuum-removed band depth 1 - R(centre) / R_continuum(centre), the continuum a straight line between the
    reflectance at the two shoulders (..., channels) → (...)."""
    wl = np.asarray(wavelength_nm, float)
    r = np.asarray(reflectance, float)
    i0, i1, ic = (int(np.argmin(np.abs(wl - x))) for x in (*shoulders_nm, centre_nm))
    t = (wl[ic] - wl[i0]) / (wl[i1] - wl[i0])
    cont = (1.0 - t) * r[..., i0] + t * r[..., i1]
    return 1.0 - r[..., ic] / cont
