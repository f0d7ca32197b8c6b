"""Writing cache files whole or not at all: a file is written under a temporary name of this process and moved into
place, so concurrent fits (one temporary per process) and a killed process never leave a half-written file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conveyor.files import replace_atomically
from conveyor.resources import cache_root

__all__ = ["default_cache_dir", "replace_atomically", "save_npz"]


def default_cache_dir() -> Path:
    """``$ORELINE_CACHE/vision`` or ``~/.cache/oreline/vision``: where the camera's fitted models and cached figures go."""
    return cache_root() / "vision"


def save_npz(path: Path, arrays: dict) -> Path:
    """``np.savez_compressed`` of ``arrays`` to ``path`` (a ``.npz`` name), atomically."""
    return replace_atomically(path, lambda tmp: np.savez_compressed(tmp, **arrays))
