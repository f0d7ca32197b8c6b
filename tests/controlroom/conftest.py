"""Fixtures for the control-room tests: a real simulated line, a real server on a free loopback port.

``finished``: one lot run to its end (static state; API and fuzz tests).
``live``: lots running in a background thread on a SimulatedClock with a speed-up,
so values change while a client or the browser watches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx
import pytest

from analysis.web.evidence import SpectrumCache
from analysis.web.server import ControlRoomServer
from tests.lines.service import SimLine, build_sim_line

OPERATOR = "operator-token-123"
VIEWER = "viewer-token-456"


@dataclass
class Served:
    sim: SimLine
    server: ControlRoomServer
    spectra: SpectrumCache

    @property
    def url(self) -> str:
        return self.server.url.rstrip("/")

    @property
    def service(self):
        return self.sim.service

    def client(self, token: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0, **kw)


def serve(sim: SimLine, **kw) -> Served:
    spectra = SpectrumCache()
    sim.line.add_sink(spectra)
    server = ControlRoomServer(sim.service, operator_token=kw.pop("operator_token", OPERATOR), spectra=spectra, **kw)
    server.start()
    return Served(sim, server, spectra)


@pytest.fixture(scope="module")
def finished():
    """A lot run to completion, served with operator and viewer tokens."""
    sim = build_sim_line(speedup=math.inf, lot_mass_t=1000.0, objects_per_1000_t=4.0, waste_start_t=300.0,
                         waste_extent_t=300.0)
    served = serve(sim, viewer_token=VIEWER)
    sim.run_lot()
    yield served
    served.server.stop()


@pytest.fixture
def live():
    """Lots running at 20× real time (≈ 33 t per wall second), served with an operator token, open viewing."""
    sim = build_sim_line(speedup=20.0, lot_mass_t=3000.0, objects_per_1000_t=6.0)
    served = serve(sim)
    sim.start()
    yield served
    sim.stop()
    served.server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can react to a failed test (screenshots)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
