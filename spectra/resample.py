"""Resampling a spectrum onto an instrument grid by convolution with the instrument band shape.

Each target channel is the integral of the source spectrum weighted by that channel's Gaussian
spectral response (FWHM from the grid), truncated at ±1 FWHM (98 % of the band) and normalised.
The source is first made continuous by linear interpolation between its valid samples on a fine
uniform grid (≤ FWHM/10), so irregular source spacing (Beckman) is integrated correctly.
A target channel whose band reaches outside the source's valid range, or into a gap of deleted
channels wider than ``max_gap_nm``, is refused with :class:`GridError` — never extrapolated.
"""

from __future__ import annotations

import numpy as np

from spectra.errors import GridError
from spectra.grid import InstrumentGrid

#: Half-width of the band support in units of FWHM.
SUPPORT_FWHM = 1.0


def band_support_nm(grid: InstrumentGrid) -> tuple[float, float]:
    """Lowest and highest wavelength (nm) the grid's bands integrate over."""
    lo = grid.wavelength_nm - SUPPORT_FWHM * grid.fwhm_nm
    hi = grid.wavelength_nm + SUPPORT_FWHM * grid.fwhm_nm
    return float(lo.min()), float(hi.max())


def _band_matrix(fine_nm: np.ndarray, grid: InstrumentGrid) -> np.ndarray:
    sigma = grid.fwhm_nm[:, None] / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    d = fine_nm[None, :] - grid.wavelength_nm[:, None]
    w = np.exp(-0.5 * (d / sigma) ** 2)
    w[np.abs(d) > SUPPORT_FWHM * grid.fwhm_nm[:, None]] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    return w


_BANDS: dict[tuple[bytes, bytes], tuple[np.ndarray, np.ndarray]] = {}
_BANDS_MAX = 16


def _fine_grid_and_bands(grid: InstrumentGrid) -> tuple[np.ndarray, np.ndarray]:
    """The fine integration grid (nm) and band matrix of ``grid``; they depend on the grid only, so they are
    computed once per grid (a library resample used to rebuild them for each of its spectra). Read-only."""
    key = (np.asarray(grid.wavelength_nm, float).tobytes(), np.asarray(grid.fwhm_nm, float).tobytes())
    hit = _BANDS.get(key)
    if hit is None:
        lo_need, hi_need = band_support_nm(grid)
        step = min(1.0, float(grid.fwhm_nm.min()) / 10.0)
        fine = np.arange(lo_need, hi_need + step / 2, step)
        bands = _band_matrix(fine, grid)
        fine.flags.writeable = False
        bands.flags.writeable = False
        if len(_BANDS) >= _BANDS_MAX:
            _BANDS.clear()
        hit = _BANDS[key] = (fine, bands)
    return hit


def resample(source_nm: np.ndarray, values: np.ndarray, grid: InstrumentGrid, *,
             max_gap_nm: float = 50.0, what: str = "spectrum") -> np.ndarray:
    """Convolve ``values`` sampled at ``source_nm`` onto ``grid``.

    ``source_nm`` (m,) in nm (ascending or descending); ``values`` (m,) or (k, m), NaN = deleted channel.
    Returns (n,) or (k, n) float64. Raises :class:`GridError` when a band reaches outside the valid
    source range or into a gap wider than ``max_gap_nm``, or when shapes disagree.
    """
    src = np.asarray(source_nm, dtype=float)
    vals = np.asarray(values, dtype=float)
    one = vals.ndim == 1
    vals2 = vals[None, :] if one else vals
    if src.ndim != 1 or vals2.ndim != 2 or vals2.shape[1] != src.size:
        raise GridError(f"{what}: expected values of shape (m,) or (k, m) with m={src.size}, got {vals.shape}")
    if src.size >= 2 and src[0] > src[-1]:
        src, vals2 = src[::-1], vals2[:, ::-1]
    if src.size < 2 or not np.all(np.diff(src) > 0):
        raise GridError(f"{what}: source wavelengths must be strictly monotonic, got {src.size} values")
    lo_need, hi_need = band_support_nm(grid)
    fine, bands = _fine_grid_and_bands(grid)
    out = np.empty((vals2.shape[0], grid.n_channels))
    for i, row in enumerate(vals2):
        ok = np.isfinite(row)
        if ok.sum() < 2:
            raise GridError(f"{what}: fewer than 2 valid source channels")
        x, y = src[ok], row[ok]
        if x[0] > lo_need + 1e-6 or x[-1] < hi_need - 1e-6:
            raise GridError(
                f"{what}: target grid {grid.name!r} needs {lo_need:.1f}–{hi_need:.1f} nm (bands ±{SUPPORT_FWHM} FWHM); "
                f"source has valid data only over {x[0]:.1f}–{x[-1]:.1f} nm; refusing to extrapolate"
            )
        gaps = np.diff(x)
        big = np.nonzero(gaps > max_gap_nm)[0]
        for g in big:
            g_lo, g_hi = x[g], x[g + 1]
            if g_hi > lo_need and g_lo < hi_need:
                raise GridError(
                    f"{what}: {g_hi - g_lo:.0f} nm gap without valid data at {g_lo:.0f}–{g_hi:.0f} nm inside the "
                    f"target range (max {max_gap_nm:.0f} nm)"
                )
        out[i] = bands @ np.interp(fine, x, y)
    return out[0] if one else out


def to_grid(source_nm: np.ndarray, values: np.ndarray, grid: InstrumentGrid, *, what: str = "spectrum") -> np.ndarray:
    """``values`` unchanged when ``source_nm`` already is the grid's channel list (±0.01 nm), else :func:`resample`."""
    src = np.asarray(source_nm, float)
    if src.size == grid.n_channels and np.allclose(src, grid.wavelength_nm, atol=0.01):
        return np.asarray(values, float)
    return resample(src, values, grid, what=what)
