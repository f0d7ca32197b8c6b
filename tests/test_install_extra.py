"""scripts/install_extra.py installs an extra's requirements as pyproject.toml states them, and names the extras
there are when asked for one that is not."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "install_extra.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_the_fit_extra_is_installed_from_pyprojects_own_requirements():
    fit = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["fit"]
    proc = _run("--dry-run", "fit")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [sys.executable, "-m", "pip", "install", *fit]
    assert any(r.startswith("torch") for r in fit)  # what the suite's fits need


def test_an_unknown_extra_or_no_extra_is_refused():
    proc = _run("--dry-run", "gpu")
    assert proc.returncode == 1 and "no extra 'gpu'" in proc.stderr and "fit" in proc.stderr
    assert _run().returncode == 2
