import pytest

from conveyor.config import Field, StationSettings, intervals_t, positive_ints, read_toml, validate_section, validate_site
from conveyor.errors import ConfigError

GOOD = {
    "line": {"belt_length_m": 200.0, "nominal_speed_m_s": 4.5},
    "stations": {"nir": {"kind": "spectrometer", "position_m": 40.0}},
}


def _with(**changes):
    import copy

    raw = copy.deepcopy(GOOD)
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        node = raw
        for p in path:
            node = node.setdefault(p, {})
        if value is ...:
            node.pop(key, None)
        else:
            node[key] = value
    return raw


def test_a_minimal_site_validates_with_defaults():
    site = validate_site(GOOD)
    assert site["line"]["tick_s"] == 1.0
    assert site["lot"]["segment_mass_t"] == 100.0
    assert site["stations"]["nir"]["backend"] == "simulated"


@pytest.mark.parametrize(
    "changes, path, words",
    [
        ({"line__belt_length_m": ...}, "line.belt_length_m", "missing required key"),
        ({"line__belt_lenght_m": 3.0}, "line.belt_lenght_m", "unknown key"),
        ({"line__nominal_speed_m_s": 0.0}, "line.nominal_speed_m_s", "expected a value > 0.0, got 0.0"),
        ({"line__nominal_speed_m_s": -2.0}, "line.nominal_speed_m_s", "got -2.0"),
        ({"line__nominal_speed_m_s": "fast"}, "line.nominal_speed_m_s", "expected float, got str 'fast'"),
        ({"line__allow_reverse": 1}, "line.allow_reverse", "expected bool"),
        ({"lot__segment_mass_t": 0}, "lot.segment_mass_t", "> 0.0"),
        ({"stations__nir__position_m": 500.0}, "stations.nir.position_m", "on the belt"),
        ({"stations__nir__kind": ...}, "stations.nir.kind", "missing required key"),
        ({"stations__cam": {"kind": "camera", "position_m": 40.0}}, "stations.cam.position_m", "same position"),
        ({"simulation__events": [{"start_s": 1.0}]}, "simulation.events[0].duration_s", "missing"),
        ({"simulation__events": [{"start_s": 1.0, "duration_s": 5.0, "kind": "jump"}]},
         "simulation.events[0].kind", "expected one of"),
        ({"plant": {}}, "plant", "unknown section"),
        ({"simulation__speedup": float("nan")}, "simulation.speedup", "finite"),
    ],
)
def test_bad_config_names_key_and_value(changes, path, words):
    with pytest.raises(ConfigError) as err:
        validate_site(_with(**changes), station_kinds={"spectrometer": None, "camera": None})
    assert err.value.path == path
    assert words in str(err.value)


def test_scale_backend_names_come_from_the_caller_and_the_site_takes_the_registrys():
    with pytest.raises(ConfigError, match=r"scale.backend: expected one of \['direct', 'simulated'\]"):
        validate_site(_with(scale__backend="serial"), scale_backends=("direct", "simulated"))
    assert validate_site(_with(scale__backend="serial"))["scale"]["backend"] == "serial"  # left to its owner
    from analysis.site import validate
    from plc.scale import SCALE_BACKENDS

    with pytest.raises(ConfigError) as err:
        validate(_with(scale__backend="serial"))
    assert err.value.path == "scale.backend" and all(repr(name) in str(err.value) for name in SCALE_BACKENDS)


def test_unknown_station_kind_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"stations.nir.kind: expected one of \['camera'\]"):
        validate_site(GOOD, station_kinds={"camera": None})


def test_missing_line_section_and_non_table():
    with pytest.raises(ConfigError, match="line: missing required section"):
        validate_site({})
    with pytest.raises(ConfigError, match="expected a table"):
        validate_section([1, 2], {"a": Field(int)}, "x")


