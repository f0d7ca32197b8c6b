"""The shipped demo's hidden slag is found by the real line: `oreline demo` on a short lot of the shipped site. The
line serves nothing there (``--no-serve``), so it starts without the control room's web packages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analysis.test_cli_startup import WRAPPER
from tests.sitefiles import light_site_file

ORELINE = Path(sys.executable).parent / "oreline"
#: the shipped site's slag (its fraction and material) moved to 30-80 t of a 90 t lot of 10 t segments (~12 spectra
#: each: slag segments score 52-115 against the threshold's 7, the clean one 3; with 25 t segments, a 225 t lot, 70-100
#: and 1), no foreign objects
SEGMENT_MASS_T = 10.0
SIMULATION = {"waste_start_t": 30.0, "waste_extent_t": 50.0, "objects_per_1000_t": 0.0}

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_demo_slag_segments_are_waste_suspect_and_the_clean_one_before_is_ore(tmp_path):
    site = light_site_file(tmp_path / "site.toml", simulation=SIMULATION, segment_mass_t=SEGMENT_MASS_T)
    # the installed script inside tests/analysis/test_cli_startup.py's wrapper: the web packages it loaded are written
    web = ("fastapi", "starlette", "uvicorn")
    env = {**os.environ, "HEAVY": json.dumps(web), "SCRIPT": str(ORELINE), "OUT": str(tmp_path / "loaded.json")}
    proc = subprocess.run([sys.executable, "-c", WRAPPER, "demo", "--config", str(site), "--lot-mass-t=90", "--speedup",
                           "0", "--no-serve", "--no-report", "--run-dir", str(tmp_path / "run")],
                          capture_output=True, text=True, env=env, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((tmp_path / "loaded.json").read_text()) == [], "a line serving nothing imported the web server"
    segments = json.loads((tmp_path / "run" / "summary.json").read_text())["segments"]
    classes = [s["segment_class"] for s in segments]
    assert classes[:2] == ["uninspected", "uninspected"]  # the NIR baseline's warm-up
    assert classes[2] == "ore", classes
    slag = classes[3:8]
    assert slag.count("waste-suspect") >= 4, classes  # 20 % slag: flagged by the lot detector
    assert all(segments[i]["nir_waste_score"] > segments[i]["evidence"]["nir_threshold"]
               for i in range(3, 8) if classes[i] == "waste-suspect"), segments
