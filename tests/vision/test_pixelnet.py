"""The pixel net (vision/pixelnet*.py, ``Detector.pixelnet``): bad input is refused with a clear error, the shipped
weights file is checked (format version, digest), a large object rendered on fit-split belt lies above the level while
the object-free belt stays below it, an object over a frame cut is reported once, the stream's regions are those of
the whole stream's map whatever the blocks (the carried rows' map kept), nothing is reported along the belt's edges,
the training scenes' mix and the hard negatives' mining, levelling refuses reserved seeds, the switch is off unless
set, and the benchmark's ``--pixelnet`` option runs as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vision.errors import FrameError, ModelError
from vision.features import cell_features
from vision.model_cache import cached_model
from vision.features import CellFeatures
from vision.pixelnet import (BLOCK_PX, CELL_CHANNELS, EDGE_OUT, FILE_VERSION, OUT_CELLS, PIXELNET_PATH, PixelNet, PixelStream,
                             check_inputs, pixel_inputs, regions, shipped_pixelnet)
from vision.pixelnet_data import N_FREE_SCENES, N_OBJECT_SCENES, PixelTrainingSet, scene_of
from vision.pixelnet_fit import mine_hard
from vision.pixelnet_level import belt_frames
from vision.scene import SceneObject
from vision.scenes import scene_options
from vision.sim_camera import SimulatedCamera

REPO = Path(__file__).resolve().parents[2]
#: A fit seed no development or confirmation run uses.
SEED = 8123
FRAME_MM = 2048 * 4.0


def _frames(objects: list[SceneObject], n: int, scene_type: str = "today") -> list[np.ndarray]:
    cam = SimulatedCamera(tiles="fit", seed=SEED, objects=objects, width_px=512, frame_lines=2048, mm_per_px=4.0,
                          scene_options=scene_options(scene_type)[0])
    cam.open()
    return [cam.grab().image for _ in range(n)]


def _regions(net: PixelNet, frames: list[np.ndarray]) -> list[tuple[float, float, float]]:
    """(belt mm, lateral mm, peak log-odds) of every region at the net's level, the frames streamed."""
    st, ref, row, out = PixelStream(net), None, 0, []
    for img in frames:
        f = cell_features(img, BLOCK_PX, ref_start=ref)
        ref = f.last_ref
        out += [(r, row0) for r, row0 in st.push(img, f, f.belt_cols, row)]
        row += f.r.shape[0]
    out += st.flush()
    return [((row0 + r.row + 0.5) * 8.0, ((r.col + 0.5) * BLOCK_PX - 256) * 4.0, r.score) for r, row0 in out]


@pytest.fixture(scope="module")
def net() -> PixelNet:
    return shipped_pixelnet()


def test_bad_input_is_refused_with_a_clear_error(net):
    img = np.full((64, 64, 3), 120, np.uint8)
    inp = pixel_inputs(img, cell_features(img, BLOCK_PX))
    bad = inp.cells.copy()
    bad[0, 2, 3, 4] = np.nan
    with pytest.raises(ModelError, match="non-finite value"):
        net.logit_map(inp.px, inp.gain, bad)
    with pytest.raises(ModelError, match="gain must be finite"):
        net.logit_map(inp.px, inp.gain * np.nan, inp.cells)
    with pytest.raises(ModelError, match=r"px \(1, H, W, 3\)"):
        check_inputs(inp.px[:, :60], inp.gain, inp.cells)
    with pytest.raises(ModelError, match=f"cells \\(1, {CELL_CHANNELS}"):
        check_inputs(inp.px, inp.gain, inp.cells[:, :5])
    with pytest.raises(ModelError, match="uint8"):
        check_inputs(inp.px.astype(np.float32), inp.gain, inp.cells)
    with pytest.raises(FrameError, match="uint8 frame"):
        pixel_inputs(img.astype(np.float32), cell_features(img, BLOCK_PX))


def test_the_weights_file_is_checked(net, tmp_path):
    assert PIXELNET_PATH.exists() and np.isfinite(net.level)
    assert '"tiles": "fit"' in net.provenance
    net.save(tmp_path / "n.npz")
    again = PixelNet.load(tmp_path / "n.npz")
    assert again.digest == net.digest and again.level == net.level
    with np.load(tmp_path / "n.npz") as z:
        arrays = dict(z)
    np.savez(tmp_path / "old.npz", **{**arrays, "version": np.int64(FILE_VERSION - 1)})
    with pytest.raises(ModelError, match="format version"):
        PixelNet.load(tmp_path / "old.npz")
    np.savez(tmp_path / "changed.npz", **{**arrays, "onnx": arrays["onnx"][:-1]})
    with pytest.raises(ModelError, match="digest"):
        PixelNet.load(tmp_path / "changed.npz")
    with pytest.raises(ModelError, match="cannot read"):
        PixelNet.load(tmp_path / "missing.npz")


def test_a_planted_object_is_found_above_the_level_and_plain_belt_stays_below(net):
    obj = SceneObject("plastic", 300.0, 200.0, belt_mm=4000.0, lateral_mm=-150.0)
    found = _regions(net, _frames([obj], 1))
    assert any(abs(b - obj.belt_mm) <= 200 and abs(lat - obj.lateral_mm) <= 200 for b, lat, _ in found), found
    assert _regions(net, _frames([], 2)) == []


