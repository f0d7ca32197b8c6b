"""The built-in default model: trained on first use and cached under ``$ORELINE_CACHE`` (or ``~/.cache/oreline``),
keyed by the training-data hash (library bytes + training config + model version). The demo's model is shipped in
``spectra/shipped/`` (``make models``) and copied into the cache when its key matches, so a first run trains nothing."""

from __future__ import annotations

import os
from pathlib import Path

from conveyor.resources import seed_cache_from_shipped
from spectra.grid import resolve_grid
from spectra.library import default_library_dir
from spectra.models.bundle import SpectraModel
from spectra.models.training import TrainConfig, train_model, training_hash

CACHE_ENV = "ORELINE_CACHE"
#: Fitted default models shipped with oreline, under their cache file names.
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


def cache_dir() -> Path:
    """``$ORELINE_CACHE/spectra`` or ``~/.cache/oreline/spectra`` (created)."""
    base = Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else Path.home() / ".cache" / "oreline"
    path = base / "spectra"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_model_path(config: TrainConfig, library_root: Path | None = None) -> Path:
    root = library_root or default_library_dir()
    return cache_dir() / f"nir-{resolve_grid(config.grid).name}-{training_hash(root, config)}.npz"


def default_model(grid: str = "ingaas256", library_root: Path | None = None, progress=None) -> SpectraModel:
    """Load the cached default model for ``grid`` (a name or a grid-file path), training and caching it first if needed (< ~30 s)."""
    config = TrainConfig(grid=grid)
    path = default_model_path(config, library_root)
    if seed_cache_from_shipped(path, SHIPPED_DIR):
        return SpectraModel.load(path)
    model = train_model(config, library_root, progress=progress)
    model.save(path)
    return model
