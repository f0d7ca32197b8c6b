"""The control room's parts on their own: settings, logins, evidence caches, server start/stop."""

from __future__ import annotations

import io
import math
import socket

import numpy as np
import pytest

from conveyor.config import validate_site
from conveyor.errors import ConfigError
from conveyor.records import LotIdentity, LotStart, Measurement, StreamDescription
from analysis.web import CONTROL_ROOM_FIELDS, validate_control_room
from analysis.web.auth import Authenticator
from analysis.web.sessions import SessionTable
from analysis.web.errors import EvidenceError, ServerStartError
from analysis.web.evidence import SpectrumCache, plain, thumbnail_array, thumbnail_png
from analysis.web.server import ControlRoomServer
from tests.lines.service import build_sim_line


# ---- settings ----------------------------------------------------------------------------------
def test_control_room_defaults_bind_loopback():
    cfg = validate_control_room({})
    assert cfg["host"] == "127.0.0.1" and cfg["enabled"] is True
    assert cfg["operator_token"] == "" and cfg["viewer_token"] == ""


def test_control_room_section_in_a_site_file():
    raw = {"line": {"belt_length_m": 100.0, "nominal_speed_m_s": 4.0},
           "control_room": {"port": 0, "operator_token": "longenough"}}
    site = validate_site(raw, extra_sections={"control_room": CONTROL_ROOM_FIELDS})
    assert site["control_room"]["port"] == 0


@pytest.mark.parametrize("section, path", [
    ({"port": 70000}, "control_room.port"),
    ({"port": "80"}, "control_room.port"),
    ({"hots": "0.0.0.0"}, "control_room.hots"),
    ({"operator_token": "short"}, "control_room.operator_token"),
    ({"operator_token": "has space inside"}, "control_room.operator_token"),
    ({"operator_token": "same-token-1", "viewer_token": "same-token-1"}, "control_room.viewer_token"),
    ({"update_interval_s": 5.0}, "control_room.update_interval_s"),
])
def test_bad_control_room_keys_name_the_key(section, path):
    with pytest.raises(ConfigError) as info:
        validate_control_room(section)
    assert info.value.path == path


# ---- logins ------------------------------------------------------------------------------------
def test_roles_from_tokens_and_sessions():
    auth = Authenticator("operator-1234", "viewer-12345")
    assert auth.identify("Bearer operator-1234", None, "10.0.0.1").role == "operator"
    assert auth.identify("bearer viewer-12345", None, "10.0.0.1").role == "viewer"
    assert auth.identify("Basic operator-1234", None, "10.0.0.1").role == "none"
    assert auth.identify("Bearer operator-12345", None, "10.0.0.1").role == "none"
    assert auth.identify(None, "forged-session", "10.0.0.1").role == "none"
    assert auth.login("10.0.0.1", token="nope-nope") is None
    session, _ = auth.login("10.0.0.1", token="operator-1234")
    who = auth.identify(None, session.session_id, "10.0.0.1")
    assert (who.role, who.person, who.session) == ("operator", "token:operator", session.tag)
    auth.logout(session.session_id)
    assert auth.identify(None, session.session_id, "10.0.0.1").role == "none"


def test_session_pools_are_bounded_per_role():
    sessions = SessionTable(max_sessions={"viewer": 3, "operator": 2}, idle_s=60, absolute_s=600)
    auth = Authenticator("operator-1234", "viewer-12345", sessions=sessions, open_viewing=True)
    operator, _ = auth.login("10.0.0.1", token="operator-1234")
    viewers = [auth.login("10.0.0.2", token="viewer-12345")[0] for _ in range(10)]
    assert sessions.count("viewer") == 3 and sessions.count("operator") == 1
    assert auth.identify(None, viewers[0].session_id, "x", open_lift=False).role == "none"  # oldest dropped
    assert auth.identify(None, operator.session_id, "x").role == "operator"  # viewers never push operators out
    assert auth.identify(None, None, "x").role == "viewer"  # open viewing
    assert auth.identify(None, None, "x", open_lift=False).role == "none"


# ---- evidence ----------------------------------------------------------------------------------
def _lot(segment_mass_t: float = 10.0) -> LotStart:
    return LotStart(LotIdentity("LOT1", "MV X", "H1", "ore", 100.0), 0.0, 1000.0, segment_mass_t)


