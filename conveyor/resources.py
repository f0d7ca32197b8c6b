"""Where shared reference data lives (USGS spectra, ore-on-belt images)."""

from __future__ import annotations

import os
from pathlib import Path

from conveyor.errors import ConfigError

SHARED_DATA_ENV = "ORELINE_SHARED_DATA"


def shared_data_dir() -> Path:
    """Return the folder holding ``spectra/`` and ``vision/`` reference data.

    ``$ORELINE_SHARED_DATA`` wins; otherwise ``../shared/data`` beside the repository.
    Raises :class:`ConfigError` when neither exists.
    """
    env = os.environ.get(SHARED_DATA_ENV)
    candidates = [Path(env)] if env else []
    repo_root = Path(__file__).resolve().parent.parent
    candidates += [repo_root.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise ConfigError(SHARED_DATA_ENV, f"shared reference data not found; tried {tried}")
