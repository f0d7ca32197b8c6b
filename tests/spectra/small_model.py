"""The small NIR model the spectra and fleet tests share: trained once a session for every pytest-xdist worker (the
first trains and saves it, the others load that file, as the line's stations do)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from spectra.library import default_library_dir
from spectra.models.training import TrainConfig, train_model, training_hash
from tests.support import build_once, shared_build_dir

#: The small model's training settings (a model that exists and scores, quickly; not a good one).
SMALL_CONFIG = TrainConfig(n_train_per_class=600, n_cal_per_class=300, n_cal_segments=60, spectra_per_segment=20,
                           n_lot_cal=60, lot_segments=12, lot_spectra_per_segment=30, n_lot_check=0)


def small_config() -> TrainConfig:
    """A copy of :data:`SMALL_CONFIG` (safe to change)."""
    return replace(SMALL_CONFIG)


def small_model_path() -> Path:
    """The small model's file, keyed like the line's cache (a session cache the runner keeps between runs never hands
    back a stale fit); trained by the first worker that asks while the others wait."""
    path = shared_build_dir() / f"spectra-small-{training_hash(default_library_dir(), SMALL_CONFIG)}.npz"
    return build_once(path, lambda p: train_model(small_config(), progress=None).save(p), lambda p: p)
