"""Session-wide isolation: no test writes to the user's caches.

Unless the runner chose a cache (``ORELINE_CACHE`` already set, e.g. to keep fitted models between runs),
the session gets a temporary ``ORELINE_CACHE``; the models shipped in ``spectra/shipped`` and
``vision/shipped`` are copied into it at the start, so a test that needs the demo's models fits nothing.
``XDG_CACHE_HOME``, ``XDG_DATA_HOME`` (the lot catalogue of ``oreline run``/``demo``) and ``MPLCONFIGDIR``
(matplotlib's font cache) point into the session folder (one per pytest-xdist worker) too, so nothing lands in
``~/.cache`` or ``~/.local/share``. Set here, in ``pytest_configure``, before any test module is imported, and
inherited by every subprocess a test starts.

Under pytest-xdist (``make test`` runs two workers) the workers inherit the controller's environment, so they share
its session cache: a model one worker fitted is there for the other. Model files are written to a per-process
temporary name and renamed, so two workers fitting the same model at once cannot leave a torn file;
:func:`tests.support.build_once` makes an expensive test fixture build once for all workers.

Two settings of the test processes' runtime, for CPU only (no result depends on them), set the same way unless the
runner set them (:data:`RUNTIME`): numpy's BLAS (OpenBLAS), OpenMP and MKL on one thread per process: ``make test``
runs two workers on two cores, and a second BLAS thread of every worker and of every ``oreline`` subprocess spins on
the core the other worker is using (the spectra CLI tests: 49 -> 25 CPU s; tests that check thread counts set them
themselves, tests/vision/test_fit_threads.py fits on one and on two BLAS threads); and glibc's malloc keeping freed
memory for reuse instead of handing every large array back to the kernel (``MALLOC_MMAP_MAX_=0``, a high
``MALLOC_TRIM_THRESHOLD_``): the kernel zeroes each fresh page again, much of the test processes' system time (idle:
one ``oreline vision evaluate`` 35 -> 29 CPU s with both settings, the small camera fit 41 -> 31, peak memory +5 %).
The controller process itself started before them (they take effect in the pytest-xdist workers and every
subprocess; where numpy was imported before this file ran, its BLAS threads are limited in place). With
``MALLOC_TRIM_THRESHOLD_`` set, the camera station's ``conveyor.heap.keep_freed_memory`` and the fleet's
``worker_malloc`` let the environment's choice stand, as they do for an operator's; their own tests
(tests/conveyor/test_heap.py, tests/fleet/test_fleet.py) start their fresh processes without these two variables,
as glibc is shipped.

One setting of the runner's is overridden (:data:`BYTECODE`): Python writes its byte-code cache (``__pycache__``,
git-ignored) for the session and every process it starts, even where ``PYTHONDONTWRITEBYTECODE`` is set (as in this
machine's shells). Without the cache each process compiles from source every module it imports (``make fit-extra``
installs with ``pip --no-compile``, counting on the first import to cache them): importing ``analysis.run`` and
``vision.cli`` 6.1 -> 2.3 CPU s; tests/catalogue 85 -> 54 CPU s on its first run, plc/test_line_process.py 102 -> 72.
No result depends on it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
SHIPPED = {"spectra": REPO / "spectra" / "shipped", "vision": REPO / "vision" / "shipped"}
#: The test processes' runtime settings (the module docstring says why): BLAS/OpenMP on one thread, glibc's malloc
#: reusing freed memory (no mmap of its own; the heap given back only above 512 MiB free).
RUNTIME = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(512 << 20)}
#: Unset for the session (the module docstring says why): Python caches what the test processes import as byte code.
BYTECODE = "PYTHONDONTWRITEBYTECODE"


def seed_cache(cache: Path) -> list[Path]:
    """Copy the shipped models into ``cache`` (``cache/spectra``, ``cache/vision``); returns the copies."""
    copied = []
    for kind, shipped in SHIPPED.items():
        (cache / kind).mkdir(parents=True, exist_ok=True)
        for model in sorted(shipped.glob("*.npz")):
            target = cache / kind / model.name
            if not target.exists():
                shutil.copy2(model, target)
            copied.append(target)
    return copied


def pytest_configure(config: pytest.Config) -> None:
    session_dir = Path(tempfile.mkdtemp(prefix="oreline-tests-"))
    config.stash[_SESSION_DIR] = session_dir
    if not os.environ.get("ORELINE_CACHE"):
        os.environ["ORELINE_CACHE"] = str(session_dir / "cache")
    seed_cache(Path(os.environ["ORELINE_CACHE"]))
    os.environ["XDG_CACHE_HOME"] = str(session_dir / "xdg-cache")
    os.environ["XDG_DATA_HOME"] = str(session_dir / "xdg-data")  # the lot catalogue a demo run indexes into
    os.environ["MPLCONFIGDIR"] = str(session_dir / "matplotlib")
    threads_set = "OPENBLAS_NUM_THREADS" in os.environ
    for var, value in RUNTIME.items():  # read at start-up: xdist workers and every subprocess inherit them
        os.environ.setdefault(var, value)
    if not threads_set and "numpy" in sys.modules:  # a folder's conftest imported numpy first (a run of its files)
        threadpool_limits(1)
    os.environ.pop(BYTECODE, None)  # the workers and every subprocess write their imports' byte code too
    sys.dont_write_bytecode = False


#: Session fixtures built once for all workers (tests.support.build_once) that take a while: (fixture, its folder).
#: The first slow module of each that uses it is handed out first, so that each is built at the start while the
#: other worker runs something else, not later when both workers may reach modules needing it and one waits.
BUILT_ONCE = (("small_model", "tests/vision/"), ("model_path", "tests/spectra/"))


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules holding a ``slow`` test run first (each module's own order kept): with two workers taking a module
    at a time (``--dist loadfile``), the long ones then start early instead of leaving one worker alone at the end.
    Ahead of them, one module per :data:`BUILT_ONCE` fixture. xdist keeps this order only with
    ``--no-loadscope-reorder`` (the Makefile's); by default it hands modules out by test count, most first, which put
    the longest modules (one or two tests each) last."""
    slow_modules = {_module(item) for item in items if item.get_closest_marker("slow")}
    builders = []
    for fixture, folder in BUILT_ONCE:
        users = (_module(i) for i in items if _module(i) in slow_modules and _module(i).startswith(folder)
                 and fixture in getattr(i, "fixturenames", ()))
        builders += [m for m in [next(users, None)] if m is not None and m not in builders]
    items.sort(key=lambda item: (builders.index(_module(item)) if _module(item) in builders else len(builders),
                                 _module(item) not in slow_modules))


def pytest_unconfigure(config: pytest.Config) -> None:
    session_dir = config.stash.get(_SESSION_DIR, None)
    if session_dir is not None:
        shutil.rmtree(session_dir, ignore_errors=True)


_SESSION_DIR = pytest.StashKey[Path]()
