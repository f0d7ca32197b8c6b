"""One contract, every belt-scale backend: the same tests run against each name in ``plc.scale.SCALE_BACKENDS``.

``direct`` is the simulated unloader itself; ``simulated`` a simulated BW500-like integrator read back over
Modbus TCP; ``modbus`` the client of a real integrator, here a simulated PLC on loopback. From the line's side
they must behave alike: no I/O when built, readings that weigh the feed, failures as ``ok=False`` (never an
exception into the line), an idempotent close.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from conveyor.clock import SimulatedClock
from conveyor.config import Field
from conveyor.errors import ConfigError
from conveyor.feed import SimulatedFeed
from conveyor.station import StationContext
from plc.scale import SCALE_BACKENDS, BeltScale, scale_class, scale_from_config
from plc.simulated import SimulatedPlc
from tests.support import refused_port

RATE_T_H = 3600.0


def _feed() -> SimulatedFeed:
    return SimulatedFeed(rate_t_h=RATE_T_H, speed_m_s=4.0, lot_mass_t=1000.0, seed=2)


@contextmanager
def _direct(ctx):
    scale = scale_from_config({"backend": "direct"}, ctx, feed=_feed())
    yield scale, (lambda t: None), (lambda: None)


@contextmanager
def _simulated(ctx):
    scale = scale_from_config({"backend": "simulated", "position_m": 3.0}, ctx, feed=_feed())
    yield scale, (lambda t: None), (lambda: scale.plc.stop())


@contextmanager
def _modbus(ctx):
    plc = SimulatedPlc(_feed()).start()
    try:
        scale = scale_from_config({"backend": "modbus", "host": "127.0.0.1", "port": plc.port, "position_m": 3.0,
                                   "backoff_initial_s": 0.01, "backoff_max_s": 0.02, "timeout_s": 0.5}, ctx)
        yield scale, plc.update, plc.stop
    finally:
        plc.stop()


#: backend → context manager yielding (scale, update(time_s) of its data source, break_link())
WORKING = {"direct": _direct, "simulated": _simulated, "modbus": _modbus}


@pytest.fixture
def ctx(tmp_path: Path) -> StationContext:
    return StationContext(clock=SimulatedClock(), belt_width_m=1.6, nominal_speed_m_s=4.0, run_dir=tmp_path, seed=5)


def test_every_registered_backend_is_covered_here():
    assert set(WORKING) == set(SCALE_BACKENDS)


@pytest.mark.parametrize("backend", sorted(SCALE_BACKENDS))
def test_backend_is_a_belt_scale_with_declared_fields(backend):
    cls = scale_class(backend)
    assert issubclass(cls, BeltScale) and cls.backend == backend
    assert all(isinstance(f, Field) and f.doc for f in cls.fields.values())


@pytest.mark.parametrize("backend", sorted(SCALE_BACKENDS))
def test_building_does_no_io(ctx, backend):
    with refused_port() as port:  # nobody listens here
        section = {"backend": backend, **({"host": "127.0.0.1", "port": port} if backend == "modbus" else {})}
        scale = scale_from_config(section, ctx, feed=_feed())
        try:
            assert isinstance(scale, BeltScale)
            if backend == "simulated":
                assert not scale.plc.running
            if backend == "modbus":
                assert not scale.connected
        finally:
            scale.close()


@pytest.mark.parametrize("backend", sorted(SCALE_BACKENDS))
def test_readings_weigh_the_feed(ctx, backend):
    with WORKING[backend](ctx) as (scale, update, _break):
        totals = []
        for t in range(0, 40, 2):
            update(float(t))
            reading = scale.read(float(t))
            assert reading.ok, reading.fault
            totals.append(reading.totaliser_t)
        assert totals == sorted(totals)
        assert totals[-1] - totals[0] == pytest.approx(RATE_T_H * 38 / 3600, rel=0.3)
        assert reading.speed_m_s == pytest.approx(4.0, rel=0.05) and reading.running
        scale.close()
        scale.close()  # idempotent


@pytest.mark.parametrize("backend", ["simulated", "modbus"])
def test_a_lost_link_is_a_soft_failure(ctx, backend):
    with WORKING[backend](ctx) as (scale, update, break_link):
        update(0.0)
        assert scale.read(0.0).ok
        break_link()
        reading = scale.read(5.0)  # never raises into the line
        assert not reading.ok and reading.fault
        scale.close()


def test_an_unknown_backend_names_the_key(ctx):
    with pytest.raises(ConfigError) as info:
        scale_from_config({"backend": "serial"}, ctx)
    assert info.value.path == "scale.backend" and "modbus" in str(info.value)