def test_an_object_over_a_frame_cut_is_reported_once(net):
    obj = SceneObject("plastic", 300.0, 200.0, belt_mm=FRAME_MM, lateral_mm=100.0)
    found = [f for f in _regions(net, _frames([obj], 3)) if abs(f[0] - FRAME_MM) <= 300]
    assert len(found) == 1, found


def _features(frames: list[np.ndarray]) -> list[CellFeatures]:
    out, ref = [], None
    for img in frames:
        out.append(cell_features(img, BLOCK_PX, ref_start=ref))
        ref = out[-1].last_ref
    return out


def _rows(f: list[CellFeatures], r0: int, r1: int) -> CellFeatures:
    """Cell rows r0 .. r1 of the frames' features joined."""
    keys = ("r", "g", "lum", "fine", "coarse", "rgb")
    whole = {k: np.concatenate([getattr(x, k) for x in f]) for k in keys}
    return CellFeatures(**{k: v[r0:r1] for k, v in whole.items()}, belt_cols=f[-1].belt_cols, last_ref=f[-1].last_ref)


def test_the_stream_gives_the_whole_maps_regions_whatever_the_blocks(net):
    frames = _frames([SceneObject("plastic", 300.0, 200.0, belt_mm=FRAME_MM - 100.0, lateral_mm=100.0)], 2, "realistic")
    feats, img = _features(frames), np.concatenate(frames)
    h = img.shape[0] // BLOCK_PX
    level = float(np.quantile(net.frame_map(pixel_inputs(img, _rows(feats, 0, h)))[:, 20:-20], 0.9))  # many regions
    want = sorted((round(r.row), round(r.col), r.score) for r in regions(net.frame_map(pixel_inputs(img, _rows(feats, 0, h))), level))
    assert len(want) > 5
    for block in (1024, 350, 170):  # cell rows: whole frames, and blocks off the output cells' grid
        st, got = PixelStream(net, level), []
        for r0 in range(0, h, block):
            r1 = min(h, r0 + block)
            got += [(round(row0 + r.row), round(r.col), r.score) for r, row0 in
                    st.push(img[r0 * BLOCK_PX : r1 * BLOCK_PX], _rows(feats, r0, r1), feats[-1].belt_cols, r0)]
        got += [(round(row0 + r.row), round(r.col), r.score) for r, row0 in st.flush()]
        got.sort()
        assert [g[:2] for g in got] == [w[:2] for w in want], block
        np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], atol=1e-4)


def test_nothing_is_reported_along_the_belts_edges(net):
    img = _frames([], 1, "realistic")[0]
    inp = pixel_inputs(img, cell_features(img, BLOCK_PX))
    logit = net.frame_map(inp)
    on = inp.belt_cols[: logit.shape[1] * OUT_CELLS].reshape(-1, OUT_CELLS).all(axis=1)
    cols = np.flatnonzero(on)
    assert np.isneginf(logit[:, cols[:EDGE_OUT]]).all() and np.isneginf(logit[:, cols[-EDGE_OUT:]]).all()
    assert np.isfinite(logit[:, cols[EDGE_OUT:-EDGE_OUT]]).all() and np.isneginf(logit[:, ~on]).all()


def test_the_training_mix_leans_on_realistic_belt_and_refuses_a_scene_out_of_range():
    labels = [scene_of(k)[0] for k in range(N_OBJECT_SCENES)]
    realistic = sum(lab in ("realistic", "realistic wood", "wet-wood") for lab in labels)
    assert realistic >= 0.6 * N_OBJECT_SCENES and "today" in labels and "dark-ore" in labels
    assert scene_of(0)[2]["buried_max"] > 0  # buried, coated objects
    assert scene_of(1)[2]["kinds"] == ("wood",)
    with pytest.raises(ValueError, match="out of range"):
        scene_of(N_OBJECT_SCENES + N_FREE_SCENES)


def test_hard_negatives_are_the_highest_regions_of_the_object_free_frames(net):
    frames = _frames([SceneObject("plastic", 300.0, 200.0, belt_mm=4000.0, lateral_mm=0.0)], 1, "realistic") + _frames([], 1, "realistic")
    inps = [pixel_inputs(f, x) for f, x in zip(frames, _features(frames))]
    data = PixelTrainingSet(np.concatenate([i.px for i in inps]), np.stack([i.gain[0, 0, :, 0] for i in inps]),
                            np.concatenate([i.cells for i in inps]).astype(np.float16), np.zeros((2, 256, 64), np.float16),
                            np.array(["realistic", "realistic object-free"]))
    hard = mine_hard(net, data, top=5)
    assert len(hard) == 5 and (hard[:, 0] == 1).all()  # the frame with the object is never mined
    assert (np.diff(hard[:, 2]) <= 0).all() and ((hard[:, 1] >= 0) & (hard[:, 1] <= 256 - 64)).all()


def test_levelling_refuses_reserved_seeds():
    for seed in (1101, 121, 1122):
        with pytest.raises(ValueError, match="reserved"):
            belt_frames("realistic", seed, 10.0)


def test_switch_is_off_unless_set():
    assert cached_model(mm_per_px=4.0, width_px=512).detector().pixelnet is None


def test_benchmark_option_runs_as_a_user_runs_it():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_scenes", "--quick", "--pixelnet", "--fa-today-m", "0"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "union+PN" in proc.stdout and "pixel net" in proc.stdout
