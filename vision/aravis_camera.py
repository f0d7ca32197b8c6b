"""GigE Vision cameras through Aravis 0.8 and PyGObject (backend ``aravis``), imported lazily.

The camera is opened **by address** (``Aravis.Camera.new("192.0.2.10")``), never by broadcast
discovery. Frames are requested as RGB8 (``pixel_format``) of ``width_px`` x ``frame_lines``.
Incomplete buffers (lost packets, timeouts inside the stream) are counted in
``stats.incomplete`` and never passed on. Needs the Debian packages ``gir1.2-aravis-0.8`` and
``libaravis-0.8-0`` plus PyGObject in the Python environment.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import numpy as np

from conveyor.station import StationContext
from vision.camera import Camera
from vision.errors import BackendUnavailable, CameraDisconnected, CameraError, CameraTimeout
from vision.frames import Frame


def load_aravis() -> Any:
    """The ``Aravis`` GI module. Raises BackendUnavailable saying what is missing."""
    try:
        import gi

        gi.require_version("Aravis", "0.8")
        from gi.repository import Aravis
    except (ImportError, ValueError) as exc:
        raise BackendUnavailable(
            f"Aravis 0.8 via PyGObject is not importable ({exc}); install Debian packages gir1.2-aravis-0.8 "
            "(and libgirepository1.0-dev, libcairo2-dev to build PyGObject) and `pip install 'PyGObject<3.51'`"
        ) from exc
    return Aravis


class AravisCamera(Camera):
    """A GigE Vision camera at ``address``. ``n_buffers`` stream buffers; ``packet_resend`` asks for lost packets again."""

    def __init__(self, address: str, *, pixel_format: str = "RGB8", n_buffers: int = 8, packet_resend: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.address = address
        self.pixel_format = pixel_format
        self.n_buffers = int(n_buffers)
        self.packet_resend = packet_resend
        self._cam: Any = None  # Aravis.Camera and Aravis.Stream (GObject introspection: no type information)
        self._stream: Any = None
        self._raw_last: int | None = None
        self._id_offset = 0
        self._aravis: Any = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], context: StationContext, **common: Any) -> "AravisCamera":
        """The camera at ``address``. Raises BackendUnavailable here, when the station is built, if Aravis cannot be
        imported (the library is loaded; the device is not touched until :meth:`open`)."""
        load_aravis()
        return cls(address=settings["address"], **common)

    def _open(self) -> None:
        Ar = self._aravis = self._aravis or load_aravis()
        try:
            cam = Ar.Camera.new(self.address)
        except Exception as exc:  # GLib.Error
            raise CameraError(f"cannot open GigE Vision camera at {self.address}: {exc}") from exc
        try:
            cam.set_region(0, 0, self.width_px, self.frame_lines)
            cam.set_pixel_format_from_string(self.pixel_format)
            cam.set_exposure_time(self.exposure_us)
            x, y, w, h = cam.get_region()
            if (w, h) != (self.width_px, self.frame_lines):
                raise CameraError(f"camera at {self.address} accepted region {w}x{h}, expected {self.width_px}x{self.frame_lines}")
            stream = cam.create_stream(None, None)
            if not self.packet_resend and isinstance(stream, Ar.GvStream):
                stream.set_property("packet-resend", Ar.GvStreamPacketResend.NEVER)
            size = cam.get_payload()
            for _ in range(self.n_buffers):
                stream.push_buffer(Ar.Buffer.new_allocate(size))
            cam.start_acquisition()
        except CameraError:
            raise
        except Exception as exc:
            raise CameraError(f"cannot configure camera at {self.address}: {exc}") from exc
        self._cam, self._stream = cam, stream

    def _close(self) -> None:
        try:
            if self._cam is not None:
                self._cam.stop_acquisition()
        except Exception:
            pass
        self._cam = self._stream = None

    def _grab(self, timeout_s: float) -> Frame:
        Ar = self._aravis
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CameraTimeout(f"no complete frame from {self.address} within {timeout_s} s")
            try:
                buf = self._stream.timeout_pop_buffer(int(left * 1e6))
            except Exception as exc:
                raise CameraDisconnected(f"stream from {self.address} failed: {exc}") from exc
            if buf is None:
                continue
            if buf.get_status() != Ar.BufferStatus.SUCCESS:
                self.stats.incomplete += 1
                self._stream.push_buffer(buf)
                continue
            data = buf.get_data()
            raw_id = int(buf.get_frame_id())
            if self._raw_last is not None and raw_id < self._raw_last and self._raw_last - raw_id > 1 << 15:
                self._id_offset += 1 << 16  # GigE Vision 1.x block ids are 16 bit and wrap
            self._raw_last = raw_id
            frame_id = raw_id + self._id_offset
            self._stream.push_buffer(buf)
            expected = self.width_px * self.frame_lines * 3
            if len(data) != expected:
                self.stats.incomplete += 1
                continue
            image = np.frombuffer(data, np.uint8).reshape(self.frame_lines, self.width_px, 3).copy()
            now = time.monotonic()
            belt_m, mark_t, t_per_m = self._stamp(now)
            return Frame(image, frame_id, now, self.exposure_us, belt_m, mark_t, self.mm_per_px, t_per_m)
