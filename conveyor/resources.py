"""Where shared reference data lives (USGS spectra, ore-on-belt images), and fitted models shipped with oreline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conveyor.errors import ConfigError

SHARED_DATA_ENV = "ORELINE_SHARED_DATA"
#: Where fitted models and cached figures go (each package in its own subfolder).
CACHE_ENV = "ORELINE_CACHE"


def cache_root() -> Path:
    """``$ORELINE_CACHE`` or ``~/.cache/oreline``: the root of every package's cache folder (not created here)."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) if root else Path.home() / ".cache" / "oreline"


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


def seed_cache_from_shipped(cache_path: Path, shipped_dir: Path) -> bool:
    """Put the model shipped in ``shipped_dir`` under the same file name into the cache at ``cache_path``.

    Fitted models are cached under a name that holds their cache key (the settings, the training data and,
    for the camera, the fitting code), so a shipped copy is used only while its key is the one a fit would
    have now; otherwise the caller fits as before. Returns True when ``cache_path`` holds a model afterwards.
    """
    if cache_path.is_file():
        return True
    shipped = shipped_dir / cache_path.name
    if not shipped.is_file():
        return False
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp")
    shutil.copyfile(shipped, tmp)
    os.replace(tmp, cache_path)
    return True
