"""The camera station's run-time detector switches (vision/station_settings.py): each station key sets its detector's
attribute, its absence leaves the setting's default, a value that is no bool is refused naming the key; and
``bench_vision_scenes`` refuses a bad value of the switch's option by its usage, naming the option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.errors import ConfigError
from vision.fit import SHIPPED_DIR, cache_path
from vision.station import from_config
from vision.station_settings import (FULL_BURDEN_JUDGE, GROUP_FRAGMENTS, KIND_EVIDENCE, LOCAL_LOAD, LUMP_JUDGE, SPLIT_MERGED, THIN_STICKS, WOOD_EVIDENCE,
                                     WOOD_JUDGE)

from .conftest import station_context

REPO = Path(__file__).resolve().parents[2]
SHIPPED = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)
#: (station key = Detector attribute, the setting's default, the benchmark's option)
SWITCHES = [("local_load", LOCAL_LOAD, "--local-load"), ("full_burden_judge", FULL_BURDEN_JUDGE, "--full-burden-judge"),
            ("wood_evidence", WOOD_EVIDENCE, "--wood-evidence"), ("kind_evidence", KIND_EVIDENCE, "--kind-evidence"),
            ("split_merged", SPLIT_MERGED, "--split-merged"),
            ("group_fragments", GROUP_FRAGMENTS, "--group-fragments"), ("thin_sticks", THIN_STICKS, "--thin-sticks"),
            ("wood_judge", WOOD_JUDGE, "--wood-judge"), ("lump_judge", LUMP_JUDGE, "--lump-judge")]


@pytest.mark.parametrize("key, default, option", SWITCHES)
@pytest.mark.parametrize("value", [True, False])
def test_station_sets_its_detectors_switch(key, default, option, value):
    section = {"kind": "camera", "position_m": 5.0, "mm_per_px": 4.0, "width_px": 512, "model": str(SHIPPED), key: value}
    assert getattr(from_config("cam", section, station_context(None)).detector, key) is value
    section.pop(key)
    assert getattr(from_config("cam", section, station_context(None)).detector, key) is default
    with pytest.raises(ConfigError, match=key):
        from_config("cam", dict(section, **{key: "often"}), station_context(None))


@pytest.mark.parametrize("key, default, option", SWITCHES)
def test_the_scenes_benchmark_refuses_a_bad_value_naming_the_option(key, default, option):
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_scenes", option, "maybe"],
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 2 and option in r.stderr and "invalid choice" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("key, default, option", SWITCHES)
def test_a_models_detector_follows_the_setting(shipped_union, key, default, option):
    assert getattr(shipped_union.detector(), key) is default


def test_the_scenes_benchmark_runs_with_the_split_the_fragments_and_the_wood_judge_as_a_user_runs_it():
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_vision_scenes", "--quick", "--split-merged", "on",
                        "--group-fragments", "on", "--thin-sticks", "on", "--wood-judge", "on"], capture_output=True, text=True, timeout=900, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "split merged on" in r.stdout and "group fragments on" in r.stdout and "thin sticks on" in r.stdout
    assert "wood judge on" in r.stdout
    assert "\ntoday: recall >= 50 mm" in r.stdout and "\nrealistic: recall >= 50 mm" in r.stdout
