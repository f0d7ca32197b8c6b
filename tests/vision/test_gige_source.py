"""Rendered belt frames over GigE Vision, end to end: `python -m vision.gige_source` hosts an Aravis fake camera on
127.0.0.1 filled with our simulated belt; the camera station built from a site section (backend "aravis", opened
by address) grabs what arrives and its detector finds the rendered objects in it. Skips with the reason where
Aravis cannot be installed."""

import hashlib
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from conveyor.clock import SimulatedClock
from conveyor.station import StationContext
from vision.station import from_config
from tests.vision.conftest import MM_PER_PX, WIDTH_PX, aravis_or_skip

LINES = 384


@pytest.fixture
def belt_camera(tmp_path, gvcp_port):
    aravis_or_skip()
    truth = tmp_path / "truth.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "vision.gige_source", "--address", "127.0.0.1", "--mm-per-px", str(MM_PER_PX),
                             "--objects-per-m=3", "--seed", "5", "--truth", str(truth)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "GigE Vision camera" not in line:
        proc.kill()
        pytest.skip(f"fake GigE Vision camera did not start: {line} {proc.stderr.read()[-500:]}")
    yield truth
    proc.terminate()
    out, err = proc.communicate(timeout=10)
    assert "served" in out and "gige_source:" not in err.replace("gige_source: GigE", ""), err


@pytest.mark.e2e
@pytest.mark.slow
def test_station_detects_rendered_objects_from_gige_frames(belt_camera, model_file):
    ctx = StationContext(SimulatedClock(), 1.8, 4.5, belt_camera.parent, seed=1, cargo=None)
    st = from_config("cam", {"kind": "camera", "position_m": 50.0, "backend": "aravis", "address": "127.0.0.1",
                             "mm_per_px": MM_PER_PX, "width_px": WIDTH_PX, "frame_lines": LINES, "model": str(model_file)}, ctx)
    assert type(st.camera).__name__ == "AravisCamera"
    st.camera.open()
    got = []
    try:
        deadline = time.monotonic() + 60
        while len(got) < 40 and time.monotonic() < deadline:
            try:
                got.append(st.camera.grab(timeout_s=3.0))
            except TimeoutError:
                pass
    finally:
        st.camera.close()
    truth = {}
    for line in belt_camera.read_text().splitlines():
        rec = json.loads(line)
        truth[rec["sha1"]] = rec
    found, objects, false_alarms, matched_frames = 0, 0, 0, 0
    for f in got:
        rec = truth.get(hashlib.sha1(f.image.tobytes()).hexdigest())
        if rec is None:
            continue  # a frame whose fill raced the truth file: not scored
        matched_frames += 1
        st.detector.reset()  # frames may be lost on the way: each frame is scored on its own
        res = st.detector.process(f)
        dets = res.detections + st.detector.flush()
        rows = np.array([(d.belt_m - f.start_belt_m) * 1000.0 / MM_PER_PX for d in dets])
        cols = np.array([d.lateral_m * 1000.0 / MM_PER_PX + WIDTH_PX / 2 for d in dets])
        used = np.zeros(len(dets), bool)
        for o in rec["objects"]:
            reach = o["length_mm"] / MM_PER_PX / 2 + 20
            near = np.flatnonzero(np.hypot(rows - o["row"], cols - o["col"]) <= reach) if len(dets) else []
            used[near] = True  # any piece of a rendered object is no false alarm
            if 40 < o["row"] < LINES - 40:  # recall: objects whole in the frame (a cut one is not a fair single-frame test)
                objects += 1
                found += len(near) > 0
        false_alarms += int((~used).sum())
    print(f"\nGigE frames: {len(got)} received, {matched_frames} identical to a served frame; objects >= 100 mm found "
          f"{found}/{objects}, unmatched detections {false_alarms}; camera stats {st.camera.stats}")
    assert len(got) >= 12 and matched_frames >= 0.8 * len(got)
    assert all(f.image.shape == (LINES, WIDTH_PX, 3) for f in got)
    assert objects >= 10 and found >= 0.7 * objects
    assert false_alarms <= max(2, objects // 3)
