import fcntl
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

import pytest
from threadpoolctl import threadpool_limits

from conveyor.clock import SimulatedClock
from conveyor.station import StationContext

from vision.fit import FIT_BLAS_THREADS, SHIPPED_DIR, VisionModel, cache_path
from vision.model_cache import cached_model

from tests.support import build_once

MM_PER_PX = 2.0
WIDTH_PX = 1024
FAKE_GV_CAMERA = "arv-fake-gv-camera-0.8"
GVCP_PORT = 3956


#: The shipped 4 mm/px union's file (it ships with the code).
SHIPPED_UNION = cache_path(mm_per_px=4.0, width_px=512, seed=0, cache_dir=SHIPPED_DIR)


@pytest.fixture(scope="module")
def shipped_union() -> VisionModel:
    """The shipped 4 mm/px union."""
    return VisionModel.load(SHIPPED_UNION)


def station_context(cargo) -> StationContext:
    """The context a camera station is configured in for these tests (simulated clock, 1.8 t/m at 4.5 m/s)."""
    return StationContext(SimulatedClock(), 1.8, 4.5, Path("/tmp"), seed=1, cargo=cargo)


@pytest.fixture(scope="session")
def small_model():
    """A model fitted at 2 mm/px on a little belt of today's scenes (fit split only): quick, but real; cached like
    the line's models, so a second test session does not fit it again. Today's scenes only (``scene={}``): these tests
    check the detector's and station's mechanics on the scenes they render. The decision rests on 30 m of
    decision-only belt (the built-in fit scores 1,500 m x mm/px: too slow for a test fixture)."""
    settings = dict(normal_m=20.0, calibration_m=20.0, objects_m=30.0, decision_m=30.0, scene={}, objects={})
    path = cache_path(mm_per_px=MM_PER_PX, width_px=WIDTH_PX, seed=0, **settings)  # where cached_model keeps it
    # fitted by the first worker that asks while the other waits (a lock beside the file), then loaded by both
    return build_once(path, lambda _: cached_model(mm_per_px=MM_PER_PX, width_px=WIDTH_PX, seed=0, **settings), VisionModel.load)


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
            yield GVCP_PORT
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def aravis_or_skip(fake: bool = False) -> None:
    """Skip the test with the reason where the Aravis backend (or, with ``fake``, Aravis's fake camera) is missing."""
    from vision.aravis_camera import load_aravis
    from vision.errors import BackendUnavailable

    try:
        load_aravis()
    except BackendUnavailable as exc:
        pytest.skip(f"Aravis backend unavailable here (install with scripts/install-system-deps.sh): {exc}")
    if fake and shutil.which(FAKE_GV_CAMERA) is None:
        pytest.skip(f"{FAKE_GV_CAMERA} not installed (Debian package aravis-tools)")


@pytest.fixture
def fake_gv_camera(request, gvcp_port):
    """Aravis's fake GigE Vision camera on 127.0.0.1, listening before the test starts (a connect before that spoils
    Aravis's state); its extra arguments come from ``indirect`` parametrisation. Yields the process."""
    aravis_or_skip(fake=True)
    args = [FAKE_GV_CAMERA, "-i", "127.0.0.1", "-s", "ORELINE-TEST", *getattr(request, "param", [])]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10.0
        while not any(c.laddr.port == gvcp_port for c in psutil.Process(proc.pid).net_connections(kind="udp")):
            assert proc.poll() is None and time.monotonic() < deadline, f"{FAKE_GV_CAMERA} did not listen on UDP {gvcp_port}"
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.fixture
def fit_blas_threads():
    """For a test that trains classifiers by calling the fit's stages directly (``train_classifier``, ``KindClassifier``):
    FIT_BLAS_THREADS BLAS threads, as every fit runs them (vision.fit.one_fit_thread), not the process's default (two
    threads of tiny products spin more CPU than they compute on a shared machine)."""
    with threadpool_limits(FIT_BLAS_THREADS):
        yield
