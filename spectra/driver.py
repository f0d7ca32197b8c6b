"""Spectrometer driver base class, acquisitions, referencing and the backend registry.

The public methods of :class:`Spectrometer` hold the checks and timeouts; each backend implements one
small private method, :meth:`Spectrometer._read`, returning averaged raw counts for a ``kind`` of
measurement ("sample", "dark" with the shutter closed, "white" on the white tile). Backends register as
name → (module, class) and are imported lazily, so a missing vendor SDK breaks only its backend.
"""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from conveyor.backends import import_backend
from spectra.detector import reflectance_from_counts
from spectra.errors import (AcquisitionTimeout, BackendError, BackendUnavailableError, InvalidSpectrumError,
                             ReferencingError, SpectraError)
from spectra.grid import InstrumentGrid

ReadKind = Literal["sample", "dark", "white"]

#: name → (module, class). The simulator is just another backend.
BACKENDS: dict[str, tuple[str, str]] = {
    "simulated": ("spectra.backends.simulated", "SimulatedSpectrometer"),
    "replay": ("spectra.backends.replay", "ReplaySpectrometer"),
    "ocean": ("spectra.backends.ocean", "OceanSpectrometer"),
}


@dataclass(frozen=True, eq=False)
class Acquisition:
    """One averaged raw spectrum.

    ``counts`` (n,) float64 raw ADC counts; ``saturated`` (n,) bool channels at full scale;
    ``timestamp_s`` on the driver's clock; ``tonnage_mark_t`` of the material seen (None for references).
    """

    kind: ReadKind
    counts: np.ndarray
    integration_time_ms: float
    n_average: int
    timestamp_s: float
    tonnage_mark_t: float | None
    saturated: np.ndarray

    @property
    def any_saturated(self) -> bool:
        return bool(self.saturated.any())


@dataclass
class ReferenceStatus:
    """Outcome of a slow reference procedure (dark or white), ophyd-style: done/success within a timeout."""

    kind: ReadKind
    timeout_s: float
    started_s: float
    finished_s: float | None = None
    success: bool = False
    error: str = ""
    acquisition: Acquisition | None = None

    @property
    def done(self) -> bool:
        return self.finished_s is not None

    @property
    def elapsed_s(self) -> float:
        return (self.finished_s if self.finished_s is not None else time.monotonic()) - self.started_s


@dataclass
class PixelHealth:
    """Dead pixels (no response) and hot pixels (dark at full scale) found from the references."""

    dead: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    hot: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    @property
    def bad(self) -> np.ndarray:
        return np.union1d(self.dead, self.hot)


def detect_bad_pixels(dark: np.ndarray, white: np.ndarray, full_scale_counts: float,
                      min_response_frac: float = 0.05) -> PixelHealth:
    """Dead: white − dark below ``min_response_frac`` of the median response (neighbours considered).

    Hot: dark at ≥ 98 % of full scale. Both (n,) count arrays.
    """
    resp = np.asarray(white, float) - np.asarray(dark, float)
    med = np.median(resp)
    dead = np.nonzero(resp < min_response_frac * med)[0]
    hot = np.nonzero(np.asarray(dark, float) >= 0.98 * full_scale_counts)[0]
    return PixelHealth(dead=np.setdiff1d(dead, hot), hot=hot)


