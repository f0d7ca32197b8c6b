"""Every ``prog="oreline ..."`` a command's parser names is reachable through the installed ``oreline``.

A parser whose command is not registered in ``analysis.cli`` (e.g. a ``prog="oreline custody"`` nothing
routes to) is a stale reference in every ``--help`` and error it prints; this finds it from the source.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main

REPO = Path(__file__).resolve().parents[1]
OREL = Path(sys.executable).parent / "oreline"
PACKAGES = ("conveyor", "spectra", "vision", "sampler", "plc", "analysis")


def named_commands() -> list[str]:
    found = set()
    for pkg in PACKAGES:
        for path in (REPO / pkg).rglob("*.py"):
            found.update(re.findall(r'prog="oreline ([a-z][a-z -]*)"', path.read_text(encoding="utf-8")))
    return sorted(found)


def test_the_source_names_commands():
    assert "sampler custody" in named_commands() and len(named_commands()) > 10


@pytest.mark.parametrize("command", named_commands())
def test_named_command_is_reachable(command, capsys):
    """``oreline COMMAND --help`` through the real entry point (in this process: the imports are the cost)."""
    with pytest.raises(SystemExit) as stop:
        main([*command.split(), "--help"])
    assert stop.value.code == 0
    assert f"usage: oreline {command}" in capsys.readouterr().out


@pytest.mark.e2e
def test_custody_rows_to_csv_both_option_spellings(tmp_path):
    """The installed console script, in a subprocess (once: each start imports oreline)."""
    if not OREL.exists():
        pytest.skip(f"{OREL} not installed (make setup)")
    rows = tmp_path / "rows.json"
    rows.write_text('[{"sample_id": "S-1", "status": "collected", "time_s": 1.0}]')
    for args in (["--output", str(tmp_path / "a.csv")], [f"--output={tmp_path / 'b.csv'}"]):
        proc = subprocess.run([str(OREL), "sampler", "custody", str(rows), *args], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    assert "S-1" in (tmp_path / "a.csv").read_text()
