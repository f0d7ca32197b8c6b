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
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = {"spectra": REPO / "spectra" / "shipped", "vision": REPO / "vision" / "shipped"}


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