def repair_pixels(values: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Replace channels ``bad`` of (n,) or (k, n) ``values`` by linear interpolation from good neighbours."""
    v = np.array(values, float, copy=True)
    if bad.size == 0:
        return v
    n = v.shape[-1]
    good = np.setdiff1d(np.arange(n), bad)
    v2 = np.atleast_2d(v)
    for row in v2:
        row[bad] = np.interp(bad, good, row[good])
    return v2[0] if v.ndim == 1 else v2


@runtime_checkable
class SceneDriven(Protocol):
    """A spectrometer whose target and faults the line sets (the simulated backend): the station presents the
    simulated cargo's reflectance and switches the configured faults; a real instrument has neither."""

    def present(self, scene_reflectance: np.ndarray, illumination: float = 1.0) -> None: ...

    def set_fault(self, name: str, active: bool = True) -> None: ...


class Spectrometer:
    """Base class of every spectrometer backend.

    ``grid`` is the instrument's wavelength grid; ``integration_time_ms`` and ``n_average`` the acquisition
    settings; ``timeout_s`` the default timeout of every public call; ``white_reflectance`` the certified
    reflectance of the white tile; ``max_bad_pixel_frac`` how many bad pixels reflectance tolerates;
    ``reference_repeats`` how many acquisitions a dark/white reference averages (its noise is common to every
    sample until the next reference, so it should be well below one sample's noise). Raises
    :class:`BackendError` for bad settings.
    """

    full_scale_counts: float = 65535.0

    def __init__(self, grid: InstrumentGrid, *, integration_time_ms: float = 10.0, n_average: int = 16,
                 timeout_s: float = 5.0, white_reflectance: float = 0.99, max_bad_pixel_frac: float = 0.05,
                 reference_repeats: int = 1) -> None:
        if not integration_time_ms > 0:
            raise BackendError(f"integration_time_ms must be > 0, got {integration_time_ms}")
        if int(n_average) < 1:
            raise BackendError(f"n_average must be >= 1, got {n_average}")
        if isinstance(reference_repeats, bool) or int(reference_repeats) != reference_repeats or reference_repeats < 1:
            raise BackendError(f"reference_repeats must be an integer >= 1, got {reference_repeats!r}")
        self.reference_repeats = int(reference_repeats)
        self.grid = grid
        self.integration_time_ms = float(integration_time_ms)
        self.n_average = int(n_average)
        self.timeout_s = float(timeout_s)
        self.white_reflectance = float(white_reflectance)
        self.max_bad_pixel_frac = float(max_bad_pixel_frac)
        self.dark: Acquisition | None = None
        self.white: Acquisition | None = None
        self.pixels = PixelHealth()
        self._closed = False
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=type(self).__name__)

    # --- backend hook ------------------------------------------------------------------------------
    def _read(self, kind: ReadKind, tonnage_mark_t: float | None) -> np.ndarray:
        """Averaged raw counts (n,) for ``kind``. Implemented by each backend."""
        raise NotImplementedError

    def _now_s(self) -> float:
        """Timestamp of an acquisition (monotonic seconds unless the backend has a clock)."""
        return time.monotonic()

    def _close(self) -> None:
        """Release the device (backend hook)."""

    # --- public API --------------------------------------------------------------------------------
    def _call(self, kind: ReadKind, tonnage_mark_t: float | None, timeout_s: float | None) -> Acquisition:
        if self._closed:
            raise BackendError(f"{type(self).__name__}: acquisition on a closed spectrometer")
        limit = self.timeout_s if timeout_s is None else float(timeout_s)
        fut = self._pool.submit(self._read, kind, tonnage_mark_t)
        try:
            counts = fut.result(timeout=limit)
        except concurrent.futures.TimeoutError as exc:
            if isinstance(exc, SpectraError):  # raised by the backend itself
                raise
            raise AcquisitionTimeout(f"{type(self).__name__}: {kind} acquisition did not finish within {limit} s") from None
        counts = np.asarray(counts, dtype=float)
        if counts.shape != (self.grid.n_channels,):
            raise BackendError(
                f"{type(self).__name__}: expected {self.grid.n_channels} channels, backend returned shape {counts.shape}")
        return Acquisition(kind, counts, self.integration_time_ms, self.n_average, self._now_s(), tonnage_mark_t,
                           counts >= self.full_scale_counts)

    def acquire(self, tonnage_mark_t: float | None = None, timeout_s: float | None = None) -> Acquisition:
        """One averaged sample spectrum of the material at ``tonnage_mark_t``; raises AcquisitionTimeout."""
        return self._call("sample", tonnage_mark_t, timeout_s)

    def _reference(self, kind: ReadKind, timeout_s: float | None) -> ReferenceStatus:
        limit = self.timeout_s if timeout_s is None else float(timeout_s)
        status = ReferenceStatus(kind, limit, time.monotonic())
        try:
            # A reference is shared by every sample until the next one: its noise does not average out over a
            # segment, so it is the mean of ``reference_repeats`` acquisitions (timeout per acquisition).
            reads = [self._call(kind, None, limit) for _ in range(self.reference_repeats)]
        except (AcquisitionTimeout, BackendError) as exc:
            status.error = str(exc)
            status.finished_s = time.monotonic()
            return status
        acq = reads[-1]
        if len(reads) > 1:
            acq = Acquisition(kind, np.mean([a.counts for a in reads], axis=0), acq.integration_time_ms,
                              acq.n_average * len(reads), acq.timestamp_s, None,
                              np.any([a.saturated for a in reads], axis=0))
        status.acquisition = acq
        status.finished_s = time.monotonic()
        if kind == "white":
            hot = self.dark.counts >= 0.98 * self.full_scale_counts if self.dark is not None else np.zeros_like(acq.saturated)
            n_sat = int((acq.saturated & ~hot).sum())
            if n_sat:
                status.error = f"white reference saturated on {n_sat} channels; lower the integration time"
                return status
        if kind == "dark":
            self.dark = acq
        else:
            self.white = acq
        if self.dark is not None and self.white is not None:
            self.pixels = detect_bad_pixels(self.dark.counts, self.white.counts, self.full_scale_counts)
        status.success = True
        return status

    def take_dark(self, timeout_s: float | None = None) -> ReferenceStatus:
        """Dark reference (shutter closed). Returns a status; ``success`` False with ``error`` on failure."""
        return self._reference("dark", timeout_s)

    def take_white(self, timeout_s: float | None = None) -> ReferenceStatus:
        """White reference (white tile in the beam). A saturated white is refused."""
        return self._reference("white", timeout_s)

    @property
    def referenced(self) -> bool:
        return self.dark is not None and self.white is not None

    def reflectance(self, acq: Acquisition) -> np.ndarray:
        """(S − D) / (W − D) × white-tile reflectance, (n,) float64, bad pixels repaired from neighbours.

        Raises :class:`ReferencingError` without both references, :class:`InvalidSpectrumError` when the
        sample is saturated or too many pixels are bad.
        """
        dark, white = self.dark, self.white
        if dark is None or white is None:
            raise ReferencingError("reflectance needs a dark and a white reference first (take_dark, take_white)")
        bad = self.pixels.bad
        if bad.size > self.max_bad_pixel_frac * self.grid.n_channels:
            raise InvalidSpectrumError(
                f"{bad.size} dead/hot pixels; at most {int(self.max_bad_pixel_frac * self.grid.n_channels)} tolerated")
        sat = np.setdiff1d(np.nonzero(acq.saturated)[0], bad)
        if sat.size:
            raise InvalidSpectrumError(f"sample saturated on {sat.size} channels (≥ {self.full_scale_counts:.0f} counts)")
        r = reflectance_from_counts(acq.counts, dark.counts, white.counts, self.white_reflectance)
        return repair_pixels(r, bad)

    def close(self) -> None:
        """Release the device. Safe to call twice."""
        if not self._closed:
            self._closed = True
            try:
                self._close()
            finally:
                self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> "Spectrometer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_spectrometer(backend: str, grid: InstrumentGrid, **kwargs: Any) -> Spectrometer:
    """Instantiate the backend registered as ``backend`` (imported lazily).

    Raises :class:`BackendError` for an unknown name and
    :class:`~spectra.errors.BackendUnavailableError` when its SDK is missing.
    """
    cls = import_backend(BACKENDS, backend, "spectrometer", unknown_error=BackendError,
                         unavailable_error=BackendUnavailableError)
    return cls(grid, **kwargs)
