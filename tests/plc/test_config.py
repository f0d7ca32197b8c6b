from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.clock import SimulatedClock
from conveyor.errors import ConfigError
from conveyor.station import StationContext
from plc.beltscale import BeltScaleClient
from plc.config import SimulatedScaleLink, scale_from_config, server_from_config
from plc.server import OrelineModbusServer


@pytest.fixture
def context(tmp_path: Path) -> StationContext:
    return StationContext(clock=SimulatedClock(), belt_width_m=1.6, nominal_speed_m_s=4.0, run_dir=tmp_path, seed=5)


def test_modbus_scale_with_defaults(context):
    src = scale_from_config({"backend": "modbus", "host": "10.1.2.3", "position_m": 12.5}, context)
    assert isinstance(src, BeltScaleClient)
    assert (src.host, src.port, src.device_id, src.word_order) == ("10.1.2.3", 502, 1, "msw_first")
    assert src.position_m == 12.5 and src.drive_state_address is None
    src.close()


def test_simulated_scale_runs_a_plc_and_reads_it_over_modbus(context):
    from sampler.robot_sim import SimulatedRobot

    robot = SimulatedRobot(context.clock)
    section = {"backend": "simulated", "rate_t_h": 3600.0, "lot_mass_t": 100.0}
    link = scale_from_config(section, context, robot=robot)
    assert isinstance(link, SimulatedScaleLink)
    try:
        assert not link.plc.running  # no I/O until the first read
        link.read(0.0)
        assert link.plc.running and link.plc.host == "127.0.0.1" and link.plc.robot_host is not None
        r = link.read(36.0)
        assert r.ok and r.speed_m_s == 4.0 and 25.0 < r.totaliser_t < 47.0 and r.encoder_count == 14400
    finally:
        link.close()
    assert not link.plc.running


@pytest.mark.parametrize(
    "section, path",
    [
        ({"backend": "serial"}, "scale.backend"),
        ({"backend": "modbus"}, "scale.host"),
        ({"backend": "modbus", "host": "h", "port": 0}, "scale.port"),
        ({"backend": "modbus", "host": "h", "word_order": "big"}, "scale.word_order"),
        ({"backend": "modbus", "host": "h", "timeout_s": -1}, "scale.timeout_s"),
        ({"backend": "modbus", "host": "h", "device_id": True}, "scale.device_id"),
        ({"backend": "modbus", "host": "h", "rate_t_h": 10.0}, "scale.rate_t_h"),
        ({"backend": "modbus", "host": "h", "colour": "red"}, "scale.colour"),
        ({"backend": "modbus", "host": "h", "position_m": -2}, "scale.position_m"),
        ({"backend": "modbus", "host": "h", "backoff_initial_s": 9, "backoff_max_s": 1}, "scale.backoff_max_s"),
        ({"backend": "simulated", "host": "0.0.0.0"}, "scale.host"),
    ],
)
def test_bad_scale_config_names_the_key(context, section, path):
    with pytest.raises(ConfigError) as info:
        scale_from_config(section, context)
    assert info.value.path == path


def test_server_from_config():
    srv = server_from_config({"port": 0, "device_id": 3, "watchdog_timeout_s": 2.0})
    assert isinstance(srv, OrelineModbusServer) and srv.device_id == 3 and srv.watchdog_timeout_s == 2.0
    assert srv.host == "127.0.0.1" and not srv.running
    assert server_from_config({}).watchdog_timeout_s is None
    assert server_from_config({"enabled": False}) is None


@pytest.mark.parametrize(
    "section, path",
    [({"port": 70000}, "plc.port"), ({"enabled": "yes"}, "plc.enabled"), ({"unit": 1}, "plc.unit"),
     ({"device_id": 256}, "plc.device_id"), ({"link_timeout_s": 0}, "plc.link_timeout_s"),
     ({"watchdog_timeout_s": -1.0}, "plc.watchdog_timeout_s")],
)
def test_bad_plc_config_names_the_key(section, path):
    with pytest.raises(ConfigError) as info:
        server_from_config(section)
    assert info.value.path == path
