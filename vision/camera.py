"""Camera driver base class and backend registry.

The public :meth:`Camera.grab` holds the checks (open, timeout, frame size and dtype,
frame sequence); each backend implements one small private ``_grab``. Backends register by
name → (module, class) and are imported lazily, so a missing vendor library (Aravis,
PyGObject) breaks only its own backend. The station builds its camera through the registry
(:func:`camera_from_settings` → the backend's :meth:`Camera.from_settings`) and drives it only
through this base class (:meth:`Camera.start_lot`, :meth:`Camera.frames_for`): no backend is
named outside its own module. Drivers do no I/O in ``__init__``: devices, files and vendor
libraries are touched in :meth:`Camera.open`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Self

from conveyor.backends import import_backend
from conveyor.station import MaterialWindow, StationContext
from vision.errors import BackendUnavailable, CameraError, FrameError
from vision.frames import Frame, check_image

BACKENDS: dict[str, tuple[str, str]] = {
    "simulated": ("vision.sim_camera", "SimulatedCamera"),
    "folder": ("vision.folder_camera", "FolderCamera"),
    "aravis": ("vision.aravis_camera", "AravisCamera"),
}

#: Maps a line-clock time (s) to (belt odometer m, tonnage mark t, tonnes per metre) for stamping frames.
PositionSource = Callable[[float], tuple[float, float, float]]


@dataclass
class CameraStats:
    """Counters of what the camera delivered and what went wrong."""

    frames: int = 0
    dropped: int = 0
    duplicated: int = 0
    incomplete: int = 0
    timeouts: int = 0
    reconnects: int = 0


class Camera(ABC):
    """A camera looking down at the belt; rows of its frames run along the belt.

    ``width_px`` pixels across at ``mm_per_px``; ``frame_lines`` lines per frame (line-scan) or
    image height (area scan); ``exposure_us`` exposure time.
    """

    def __init__(self, *, width_px: int = 2048, frame_lines: int = 1024, mm_per_px: float = 1.0, exposure_us: float = 100.0, position_source: PositionSource | None = None) -> None:
        if width_px < 16 or frame_lines < 1 or not mm_per_px > 0 or not exposure_us > 0:
            raise ValueError(f"expected width_px >= 16, frame_lines >= 1, mm_per_px > 0, exposure_us > 0; got {width_px}, {frame_lines}, {mm_per_px}, {exposure_us}")
        self.width_px = int(width_px)
        self.frame_lines = int(frame_lines)
        self.mm_per_px = float(mm_per_px)
        self.exposure_us = float(exposure_us)
        self.position_source = position_source
        self.stats = CameraStats()
        self.is_open = False
        self._last_id: int | None = None

    def open(self) -> Self:
        """Connect to the device. Raises CameraError (or BackendUnavailable) when it cannot."""
        if not self.is_open:
            self._open()
            self.is_open = True
            self._last_id = None
        return self

    def close(self) -> None:
        """Release the device. Safe to call twice."""
        if self.is_open:
            self.is_open = False
            self._close()

    def reconnect(self) -> None:
        """Close and open again (after CameraDisconnected); counts reconnects."""
        self.close()
        self.open()
        self.stats.reconnects += 1

    def grab(self, timeout_s: float = 1.0) -> Frame:
        """The next complete frame within ``timeout_s``.

        Raises CameraTimeout when none arrives, CameraDisconnected when the device went away,
        FrameError for a frame of the wrong size/dtype or a duplicated/out-of-order frame id
        (the bad frame is counted and not passed on). Dropped frames (gaps in the id) are
        counted in ``stats.dropped``; the next good frame is returned.
        """
        if not self.is_open:
            raise CameraError(f"{type(self).__name__} is not open: call open() first")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        try:
            frame = self._grab(float(timeout_s))
        except CameraError as exc:
            if isinstance(exc, TimeoutError):
                self.stats.timeouts += 1
            raise
        check_image(frame.image, self.width_px)
        if self._last_id is not None:
            if frame.frame_id <= self._last_id:
                self.stats.duplicated += 1
                raise FrameError(f"expected frame id > {self._last_id}, got {frame.frame_id} (duplicated or out of order)")
            self.stats.dropped += frame.frame_id - self._last_id - 1
        self._last_id = frame.frame_id
        self.stats.frames += 1
        return frame

    def _stamp(self, time_s: float) -> tuple[float, float, float]:
        if self.position_source is None:
            return (0.0, 0.0, 0.0)
        return self.position_source(time_s)

    @abstractmethod
    def _open(self) -> None:
        """Connect to the device."""

    def _close(self) -> None:
        """Disconnect."""

    @abstractmethod
    def _grab(self, timeout_s: float) -> Frame:
        """Return the next frame or raise CameraTimeout / CameraDisconnected."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], context: StationContext, **common: Any) -> "Camera":
        """Build from a station's validated settings (its backend's keys of ``vision.station.SETTINGS``) and the
        line's context; ``common``: width_px, frame_lines, mm_per_px, exposure_us. No I/O."""
        raise NotImplementedError(f"{cls.__name__} does not declare how to build it from station settings")

    def start_lot(self, start_mark_t: float) -> None:
        """A lot starts at tonnage mark ``start_mark_t`` (a simulated camera places its lot-relative faults)."""

    def frames_for(self, window: MaterialWindow, contiguous: bool) -> list[Frame]:
        """The frames that image ``window``, stamped with its belt metres and tonnage marks.

        ``contiguous``: the window follows the last one imaged without a gap. A live camera grabs frames until
        their lines cover the window (the frames' own lengths; CameraTimeout/CameraDisconnected propagate)."""
        t_per_m = window.mass_t / window.length_m if window.length_m > 0 else 0.0
        frames: list[Frame] = []
        covered = 0.0
        frame_m = self.frame_lines * self.mm_per_px / 1000.0
        while covered < window.length_m - 1e-9:
            f = self.grab(timeout_s=max(1.0, 2 * window.duration_s))
            belt = window.start_belt_m + covered
            frames.append(Frame(f.image, f.frame_id, window.start_time_s + covered / max(window.belt_speed_m_s, 1e-9), f.exposure_us,
                                belt, window.start_mark_t + covered * t_per_m, f.mm_per_px, t_per_m, window.belt_speed_m_s))
            covered += f.length_m if f.length_m > 0 else frame_m
        return frames

    def __enter__(self) -> "Camera":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()


def camera_class(backend: str) -> type[Camera]:
    """The Camera class registered as ``backend``. Raises ValueError for an unknown name,
    BackendUnavailable when its module cannot be imported here."""
    return import_backend(BACKENDS, backend, "camera", unknown_error=ValueError, unavailable_error=BackendUnavailable)


def camera_from_settings(backend: str, settings: Mapping[str, Any], context: StationContext, **common: Any) -> Camera:
    """The (unopened) camera of ``backend`` built from a station's validated settings: the registry's class and its
    :meth:`Camera.from_settings`. Raises ValueError / BackendUnavailable as :func:`camera_class`."""
    return camera_class(backend).from_settings(settings, context, **common)


def open_camera(backend: str = "simulated", **kwargs: Any) -> Camera:
    """Create and open a camera of ``backend`` with the backend's keyword arguments."""
    return camera_class(backend)(**kwargs).open()
