"""The camera station's run-time detector switches (vision/station_settings.py): each station key sets its detector's
attribute, its absence leaves the setting's default, a value that is no bool is refused naming the key; every boolean
key of the camera's section reaches the detector (read from SETTINGS itself, so a key left unplumbed fails), also the
detector of a declared product's model; and ``bench_vision_scenes`` refuses a bad value of the switch's option by its
usage, naming the option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conveyor.errors import ConfigError
from conveyor.records import LotIdentity, LotStart
from vision.fit import SHIPPED_DIR, cache_path
from vision.station import CameraStation, from_config
from vision.station_settings import (DETECTOR_SWITCHES, FULL_BURDEN_JUDGE, GROUP_FRAGMENTS, KIND_EVIDENCE, LOCAL_LOAD, LUMP_JUDGE, SETTINGS,
                                     SPLIT_MERGED, STATION_SWITCHES, THIN_STICKS, WOOD_EVIDENCE, WOOD_JUDGE, DetectorSwitches)

from .conftest import station_context

REPO = Path(__file__).resolve().parents[2]
SHIPPED = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)
#: (station key = Detector attribute, the setting's default, the benchmark's option) of every detector switch
SWITCHES = [(key, SETTINGS.fields[key].default, "--" + key.replace("_", "-")) for key in DETECTOR_SWITCHES]
#: The switches of session 56 (a floor: the derivation from SETTINGS loses none of them)
SESSION56 = {"local_load": LOCAL_LOAD, "full_burden_judge": FULL_BURDEN_JUDGE, "wood_evidence": WOOD_EVIDENCE,
             "kind_evidence": KIND_EVIDENCE, "split_merged": SPLIT_MERGED, "group_fragments": GROUP_FRAGMENTS,
             "thin_sticks": THIN_STICKS, "wood_judge": WOOD_JUDGE, "lump_judge": LUMP_JUDGE}
#: Every boolean key of the camera's section, read from the table itself (not from DETECTOR_SWITCHES)
BOOLEAN_KEYS = [key for key, f in SETTINGS.fields.items() if f.type is bool]


def _detector_state(det, key: str) -> bool:
    """What of the station's detector the camera's boolean key ``key`` set: the detector's attribute of that name, or for
    the station's own two the belt's width told (``belt_edge``) and the exposure normalisation attached
    (``exposure_norm``)."""
    if key == "belt_edge":
        return det.belt_width_m is not None
    if key == "exposure_norm":
        return det.exposure is not None
    return getattr(det, key)


@pytest.mark.parametrize("key, default, option", SWITCHES)
@pytest.mark.parametrize("value", [True, False])
def test_station_sets_its_detectors_switch(key, default, option, value):
    section = {"kind": "camera", "position_m": 5.0, "mm_per_px": 4.0, "width_px": 512, "model": str(SHIPPED), key: value}
    assert getattr(from_config("cam", section, station_context(None)).detector, key) is value
    section.pop(key)
    assert getattr(from_config("cam", section, station_context(None)).detector, key) is default
    with pytest.raises(ConfigError, match=key):
        from_config("cam", dict(section, **{key: "often"}), station_context(None))


@pytest.mark.parametrize("key", BOOLEAN_KEYS)
def test_every_boolean_camera_key_reaches_the_detector_also_a_declared_products(key):
    section = {"kind": "camera", "position_m": 5.0, "mm_per_px": 4.0, "width_px": 512, "model": str(SHIPPED),
               "models": {"crushed_rock": str(SHIPPED)}}
    for value in (True, False):
        st = from_config("cam", dict(section, **{key: value}), station_context(None))
        assert _detector_state(st.detector, key) is value, (key, value)
        first = st.detector
        st.start_lot(LotStart(LotIdentity("L1", "V", "H1", "crushed_rock", 100.0), 0.0, 0.0, 0.0))
        assert st.detector is not first and _detector_state(st.detector, key) is value, (key, value)
        st.close()


def test_the_detector_switches_are_the_boolean_keys_but_the_stations_own():
    assert DETECTOR_SWITCHES == tuple(k for k in BOOLEAN_KEYS if k not in STATION_SWITCHES)
    assert set(STATION_SWITCHES) < set(BOOLEAN_KEYS) and set(SESSION56) <= set(DETECTOR_SWITCHES)
    assert all(SETTINGS.fields[key].default is on for key, on in SESSION56.items())
    switches = DetectorSwitches({"thin_sticks": False})
    assert dict(switches) == {key: (False if key == "thin_sticks" else SETTINGS.fields[key].default) for key in DETECTOR_SWITCHES}
    with pytest.raises(TypeError, match="thin_stick"):
        DetectorSwitches({"thin_stick": True})


def test_the_station_refuses_a_keyword_that_is_no_switch_and_a_detector_without_one(shipped_union):
    st = from_config("cam", {"kind": "camera", "position_m": 5.0, "mm_per_px": 4.0, "width_px": 512, "model": str(SHIPPED)},
                     station_context(None))
    with pytest.raises(TypeError, match="lump_judges"):
        CameraStation("cam", 5.0, st.camera, shipped_union, lump_judges=True)
    assert CameraStation("cam", 5.0, st.camera, shipped_union, lump_judge=not LUMP_JUDGE).detector.lump_judge is (not LUMP_JUDGE)
    unplumbed = SimpleNamespace(**{key: None for key in DETECTOR_SWITCHES if key != "thin_sticks"})
    with pytest.raises(AttributeError, match="switch\\(es\\) thin_sticks$"):
        DetectorSwitches().apply(unplumbed)
    assert all(v is None for v in vars(unplumbed).values())  # none set


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
