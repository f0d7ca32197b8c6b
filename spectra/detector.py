"""Physical model of a NIR spectrometer's detector chain, shared by the simulated backend and training.

counts = dark(t) + gain(λ) · window(t) · illumination · R_scene(λ) · t_int   (+ shot and read noise, clipped)

* ``gain(λ)``: halogen lamp (blackbody, 2900 K) × InGaAs quantum efficiency × optics, scaled so that a
  fresh white tile gives ``white_fill`` of full scale at the nominal integration time.
* dark = offset + per-pixel fixed pattern + dark current × t_int × 2^((T - T0)/6 K); the temperature drifts
  slowly (``dark_drift_counts_per_h``) so an old dark reference leaves an offset.
* the white tile ages (its reflectance falls by ``white_ageing_per_h`` per hour) while software assumes
  ``white_tile_reflectance``; the window gets dirty (transmission falls by ``window_dirt_per_h``).
* noise: shot noise of ``e_per_count`` electrons per count, read noise ``read_noise_counts`` rms; averaging
  ``n_average`` scans divides both by √n. Counts saturate at ``full_scale_counts``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectra.grid import InstrumentGrid


@dataclass
class DetectorConfig:
    """Instrument constants (see module docstring)."""

    full_scale_counts: float = 65535.0
    white_fill: float = 0.75
    dark_offset_counts: float = 1500.0
    dark_pattern_counts: float = 40.0
    dark_current_counts_per_ms: float = 8.0
    dark_drift_counts_per_h: float = 30.0
    e_per_count: float = 4.0
    read_noise_counts: float = 8.0
    integration_time_ms: float = 10.0
    n_average: int = 16
    white_tile_reflectance: float = 0.99
    white_ageing_per_h: float = 0.002
    window_dirt_per_h: float = 0.0
    lamp_temperature_k: float = 2900.0
    dead_pixels: tuple[int, ...] = ()
    hot_pixels: tuple[int, ...] = ()


def lamp_qe_shape(wavelength_nm: np.ndarray, lamp_temperature_k: float = 2900.0) -> np.ndarray:
    """Relative spectral response (max 1): blackbody lamp × InGaAs QE (cut-on 880 nm, cut-off 1700/2500 nm)."""
    wl_m = np.asarray(wavelength_nm, float) * 1e-9
    planck = 1.0 / (wl_m ** 5 * (np.exp(1.4388e-2 / (wl_m * lamp_temperature_k)) - 1.0))
    wl = np.asarray(wavelength_nm, float)
    cutoff = 1720.0 if wl.max() <= 1750 else 2550.0
    qe = 1.0 / (1.0 + np.exp(-(wl - 880.0) / 25.0)) * 1.0 / (1.0 + np.exp((wl - cutoff) / 30.0))
    if wl.min() < 880:  # full-range instruments combine a Si detector below 1000 nm
        qe = np.maximum(qe, 0.8 / (1.0 + np.exp((wl - 1000.0) / 30.0)) * (1.0 / (1.0 + np.exp(-(wl - 380.0) / 15.0))))
    shape = planck * qe
    return shape / shape.max()


@dataclass
class DetectorState:
    """What drifts with time: elapsed hours since power-on, window cleaned at, tile age."""

    t_h: float = 0.0
    window_cleaned_h: float = 0.0


class DetectorModel:
    """Counts from scene reflectance for one grid; vectorised over spectra (rows)."""

    def __init__(self, grid: InstrumentGrid, config: DetectorConfig | None = None, seed: int = 0) -> None:
        self.grid = grid
        self.config = config or DetectorConfig()
        rng = np.random.default_rng(seed)
        c = self.config
        self.response = lamp_qe_shape(grid.wavelength_nm, c.lamp_temperature_k)
        # counts per (reflectance · ms) so that the fresh white tile fills white_fill of full scale at the nominal time
        self.gain_counts_per_ms = (
            c.white_fill * c.full_scale_counts / (c.white_tile_reflectance * c.integration_time_ms)
        ) * np.maximum(self.response, 0.02)
        self.pixel_gain = 1.0 + 0.01 * rng.standard_normal(grid.n_channels)
        self.dark_pattern = c.dark_pattern_counts * rng.standard_normal(grid.n_channels)
        self.pixel_gain[list(c.dead_pixels)] = 0.0

    def dark_counts(self, t_h: float, integration_time_ms: float | None = None) -> np.ndarray:
        """Noise-free dark level (n,) at time ``t_h``."""
        c = self.config
        it = c.integration_time_ms if integration_time_ms is None else integration_time_ms
        dark = c.dark_offset_counts + self.dark_pattern + c.dark_current_counts_per_ms * it + c.dark_drift_counts_per_h * t_h
        if c.hot_pixels:
            dark = dark.copy()
            dark[list(c.hot_pixels)] = c.full_scale_counts
        return dark

    def window_transmission(self, t_h: float, cleaned_h: float = 0.0) -> float:
        return float(np.exp(-self.config.window_dirt_per_h * max(0.0, t_h - cleaned_h)))

    def white_tile(self, t_h: float) -> float:
        c = self.config
        return c.white_tile_reflectance * max(0.5, 1.0 - c.white_ageing_per_h * t_h)

    def counts(self, scene_reflectance: np.ndarray, t_h: float | np.ndarray, rng: np.random.Generator, *,
               illumination: np.ndarray | float = 1.0, integration_time_ms: float | None = None,
               n_average: int | None = None, window_cleaned_h: float = 0.0) -> np.ndarray:
        """Averaged raw counts for scene reflectance (k, n) or (n,); ``t_h`` hours since power-on (scalar or (k,))."""
        c = self.config
        it = c.integration_time_ms if integration_time_ms is None else integration_time_ms
        nav = c.n_average if n_average is None else int(n_average)
        r = np.asarray(scene_reflectance, float)
        one = r.ndim == 1
        r2 = np.atleast_2d(r)
        t = np.broadcast_to(np.asarray(t_h, float), (r2.shape[0],))
        window = np.exp(-c.window_dirt_per_h * np.maximum(0.0, t - window_cleaned_h))[:, None]
        illum = np.broadcast_to(np.asarray(illumination, float), (r2.shape[0],))[:, None]
        signal = np.maximum(self.gain_counts_per_ms * self.pixel_gain * it * window * illum * r2, 0.0)
        dark = (c.dark_offset_counts + self.dark_pattern + c.dark_current_counts_per_ms * it
                + c.dark_drift_counts_per_h * t[:, None])
        sigma = np.sqrt((signal + c.dark_current_counts_per_ms * it) / c.e_per_count + c.read_noise_counts ** 2)
        out = dark + signal + sigma / np.sqrt(nav) * rng.standard_normal(r2.shape)
        if c.hot_pixels:
            out[:, list(c.hot_pixels)] = c.full_scale_counts
        out = np.clip(out, 0.0, c.full_scale_counts)
        return out[0] if one else out

    def white_counts(self, t_h: float, rng: np.random.Generator, **kw) -> np.ndarray:
        """Counts looking at the (ageing) white tile."""
        return self.counts(np.full(self.grid.n_channels, self.white_tile(t_h)), t_h, rng, **kw)

    def dark_measurement(self, t_h: float, rng: np.random.Generator, **kw) -> np.ndarray:
        """Counts with the shutter closed."""
        return self.counts(np.zeros(self.grid.n_channels), t_h, rng, **kw)


def reflectance_from_counts(sample: np.ndarray, dark: np.ndarray, white: np.ndarray,
                            white_reflectance: float = 1.0) -> np.ndarray:
    """(S - D) / (W - D) × ``white_reflectance``; channels with W - D ≤ 0 become NaN. Shapes broadcast."""
    denom = np.asarray(white, float) - np.asarray(dark, float)
    num = np.asarray(sample, float) - np.asarray(dark, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), np.nan)
    return r * white_reflectance


def simulate_referenced(model: DetectorModel, scene_reflectance: np.ndarray, rng: np.random.Generator,
                        t_h: np.ndarray | float, reference_age_h: np.ndarray | float,
                        illumination: np.ndarray | float = 1.0) -> np.ndarray:
    """Reflectance (k, n) as the software computes it: sample at ``t_h``, dark and white taken
    ``reference_age_h`` earlier (own noise, drift and tile ageing), times the nominal tile reflectance."""
    r = np.atleast_2d(np.asarray(scene_reflectance, float))
    k, n = r.shape
    t = np.broadcast_to(np.asarray(t_h, float), (k,))
    t_ref = np.maximum(t - np.broadcast_to(np.asarray(reference_age_h, float), (k,)), 0.0)
    c = model.config
    tile = c.white_tile_reflectance * np.maximum(0.5, 1.0 - c.white_ageing_per_h * t_ref)
    sample = model.counts(r, t, rng, illumination=illumination)
    dark = model.counts(np.zeros_like(r), t_ref, rng)
    white = model.counts(np.repeat(tile[:, None], n, axis=1), t_ref, rng)
    return reflectance_from_counts(sample, dark, white, c.white_tile_reflectance)
