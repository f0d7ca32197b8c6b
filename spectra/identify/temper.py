"""Confidence only with evidence: which class a spectrum's own absorption bands can support, and the dark case.

The fits and the learned decision rank classes; they do not know when a spectrum simply has nothing to show. Here
the physics does (issue 21, "confident errors to zero by evidence, not by luck"):

* **Positive evidence** (:func:`class_evidence`): ore needs none (it is the line's default material and is never
  the alarm); ``contaminant`` needs C–H overtones (:func:`organic`), which no ore or gangue mineral has. A class
  without evidence is **tempered**: its probability is capped at :data:`CAP` and the excess goes to ``unknown`` —
  never to ore. Tempering lowers the confidence, not the call: the identified class is the one ranked first
  before it (dark spectra apart).
* **The Fe²⁺ band is not evidence of slag** (:data:`FE2_IS_WASTE_EVIDENCE` False, measured): the broad
  1.0–1.1 µm band of slag glass, olivine and pyroxene (depth 0.14–0.39 in the references) is as deep in ferroan
  dolomite (0.28 at 1066 nm), siderite (0.08–0.24) and magnetite (0.10–0.12), all ore. Taken as evidence it left
  7 ore renderings called waste with p > 0.5 on ``ingaas256`` and 8 on ``full`` (leave one sample out), so
  ``waste`` is never confident per spectrum: slag is decided per segment by the lot detector.
* **Water is not C–H** (:func:`organic`): liquid water also absorbs at 1.20 µm. In the Hapke pore-water model
  (:func:`spectra.hapke.wet`, 3–20 % water on grey soils of albedo 0.1–0.6) water's 1.20 µm band is at most
  0.08 of its 1.45 µm band on all three grids; a 1.21 µm band counts as C–H only above
  :data:`WATER_RATIO_121_145` × the 1.45 µm depth.
* **Ore needs evidence too** (:func:`ore_evidence`, the site option ``ore_needs_evidence``, on by default): no ore
  or gangue mineral has C–H, so a spectrum with a trace of C–H (:func:`ch_trace`) and no Fe³⁺ band gets p(ore) ≤
  :data:`CAP` — the mirror of the rule above, for contaminants called ore.
* **Dark and featureless** (:func:`dark`): below mean reflectance :data:`DARK_ALBEDO` (780 nm on) without C–H,
  magnetite ore, mill scale, pyrite, black plastic, rubber, tar and carbon black look alike in NIR. Such a spectrum
  is ``unknown`` with the group :data:`DARK_GROUP` (p(unknown) ≥ :data:`DARK_P_UNKNOWN`); on the line its share is
  compared with the lot's own baseline (:mod:`spectra.identify.unknown_rate`) and the camera sees the object.
"""

from __future__ import annotations

import numpy as np

#: group name of dark, featureless spectra (outcome ``unknown``)
DARK_GROUP = "dark, featureless"
#: mean reflectance (hull bins from 780 nm) below which a spectrum without C–H bands is dark and featureless
DARK_ALBEDO = 0.10
#: the window (nm) brightness is judged on: 900–1750 nm, the range every grid shares (the 900–1700 nm InGaAs
#: sensor sees all of it), so that one spectrum is dark on every instrument alike. Beyond 1.75 µm the 1.93 µm
#: pore-water band of moist ore would make the full range call genuine ore dark (w21h: 45–69 % of the demo's
#: moist ore on ``full`` vs 28 % on ``ingaas256``); below 900 nm hematite's Fe³⁺ band does the same.
DARK_WINDOW_NM = (900.0, 1750.0)
#: p(unknown) given to a dark, featureless spectrum (the known classes share the rest as they were)
DARK_P_UNKNOWN = 0.6
#: a non-ore class without positive evidence gets at most this probability ("not confident")
CAP = 0.5
#: minimum local-continuum depth of the 1.0–1.1 µm Fe²⁺ band that is evidence for slag phases / slag glass
FE2_DEPTH_MIN = 0.05
#: minimum local-continuum depth of the Fe³⁺ band (860–960 nm) that is evidence of Fe-oxide ore
FE3_DEPTH_MIN = 0.05
#: take the Fe²⁺ band as positive evidence of waste (False: it is shared by Fe²⁺-bearing ore, see above)
FE2_IS_WASTE_EVIDENCE = False
#: a 1.21 µm band is C–H, not pore water, only when deeper than this share of the 1.45 µm band (water: ≤ 0.08)
WATER_RATIO_121_145 = 0.10
#: with ``ore_needs_evidence``: a 1.21 µm band above this share of the 1.45 µm band is a trace of C–H that takes
#: ore's evidence away: more than any water gives (pore water ≤ 0.08, see :data:`WATER_RATIO_121_145`; a water film
#: ≈ 0.06). Measured at 0.06 too: it took confident ore from 6–7 % of ore spectra (wet ore); 0.08 from none.
ORE_WATER_RATIO_121_145 = 0.08
#: the band minimum must lie this far (nm) inside the feature window: a minimum at the edge is a slope, not a band
EDGE_NM = 5.0


def _inside(bank, d, key: str) -> np.ndarray:
    """(n,) band minimum of feature ``key`` strictly inside its window (False when off the grid)."""
    if key not in bank.keys:
        return np.zeros(d.depth.shape[0], bool)
    j = bank.keys.index(key)
    lo, hi = bank.features[j].window_nm
    return (d.position_nm[:, j] > lo + EDGE_NM) & (d.position_nm[:, j] < hi - EDGE_NM)