def test_toml_syntax_error_names_the_file(tmp_path):
    bad = tmp_path / "site.toml"
    bad.write_text("[line\nbelt_length_m = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_toml(bad)
    with pytest.raises(ConfigError, match="not found"):
        read_toml(tmp_path / "nope.toml")


CAMERA = StationSettings(
    kind="camera",
    fields={"exposure_us": Field(float, 100.0, min=0.0, min_exclusive=True, doc="Exposure, us."),
            "fault": Field(dict, {}, table={"loss_prob": Field(float, 0.0, min=0.0, max=0.999)}),
            "seed": Field(int, None, doc="default: the line seed")},
    backends={"simulated": {"lost_at_t": Field(list, [], check=intervals_t),
                            "jam_at": Field(list, [], check=positive_ints)},
              "folder": {"folder": Field(str, doc="Image folder.")}},
)


@pytest.mark.parametrize(
    "section, path, words",
    [
        ({"kind": "camera", "position_m": 1.0, "zoom": 2}, "stations.cam.zoom", "unknown key"),
        ({"kind": "spectrometer", "position_m": 1.0}, "stations.cam.kind", "expected 'camera', got 'spectrometer'"),
        ({"kind": "camera", "position_m": 1.0, "backend": "usb"}, "stations.cam.backend",
         "expected one of ['simulated', 'folder']"),
        ({"kind": "camera", "position_m": 1.0, "backend": "folder"}, "stations.cam.folder", "missing required key"),
        ({"kind": "camera", "position_m": 1.0, "folder": "x"}, "stations.cam.folder",
         "only valid with backend 'folder', this station's backend is 'simulated'"),
        ({"kind": "camera", "position_m": 1.0, "exposure_us": 0}, "stations.cam.exposure_us", "> 0.0"),
        ({"kind": "camera", "position_m": 1.0, "fault": {"loss_prob": 2.0}}, "stations.cam.fault.loss_prob", "<= 0.999"),
        ({"kind": "camera", "position_m": 1.0, "fault": {"jam": 1}}, "stations.cam.fault.jam", "unknown key"),
        ({"kind": "camera", "position_m": 1.0, "lost_at_t": [[5, 2]]}, "stations.cam.lost_at_t", "end > start"),
        ({"kind": "camera"}, "stations.cam.position_m", "missing required key"),
    ],
)
def test_station_settings_name_the_dotted_key(section, path, words):
    with pytest.raises(ConfigError) as err:
        CAMERA.validate("cam", section)
    assert err.value.path == path and words in str(err.value)


def test_station_settings_fill_defaults_and_validate_their_own_output():
    cfg = CAMERA.validate("cam", {"kind": "camera", "position_m": 1.0, "lost_at_t": [[1, 2]], "jam_at": [3, 1, 3]})
    assert cfg == {"kind": "camera", "position_m": 1.0, "backend": "simulated", "enabled": True, "exposure_us": 100.0,
                   "fault": {"loss_prob": 0.0}, "seed": None, "lost_at_t": [(1.0, 2.0)], "jam_at": [1, 3]}
    # the site is validated by the loader, again after command-line overrides, then by the station factory
    assert CAMERA.validate("cam", CAMERA.validate("cam", cfg)) == cfg
    folder = CAMERA.validate("cam", {"kind": "camera", "position_m": 1.0, "backend": "folder", "folder": "imgs"})
    assert folder["folder"] == "imgs" and "lost_at_t" not in folder


def test_the_site_validates_stations_against_their_settings():
    site = validate_site(_with(stations__cam={"kind": "camera", "position_m": 60.0, "exposure_us": 50}),
                         station_kinds={"camera": CAMERA, "spectrometer": None})
    assert site["stations"]["cam"]["exposure_us"] == 50.0 and site["stations"]["cam"]["fault"] == {"loss_prob": 0.0}
    with pytest.raises(ConfigError) as err:
        validate_site(_with(stations__cam={"kind": "camera", "position_m": 60.0, "exposure_us": -1}),
                      station_kinds={"camera": CAMERA, "spectrometer": None})
    assert err.value.path == "stations.cam.exposure_us"
