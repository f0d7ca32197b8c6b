"""Units of spectrum files beyond nm and reflectance: wavenumbers (cm⁻¹) and absorbance (log10 1/R).

FT-NIR instruments (Bruker MPA/OPUS, Thermo Antaris, ABB, PerkinElmer) export the x axis in cm⁻¹, about
4,000–12,500 cm⁻¹ for the NIR and often descending; many NIR instruments export log10(1/R) ("Absorbance",
"log(1/R)", "pseudo-absorbance") instead of reflectance. Every reader (delimited exports, ECOSTRESS text, ENVI
libraries, JCAMP-DX) recognises the unit words here and converts with the two helpers here: nm = 1e7 / cm⁻¹ and
R = 10^−A. Only the x axis may be inferred from its values (:data:`WAVENUMBERS_IF_ABOVE`); absorbance needs its word.
"""

from __future__ import annotations

import re

import numpy as np

#: x values all above this (and no unit word) are wavenumbers in cm⁻¹: a NIR spectrum in nm never reaches it, and
#: the NIR in cm⁻¹ is about 4,000–12,500.
WAVENUMBERS_IF_ABOVE = 3000.0
#: cm⁻¹ per nm⁻¹: wavelength_nm = NM_CM / wavenumber_cm.
NM_CM = 1e7

_WAVENUMBER = re.compile(r"wave\s*-?\s*numbers?|\bcm\s*\^?\s*(-\s*1|⁻¹|\{\s*-\s*1\s*\})|1\s*/\s*cm\b")
_ABSORBANCE = re.compile(r"absorbance|log\s*(10)?\s*[(\[]?\s*1\s*/\s*r")
_REFLECTANCE = re.compile(r"reflect")
#: y quantities that are not reflectance and cannot be made into it from the file alone.
_NOT_REFLECTANCE = re.compile(r"transmi\w*|absorptance|radiance|kubelka|\bk\s*-\s*m\b|\bcounts?\b|intensity")


def is_wavenumber(unit_text: str) -> bool:
    """True when ``unit_text`` names wavenumbers: ``cm-1``, ``cm^-1``, ``cm⁻¹``, ``1/cm``, ``wavenumber``, ``wave
    number`` (any case)."""
    return _WAVENUMBER.search(unit_text.lower()) is not None


def is_absorbance(unit_text: str) -> bool:
    """True when ``unit_text`` names absorbance: ``absorbance``, ``pseudo-absorbance``, ``log(1/R)``, ``log 1/R``,
    ``log10(1/R)`` (any case)."""
    return _ABSORBANCE.search(unit_text.lower()) is not None


def refused_y_unit(unit_text: str) -> str | None:
    """The word of ``unit_text`` that names a y quantity other than reflectance or absorbance (transmittance,
    radiance, counts, intensity, Kubelka-Munk), or None. Reflectance or absorbance words win."""
    low = unit_text.lower()
    if is_absorbance(low) or _REFLECTANCE.search(low):
        return None
    m = _NOT_REFLECTANCE.search(low)
    return m.group(0) if m else None


def nm_from_wavenumber(wavenumber_cm: np.ndarray) -> np.ndarray:
    """Wavelength in nm of wavenumbers in cm⁻¹ (> 0; the caller checks), same order: nm = 1e7 / cm⁻¹."""
    return NM_CM / np.asarray(wavenumber_cm, float)


def reflectance_from_absorbance(absorbance: np.ndarray) -> np.ndarray:
    """Reflectance fraction of absorbance log10(1/R): R = 10^−A (NaN stays NaN)."""
    with np.errstate(over="ignore"):
        return np.power(10.0, -np.asarray(absorbance, float))
