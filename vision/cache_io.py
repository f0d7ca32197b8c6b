"""Writing cache files whole or not at all: a file is written under a temporary name of this process and moved into
place, so concurrent fits (one temporary per process) and a killed process never leave a half-written file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np


def default_cache_dir() -> Path:
    """``$ORELINE_CACHE/vision`` or ``~/.cache/oreline/vision``: where the camera's fitted models and cached figures go."""
    root = os.environ.get("ORELINE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "oreline") / "vision"


def replace_atomically(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write`` on a temporary path beside ``path`` (same suffix; parents made), then move it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    write(tmp)
    os.replace(tmp, path)
    return path


def save_npz(path: Path, arrays: dict) -> Path:
    """``np.savez_compressed`` of ``arrays`` to ``path`` (a ``.npz`` name), atomically."""
    return replace_atomically(path, lambda tmp: np.savez_compressed(tmp, **arrays))
