"""The root conftest keeps every cache of the session out of the user's home, and has its processes cache byte code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from spectra.cache import cache_dir as spectra_cache_dir
from vision.fit import default_cache_dir as vision_cache_dir

from tests.conftest import BYTECODE, SHIPPED


def test_caches_are_the_sessions_not_the_users():
    home_cache = Path.home() / ".cache"
    cache = Path(os.environ["ORELINE_CACHE"])
    assert home_cache not in cache.parents and cache != home_cache / "oreline"
    assert spectra_cache_dir().parent == cache and vision_cache_dir().parent == cache
    for key in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR"):
        assert Path.home() not in Path(os.environ[key]).parents, (key, os.environ[key])


def test_the_session_cache_holds_the_shipped_models():
    cache = Path(os.environ["ORELINE_CACHE"])
    for kind, shipped in SHIPPED.items():
        names = {p.name for p in shipped.glob("*.npz")}
        assert names, f"no shipped {kind} model"
        assert names <= {p.name for p in (cache / kind).glob("*.npz")}


def test_the_session_and_the_processes_it_starts_write_byte_code():
    """Even under PYTHONDONTWRITEBYTECODE (tests/conftest.py): else every test process compiles what it imports."""
    assert not sys.dont_write_bytecode and BYTECODE not in os.environ
    p = subprocess.run([sys.executable, "-c", "import sys; print(sys.dont_write_bytecode)"], capture_output=True,
                       text=True, timeout=60, check=True)
    assert p.stdout.strip() == "False"
