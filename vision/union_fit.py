"""The built-in fit at the dense net's scale (FIT_VERSION 18, issue 27): the union of two classifiers.

The base is FIT_VERSION 13's model for these settings (:func:`features_model`: the file shipped under its FIT 13
cache key, the model the union was confirmed on; fitted again, on one BLAS thread, only where it is missing: today's
detector code fits a different one, since run-time fixes landed after it). Then the dense net
(:func:`vision.densenet_fit.fitted_densenet`, the measured net's training set and epochs) as candidate seeds with its
peak a feature of its own components (``DenseSeeds.own_peak``), and the built-in fit again with those seeds on in
every detector (:func:`vision.densenet_refit.refit_model`, one BLAS thread; not cached), whose classifier becomes the
model's ``dense_judge``: it judges the net's own components and, beside the base classifier, the features'
candidates; a candidate is reported when either reports it (``Detector.dense_union``), so what the base reports
stays to the bit (docs/vision.md "The union shipped: FIT_VERSION 18"). The fit needs torch and onnx (the ``fit``
extra); running the model needs only onnxruntime.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from vision.densenet import DenseSeeds
from vision.densenet_fit import EPOCHS, TRAINING, fitted_densenet
from vision.densenet_refit import refit_model
from vision.errors import ModelError
from vision.fit import FEATURES_FIT_VERSION, FIT_VERSION, UNION_MM_PER_PX, VisionModel, cache_path, fit_vision_model, stored_model

#: Packages the union's fit needs beyond the core (the ``fit`` extra).
FIT_PACKAGES = ("torch", "onnx")


def require_fit_packages() -> None:
    """ModelError naming what is missing when torch or onnx cannot be imported (before any minute of fitting)."""
    missing = [name for name in FIT_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelError(f"fitting the {UNION_MM_PER_PX:g} mm/px camera model (the dense net and its classifier) needs "
                         f"{' and '.join(missing)}: pip install -e '.[fit]' (make fit-extra), or use the shipped model "
                         "(vision/shipped)")


def union_model(mm_per_px: float = UNION_MM_PER_PX, width_px: int = 512, seed: int = 0, cache_dir: Path | None = None,
                log: bool = True) -> VisionModel:
    """FIT_VERSION 13's model with the dense net (``dense``) and the refit's classifier (``dense_judge``): see the
    module. ``cache_dir``: where the net and its training frames are cached (default ``$ORELINE_CACHE/vision``)."""
    require_fit_packages()
    t = time.process_time()
    model = features_model(mm_per_px, width_px, seed, cache_dir)
    _say(log, f"union fit: FIT_VERSION 13's model {model.version}, {time.process_time() - t:.0f} s CPU")
    with threadpool_limits(1):  # the MLPs' matrix products: as the refit C was made (vision.densenet_refit)
        seeds = DenseSeeds(fitted_densenet(seed=seed, cache_dir=cache_dir, epochs=EPOCHS, **TRAINING), own_peak=True)
        _say(log, f"union fit: dense net ready, {time.process_time() - t:.0f} s CPU")
        refit = refit_model(seeds, mm_per_px, width_px, seed)
    if refit.classifier is None:
        raise ModelError(f"union fit at {mm_per_px:g} mm/px: the refit with the dense net's seeds trained no classifier")
    _say(log, f"union fit: refit {refit.version} (decision {refit.classifier.none_max:.6g}), {time.process_time() - t:.0f} s CPU")
    model.dense, model.dense_judge = seeds, refit.classifier
    model.fitted_on["fit_version"] = FIT_VERSION
    model.fitted_on["union"] = {"refit_version": refit.version, "judge_decision": refit.fitted_on.get("decision", {}),
                                "dense_seeds": refit.fitted_on["dense_seeds"], "net_training": dict(TRAINING, epochs=EPOCHS)}
    return model


def features_model(mm_per_px: float, width_px: int, seed: int = 0, cache_dir: Path | None = None) -> VisionModel:
    """FIT_VERSION 13's model for these built-in settings, the union's base: from the cache or the shipped models
    under its FIT 13 cache key, else fitted with FIT_VERSION 13's decision rule (``hold_regimes=False``; one BLAS
    thread, as every fit) and cached there, so that ``make models`` ships it beside the union."""
    model = stored_model(mm_per_px, width_px, seed, cache_dir, FEATURES_FIT_VERSION)
    if model is None:
        model = fit_vision_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed, hold_regimes=False)
        model.save(cache_path(mm_per_px, width_px, seed, cache_dir, FEATURES_FIT_VERSION))
    return model


def _say(log: bool, line: str) -> None:
    if log:
        print(line, flush=True)


__all__ = ["FIT_PACKAGES", "features_model", "require_fit_packages", "union_model"]
