"""The shipped default site file (:data:`DEFAULT_SITE`) and ``oreline config default``, which prints it.

Imports nothing else of oreline, so printing the file costs no more than Python's own start-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: The simulated site ``oreline demo`` runs when no ``--config`` is given.
DEFAULT_SITE = Path(__file__).with_name("default_site.toml")


def print_default_site(args: argparse.Namespace | None = None) -> int:
    """``oreline config default``: print the shipped site file as it is."""
    print(DEFAULT_SITE.read_text(), end="")
    return 0
