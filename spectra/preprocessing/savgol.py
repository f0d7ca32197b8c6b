"""Savitzky–Golay smoothing and derivatives along the wavelength axis."""

from __future__ import annotations

import numpy as np

from spectra.preprocessing._base import RowwiseTransformer
from spectra.preprocessing.kernel import SAVGOL_MODES, savitzky_golay


class SavitzkyGolay(RowwiseTransformer):
    """Savitzky–Golay filter per spectrum (:func:`~spectra.preprocessing.kernel.savitzky_golay`, = scipy's).

    ``window_length`` odd number of channels > ``polyorder``; ``deriv`` derivative order (0 = smoothing),
    per channel (not per nm); ``mode`` edge handling passed to :func:`scipy.signal.savgol_filter`
    ("nearest" works for any number of channels). Raises ValueError for inconsistent parameters.
    """

    def __init__(self, window_length: int = 11, polyorder: int = 2, deriv: int = 0, mode: str = "nearest"):
        self.window_length = window_length
        self.polyorder = polyorder
        self.deriv = deriv
        self.mode = mode

    def _check_params(self) -> None:
        w, p, d = self.window_length, self.polyorder, self.deriv
        if not (isinstance(w, (int, np.integer)) and w >= 3 and w % 2 == 1):
            raise ValueError(f"window_length: expected an odd integer >= 3, got {w!r}")
        if not (isinstance(p, (int, np.integer)) and 0 <= p < w):
            raise ValueError(f"polyorder: expected an integer in [0, window_length), got {p!r}")
        if not (isinstance(d, (int, np.integer)) and 0 <= d <= p):
            raise ValueError(f"deriv: expected an integer in [0, polyorder], got {d!r}")
        if self.mode not in SAVGOL_MODES:
            raise ValueError(f"mode: expected one of mirror/constant/nearest/wrap/interp, got {self.mode!r}")

    def _transform(self, X: np.ndarray) -> np.ndarray:
        self._check_params()
        if self.mode == "interp" and X.shape[1] < self.window_length:
            raise ValueError(f"mode='interp' needs >= window_length={self.window_length} channels, got {X.shape[1]}")
        return savitzky_golay(X, self.window_length, self.polyorder, self.deriv, self.mode)
