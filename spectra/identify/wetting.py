"""Moisture rendered as the material holds it: pore water in porous media, a surface film on closed surfaces.

* **Porous** (ore, gangue, rubble, wood, fabrics, powders): water fills the pores between and around the grains and
  is crossed once per grain traversal, many times per photon (Hapke, :func:`spectra.hapke.wet`). The path is the
  water's volume per volume of the item's own solid (:func:`spectra.identify.references.solid_density_g_cm3`):
  10 % water on wood (cellulose, 1.5 g/cm³) is three times the volume per solid it is on ore fines (4.6 g/cm³)
  by mass, a third of the path per traversal.
* **Non-porous** (plastics, metal, paint, glass fibre: :data:`spectra.identify.references.NONPOROUS_GROUPS`): the
  item takes up no water; wet, it carries a film of :func:`film_um` on top, which the light crosses once down and
  once up (Beer–Lambert, :func:`water_film`), with the liquid-water absorption of the pore-water model
  (:func:`spectra.hapke.water_absorption_per_cm`). Illumination at 30°, nadir view (the Hapke geometry); the film's
  specular reflection (~2 %) leaves at 30° and is not seen.

No real wet/dry pair of a non-porous item is in the shared data (the only wet/dry pair, tunnel sludge SM93-15(w),
is porous and checks the pore-water model: :func:`spectra.mixcheck.check_moisture`); the film is physics, unchecked
by a measurement.
"""

from __future__ import annotations

import numpy as np

from spectra.hapke import (
    MU0_DEFAULT,
    MU_DEFAULT,
    WET_SOLID_DENSITY_G_CM3,
    reff_from_ssa,
    water_absorption_per_cm,
    wet,
)

#: film thickness (µm) per unit of the moisture level: 5 % → 75 µm, 10 % → 150 µm (a drained rain film on a
#: sheet is about 0.05–0.2 mm; standing water is thicker and has no NIR signal left to identify)
FILM_UM_PER_MOISTURE = 1500.0


def film_um(moisture_frac: np.ndarray | float) -> np.ndarray:
    """Water film thickness (µm) standing for the moisture level ``moisture_frac`` on a non-porous item."""
    return np.asarray(moisture_frac, float) * FILM_UM_PER_MOISTURE


def water_film(reflectance: np.ndarray, wavelength_nm: np.ndarray, thickness_um: np.ndarray | float,
               mu0: float = MU0_DEFAULT, mu: float = MU_DEFAULT) -> np.ndarray:
    """Reflectance (…, n) of a surface under a water film of ``thickness_um`` (scalar or per row): the dry
    reflectance × exp(-α_water · d · (1/μ0 + 1/μ))."""
    d_cm = np.asarray(thickness_um, float) * 1e-4
    d_cm = d_cm[..., None] if d_cm.ndim else d_cm
    path = d_cm * (1.0 / mu0 + 1.0 / mu)
    return np.asarray(reflectance, float) * np.exp(-water_absorption_per_cm(wavelength_nm) * path)


def wet_albedo(w: np.ndarray, wavelength_nm: np.ndarray, moisture_frac: np.ndarray | float,
               porous: np.ndarray | bool,
               solid_density_g_cm3: np.ndarray | float = WET_SOLID_DENSITY_G_CM3) -> np.ndarray:
    """Reflectance (k, n) of single-scattering albedo rows ``w`` wetted by ``moisture_frac`` (scalar or (k,)):
    pore water in the albedo where ``porous`` (Hapke, against each row's ``solid_density_g_cm3``), a surface
    film on the reflectance elsewhere."""
    k = np.shape(w)[0]
    m = np.broadcast_to(np.asarray(moisture_frac, float), (k,))
    por = np.broadcast_to(np.asarray(porous, bool), (k,))
    rho = np.broadcast_to(np.asarray(solid_density_g_cm3, float), (k,))
    out = reff_from_ssa(w)
    pore = (m > 0) & por
    if pore.any():
        out[pore] = reff_from_ssa(wet(w[pore], m[pore], water_absorption_per_cm(wavelength_nm),
                                      solid_density_g_cm3=rho[pore]))
    film = (m > 0) & ~por
    if film.any():
        out[film] = water_film(out[film], wavelength_nm, film_um(m[film]))
    return out
