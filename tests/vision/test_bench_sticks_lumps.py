"""bench_sticks_lumps (issue 27, thin55): belts of lumps only run with the thin sticks off and on, counting the stick
detections by a lump (wood reported on ore), through the command line as it is run."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench_sticks_lumps
from benchmarks.bench_sticks_lumps import NEAR_LUMP_MM, LumpCount, by_lumps, lump_count, turned_foreign_rows
from vision.detect import Detection
from vision.frontier import belt_detections
from vision.scene import SceneObject

REPO = Path(__file__).resolve().parents[2]


def _detection(belt_m: float, lateral_m: float) -> Detection:
    return Detection("wood", 1.0, 60.0, 8.0, 480.0, belt_m, lateral_m, 0.0, 0.0, 0.35, np.zeros((1, 1, 3), np.uint8), 0,
                     stick_score=0.35)


def test_a_detection_is_by_a_lump_within_the_margin_of_its_outline():
    lump = SceneObject("lump", 300.0, 200.0, 5000.0, 100.0)
    edge = 0.150 + NEAR_LUMP_MM / 1000.0  # the lump's half length plus the margin, across the belt
    near = by_lumps([_detection(5.0, 0.1 + edge - 0.001), _detection(5.0, 0.1 + edge + 0.001), _detection(5.3, 0.1)], [lump])
    assert near[:, 0].tolist() == [True, False, False]
    assert by_lumps([], [lump]).shape == (0, 1) and by_lumps([_detection(5.0, 0.1)], []).shape == (1, 0)


def test_the_switch_runs_each_lumps_belt_off_and_on():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_sticks_lumps", "--seed", "11", "--today-m", "10",
                           "--realistic-m", "0", "--dark-m", "0", "--thin-sticks", "both"], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("lumps on today's belt, seed 11")]
    assert [re.search(r"sticks (off|on):", line).group(1) for line in lines] == ["off", "on"]
    counts = [re.search(r": (\d+) lumps; stick detections (\d+), by a lump \(<= 100 mm\) (\d+)", line).groups() for line in lines]
    assert counts[0][0] == counts[1][0] != "0" and counts[0][1] == "0"  # the same lumps; no stick with the switch off
    assert int(counts[1][2]) <= int(counts[1][1])


def test_each_belt_is_streamed_with_the_lump_judge_as_asked(monkeypatch):
    """lump57: ``--lump-judge`` reaches the detector beside the sticks' switch (the lumps left foreign after it)."""
    seen = []

    def streamed(model, backgrounds, objects, **kw):
        seen.append(kw["switches"])
        return [], type("Cam", (), {"position_m": 1.0})()

    monkeypatch.setattr(bench_sticks_lumps, "belt_detections", streamed)
    for judged in (False, True):
        c = lump_count(None, "lumps on today's belt", "today", {"kinds": ("lump",)}, 1.0, 11, True, judged)
        assert c.sticks == c.lumps_foreign == 0
    assert seen == [{"thin_sticks": True, "lump_judge": False}, {"thin_sticks": True, "lump_judge": True}]


def test_a_belt_streamed_with_a_switch_the_detector_lacks_is_refused_by_name(small_model):
    with pytest.raises(AttributeError, match="thin_stick'"):
        belt_detections(small_model, "fit", [], length_m=1.0, seed=1, switches={"thin_stick": True})


def test_the_figure_is_the_lumps_the_sticks_turn_foreign_per_hundred_lumps_checked_against_the_limit():
    off = LumpCount("lumps on today's belt", 1000.0, 600, 0, 0, 12, 0, False)
    on = LumpCount("lumps on today's belt", 1000.0, 600, 30, 30, 15, 24, True)
    (row,) = turned_foreign_rows([off, on, LumpCount("lumps on dark ore", 250.0, 170, 0, 0, 2, 0, False)])  # dark: off only
    assert row["value"] == pytest.approx(0.5) and row["unit"] == "%" and row["ok"] and "600 lumps" in row["name"]
    (worse,) = turned_foreign_rows([off, LumpCount("lumps on today's belt", 1000.0, 600, 30, 30, 16, 24, True)])
    assert not worse["ok"]
