import fcntl
import tempfile
from pathlib import Path

import pytest

from conveyor.clock import SimulatedClock
from conveyor.station import StationContext

from vision.fit import cached_model

MM_PER_PX = 2.0
WIDTH_PX = 1024


def station_context(cargo) -> StationContext:
    """The context a camera station is configured in for these tests (simulated clock, 1.8 t/m at 4.5 m/s)."""
    return StationContext(SimulatedClock(), 1.8, 4.5, Path("/tmp"), seed=1, cargo=cargo)


@pytest.fixture(scope="session")
def small_model():
    """A model fitted at 2 mm/px on a little belt of today's scenes (fit split only): quick, but real; cached like
    the line's models, so a second test session does not fit it again. Today's scenes only (``scene={}``): these tests
    check the detector's and station's mechanics on the scenes they render. The decision rests on 30 m of
    decision-only belt (the built-in fit scores 1,500 m x mm/px: too slow for a test fixture)."""
    return cached_model(mm_per_px=MM_PER_PX, width_px=WIDTH_PX, seed=0, normal_m=20.0, calibration_m=20.0, objects_m=30.0,
                        decision_m=30.0, scene={}, objects={})


@pytest.fixture(scope="session")
def model_file(small_model, tmp_path_factory):
    return small_model.save(tmp_path_factory.mktemp("model") / "model.npz")


@pytest.fixture
def gvcp_port():
    """Hold the loopback GigE Vision control port (UDP 3956, fixed by the protocol) for one test: a fake camera
    started while another test's (another xdist worker's, or another suite's on this host) still answers there
    makes both fail. Every test that starts a GigE Vision device takes this first; the lock is a file lock, so
    it holds across processes."""
    with open(Path(tempfile.gettempdir()) / "oreline-gvcp-3956.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield 3956
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