def _depth(bank, d, key: str) -> np.ndarray:
    return d.depth[:, bank.keys.index(key)] if key in bank.keys else np.zeros(d.depth.shape[0])


def organic(bank, d, ch_depth_min: float) -> np.ndarray:
    """(n,) C–H overtones: a C–H feature on the grid (1.21 or 1.73 µm) deeper than ``ch_depth_min`` with its
    minimum inside the band; the 1.21 µm band only when deeper than pore water's share of the 1.45 µm band.

    One band is enough (measured: requiring both on the grids that have both missed PET, whose first overtone is
    aromatic at 1.66 µm, and wet plastics, whose 1.21 µm band water masks; full range contaminants called
    contaminant 0.763 → 0.847, 1014–1749 nm 0.706 → 0.735, no ore called contaminant with p > 0.5)."""
    keys = [k for k in ("C-H 1.21", "C-H 1.73") if k in bank.keys]
    if not keys:
        return np.zeros(d.depth.shape[0], bool)
    seen = {k: (_depth(bank, d, k) > ch_depth_min) & _inside(bank, d, k) for k in keys}
    if "C-H 1.21" in seen and "OH/H2O 1.45" in bank.keys:
        seen["C-H 1.21"] &= _depth(bank, d, "C-H 1.21") > WATER_RATIO_121_145 * np.maximum(
            _depth(bank, d, "OH/H2O 1.45"), 0.0)
    return np.any(np.stack(list(seen.values())), axis=0)


def ch_trace(bank, d, ch_depth_min: float) -> np.ndarray:
    """(n,) a trace of C–H: a 1.21 µm band inside its window deeper than ``ch_depth_min`` and deeper than
    :data:`ORE_WATER_RATIO_121_145` × the 1.45 µm band (more than a water film's own 1.20 µm band), or
    :func:`organic`."""
    trace = (_depth(bank, d, "C-H 1.21") > ch_depth_min) & _inside(bank, d, "C-H 1.21") & (
        _depth(bank, d, "C-H 1.21") > ORE_WATER_RATIO_121_145 * np.maximum(_depth(bank, d, "OH/H2O 1.45"), 0.0))
    return trace | organic(bank, d, ch_depth_min)


def ore_evidence(bank, d, ch_depth_min: float) -> np.ndarray:
    """(n,) positive evidence of ore or gangue: no trace of C–H (:func:`ch_trace`; no ore or gangue mineral has
    C–H), or the Fe³⁺ band below 0.95 µm (only where the grid reaches 760 nm)."""
    fe3 = (_depth(bank, d, "Fe3+ 0.90") >= FE3_DEPTH_MIN) & _inside(bank, d, "Fe3+ 0.90")
    return ~ch_trace(bank, d, ch_depth_min) | fe3


def class_evidence(bank, d, is_organic: np.ndarray, ore_needs_evidence: bool = False,
                   ch_depth_min: float = 0.02) -> np.ndarray:
    """(n, 3) over ore, waste, contaminant: the spectrum shows positive diagnostic evidence for the class; ore
    always counts as evidenced unless ``ore_needs_evidence`` (then :func:`ore_evidence`)."""
    fe2 = (_depth(bank, d, "Fe2+ 1.05") >= FE2_DEPTH_MIN) & _inside(bank, d, "Fe2+ 1.05") & FE2_IS_WASTE_EVIDENCE
    ore = ore_evidence(bank, d, ch_depth_min) if ore_needs_evidence else np.ones_like(fe2)
    return np.column_stack([ore, fe2, is_organic])


def brightness(bank, binned: np.ndarray) -> np.ndarray:
    """(n,) mean of the hull-bin reflectance ``binned`` over :data:`DARK_WINDOW_NM` (all bins if none lie in it)."""
    lo, hi = DARK_WINDOW_NM
    inside = (bank.bin_nm >= lo) & (bank.bin_nm <= hi)
    b = np.asarray(binned, float)
    return b[:, inside].mean(axis=1) if inside.any() else b.mean(axis=1)


def dark(d, is_organic: np.ndarray) -> np.ndarray:
    """(n,) dark and featureless: mean reflectance over :data:`DARK_WINDOW_NM` below :data:`DARK_ALBEDO`, no C–H
    band."""
    bright = np.exp(d.log_albedo) if d.brightness is None else d.brightness
    return (bright < DARK_ALBEDO) & ~is_organic


def temper(p: np.ndarray, evidence: np.ndarray, is_dark: np.ndarray) -> np.ndarray:
    """(n, 4) probabilities over ore, waste, contaminant, unknown: classes without evidence capped at :data:`CAP`
    (excess to unknown); dark, featureless rows get p(unknown) ≥ :data:`DARK_P_UNKNOWN`. Rows sum to 1."""
    out = np.array(p, float, copy=True)
    capped = np.where(evidence, out[:, :3], np.minimum(out[:, :3], CAP))
    out[:, 3] += np.sum(out[:, :3] - capped, axis=1)
    out[:, :3] = capped
    need = is_dark & (out[:, 3] < DARK_P_UNKNOWN)
    known = out[need, :3].sum(axis=1, keepdims=True)
    out[need, :3] *= (1.0 - DARK_P_UNKNOWN) / np.maximum(known, 1e-12)
    out[need, 3] = DARK_P_UNKNOWN
    return out
