"""The one numeric path of spectral preprocessing: vectorised functions on (n, channels) arrays.

The line, training, the lot detector and the fleet re-scorer call them through
:class:`spectra.models.bundle.Preprocessing`; the scikit-learn transformers of this package wrap the same
functions. Rows are independent: a NaN in one spectrum never changes another.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import convolve1d
from scipy.signal import savgol_coeffs, savgol_filter

from spectra.constants import REFLECTANCE_FLOOR, SNV_MIN_STD

#: Edge modes of :func:`savitzky_golay` (those of :func:`scipy.signal.savgol_filter`).
SAVGOL_MODES = ("mirror", "constant", "nearest", "wrap", "interp")


def absorbance(reflectance: np.ndarray, floor: float = REFLECTANCE_FLOOR) -> np.ndarray:
    """Pseudo-absorbance ``-log10(max(R, floor))`` per channel."""
    return -np.log10(np.maximum(reflectance, floor))


def snv(x: np.ndarray) -> np.ndarray:
    """Standard normal variate per row: ``(x - mean) / std``; a row with ``std <= SNV_MIN_STD`` is only centred."""
    mean = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return (x - mean) / np.where(std > SNV_MIN_STD, std, 1.0)


@lru_cache(maxsize=16)
def savgol_kernel(window_length: int, polyorder: int, deriv: int) -> np.ndarray:
    """Convolution coefficients of a Savitzky–Golay filter (computed once per parameter set)."""
    coeffs = savgol_coeffs(window_length, polyorder, deriv=deriv)
    coeffs.setflags(write=False)
    return coeffs


def savitzky_golay(x: np.ndarray, window_length: int, polyorder: int, deriv: int = 0,
                   mode: str = "nearest") -> np.ndarray:
    """Savitzky–Golay filter along each row, per channel; = ``savgol_filter(x, ..., axis=1, mode=mode)``.

    Every mode but ``interp`` is a convolution with cached coefficients (what ``savgol_filter`` does, without
    its least-squares fit per call).
    """
    if mode == "interp":
        return savgol_filter(x, window_length, polyorder, deriv=deriv, axis=1, mode="interp")
    return convolve1d(x, savgol_kernel(window_length, polyorder, deriv), axis=1, mode=mode, cval=0.0)


def features(reflectance: np.ndarray, floor: float = REFLECTANCE_FLOOR, window_length: int = 11,
             polyorder: int = 2, deriv: int = 1) -> np.ndarray:
    """The model's features of reflectance (n, c): absorbance → SNV → Savitzky–Golay derivative (nearest edges)."""
    return savitzky_golay(snv(absorbance(reflectance, floor)), window_length, polyorder, deriv, "nearest")
