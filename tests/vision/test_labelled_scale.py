"""Labelled photos of any size and scale: a 2.6 m wide photo at 1 mm/px (resampled to the shipped model's 4 mm/px and
covered with two overlapping frames) is scored as its counterpart rendered at 4 mm/px, objects on the frames' seam
counted once; area-averaged resampling; overlapping frames; a progress line for long sets. Through the installed
``.venv/bin/oreline`` with the default (shipped) model."""

import json
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest

from tests.vision.test_labelled import ORELINE, make_labelled_set, write_yolo
from vision.labels import _merge_overlaps
from vision.labels_photo import OVERLAP_MM, to_model_scale, windows

BELT_M, LONG_MM = 2.6, 1200.0  # a belt wider than the model's 512 px x 4 mm frame; photos 1.2 m long
MODEL_MM, MODEL_PX = 4.0, 512


def _set(root, mm, lateral):
    w, h = round(BELT_M * 1000 / mm), round(LONG_MM / mm)
    folder = root / f"{mm:g}mm"
    items = make_labelled_set(folder, n_images=8, seed=21, mm_per_px=mm, w_px=w, h_px=h, belt_width_m=BELT_M, lateral_mm=lateral)
    write_yolo(folder, items, w, h)
    return folder, items


def _evaluate(folder, mm, out):
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(folder), "--mm-per-px", f"{mm:g}", "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    print(p.stdout, p.stderr)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads((out / "labelled.json").read_text())


@pytest.mark.parametrize("where,lateral", [("seam", (-150.0, 150.0)), ("across", (-1100.0, 1100.0))])
def test_cli_wide_photo_at_1_mm_is_found_as_its_4_mm_counterpart(tmp_path, where, lateral):
    wide, items = _set(tmp_path, 1.0, lateral)
    native, _ = _set(tmp_path, MODEL_MM, lateral)
    frames = windows(round(BELT_M * 1000 / MODEL_MM), MODEL_PX, MODEL_MM)
    assert len(frames) == 2
    seam_px = frames[0].own_x1 * MODEL_MM  # the frames' ownership line, in photo px at 1 mm/px
    on_seam = sum(x0 < seam_px < x1 for _, boxes in items for _, x0, _, x1, _ in boxes)
    assert on_seam >= (6 if where == "seam" else 0)
    a, b = _evaluate(wide, 1.0, tmp_path / "a"), _evaluate(native, MODEL_MM, tmp_path / "b")
    n_obj = sum(len(bx) for _, bx in items)
    ra, rb = a["recall"]["all:all"], b["recall"]["all:all"]
    assert ra["objects"] == rb["objects"] == n_obj
    assert ra["detected"] >= 0.8 * n_obj and abs(ra["detected"] - rb["detected"]) <= 1
    # counted once: no more detections (on boxes or off them) than the counterpart shows, give or take one
    assert sum(r["detections"] for r in a["per_image"]) <= sum(r["detections"] for r in b["per_image"]) + 1
    assert a["false_alarms"] <= b["false_alarms"] + 1


def test_frames_cover_the_photo_overlap_by_the_largest_object_and_own_it_once():
    for width in (513, 650, 1200, 4000):
        ws = windows(width, MODEL_PX, MODEL_MM)
        assert ws[0].x0 == 0 and ws[-1].x0 + ws[-1].width == width
        assert all(b.x0 < a.x0 + a.width and a.x0 + a.width - b.x0 >= OVERLAP_MM / MODEL_MM for a, b in zip(ws, ws[1:]))
        assert ws[0].own_x0 == 0 and ws[-1].own_x1 == width and all(a.own_x1 == b.own_x0 for a, b in zip(ws, ws[1:]))
        assert all(w.x0 <= w.own_x0 and w.own_x1 <= w.x0 + w.width for w in ws)
    (one,) = windows(480, MODEL_PX, MODEL_MM)
    assert (one.x0, one.width, one.pad) == (0, 480, 16)


def test_detections_of_one_object_from_neighbouring_frames_count_once():
    dets = [SimpleNamespace(length_mm=300.0), SimpleNamespace(length_mm=200.0), SimpleNamespace(length_mm=250.0),
            SimpleNamespace(length_mm=100.0)]
    x_mm = np.array([1000.0, 1100.0, 1050.0, 3000.0])
    y_mm = np.array([500.0, 520.0, 480.0, 500.0])
    keep = _merge_overlaps(dets, x_mm, y_mm, np.array([0, 1, 0, 1]))
    assert keep.tolist() == [True, False, True, True]  # 1: the shorter view from the other frame; 2: same frame, kept


def test_shrinking_averages_areas_and_boxes_scale_with_the_photo():
    image = np.zeros((8, 8, 3), np.uint8)
    image[::2, ::2] = 200  # a 1-px checkerboard of 200 and 0: 50 per 4x4 block
    out, factor = to_model_scale(image, 1.0, 4.0)
    assert out.shape == (2, 2, 3) and factor == 0.25 and (out == 50).all()
    out, factor = to_model_scale(image, 8.0, 4.0)
    assert out.shape == (16, 16, 3) and factor == 2.0


def test_cli_long_set_prints_progress_and_says_unlabelled_photos_are_object_free(tmp_path):
    make_labelled_set(tmp_path, n_images=20, seed=4, w_px=400, h_px=200, max_objects=0)
    (tmp_path / "classes.txt").write_text("wood\n")
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(tmp_path), "--mm-per-px", "4", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "scored 20/20 photos (" in p.stderr and "scored 1/20" in p.stderr
    assert "20 scored (20 without a label file, scored as object-free)" in p.stdout
