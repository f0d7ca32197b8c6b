"""The moisture model over the whole range against real measurements: the 1.45 and 1.93 µm bands and the
darkening of a wet sample between and beside them (w21h check; w21i model).

:func:`spectra.mixcheck.check_moisture` checks the 1.45 µm band on the line's grid. On the full range the 1.93 µm
band and the water's absorption *between* its bands matter too. The model (:func:`spectra.hapke.wet`) has no
parameter fitted to spectra — water's optical constants, the Fresnel reflectances of its surface and the pore
geometry of packed fines — so checking it on the shared data's only real wet/dry pair (tunnel sludge SM93-15 /
SM93-15w) is not circular. Measured here, on ``full``:

* the model applied to the dry sludge at the moisture whose 1.45 µm band is closest to the wet sludge's: its
  1.93 µm band depth and its wet/dry reflectance between the bands (1.65, 2.12 µm) and in the visible (0.5 µm,
  where a wet sample is *brighter*: the water surface's own reflection), against the measured wet sludge, each with
  a stated tolerance (:data:`TOLERANCES`) and a pass/fail;
* for information, the 1.93 µm band of real samples holding bound water or O–H (gypsum, wood, leaves) against the
  model's at the same 1.45 µm depth: their water is not liquid (bands shifted, other strengths), so no pass/fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import LibraryError
from spectra.grid import full_range
from spectra.hapke import band_depth, reff_from_ssa, ssa_from_reff, water_absorption_per_cm, wet
from spectra.library import SpectralLibrary

#: band centre and continuum shoulders (nm) of the two water bands
BANDS_NM = {"1.45": (1450.0, (1300.0, 1650.0)), "1.93": (1930.0, (1800.0, 2120.0))}
#: between the bands, where liquid water still absorbs (5.8 cm⁻¹ at 1.65 µm, 25 cm⁻¹ at 2.12 µm), and the
#: visible, where it does not (a wet sample's surface reflection shows)
BETWEEN_NM = (500.0, 1650.0, 2120.0)
#: stated tolerances: band depth within ±0.15 (absolute); wet/dry reflectance ratio within a factor 2 (the
#: w21h model was 5–7× too bright between the bands)
TOLERANCES = {"band_depth": 0.15, "wet_over_dry_factor": 2.0}
DRY, WET = "Renyolds Tnl Sludge SM93-15", "Renyolds TnlSldgWet SM93-15w"
#: real hydrated samples compared by their 1.93/1.45 µm depth ratio: a clear 1.45 µm band and a 1.93 µm band (the
#: combination band is molecular water's alone; C–H and bare O–H carriers — plastics, gibbsite — lack it)
HYDRATED_MIN_DEPTH_145 = 0.2
HYDRATED_MIN_DEPTH_193 = 0.1


@dataclass
class WaterBandCheck:
    moisture_reproducing_wet: float
    measured_depth: dict[str, float]
    model_depth: dict[str, float]
    measured_wet_over_dry: dict[str, float]
    model_wet_over_dry: dict[str, float]
    hydrated: list[tuple[str, float, float, float]]  # name, depth 1.45, depth 1.93 measured, 1.93 model

    def failures(self) -> list[str]:
        """What is outside :data:`TOLERANCES` (empty: the check passes)."""
        out = [f"{k} µm band depth {self.model_depth[k]:.3f} vs {v:.3f} measured"
               for k, v in self.measured_depth.items() if abs(self.model_depth[k] - v) > TOLERANCES["band_depth"]]
        f = TOLERANCES["wet_over_dry_factor"]
        out += [f"wet/dry at {k} nm {self.model_wet_over_dry[k]:.2f} vs {v:.2f} measured"
                for k, v in self.measured_wet_over_dry.items() if not 1.0 / f <= self.model_wet_over_dry[k] / v <= f]
        return out

    @property
    def passed(self) -> bool:
        return not self.failures()


def _depths(r: np.ndarray, wl: np.ndarray) -> dict[str, float]:
    return {k: float(band_depth(r, wl, c, sh)) for k, (c, sh) in BANDS_NM.items()}


def check_water_bands(library: SpectralLibrary) -> WaterBandCheck:
    """The pore-water model on the full range against the wet/dry sludge and real hydrated samples."""
    grid = full_range()
    wl = grid.wavelength_nm
    rlib = library.resample(grid, skip_uncovered=True)
    names = [e.usgs_name for e in rlib.entries]
    if DRY not in names or WET not in names:
        raise LibraryError("the water-band check needs the wet/dry tunnel sludge SM93-15(w) on 400–2400 nm")
    dry, wet_r = rlib.reflectance[names.index(DRY)], rlib.reflectance[names.index(WET)]
    alpha = water_absorption_per_cm(wl)
    w_dry = ssa_from_reff(np.clip(dry, REFLECTANCE_FLOOR, None))
    m_grid = np.linspace(0.0, 0.6, 241)
    curve = reff_from_ssa(wet(np.repeat(w_dry[None, :], m_grid.size, 0), m_grid, alpha))
    c145, sh145 = BANDS_NM["1.45"]
    c193, sh193 = BANDS_NM["1.93"]
    d145 = band_depth(curve, wl, c145, sh145)
    d193 = band_depth(curve, wl, c193, sh193)
    measured = _depths(wet_r, wl)
    k = int(np.argmin(np.abs(d145 - measured["1.45"])))
    at = [int(np.argmin(np.abs(wl - x))) for x in BETWEEN_NM]
    hydrated = []
    for name, r in zip(names, rlib.reflectance):
        d = _depths(r, wl)
        if d["1.45"] >= HYDRATED_MIN_DEPTH_145 and d["1.93"] >= HYDRATED_MIN_DEPTH_193 and name not in (DRY, WET):
            j = int(np.argmin(np.abs(d145 - d["1.45"])))  # the model at the same 1.45 µm depth
            hydrated.append((name, d["1.45"], d["1.93"], float(d193[j])))
    return WaterBandCheck(float(m_grid[k]), measured, {"1.45": float(d145[k]), "1.93": float(d193[k])},
                          {f"{wl[i]:.0f}": float(wet_r[i] / dry[i]) for i in at},
                          {f"{wl[i]:.0f}": float(curve[k, i] / dry[i]) for i in at}, hydrated)


def water_markdown(c: WaterBandCheck) -> list[str]:
    """The check as report lines."""
    verdict = "**PASS**" if c.passed else "**FAIL**: " + "; ".join(c.failures())
    out = [f"Full range (400–2400 nm), wet/dry tunnel sludge SM93-15(w), model with water's optical constants "
           f"(Segelstein 1981) and the wet surface of Lekner & Dorf 1988, nothing fitted: the model's 1.45 µm band "
           f"closest to the wet sludge's {c.measured_depth['1.45']:.3f} is {c.model_depth['1.45']:.3f}, at "
           f"{100 * c.moisture_reproducing_wet:.0f} % water; its 1.93 µm band there is {c.model_depth['1.93']:.3f} "
           f"against {c.measured_depth['1.93']:.3f} measured. Wet / dry reflectance "
           + ", ".join(f"{k} nm {v:.2f} measured vs {c.model_wet_over_dry[k]:.2f} model"
                       for k, v in c.measured_wet_over_dry.items())
           + f". Tolerances: band depth ±{TOLERANCES['band_depth']}, wet/dry within a factor "
           f"{TOLERANCES['wet_over_dry_factor']:.0f}: {verdict}.", "",
           "For information, real samples with bound water or O–H (1.45 µm band ≥ 0.2 and a 1.93 µm band ≥ 0.1): "
           "the model's 1.93 µm band at the same 1.45 µm depth (their water is not liquid water).", "",
           "| real hydrated sample | depth 1.45 µm | depth 1.93 µm measured | model at the same 1.45 µm depth |",
           "|---|---|---|---|"]
    out += [f"| {n} | {a:.3f} | {b:.3f} | {m:.3f} |" for n, a, b, m in c.hydrated]
    return out
