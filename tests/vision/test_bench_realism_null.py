"""bench_vision_realism_null (issue 27, RULE_NULL49): the realism criterion asked of real photos against real photos.
Its statistics are the checks' real side (all photos give exactly the checks' real values), and the script runs as a
user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_vision_realism_null import (CHECKS, load_sources, source_stats, split_halves, statistics)
from vision.realism import (PATCH_QUANTILE, clipped_colour_checks, clipping_checks, illumination_checks, patch_check,
                            saturation_excess)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stats():
    sources = load_sources()
    maps = [saturation_excess(w) for s in sources for w in s.windows]
    threshold = float(np.quantile(np.concatenate([e[o] for e, o in maps]), PATCH_QUANTILE))
    return source_stats(sources, threshold)


def test_every_photo_gives_the_checks_real_side(stats):
    """The pooled statistics of every source are the real values vision.realism's checks compare with (a 0.3 m belt:
    the real side does not depend on the rendered length)."""
    got = statistics(stats, np.arange(len(stats.medians)))
    real = [c.real for c in [patch_check(0, None, 0.3)] + clipping_checks(0, None, 0.3) + clipped_colour_checks(0, None, 0.3)]
    np.testing.assert_allclose(got[1:], real, rtol=1e-9)


def test_split_halves_compare_a_with_b_within_bs_spread(stats):
    res = split_halves(stats, 2, 5, seed=3)
    assert res["a"].shape == res["b"].shape == res["spread_b"].shape == res["within"].shape == (2, len(CHECKS))
    np.testing.assert_array_equal(res["within"], np.abs(res["a"] - res["b"]) <= res["spread_b"])
    assert not np.array_equal(res["a"], res["b"])  # two different halves
    assert (res["spread_b"] > 0).all(axis=1).any()


def test_the_script_runs_as_a_user_runs_it(tmp_path):
    out = tmp_path / "null.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_realism_null", "--quick", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "all six within together" in proc.stdout and "fit photos (144) against the held-out photos (49" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["checks"] == list(CHECKS) and len(figures["within_share"]) == 6
    assert all(0.0 <= s <= 1.0 for s in figures["within_share"]) and figures["splits"] == 4
    bad = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_realism_null", "--splits", "0"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "expected --splits >= 1" in bad.stderr


def test_the_illumination_checks_spread_is_a_bootstrap_over_sources():
    """The held-out photos' augmented copies of one source are not independent: the check's spread is the bootstrap
    over sources (~0.020), wider than over photos (~0.015), and the real side is the held-out photos' CV."""
    from benchmarks.bench_vision_realism_null import _cv, _photo_bootstrap_cv

    check = illumination_checks(0, 1.0)[0]
    held = [np.array(s.medians) for s in load_sources() if s.heldout and s.medians]
    assert check.real == pytest.approx(_cv(np.concatenate(held)), rel=1e-6)  # grey as float32 there
    per_photo = _photo_bootstrap_cv(np.concatenate(held), 200, np.random.default_rng(0))
    assert per_photo < 0.017 < check.spread < 0.024
