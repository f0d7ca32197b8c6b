"""How much water band the moisture renderings give wood and fabrics, against what real air-dry wood shows (w21j).

The shared data hold no wet/dry pair of a cellulose item (nor of any non-porous one), so the pore-water path of
wood, fabrics and paper (:func:`spectra.identify.references.solid_density_g_cm3`) cannot be checked as the
sludge's is. What can be compared: real air-dry wood, board, fabric and dry leaves hold bound water at
equilibrium with the room (about 8–12 % of their mass at 40–65 % relative humidity; USDA Wood Handbook, ch. 4),
and their measured 1.93 µm H₂O band shows how deep that much water makes the band in cellulose. The model adds
5 % water to the driest real cellulose spectrum (the lab powder) against cellulose's solid density (1.5 g/cm³)
and against the ore fines' (4.6 g/cm³, the w21i renderings). Bound water is not liquid water (shifted, narrower
bands), so no pass/fail: the figure says which path is nearer the measurements.
"""

from __future__ import annotations

import numpy as np

from spectra.constants import REFLECTANCE_FLOOR
from spectra.hapke import WET_SOLID_DENSITY_G_CM3, band_depth, reff_from_ssa, ssa_from_reff, water_absorption_per_cm
from spectra.hapke import wet as wet_albedo_rows

#: the 1.93 µm H₂O band and its continuum shoulders (nm)
BAND_NM, SHOULDERS_NM = 1930.0, (1800.0, 2120.0)
#: the group checked, the driest real spectrum of it (its own 1.93 µm band is the shallowest) and the dark items
#: left out (tar paper: bitumen-soaked, no continuum to measure a band on)
GROUP, DRY_NAME, LEFT_OUT = "wood / cellulose", "Cellulose SA-C6288", ("Tar Paper", "Tar_Paper")
ADDED_WATER_FRAC = 0.05


def cellulose_water(references, reflectance: np.ndarray, wavelength_nm: np.ndarray) -> dict | None:
    """1.93 µm band depths: measured air-dry cellulose items (min / median / max) and the model's on the driest
    one with :data:`ADDED_WATER_FRAC` water at cellulose's and at ore's solid density; None off the band."""
    wl = np.asarray(wavelength_nm, float)
    if wl.max() < SHOULDERS_NM[1] or wl.min() > SHOULDERS_NM[0]:
        return None
    rows = [i for i, r in enumerate(references) if r.group == GROUP and not r.name.startswith(LEFT_OUT)]
    dry = [i for i in rows if references[i].name == DRY_NAME]
    if not dry:
        return None
    measured = band_depth(reflectance[rows], wl, BAND_NM, SHOULDERS_NM)
    w = ssa_from_reff(np.clip(reflectance[dry], REFLECTANCE_FLOOR, 0.999))
    alpha = water_absorption_per_cm(wl)
    rho = references[dry[0]].solid_density_g_cm3
    model = {f"{x:.2f}": float(band_depth(reff_from_ssa(wet_albedo_rows(w, ADDED_WATER_FRAC, alpha,
                                                                         solid_density_g_cm3=x)), wl,
                                          BAND_NM, SHOULDERS_NM)[0])
             for x in (rho, WET_SOLID_DENSITY_G_CM3)}
    return {"n": len(rows), "measured": [float(np.min(measured)), float(np.median(measured)),
                                         float(np.max(measured))],
            "dry_own": float(band_depth(reflectance[dry], wl, BAND_NM, SHOULDERS_NM)[0]),
            "model_by_density": model, "added_water": ADDED_WATER_FRAC}


def markdown(c: dict | None) -> str:
    """The comparison as one report paragraph ('' off the band)."""
    if c is None:
        return ""
    m = c["measured"]
    model = "; ".join(f"{d} at {rho} g/cm³" for rho, d in
                      ((k, f"{v:.2f}") for k, v in c["model_by_density"].items()))
    return (f"Pore water in cellulose, against real air-dry wood (:mod:`spectra.identify.cellulose_water`; no "
            f"pass/fail, bound water is not liquid): the 1.93 µm band of {c['n']} real air-dry wood / board / "
            f"fabric / leaf spectra (about 8–12 % bound water) is {m[0]:.2f} / {m[1]:.2f} / {m[2]:.2f} deep (min / "
            f"median / max); the model adding {100 * c['added_water']:.0f} % water to the driest "
            f"({c['dry_own']:.2f} of its own) gives {model}.")
