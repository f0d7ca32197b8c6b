"""One contract, run over every camera backend of the registry (``vision.camera.BACKENDS``).

Each backend is built the way the station builds it (:func:`vision.camera.camera_from_settings` from a station's
validated settings), on a real device: the simulated belt, a folder of image files, and an Aravis GigE Vision fake
camera (``arv-fake-gv-camera-0.8`` in its own process) where Aravis and the fake are installed (else that case skips
with the reason). A backend added to the registry without a case here fails :func:`test_every_backend_has_a_case`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conveyor.clock import SimulatedClock
from conveyor.station import MaterialWindow, StationContext
from vision.camera import BACKENDS, Camera, camera_from_settings
from vision.errors import BackendUnavailable, CameraError, VisionError
from vision.station import SETTINGS

WIDTH, LINES, MM = 256, 64, 4.0
CASES = ("simulated", "folder", "aravis")


def _context(tmp_path: Path) -> StationContext:
    return StationContext(clock=SimulatedClock(), belt_width_m=1.0, nominal_speed_m_s=4.0, run_dir=tmp_path, seed=3)


def _settings(backend: str, **keys) -> dict:
    return SETTINGS.validate("cam", {"kind": "camera", "position_m": 1.0, "backend": backend, **keys})


def _build(backend: str, tmp_path: Path, **keys) -> Camera:
    return camera_from_settings(backend, _settings(backend, **keys), _context(tmp_path), width_px=WIDTH, frame_lines=LINES,
                                mm_per_px=MM, exposure_us=100.0)


def _image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(3):
        Image.fromarray(rng.integers(0, 255, (LINES, WIDTH, 3), dtype=np.uint8)).save(folder / f"f{k}.png")
    return folder


@pytest.fixture(params=CASES)
def backend(request, tmp_path):
    """(backend name, station settings of a working device)."""
    name = request.param
    if name == "simulated":
        return name, {"tiles": "fit"}
    if name == "folder":
        return name, {"folder": str(_image_folder(tmp_path))}
    request.getfixturevalue("fake_gv_camera")  # Aravis's fake on loopback, holding the GVCP port (conftest.py)
    return name, {"address": "127.0.0.1"}


def _open(cam: Camera) -> Camera:
    return cam.open()


def test_every_backend_has_a_case():
    assert set(BACKENDS) == set(CASES)


def test_built_from_settings_unopened_then_grabs_checked_frames(backend, tmp_path):
    name, keys = backend
    cam = _build(name, tmp_path, **keys)
    assert isinstance(cam, Camera) and not cam.is_open
    assert (cam.width_px, cam.frame_lines, cam.mm_per_px) == (WIDTH, LINES, MM)
    with pytest.raises(CameraError, match="not open"):
        cam.grab()
    with _open(cam):
        if name == "simulated":
            cam.feed(0.0, 2 * LINES * MM / 1000.0, 0.0, 1.0, 0.0, 0.5)
        frames = [cam.grab(timeout_s=3.0) for _ in range(2)]
    assert not cam.is_open
    cam.close()  # twice is safe
    for f in frames:
        assert f.image.shape == (LINES, WIDTH, 3) and f.image.dtype == np.uint8 and f.mm_per_px == MM
    assert frames[1].frame_id > frames[0].frame_id and cam.stats.frames == 2


def test_frames_for_a_window_cover_it_and_carry_its_marks(backend, tmp_path):
    name, keys = backend
    cam = _open(_build(name, tmp_path, **keys))
    try:
        cam.start_lot(100.0)
        length_m = 2 * LINES * MM / 1000.0
        window = MaterialWindow("L1", "cam", 10.0, 10.5, 100.0, 101.0, 50.0, 50.0 + length_m, length_m / 0.5, 100.0)
        frames = cam.frames_for(window, contiguous=False)
    finally:
        cam.close()
    assert frames, f"{name}: no frame for the window"
    assert frames[0].start_belt_m == pytest.approx(50.0, abs=MM / 1000.0)
    assert frames[-1].end_belt_m >= window.end_belt_m - MM / 1000.0
    assert all(100.0 - 1e-9 <= f.start_mark_t <= 101.0 + 1e-9 for f in frames)
    assert [f.frame_id for f in frames] == sorted({f.frame_id for f in frames})


def test_reconnect_counts_and_grabs_again(backend, tmp_path):
    name, keys = backend
    cam = _open(_build(name, tmp_path, **keys))
    try:
        cam.reconnect()
        if name == "simulated":
            cam.feed(0.0, LINES * MM / 1000.0, 0.0, 1.0, 0.0, 0.5)
        assert cam.grab(timeout_s=3.0).image.shape == (LINES, WIDTH, 3)
        assert cam.stats.reconnects == 1
    finally:
        cam.close()


@pytest.mark.parametrize("name,keys", [("simulated", {"tiles": "/nonexistent/tiles"}), ("folder", {"folder": "/nonexistent/frames"}),
                                       ("aravis", {"address": "192.0.2.1"})])
def test_no_io_when_built_a_missing_device_fails_at_open(name, keys, tmp_path):
    """Building touches no file or device: a missing folder or unreachable camera is an error of ``open``."""
    try:
        cam = _build(name, tmp_path, **keys)
    except BackendUnavailable as exc:
        pytest.skip(f"{name} backend unavailable here: {exc}")
    with pytest.raises(VisionError):
        cam.open()
    assert not cam.is_open
