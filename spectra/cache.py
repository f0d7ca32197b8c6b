"""The built-in default NIR model: fitted by an explicit step and cached under ``$ORELINE_CACHE`` (or
``~/.cache/oreline``), keyed by :func:`spectra.models.training.training_hash` (the fit version, the settings and the
data digests; never source bytes). The demo's model is shipped in ``spectra/shipped/`` (``make models``) and copied
into the cache when its key matches, so a first run fits nothing.

Two entry points: :func:`default_model` loads the model or fits it (the explicit steps: ``analysis.prepare``, which
``oreline run``/``demo``/``control-room`` call before building the line, ``oreline spectra train``/``evaluate`` and
``make models``); :func:`prepared_model` only loads, and is what a station uses while it is built.
"""

from __future__ import annotations

from pathlib import Path

from conveyor.resources import cache_root, seed_cache_from_shipped
from spectra.errors import ModelError
from spectra.grid import DEFAULT_GRID, resolve_grid
from spectra.library import default_library_dir
from spectra.models.bundle import SpectraModel
from spectra.models.training import TrainConfig, train_model, training_hash

#: Fitted default models shipped with oreline, under their cache file names.
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
#: Grids whose default model ships besides the default site's (``make models``): an InGaAs-only site
#: (``grid = "ingaas256"``, docs/configuration.md) and the tests that name it start without a fit.
ALSO_SHIPPED_GRIDS: tuple[str, ...] = ("ingaas256",)


class ModelNotPreparedError(ModelError, LookupError):
    """The default model asked for while building a station has not been fitted yet."""


def cache_dir() -> Path:
    """``$ORELINE_CACHE/spectra`` or ``~/.cache/oreline/spectra`` (created)."""
    path = cache_root() / "spectra"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_model_path(config: TrainConfig, library_root: Path | None = None) -> Path:
    """Cache file of the model ``config`` fits: ``nir-<grid>-<training_hash>.npz``."""
    root = library_root or default_library_dir()
    return cache_dir() / f"nir-{resolve_grid(config.grid).name}-{training_hash(root, config)}.npz"


def prepared_model(grid: str = DEFAULT_GRID, library_root: Path | None = None) -> SpectraModel:
    """The cached (or shipped) default model for ``grid``; :class:`ModelNotPreparedError` naming the steps that fit
    it when there is none. Never fits."""
    path = default_model_path(TrainConfig(grid=grid), library_root)
    if seed_cache_from_shipped(path, SHIPPED_DIR):
        return SpectraModel.load(path)
    raise ModelNotPreparedError(
        f"the default NIR model for grid {grid!r} is not fitted yet (expected {path}); fit it first with "
        f"`oreline spectra train --grid {grid}`, or start the line with `oreline run`/`oreline demo`, which prepare "
        f"its models (`make models` refits the shipped ones)")


def default_model(grid: str = DEFAULT_GRID, library_root: Path | None = None, progress=None) -> SpectraModel:
    """The default model for ``grid`` (a name or a grid-file path), fitted and cached first if needed (~1 CPU-min)."""
    try:
        return prepared_model(grid, library_root)
    except ModelNotPreparedError:
        pass
    model = train_model(TrainConfig(grid=grid), library_root, progress=progress)
    model.save(default_model_path(TrainConfig(grid=grid), library_root))
    return model
