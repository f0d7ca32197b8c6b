"""Rendered belt frames served as a GigE Vision camera: an Aravis ``GvFakeCamera`` whose pixels are our scene.

``python -m vision.gige_source --address 127.0.0.1 [--tiles heldout] [--mm-per-px 2] [--objects-per-m 1] ...``
hosts a fake GigE Vision camera (GVCP on UDP 3956 of ``address``, GVSP stream to whoever opens it) and fills every
frame the client asks for with the next stretch of a simulated belt (:class:`~vision.scene.BeltScene` with foreign
objects). The client (the station's ``aravis`` backend, ``arv-camera-test-0.8``, a vendor viewer) opens it by address
like a real camera and gets the frame size and pixel format (RGB8 or Mono8) it configured.

With ``--truth FILE`` one JSON line per served frame says what is in it: the SHA-1 of the frame's bytes, its first
belt row and the objects any part of which lies in it (kind, length, row and column in the frame), so a client can check
what it detected against what was sent, frame by frame, even when frames are lost on the way.

Aravis' Python binding cannot pass a Python fill callback to the fake camera (the closure is gone by the time the
streaming thread calls it), so the callback is registered through ctypes on the same ``libaravis-0.8`` the GI module
uses. The fake camera must run in its own process: a client in the same process deadlocks in ``Camera.new``.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import hashlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, TextIO

import numpy as np

from vision.aravis_camera import load_aravis
from vision.errors import BackendUnavailable, CameraError
from vision.scene import BeltScene, SceneObject, random_objects
from vision.tiles import load_tiles

#: GenICam pixel formats the source fills.
PIXEL_FORMATS = {0x02180014: ("RGB8", 3), 0x01080001: ("Mono8", 1)}
_FILL = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)


def _libaravis() -> ctypes.CDLL:
    name = ctypes.util.find_library("aravis-0.8") or "libaravis-0.8.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise BackendUnavailable(f"cannot load {name} ({exc}); install the Debian package libaravis-0.8-0") from exc
    lib.arv_buffer_get_data.restype = ctypes.c_void_p
    lib.arv_buffer_get_data.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    for fn in (lib.arv_buffer_get_image_width, lib.arv_buffer_get_image_height):
        fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_void_p]
    lib.arv_fake_camera_set_fill_pattern.restype = None
    lib.arv_fake_camera_set_fill_pattern.argtypes = [ctypes.c_void_p, _FILL, ctypes.c_void_p]
    return lib


def _gpointer(obj: Any) -> int:
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return int(get(obj.__gpointer__, None))


#: Makes a frame: (width_px, lines) → (lines, width_px, 3) uint8 image and a JSON-able truth record.
FrameMaker = Callable[[int, int], tuple[np.ndarray, dict]]


class BeltFrameMaker:
    """Consecutive stretches of a simulated belt with foreign objects, ``mm_per_px``, scene made at the first
    requested width. Truth per frame: first belt row and the objects any part of which lies in the frame (their
    centre row may lie outside it)."""

    def __init__(self, *, tiles: str = "heldout", mm_per_px: float = 2.0, objects_per_m: float = 1.0, length_m: float = 2000.0,
                 seed: int = 0, min_length_mm: float = 100.0) -> None:
        self.tiles, self.mm_per_px, self.seed = tiles, float(mm_per_px), int(seed)
        rng = np.random.default_rng(seed)
        self.objects: list[SceneObject] = [o for o in random_objects(length_m * 1000.0, rng, per_m=objects_per_m, min_gap_mm=300.0)
                                           if o.length_mm >= min_length_mm]
        self.scene: BeltScene | None = None
        self.row = 0

    def warm(self, width_px: int, lines: int) -> None:
        """Build the scene and render a stretch with every object kind once, so the first frames served from the
        camera's streaming thread do not wait for tile loading and lazy imports."""
        probe = BeltFrameMaker(tiles=self.tiles, mm_per_px=self.mm_per_px, objects_per_m=20.0, length_m=lines * self.mm_per_px / 1000.0,
                               seed=self.seed + 1, min_length_mm=0.0)
        probe(width_px, lines)
        self.scene = BeltScene(load_tiles(self.tiles), width_px=width_px, mm_per_px=self.mm_per_px, seed=self.seed)

    def __call__(self, width_px: int, lines: int) -> tuple[np.ndarray, dict]:
        if self.scene is None or self.scene.width_px != width_px:
            self.scene = BeltScene(load_tiles(self.tiles), width_px=width_px, mm_per_px=self.mm_per_px, seed=self.seed)
        r0, r1 = self.row, self.row + lines
        mm0, mm1 = r0 * self.mm_per_px, r1 * self.mm_per_px
        near = [o for o in self.objects if mm0 - 1000.0 < o.belt_mm < mm1 + 1000.0]
        image = self.scene.render(r0, lines, near)
        inside = [o for o in near if mm0 - o.length_mm / 2 <= o.belt_mm < mm1 + o.length_mm / 2]  # any part in the frame
        self.row = r1
        truth = {"first_row": r0, "mm_per_px": self.mm_per_px,
                 "objects": [{"kind": o.kind, "length_mm": o.length_mm, "width_mm": o.width_mm,
                              "row": o.belt_mm / self.mm_per_px - r0, "col": self.scene.col_of_lateral(o.lateral_mm)} for o in inside]}
        return image, truth


