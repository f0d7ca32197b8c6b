"""Every ``prog="oreline ..."`` a command's parser names is reachable through ``oreline`` (the installed script's
runs of each command, with both option spellings, are tests/analysis/test_cli_table.py).

A parser whose command is not registered in ``analysis.cli`` (e.g. a ``prog="oreline custody"`` nothing
routes to) is a stale reference in every ``--help`` and error it prints; this finds it from the source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.cli import main

REPO = Path(__file__).resolve().parents[1]
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
