"""The simulated spectrometer: a physical detector model looking at Hapke mixtures of library spectra.

The material under the probe is set with :meth:`SimulatedSpectrometer.present` (scene reflectance on the
instrument grid, e.g. from :class:`spectra.scene.MixtureSimulator`); without it a fixed random ore blend
is shown. Faults: :meth:`set_fault` with ``dropout`` (reads time out), ``saturate`` (lamp flare: the
sample saturates) or ``invalid`` (the ADC returns NaN).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from spectra.detector import DetectorConfig, DetectorModel
from spectra.driver import ReadKind, Spectrometer
from spectra.errors import AcquisitionTimeout, GridError
from spectra.grid import InstrumentGrid


class SimulatedSpectrometer(Spectrometer):
    """Simulated backend. ``clock`` returns seconds (default: monotonic since creation); ``seed`` fixes noise."""

    def __init__(self, grid: InstrumentGrid, *, seed: int = 0, detector: DetectorConfig | None = None,
                 clock: Callable[[], float] | None = None, latency_s: float = 0.0, **kwargs) -> None:
        det = detector or DetectorConfig()
        kwargs.setdefault("integration_time_ms", det.integration_time_ms)
        kwargs.setdefault("n_average", det.n_average)
        kwargs.setdefault("white_reflectance", det.white_tile_reflectance)
        super().__init__(grid, **kwargs)
        self.model = DetectorModel(grid, det, seed=seed)
        self.rng = np.random.default_rng(seed + 1)
        t0 = time.monotonic()
        self._clock = clock or (lambda: time.monotonic() - t0)
        self.latency_s = float(latency_s)
        self.illumination = 1.0
        self.window_cleaned_h = 0.0
        self.faults: set[str] = set()
        self._scene: np.ndarray | None = None

    def present(self, scene_reflectance: np.ndarray, illumination: float = 1.0) -> None:
        """Put material of reflectance (n,) under the probe (with a relative illumination level)."""
        r = np.asarray(scene_reflectance, float)
        if r.shape != (self.grid.n_channels,):
            raise GridError(f"scene: expected reflectance of shape ({self.grid.n_channels},), got {r.shape}")
        self._scene = r
        self.illumination = float(illumination)

    def set_fault(self, name: str, active: bool = True) -> None:
        """Switch a fault on/off: 'dropout', 'saturate' or 'invalid'."""
        if name not in ("dropout", "saturate", "invalid"):
            raise ValueError(f"expected fault in ('dropout', 'saturate', 'invalid'), got {name!r}")
        (self.faults.add if active else self.faults.discard)(name)

    def clean_window(self) -> None:
        """Maintenance: the window is clean again."""
        self.window_cleaned_h = self._clock() / 3600.0

    def _now_s(self) -> float:
        return float(self._clock())

    def _default_scene(self) -> np.ndarray:
        wl = self.grid.wavelength_nm
        # a hematite-like ore: low reflectance rising through the NIR with the 860 nm Fe3+ band shoulder
        return 0.12 + 0.10 * (1.0 / (1.0 + np.exp(-(wl - 1000.0) / 120.0)))

    def _read(self, kind: ReadKind, tonnage_mark_t: float | None) -> np.ndarray:
        if self.latency_s:
            time.sleep(self.latency_s)
        if "dropout" in self.faults:
            raise AcquisitionTimeout("simulated dropout: the spectrometer returned no data")
        t_h = self._clock() / 3600.0
        common: dict[str, Any] = dict(window_cleaned_h=self.window_cleaned_h)
        if kind == "dark":
            return self.model.dark_measurement(t_h, self.rng, **common)
        if kind == "white":
            return self.model.white_counts(t_h, self.rng, **common)
        scene = self._scene if self._scene is not None else self._default_scene()
        illum = self.illumination * (25.0 if "saturate" in self.faults else 1.0)
        counts = self.model.counts(scene, t_h, self.rng, illumination=illum, **common)
        if "invalid" in self.faults:
            counts = counts.copy()
            counts[::7] = np.nan
        return counts
