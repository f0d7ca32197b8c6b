"""The shipped demo's hidden slag is found by the real line: `oreline demo` on a short lot of the shipped site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sitefiles import light_site_file

ORELINE = Path(sys.executable).parent / "oreline"
#: the shipped site's slag (its fraction and material) moved to 75-200 t of a 225 t lot of 25 t segments (~30 spectra
#: each: slag segments score 70-100 against the threshold's 7, the clean one 1), no foreign objects
SEGMENT_MASS_T = 25.0
SIMULATION = {"waste_start_t": 75.0, "waste_extent_t": 125.0, "objects_per_1000_t": 0.0}

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_demo_slag_segments_are_waste_suspect_and_the_clean_one_before_is_ore(tmp_path):
    site = light_site_file(tmp_path / "site.toml", simulation=SIMULATION, segment_mass_t=SEGMENT_MASS_T)
    proc = subprocess.run([str(ORELINE), "demo", "--config", str(site), "--lot-mass-t=225", "--speedup", "0",
                           "--no-serve", "--no-report", "--run-dir", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    segments = json.loads((tmp_path / "run" / "summary.json").read_text())["segments"]
    classes = [s["segment_class"] for s in segments]
    assert classes[:2] == ["uninspected", "uninspected"]  # the NIR baseline's warm-up
    assert classes[2] == "ore", classes
    slag = classes[3:8]
    assert slag.count("waste-suspect") >= 4, classes  # 20 % slag: flagged by the lot detector
    assert all(segments[i]["nir_waste_score"] > segments[i]["evidence"]["nir_threshold"]
               for i in range(3, 8) if classes[i] == "waste-suspect"), segments
