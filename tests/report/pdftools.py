"""poppler's pdfinfo/pdftotext/pdftoppm on a report PDF; tests that need them skip with a clear message."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def need_poppler() -> None:
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils (pdftotext, pdfinfo) not installed: run scripts/install-system-deps.sh")


def pages(pdf: Path) -> int:
    need_poppler()
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE).group(1))


def text(pdf: Path, *, layout: bool = False) -> str:
    """The PDF's text: in content order (``-raw``: no de-hyphenation, so a word wrapped after its hyphen reads
    whole), or with ``layout`` the rows of tables as lines."""
    need_poppler()
    args = ["pdftotext", "-enc", "UTF-8", "-layout" if layout else "-raw", str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout


def squeezed(s: str) -> str:
    """Text without whitespace or zero-width break opportunities: a wrapped word reads whole again."""
    return re.sub(r"[\s\u200b\u00ad]+", "", s)
