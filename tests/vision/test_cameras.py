import numpy as np
import pytest
from PIL import Image

from vision.camera import Camera, camera_class, open_camera
from vision.errors import CameraDisconnected, CameraError, CameraTimeout, FrameError, ImageFileError
from vision.frames import Frame
from vision.sim_camera import SimulatedCamera


class _Scripted(Camera):
    """A camera that replays a list of frames (to drive the base-class checks)."""

    def __init__(self, frames, **kw):
        super().__init__(**kw)
        self.frames = list(frames)

    def _open(self):
        pass

    def _grab(self, timeout_s):
        if not self.frames:
            raise CameraTimeout("script ended")
        return self.frames.pop(0)


def _frame(i, shape=(8, 32, 3), dtype=np.uint8):
    return Frame(np.zeros(shape, dtype), i, 0.0, 100.0, 0.0, 0.0, 1.0)


def test_sequence_checks_count_drops_and_reject_duplicates():
    cam = _Scripted([_frame(1), _frame(2), _frame(5), _frame(5), _frame(6)], width_px=32, frame_lines=8).open()
    assert cam.grab().frame_id == 1 and cam.grab().frame_id == 2
    assert cam.grab().frame_id == 5 and cam.stats.dropped == 2
    with pytest.raises(FrameError, match="duplicated"):
        cam.grab()
    assert cam.grab().frame_id == 6 and cam.stats.duplicated == 1
    with pytest.raises(CameraTimeout):
        cam.grab()
    assert cam.stats.timeouts == 1


@pytest.mark.parametrize("shape,dtype,msg", [((8, 31, 3), np.uint8, "width"), ((8, 32, 3), np.uint16, "dtype"), ((8, 32), np.uint8, "shape")])
def test_wrong_frame_size_or_dtype(shape, dtype, msg):
    cam = _Scripted([_frame(1, shape, dtype)], width_px=32, frame_lines=8).open()
    with pytest.raises(FrameError, match=msg):
        cam.grab()


def test_closed_camera_and_unknown_backend():
    with pytest.raises(CameraError, match="not open"):
        _Scripted([]).grab()
    with pytest.raises(ValueError, match="backend"):
        camera_class("usb")


def test_simulated_camera_marks_frames_and_survives_disconnect():
    cam = open_camera("simulated", tiles="fit", width_px=256, frame_lines=100, mm_per_px=4.0, free_run=False)
    cam.feed(10.0, 11.0, 500.0, 501.0, 2.0, 2.25)
    f1 = cam.grab()
    assert f1.start_belt_m == pytest.approx(10.0) and f1.start_mark_t == pytest.approx(500.0) and f1.time_s == pytest.approx(2.0)
    assert f1.image.shape == (100, 256, 3) and f1.exposure_us == 100.0
    cam.simulate_disconnect()
    with pytest.raises(CameraDisconnected):
        cam.grab()
    cam.reconnect()
    f2 = cam.grab()
    assert f2.start_belt_m == pytest.approx(10.4) and f2.mark_at_row(0) == pytest.approx(500.4)
    cam.grab()
    with pytest.raises(CameraTimeout):
        cam.grab()
    assert cam.stats.reconnects == 1 and cam.stats.frames == 3


def test_simulated_camera_has_a_scene_only_once_open():
    cam = SimulatedCamera(tiles="fit", width_px=256, frame_lines=50, mm_per_px=4.0, seed=3)
    with pytest.raises(CameraError, match="not open"):
        _ = cam.belt_scene
    assert cam.open().belt_scene is cam.scene and cam.belt_scene.width_px == 256


def test_simulated_frame_loss_is_counted():
    cam = SimulatedCamera(tiles="fit", width_px=256, frame_lines=50, mm_per_px=4.0, frame_loss_prob=0.5, seed=3).open()
    ids = [cam.grab().frame_id for _ in range(10)]
    assert cam.stats.dropped == ids[-1] - ids[0] - 9 > 0 and len(cam.lost_spans_m) == ids[-1] - 10


def test_folder_camera_reads_a_12_bit_camera_frame_scaled_not_clipped(tmp_path):
    """Machine-vision cameras write 10-14 bits into 16-bit files: the replayed frame keeps its greys (Pillow's own
    conversion clips a 16-bit grey frame to white), as labelled photos and site fits read them."""
    import tifffile

    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint16), (20, 1))  # 20 x 64, 0..252
    tifffile.imwrite(tmp_path / "f00.tif", (grey.astype(np.int64) * 4095 // 255).astype(np.uint16))  # 12 bits in 16
    cam = open_camera("folder", folder=tmp_path, width_px=64, frame_lines=20)
    image = cam.grab().image
    assert image.shape == (20, 64, 3) and np.abs(image.astype(int) - grey[:, :, None]).max() <= 1


def test_folder_camera_corrupt_file_then_goes_on(tmp_path):
    for i in range(2):
        Image.fromarray(np.full((20, 64, 3), 100 + i, np.uint8)).save(tmp_path / f"f{i}0.png")
    (tmp_path / "f05.png").write_bytes(b"garbage")
    cam = open_camera("folder", folder=tmp_path, width_px=64, frame_lines=20)
    assert cam.grab().image[0, 0, 0] == 100
    with pytest.raises(ImageFileError, match="f05.png"):
        cam.grab()
    f = cam.grab()
    assert f.image[0, 0, 0] == 101 and cam.stats.dropped == 1
    with pytest.raises(CameraTimeout):
        cam.grab()
