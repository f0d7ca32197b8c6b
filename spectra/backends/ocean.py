"""Ocean Insight (Ocean Optics) spectrometers through ``python-seabreeze`` (optional: ``pip install oreline[ocean]``).

``seabreeze`` is imported when the backend is opened, so its absence only breaks this backend
(:class:`BackendUnavailableError`). Raw counts of the device pixels are convolved onto the configured grid,
which must lie inside the device's wavelength range. The dark reference closes the shutter when the device
has one (else :class:`BackendError`: block the light path and use a backend-level dark); the white reference
reads whatever is in the beam, so the reference tile must be in place when ``take_white`` is called.
"""

from __future__ import annotations

import numpy as np

from spectra.driver import ReadKind, Spectrometer
from spectra.errors import BackendError, BackendUnavailableError
from spectra.grid import InstrumentGrid
from spectra.resample import resample


class OceanSpectrometer(Spectrometer):
    """First available (or ``serial``) Ocean Insight device."""

    def __init__(self, grid: InstrumentGrid, *, serial: str | None = None, **kwargs) -> None:
        try:
            from seabreeze.spectrometers import Spectrometer as SeaBreezeSpectrometer
        except ImportError as exc:
            raise BackendUnavailableError(
                "ocean backend needs the 'seabreeze' package (pip install 'oreline[ocean]')") from exc
        super().__init__(grid, **kwargs)
        try:
            self._dev = (SeaBreezeSpectrometer.from_serial_number(serial) if serial
                         else SeaBreezeSpectrometer.from_first_available())
        except Exception as exc:  # seabreeze raises its own SeaBreezeError types
            raise BackendError(f"ocean: no spectrometer found ({exc})") from exc
        self._dev.integration_time_micros(int(self.integration_time_ms * 1000))
        self._wl = np.asarray(self._dev.wavelengths(), float)
        self.full_scale_counts = float(getattr(self._dev, "max_intensity", 65535.0))
        resample(self._wl, np.ones_like(self._wl), grid, what="ocean device range")  # raises GridError if outside

    def _set_shutter(self, open_: bool) -> None:
        feature = getattr(getattr(self._dev, "f", None), "shutter", None)
        if feature is None:
            if not open_:
                raise BackendError("ocean: device has no shutter; a dark reference needs the light path blocked")
            return
        feature.set_shutter_open(open_)

    def _read(self, kind: ReadKind, tonnage_mark_t: float | None) -> np.ndarray:
        if kind == "dark":
            self._set_shutter(False)
        try:
            scans = np.stack([np.asarray(self._dev.intensities(), float) for _ in range(self.n_average)])
        finally:
            if kind == "dark":
                self._set_shutter(True)
        return resample(self._wl, scans.mean(axis=0), self.grid, what="ocean counts")

    def _close(self) -> None:
        self._dev.close()
