"""The ideal observer's d' (vision.detectability) and its benchmark (issue 27, w27y)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from benchmarks.bench_vision_detectability import object_windows, open_scene, union_found, window_px
from vision.detectability import clutter_psd, colour_unknown, dprime, p_found, responses, search_positions, search_threshold, template
from vision.objects import Sprite
from vision.scene import SceneObject

ROOT = Path(__file__).resolve().parents[2]


def _blob(n: int = 64) -> np.ndarray:
    """A zero-mean RGB signal (N, N, 3): a bright bar with a dark rim, coloured."""
    y, x = np.mgrid[:n, :n] - n / 2
    bar = np.exp(-(x / 3.0) ** 2 - (y / 12.0) ** 2)
    s = np.stack([bar * 9.0, bar * 5.0, -bar * 2.0], axis=-1)
    return s - s.mean(axis=(0, 1))


def test_on_white_noise_d_prime_is_the_signal_norm_over_sigma():
    s, sigma = _blob(), 4.0
    exact = np.broadcast_to(np.eye(3) * sigma**2, (64, 64, 3, 3)).astype(complex)
    assert dprime(s, exact) == pytest.approx(np.linalg.norm(s) / sigma, rel=1e-9)
    rng = np.random.default_rng(3)
    psd, windows = clutter_psd([rng.normal(100.0, sigma, (512, 512, 3)) for _ in range(2)], 64)
    assert windows == 2 * 15 * 15
    assert dprime(s, psd) == pytest.approx(np.linalg.norm(s) / sigma, rel=0.05)


def test_the_template_responds_with_d_prime_squared_on_the_signal_and_d_prime_sd_on_the_clutter():
    s, sigma = _blob(), 3.0
    psd = np.broadcast_to(np.eye(3) * sigma**2, (64, 64, 3, 3)).astype(complex)
    d, w = dprime(s, psd), template(s, psd)
    assert float(np.sum(w * s)) == pytest.approx(d**2, rel=1e-9)
    t = responses(np.random.default_rng(5).normal(0.0, sigma, (600, 600, 3)), w)
    assert t.shape == (537, 537)
    assert t.std() == pytest.approx(d, rel=0.1) and abs(t.mean()) < 0.2 * d


def test_correlated_clutter_is_prewhitened():
    """Clutter all in the grey direction: a signal across it (a pure chroma change) is far more visible than the same
    energy along it, and d' along it matches ||s|| / sigma of the grey component."""
    rng = np.random.default_rng(7)
    grey = rng.normal(0.0, 10.0, (768, 768, 1)) * np.ones(3) + rng.normal(0.0, 0.5, (768, 768, 3))
    psd, _ = clutter_psd([grey], 64)
    bar = _blob()[..., :1]
    along = bar * np.ones(3) / np.sqrt(3)
    across = bar * np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
    assert dprime(across, psd) > 10 * dprime(along, psd)
    assert dprime(along, psd) == pytest.approx(np.linalg.norm(along) / np.sqrt(3 * 100 + 0.25), rel=0.1)


def test_an_object_that_renders_as_the_ore_has_d_prime_zero_and_the_background_is_untouched():
    scene = open_scene("realistic", 951, 4.0)
    obj = SceneObject("wood", 200.0, 30.0, 5000.0, 0.0, 30.0, seed=9)
    n = window_px(scene, obj)
    with_obj, without, outside = object_windows(scene, obj, n)
    assert outside == 0.0 and np.abs(with_obj - without).max() > 10  # the plank shows, only inside its sprite
    sp = scene.sprite(obj)
    scene._sprites[obj] = Sprite(sp.rgb, np.zeros_like(sp.alpha), np.zeros_like(sp.shadow), sp.centre_px)
    with_obj, without, outside = object_windows(scene, obj, n)
    psd = np.broadcast_to(np.eye(3) * 25.0, (n, n, 3, 3)).astype(complex)
    assert dprime(with_obj - without, psd) == 0.0


def test_bad_input_is_refused_with_what_was_wrong():
    s = _blob()
    psd = np.broadcast_to(np.eye(3), (64, 64, 3, 3)).astype(complex)
    bad = s.copy()
    bad[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dprime(bad, psd)
    with pytest.raises(ValueError, match=r"\(64, 32, 3\)"):
        dprime(s[:, :32], psd)
    with pytest.raises(ValueError, match=r"must be \(64, 64, 3, 3\).*\(32, 32, 3, 3\)"):
        dprime(s, psd[:32, :32])
    nan_psd = psd.copy()
    nan_psd[1, 1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="PSD holds NaN"):
        dprime(s, nan_psd)
    with pytest.raises(ValueError, match="smaller than the 64 px window"):
        clutter_psd([np.zeros((32, 100, 3))], 64)
    with pytest.raises(ValueError, match="clutter image 0 holds 1 NaN"):
        clutter_psd([bad], 32)
    with pytest.raises(ValueError, match="object area must be > 0"):
        search_positions(0.0)


def test_the_search_threshold_gives_one_false_alarm_in_the_places_searched():
    n = search_positions(100.0 * 20.0)
    assert n == pytest.approx(1.8e9 / 2000.0)
    z = search_threshold(n)
    assert n * norm.sf(z) == pytest.approx(1.0, rel=1e-6)
    assert float(p_found(z, z)) == pytest.approx(0.5)
    assert float(p_found(z + 3.0, z)) > 0.99
    assert colour_unknown(0.0, n) == pytest.approx(1.0 / n, rel=1e-6)  # no signal: the false-alarm rate
    for d in (3.0, 6.0, 9.0):  # not knowing the colour costs: below the known colour's, rising with d'
        assert colour_unknown(d, n) < float(p_found(d, z))
    assert colour_unknown(3.0, n) < colour_unknown(6.0, n) < colour_unknown(9.0, n)


def test_the_union_log_is_read_per_case(tmp_path):
    log = tmp_path / "wood.log"
    log.write_text("wet wood: wood objects >= 50 mm: found 1, missed 1\n"
                   "    106 mm vis  108 buried 0.19 coat 0.39 wet 1 | cand feat 1 own 0 | x | found\n"
                   "     55 mm vis   53 buried 0.13 coat 0.29 wet 0 | cand feat 0 own 0 | x | no candidate\n"
                   "wet wood, plank evidence: something else\n")
    assert union_found(str(log)) == {"wet wood": [(106, 0.19, True), (55, 0.13, False)]}
    (tmp_path / "other.log").write_text("nothing here\n")
    with pytest.raises(ValueError, match="other.log: no 'wood objects >= 50 mm' table"):
        union_found(str(tmp_path / "other.log"))


def test_the_benchmark_prints_each_case_against_the_target_and_refuses_reserved_seeds():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_detectability", "--quick", "--seed", "951",
                        "--cases", "wet wood"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    head = [line for line in r.stdout.splitlines() if line.startswith("wet wood: ")]
    assert len(head) == 1 and "target >= 90 %" in head[0] and "max |diff| 0 grey levels" in head[0]
    ceilings = re.findall(r"^  (blind|flat|ske) .*: ceiling ([\d.]+) %", r.stdout, flags=re.M)
    assert [c[0] for c in ceilings] == ["blind", "flat", "ske"] and all(0.0 <= float(c[1]) <= 100.0 for c in ceilings)
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_detectability", "--seed", "61"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "seed 61 is reserved" in r.stderr
