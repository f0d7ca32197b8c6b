import time

import pytest

from tests.vision.conftest import aravis_or_skip


@pytest.mark.e2e
def test_aravis_opens_by_address_and_grabs_rgb_frames(fake_gv_camera):
    from vision.camera import open_camera

    cam = open_camera("aravis", address="127.0.0.1", width_px=512, frame_lines=128)
    try:
        frames = [cam.grab(timeout_s=3.0) for _ in range(4)]
    finally:
        cam.close()
    assert all(f.image.shape == (128, 512, 3) for f in frames)
    assert [f.frame_id for f in frames] == sorted({f.frame_id for f in frames})
    assert cam.stats.frames == 4


@pytest.mark.e2e
@pytest.mark.parametrize("fake_gv_camera", [["-r", "300"]], indirect=True)
def test_aravis_incomplete_frames_are_counted_not_passed_on(fake_gv_camera):
    from vision.aravis_camera import AravisCamera

    cam = AravisCamera("127.0.0.1", width_px=512, frame_lines=256, packet_resend=False).open()
    try:
        got = []
        deadline = time.monotonic() + 20
        while cam.stats.incomplete == 0 and time.monotonic() < deadline:
            try:
                got.append(cam.grab(timeout_s=2.0))
            except TimeoutError:
                pass
    finally:
        cam.close()
    assert cam.stats.incomplete > 0
    assert all(f.image.shape == (256, 512, 3) for f in got)


def test_aravis_unreachable_address_is_a_clear_error(gvcp_port):
    aravis_or_skip()
    from vision.aravis_camera import AravisCamera
    from vision.errors import CameraError

    with pytest.raises(CameraError, match="127.0.0.1"):
        AravisCamera("127.0.0.1", width_px=64, frame_lines=8).open()  # nothing listens: the port is held, no fake started
