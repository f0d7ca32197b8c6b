"""Spectral preprocessing: one vectorised kernel (:mod:`spectra.preprocessing.kernel`) that the line calls, and
scikit-learn transformers wrapping it (one class per module)."""

from spectra.preprocessing.absorbance import Absorbance
from spectra.preprocessing.continuum import ContinuumRemoval
from spectra.preprocessing.msc import MultiplicativeScatterCorrection
from spectra.preprocessing.savgol import SavitzkyGolay
from spectra.preprocessing.snv import StandardNormalVariate

__all__ = ["Absorbance", "ContinuumRemoval", "MultiplicativeScatterCorrection", "SavitzkyGolay",
           "StandardNormalVariate"]
