"""Bad input (hypothesis, bounded example counts): Modbus frames, site files, spectrum files, image files.

Each input is refused with the package's own error class (or, on the wire, a Modbus exception reply
or a dropped connection) and the server keeps answering well-formed requests afterwards; input that is
accepted must give a usable result. The figures for docs/reliability.md (inputs tried, accepted, refused)
are recorded when the module's tests are done, with ``survived`` true only when none of them failed.
"""

from __future__ import annotations

import socket
import struct
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymodbus.client import ModbusTcpClient

from conveyor.errors import ConfigError
from conveyor.feed import SimulatedFeed
from spectra.errors import SpectraError
from spectra.formats import read_spectra
from vision.errors import VisionError
from vision.folder_camera import FolderCamera
from plc.bw500 import BW500_TABLE
from plc.server import OrelineModbusServer
from plc.simulated import SimulatedPlc
from analysis.site import load_site, validate
from tests.faults.figures import record

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
#: figure key → what was fuzzed
FIGURES = {
    "modbus_server": "random Modbus/TCP frames to the oreline server",
    "modbus_scale": "random Modbus/TCP frames to the simulated belt scale",
    "config": "random site values and site files",
    "spectra": "random spectrum files (USGS JSON, ECOSTRESS, CSV, JCAMP)",
    "images": "random image files to the folder camera",
}
_counts: dict[str, Counter[str]] = defaultdict(Counter)


def _count(key: str, outcome: str = "sent") -> None:
    _counts[key][outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def fuzz_figures(request):
    """After the module: one figure per fuzzed input kind that ran (tried, accepted, refused)."""
    failed_before = request.session.testsfailed
    _counts.clear()
    yield
    survived = request.session.testsfailed == failed_before
    for key, counts in _counts.items():
        record(f"fuzz.{key}", group="fuzz", fault=FIGURES[key], injected=sum(counts.values()), survived=survived,
               **{k: v for k, v in counts.items() if k != "sent"})


# ---- Modbus frames ------------------------------------------------------------------------------------------
def _mbap(tid: int, unit: int, pdu: bytes, length: int | None = None) -> bytes:
    return struct.pack(">HHHB", tid, 0, (len(pdu) + 1) if length is None else length, unit) + pdu


frames = st.one_of(
    st.binary(min_size=0, max_size=300),  # garbage
    st.builds(lambda tid, unit, fc, body: _mbap(tid, unit, bytes([fc]) + body),  # well framed, any function/body
              st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(0, 255), st.binary(max_size=260)),
    st.builds(lambda tid, unit, pdu, length: _mbap(tid, unit, pdu, length),  # lying length field
              st.integers(0, 0xFFFF), st.integers(0, 255), st.binary(min_size=1, max_size=20), st.integers(0, 0xFFFF)),
    st.builds(lambda addr, count: _mbap(1, 1, struct.pack(">BHH", 3, addr, count)),  # reads anywhere, any count
              st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    st.builds(lambda addr, vals: _mbap(1, 1, struct.pack(">BHHB", 16, addr, len(vals), 2 * len(vals))
                                       + b"".join(struct.pack(">H", v) for v in vals)),  # writes anywhere
              st.integers(0, 0xFFFF), st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=10)),
)


def _send(port: int, frame: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2.0) as s:
        s.settimeout(0.3)
        try:
            s.sendall(frame)
            s.recv(512)
        except (TimeoutError, socket.timeout, ConnectionError, OSError):
            pass


def _still_answers(port: int, address: int) -> None:
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=2.0, retries=1)
    try:
        assert client.connect()
        rr = client.read_holding_registers(address, count=2, device_id=1)
        assert not rr.isError(), rr
    finally:
        client.close()


@pytest.fixture(scope="module")
def oreline_server():
    server = OrelineModbusServer("127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def simulated_scale():
    plc = SimulatedPlc(SimulatedFeed(6000.0, 4.5, 1000.0), "127.0.0.1", 0).start()
    plc.update(10.0)
    yield plc
    plc.stop()


@pytest.mark.slow  # hundreds of real Modbus frames over loopback (~15 s): whole suite, not the fast tier
@FUZZ
@given(frame=frames)
def test_modbus_frames_to_the_oreline_server(oreline_server, frame):
    _count("modbus_server")
    _send(oreline_server.port, frame)
    assert oreline_server.running
    _still_answers(oreline_server.port, 0)  # every bad frame, then a good request


@pytest.mark.slow  # hundreds of real Modbus frames over loopback (~15 s): whole suite, not the fast tier
@FUZZ
@given(frame=frames)
def test_modbus_frames_to_the_simulated_belt_scale(simulated_scale, frame):
    _count("modbus_scale")
    _send(simulated_scale.port, frame)
    assert simulated_scale.running
    _still_answers(simulated_scale.port, BW500_TABLE["FORMAT_WORD"].address)


# ---- site files ---------------------------------------------------------------------------------------------
toml_scalars = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=12))
toml_values = st.recursive(toml_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=8)
SECTIONS = ["line", "lot", "scale", "simulation", "stations", "verdict", "archive", "plc", "control_room", "bogus"]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(section=st.sampled_from(SECTIONS), key=st.one_of(st.sampled_from(
    ["belt_width_m", "nominal_speed_m_s", "tick_s", "segment_mass_t", "backend", "lot_mass_t", "seed", "events",
     "alpha", "flush_interval_s", "port", "nir", "camera", "kind", "position_m"]), st.text(max_size=10)),
    value=toml_values)