class GigeFrameSource:
    """An Aravis GigE Vision fake camera on ``address`` whose frames come from ``make_frame``.

    Raises BackendUnavailable without Aravis, CameraError when the camera cannot listen on ``address``."""

    def __init__(self, address: str, make_frame: FrameMaker, *, serial: str = "ORELINE-BELT", truth: TextIO | None = None) -> None:
        Ar = load_aravis()
        self._lib = _libaravis()
        self.make_frame = make_frame
        self.truth = truth
        self.frames_served = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        try:
            self._gv = Ar.GvFakeCamera.new(address, serial)
        except Exception as exc:  # GLib.Error
            raise CameraError(f"cannot start a GigE Vision fake camera on {address}: {exc}") from exc
        if not self._gv.is_running():
            raise CameraError(f"GigE Vision fake camera on {address} is not running (is UDP port 3956 of {address} taken?)")
        self._callback = _FILL(self._fill)  # kept alive as long as the source
        self._lib.arv_fake_camera_set_fill_pattern(_gpointer(self._gv.get_fake_camera()), self._callback, None)

    def _fill(self, buffer: int, _data: int, _exposure_us: int, _gain: int, pixel_format: int) -> None:
        try:
            fmt = PIXEL_FORMATS.get(pixel_format)
            if fmt is None:
                raise CameraError(f"pixel format 0x{pixel_format:08x} not served; expected RGB8 or Mono8")
            w, h = self._lib.arv_buffer_get_image_width(buffer), self._lib.arv_buffer_get_image_height(buffer)
            ptr = self._lib.arv_buffer_get_data(buffer, None)
            with self._lock:
                image, truth = self.make_frame(w, h)
                data = image if fmt[1] == 3 else image.mean(axis=2).astype(np.uint8)
                data = np.ascontiguousarray(data)
                ctypes.memmove(ptr, data.ctypes.data, w * h * fmt[1])
                self.frames_served += 1
                if self.truth is not None:
                    truth = dict(truth, sha1=hashlib.sha1(data.tobytes()).hexdigest(), pixel_format=fmt[0])
                    self.truth.write(json.dumps(truth) + "\n")
                    self.truth.flush()
        except Exception as exc:  # the streaming thread must not die; the client sees a stale frame and we log why
            self.errors.append(f"{type(exc).__name__}: {exc}")
            print(f"gige_source: {self.errors[-1]}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m vision.gige_source --address 127.0.0.1 ...``: serve a simulated belt as a GigE Vision camera
    until SIGTERM / Ctrl-C."""
    ap = argparse.ArgumentParser(prog="python -m vision.gige_source", description=main.__doc__)
    ap.add_argument("--address", default="127.0.0.1", help="IP address (or interface) to listen on")
    ap.add_argument("--serial", default="ORELINE-BELT")
    ap.add_argument("--tiles", default="heldout", help='ore tiles: "fit", "heldout", "all" or a folder of images')
    ap.add_argument("--mm-per-px", type=float, default=2.0)
    ap.add_argument("--objects-per-m", type=float, default=1.0)
    ap.add_argument("--min-length-mm", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width-px", type=int, default=1024, help="frame width to prepare for (a client may ask for another)")
    ap.add_argument("--truth", type=Path, help="write one JSON line per served frame (sha1 of its bytes, objects in it)")
    a = ap.parse_args(argv)
    maker = BeltFrameMaker(tiles=a.tiles, mm_per_px=a.mm_per_px, objects_per_m=a.objects_per_m, seed=a.seed, min_length_mm=a.min_length_mm)
    maker.warm(a.width_px, 256)
    truth = a.truth.open("w") if a.truth else None
    try:
        src = GigeFrameSource(a.address, maker, serial=a.serial, truth=truth)
    except CameraError as exc:
        print(f"gige_source: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"gige_source: GigE Vision camera {a.serial} on {a.address}, belt from {a.tiles} at {a.mm_per_px} mm/px", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    print(f"gige_source: served {src.frames_served} frames", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