def test_spectrum_cache_mean_and_std_per_segment():
    rng = np.random.default_rng(0)
    cache = SpectrumCache(max_segments=4)
    wl = np.linspace(1000, 1600, 16)
    cache.handle(_lot())
    cache.handle(StreamDescription("nir", "nir", "nir", {"reflectance": ((16,), "float32"), "valid": ((), "bool")},
                                   metadata={"wavelength_nm": wl.tolist()}))
    cache.handle(StreamDescription("cam", "cam", "vision", {"x": ((), "float64")}))
    spectra = rng.uniform(0.1, 0.5, (30, 16))
    marks = 1000.0 + np.linspace(0, 29.9, 30)  # segments 0, 1, 2 (10 t each)
    for s, mark in zip(spectra, marks):
        cache.handle(Measurement("LOT1", "nir", 0.0, float(mark), {"reflectance": s, "valid": True}))
    cache.handle(Measurement("LOT1", "nir", 0.0, 1001.0, {"reflectance": np.full(16, 9.0), "valid": False}))
    cache.handle(Measurement("LOT1", "nir", 0.0, 1001.0, {"reflectance": np.full(16, np.nan), "valid": True}))
    cache.handle(Measurement("LOT1", "nir", 0.0, 999.0, {"reflectance": np.full(16, 7.0), "valid": True}))
    seg = (marks - 1000.0) // 10
    for k in range(3):
        sp = cache.spectrum(k)
        assert sp["n_spectra"] == int((seg == k).sum())
        assert np.allclose(sp["mean_reflectance"], spectra[seg == k].mean(axis=0), atol=1e-6)
        assert np.allclose(sp["std_reflectance"], spectra[seg == k].std(axis=0), atol=1e-5)
        assert np.allclose(sp["wavelength_nm"], wl)
    with pytest.raises(EvidenceError, match="segment 7"):
        cache.spectrum(7)


def test_spectrum_cache_is_bounded_and_resets_per_lot():
    cache = SpectrumCache(max_segments=2)
    cache.handle(_lot(segment_mass_t=1.0))
    cache.handle(StreamDescription("n", "n", "nir", {"counts": ((8,), "float64")}))  # no grid: channel axis
    for k in range(5):
        cache.handle(Measurement("LOT1", "n", 0.0, 1000.5 + k, {"counts": np.full(8, float(k))}))
    assert cache.segments() == [3, 4]
    assert cache.spectrum(4)["axis"] == "channel"
    cache.handle(LotStart(LotIdentity("LOT2", "MV X", "H2", "ore", 10.0), 0.0, 2000.0, 1.0))
    assert cache.segments() == [] and cache.lot_id == "LOT2"


def test_thumbnail_png_round_trip_and_scaling():
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(thumbnail_png(rgb)))), rgb)
    grey = np.linspace(-1.0, 1.0, 64).reshape(8, 8)
    out = np.asarray(Image.open(io.BytesIO(thumbnail_png(grey))))
    assert out.min() == 0 and out.max() == 255
    for bad in (np.zeros((0, 4)), np.zeros((4,)), np.zeros((2000, 10)), np.array([["a", "b"], ["c", "d"]])):
        with pytest.raises(EvidenceError):
            thumbnail_png(bad)
    assert thumbnail_array({"kind": "wood", "thumbnail": rgb}) is rgb
    assert thumbnail_array({"kind": "wood", "length_mm": 3.0}) is None


def test_plain_makes_json_ready_data():
    out = plain({"a": np.float32(1.5), "b": float("nan"), "c": np.arange(3), "d": np.zeros(100),
                 "e": (1, np.int64(2)), "f": [float("inf")] * 70})
    assert out == {"a": 1.5, "b": None, "c": [0, 1, 2], "d": {"shape": [100], "dtype": "float64"},
                   "e": [1, 2], "f": [None] * 70}


# ---- the server --------------------------------------------------------------------------------
def test_server_binds_loopback_and_stops_twice():
    sim = build_sim_line(speedup=math.inf, lot_mass_t=100.0)
    server = ControlRoomServer(sim.service, operator_token="operator-1234").start()
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}/"
        with socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass
    finally:
        server.stop()
    server.stop()
    assert not server.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_port_in_use_raises_server_start_error():
    sim = build_sim_line(speedup=math.inf, lot_mass_t=100.0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ServerStartError, match=str(port)):
            ControlRoomServer(sim.service, port=port, operator_token=None, attach_spectra=False).start()


def test_short_token_is_a_config_error():
    sim = build_sim_line(speedup=math.inf, lot_mass_t=100.0)
    with pytest.raises(ConfigError, match="operator_token"):
        ControlRoomServer(sim.service, operator_token="123")


def test_from_config_section():
    sim = build_sim_line(speedup=math.inf, lot_mass_t=100.0)
    server = ControlRoomServer.from_config(sim.service, {"port": 0, "operator_token": "operator-1234"})
    with server:
        assert server.running and server.port > 0
    assert not server.running