def test_random_site_values_raise_config_error_only(section, key, value):
    site = load_site()
    target = site.setdefault(section, {})
    if isinstance(target, dict):
        target[key] = value
    try:
        checked = validate(site)
    except ConfigError as exc:
        _count("config", "refused")
        assert exc.path, "a refused value names its key"
        return
    _count("config", "accepted")
    _assert_complete_site(checked)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(text=st.one_of(st.text(max_size=200), st.builds(lambda k, v: f"[{k}]\n{v}", st.sampled_from(SECTIONS),
                                                        st.text(max_size=80))))
def test_random_site_files_raise_config_error_only(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("toml") / "site.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        checked = load_site(path)
    except ConfigError:
        _count("config", "refused")
        return
    _count("config", "accepted")
    _assert_complete_site(checked)


def _assert_complete_site(site: dict) -> None:
    """An accepted site is complete and typed: every section, a positive belt speed, stations on the belt."""
    assert {"line", "lot", "scale", "simulation", "stations", "verdict", "archive", "plc", "control_room"} <= set(site)
    assert site["line"]["nominal_speed_m_s"] > 0 and site["lot"]["segment_mass_t"] > 0
    for station in site["stations"].values():
        assert 0 < station["position_m"] <= site["line"]["belt_length_m"]


# ---- spectrum files -----------------------------------------------------------------------------------------
def _spectrum_text(kind: str, body: str) -> str:
    if kind == ".json":
        return body
    if kind == ".jdx":
        return "##TITLE=x\n##JCAMP-DX=4.24\n##XYDATA=(X++(Y..Y))\n" + body + "\n##END=\n"
    return body


SPECTRUM_BODIES = st.one_of(
    st.text(max_size=300),
    st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True)),
             max_size=20).map(lambda rows: "\n".join(f"{a},{b}" for a, b in rows)),
    st.dictionaries(st.sampled_from(["name", "wavelength_nm", "reflectance", "spectrum", "x", "y", "units"]),
                    toml_values, max_size=5).map(lambda d: __import__("json").dumps(d, default=str)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(suffix=st.sampled_from([".json", ".txt", ".csv", ".jdx", ".dx"]), body=SPECTRUM_BODIES)
def test_bad_spectrum_files_raise_spectra_errors_only(tmp_path_factory, suffix, body):
    path = tmp_path_factory.mktemp("spec") / f"s{suffix}"
    path.write_bytes(_spectrum_text(suffix, body).encode("utf-8", "surrogatepass"))
    try:
        spectra = read_spectra(path)
    except SpectraError:
        _count("spectra", "refused")
        return
    _count("spectra", "accepted")
    for s in spectra:  # accepted input must make a usable spectrum
        assert len(s.wavelength_nm) == len(s.reflectance) > 0


# ---- image files --------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(suffix=st.sampled_from([".png", ".jpg", ".bmp", ".tif"]), data=st.one_of(
    st.binary(max_size=400),
    st.binary(max_size=200).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
    st.binary(max_size=200).map(lambda b: b"\xff\xd8\xff\xe0" + b)))
def test_bad_image_files_raise_vision_errors_only(tmp_path_factory, suffix, data):
    folder = tmp_path_factory.mktemp("img")
    (folder / f"bad{suffix}").write_bytes(data)
    try:
        cam = FolderCamera(folder, loop=False, width_px=64, frame_lines=64, mm_per_px=8.0, exposure_us=100.0)
        cam.open()
        try:
            frame = cam.grab(timeout_s=1.0)
        finally:
            cam.close()
    except VisionError:
        _count("images", "refused")
        return
    _count("images", "accepted")
    assert frame.image.shape[:2] == (64, 64)  # an accepted file gives a frame of the configured size
