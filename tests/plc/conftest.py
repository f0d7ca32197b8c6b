"""Fixtures for the plc tests: real servers on free loopback ports, real pymodbus clients."""

from __future__ import annotations

import shutil

import pytest
from pymodbus.client import ModbusTcpClient

from conveyor.feed import BeltEvent, SimulatedFeed
from plc.server import OrelineModbusServer
from plc.simulated import SimulatedPlc


@pytest.fixture
def server():
    srv = OrelineModbusServer(port=0, link_timeout_s=5.0, link_debounce_s=0).start()
    yield srv
    srv.stop()


def connect(port: int, timeout_s: float = 2.0) -> ModbusTcpClient:
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=timeout_s, retries=0)
    assert client.connect(), f"cannot connect to 127.0.0.1:{port}"
    return client


@pytest.fixture
def client(server):
    c = connect(server.port)
    yield c
    c.close()


def make_feed(**kw) -> SimulatedFeed:
    args = dict(rate_t_h=4000.0, speed_m_s=4.0, lot_mass_t=50_000.0, seed=3)
    args.update(kw)
    return SimulatedFeed(**args)


@pytest.fixture
def sim_plc():
    plc = SimulatedPlc(make_feed(events=[BeltEvent(100.0, 20.0, "reverse")])).start()
    yield plc
    plc.stop()


@pytest.fixture
def mbpoll():
    path = shutil.which("mbpoll")
    if path is None:
        pytest.skip("mbpoll not installed (Debian package 'mbpoll'; run `make system-deps`)")
    return path
