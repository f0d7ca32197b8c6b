"""Colour-contrast matched filter (vision/matched.py, vision/matched_level.py, ``Detector.matched``): white noise stays
white under the prewhitening, a planted object scores above the level at its place while object-free belt stays below,
the shipped level file is checked, bad input is refused with a clear error, an object over a frame cut is reported
once, and the benchmark's ``--matched`` option runs as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vision.detectability import clutter_psd
from vision.errors import FrameError
from vision.matched import MatchedFilter, MatchedParams, MatchedStream, fit_filter, kind_directions, whitening_kernel
from vision.model_cache import cached_model
from vision.matched_level import FLOOR, MATCHED_PATH, RESERVED_SEEDS, belt_cells, check_filter, shipped_filter, tail_level

REPO = Path(__file__).resolve().parents[2]
CELL_MM = 8.0
#: The planted object's colour (grey levels added to R, G, B): bluer than the ore.
COLOUR = np.array([-12.0, -4.0, 14.0], np.float32)


def _ore(rng: np.random.Generator, rows: int = 1024, cols: int = 256) -> np.ndarray:
    """Synthetic 8 mm cell means: ore-coloured grains (correlated over 2 cells) with a grey lighting drift."""
    grain = rng.normal(0.0, 1.0, (rows + 2, cols + 2))
    grain = (grain[:-2, :-2] + grain[1:-1, 1:-1] + grain[2:, 2:]) / np.sqrt(3.0)
    grey = 120.0 + 15.0 * grain[:rows, :cols] + 10.0 * np.sin(np.arange(rows) / 90.0)[:, None]
    rgb = np.stack([grey * 1.15, grey * 0.95, grey * 0.7], axis=2) + rng.normal(0.0, 3.0, (rows, cols, 3))
    return rgb.astype(np.float32)


def _plant(rgb: np.ndarray, row: int, col: int, size_cells: int) -> np.ndarray:
    out = rgb.copy()
    out[row - size_cells // 2 : row + size_cells // 2, col - size_cells // 2 : col + size_cells // 2] += COLOUR
    return out


def _belt(rgb: np.ndarray) -> np.ndarray:
    belt = np.zeros(rgb.shape[:2], bool)
    belt[:, 16:240] = True
    return belt


@pytest.fixture(scope="module", params=[False, True], ids=["colour", "prewhitened"])
def fitted(request) -> MatchedFilter:
    rng = np.random.default_rng(5)
    free = [_ore(rng) for _ in range(4)]
    mf = fit_filter(((f, _belt(f)) for f in free), MatchedParams(whiten=request.param, min_load=0.0), CELL_MM)
    colours = [mf.colour_at(p, _belt(p), [(500.0, 128.0, 120.0)])[0] for p in (_plant(_ore(rng), 500, 128, 15) for _ in range(3))]
    kinds, dirs = kind_directions(["blue"] * 3, np.array(colours))
    mf = replace(mf, directions=dirs)
    scores = np.concatenate([[r.score for r in mf.regions(f, _belt(f), FLOOR)] for f in (_ore(rng) for _ in range(4))])
    return replace(mf, level=tail_level(scores, 4 * 1024 * CELL_MM / 1e6, 0.1))


def test_white_noise_stays_white():
    rng = np.random.default_rng(1)
    noise = [rng.normal(0.0, 2.0, (512, 512, 3)) for _ in range(2)]
    kernel = whitening_kernel(clutter_psd(noise, 32)[0])
    centre = kernel[16, 16]
    assert np.allclose(centre, np.eye(3) * centre[0, 0], atol=0.05)
    off = np.abs(kernel).copy()
    off[16, 16] = 0.0
    assert off.max() < 0.05  # no lag but zero: the inverse of a flat spectrum is a delta


def test_planted_object_scores_above_the_level_at_its_place(fitted):
    rgb = _plant(_ore(np.random.default_rng(9)), 400, 100, 12)
    regions = fitted.regions(rgb, _belt(rgb))
    assert regions, f"no region at level {fitted.level:.1f}"
    best = max(regions, key=lambda r: r.score)
    assert abs(best.row - 400) <= 8 and abs(best.col - 100) <= 8
    assert best.score >= fitted.level
    free = _ore(np.random.default_rng(10))
    assert fitted.regions(free, _belt(free)) == []


def test_object_over_a_frame_cut_is_reported_once(fitted):
    rng = np.random.default_rng(11)
    belt_rows = np.concatenate([_ore(rng), _ore(rng), _ore(rng)])
    belt_rows = _plant(belt_rows, 1024, 128, 14)  # half in the first frame, half in the second
    st = MatchedStream(fitted)
    found = []
    for k in range(3):
        block = belt_rows[k * 1024 : (k + 1) * 1024]
        found += [(r, row0) for r, row0 in st.push(block, _belt(block), k * 1024)]
    found += st.flush()
    rows = [row0 + r.row for r, row0 in found]
    assert len(found) == 1, rows
    assert abs(rows[0] - 1024) <= 8


def test_bad_input_is_refused_with_a_clear_error(fitted):
    rgb = _ore(np.random.default_rng(3), 64, 64)
    bad = rgb.copy()
    bad[3, 4, 1] = np.nan
    with pytest.raises(FrameError, match="NaN or inf"):
        fitted.regions(bad, _belt(rgb)[:64, :64])
    with pytest.raises(FrameError, match=r"\(h, w, 3\) cell colours"):
        fitted.regions(rgb[..., :2], np.ones((64, 64), bool))
    with pytest.raises(FrameError, match="belt mask of shape"):
        MatchedStream(fitted).push(rgb, np.ones((64, 63), bool), 0)
    with pytest.raises(ValueError, match="no object-free frame"):
        fit_filter([], MatchedParams(), CELL_MM)


def test_shipped_level_file_passes_its_check_and_a_bad_one_does_not(tmp_path):
    mf = shipped_filter()
    assert mf.level > FLOOR and np.isfinite(mf.level)
    assert mf.provenance["tiles"] == "fit" and not set(mf.provenance["seeds"]) & RESERVED_SEEDS
    assert len(mf.directions) >= 3
    for change, what in (({"level": float("inf")}, "not set"), ({"provenance": {**mf.provenance, "tiles": "heldout"}}, "fit split"),
                         ({"provenance": {**mf.provenance, "seeds": [952, 61, 955]}}, "reserved seeds")):
        with pytest.raises(ValueError, match=what):
            check_filter(replace(mf, **change))
    path = tmp_path / "m.npz"
    mf.save(path)
    again = MatchedFilter.load(path)
    assert again.level == mf.level and np.allclose(again.cov, mf.cov) and again.params == mf.params
    (tmp_path / "bad.npz").write_bytes(b"not a filter")
    with pytest.raises(ValueError, match="not a matched-filter file"):
        MatchedFilter.load(tmp_path / "bad.npz")
    assert MATCHED_PATH.exists()


def test_levelling_refuses_reserved_seeds():
    with pytest.raises(ValueError, match="reserved"):
        next(belt_cells("realistic", 1061, 10.0))


def test_tail_level_extrapolates_beyond_the_highest_score():
    s = np.random.default_rng(0).exponential(2.0, 5000) + 10.0
    assert tail_level(s, 1.0, 0.1) > s.max()
    assert tail_level(np.array([12.0, 11.0]), 1.0, 0.1) == 12.0


def test_switch_is_off_unless_set():
    assert cached_model(mm_per_px=4.0, width_px=512).detector().matched is None


def test_benchmark_option_runs_as_a_user_runs_it():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_scenes", "--quick", "--matched", "--fa-today-m", "0"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "union+MF" in proc.stdout and "matched filter: level" in proc.stdout
