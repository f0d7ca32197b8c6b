"""The built-in fit at the dense net's scale (FIT_VERSION 18, issue 27): the union of two classifiers.

The base is FIT_VERSION 13's model for these settings (:func:`features_model`: the file shipped under its FIT 13
cache key, the model the union was confirmed on; fitted again, on one BLAS thread, only where it is missing: today's
detector code fits a different one, since run-time fixes landed after it). Then the dense net
(:func:`vision.densenet_fit.fitted_densenet`, the measured net's training set and epochs) as candidate seeds with its
peak a feature of its own components (``DenseSeeds.own_peak``), and the built-in fit again with those seeds on in
every detector (:func:`vision.densenet_refit.refit_model`, one BLAS thread; not cached), whose classifier becomes the
model's ``dense_judge``: it judges the net's own components and, beside the base classifier, the features'
candidates; a candidate is reported when either reports it (``Detector.dense_union``), so what the base reports
stays to the bit (docs/vision.md "The union shipped: FIT_VERSION 18"); at full burden the judge alone decides by
default since judge46 (``Detector.full_burden_judge``, a run-time switch: the model file is the same). The fit needs torch and onnx (the ``fit``
extra); running the model needs only onnxruntime.

The camera union (issue 27, cam44; ``mix=CAMERA_FIT_MIX``, not a default): the same recipe on
:data:`vision.scenes.CAMERA_FIT_MIX` (one realistic slot at the real camera's exposure): the base fitted afresh on that
mix (today's recipe, :data:`vision.fit.RECIPE_FIT_VERSION`'s decision rule; cached under :func:`base_path`, never
under FIT 13's key), the same dense net (trained on FIT_MIX), the judge refitted on the mix; its fitted_on names
:data:`CAMERA_UNION_VERSION`.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from threadpoolctl import threadpool_limits

from vision.densenet import DenseSeeds
from vision.densenet_fit import EPOCHS, TRAINING, fitted_densenet
from vision.densenet_refit import refit_model
from vision.errors import ModelError
from vision.fit import FEATURES_FIT_VERSION, FIT_VERSION, UNION_MM_PER_PX, VisionModel, cache_path, fit_vision_model, stored_model
from vision.scenes import FIT_MIX, scene_options

#: The recipe version of the camera union (``mix`` other than FIT_MIX; cam44): the FIT_VERSION it was to ship as had
#: rule CAM44 passed (it failed: not shipped), part of its base's cache key.
CAMERA_UNION_VERSION = 19

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
                log: bool = True, mix: Sequence[str] = FIT_MIX) -> VisionModel:
    """The base (:func:`features_model`) with the dense net (``dense``) and the refit's classifier (``dense_judge``):
    see the module. ``cache_dir``: where the net and its training frames are cached (default
    ``$ORELINE_CACHE/vision``); ``mix``: the scene types of the base's and the judge's fits (FIT_MIX: FIT_VERSION 18;
    another: the camera union, :data:`CAMERA_UNION_VERSION`). The judge is fitted before the base is looked up, so a
    base fitted by another process meanwhile (:func:`features_model`, same arguments) is taken from the cache."""
    mix = check_mix(mix)
    require_fit_packages()
    t = time.process_time()
    with threadpool_limits(1):  # the MLPs' matrix products: as the refit C was made (vision.densenet_refit)
        seeds = DenseSeeds(fitted_densenet(seed=seed, cache_dir=cache_dir, epochs=EPOCHS, **TRAINING), own_peak=True)
        _say(log, f"union fit: dense net ready, {time.process_time() - t:.0f} s CPU")
        refit = refit_model(seeds, mm_per_px, width_px, seed, mix=mix)
    if refit.classifier is None:
        raise ModelError(f"union fit at {mm_per_px:g} mm/px: the refit with the dense net's seeds trained no classifier")
    _say(log, f"union fit: refit {refit.version} (decision {refit.classifier.none_max:.6g}), {time.process_time() - t:.0f} s CPU")
    model = features_model(mm_per_px, width_px, seed, cache_dir, mix)
    _say(log, f"union fit: base {model.version} ({'FIT_VERSION 13' if mix == FIT_MIX else 'camera mix'}), "
              f"{time.process_time() - t:.0f} s CPU")
    model.dense, model.dense_judge = seeds, refit.classifier
    model.fitted_on["fit_version"] = FIT_VERSION if mix == FIT_MIX else CAMERA_UNION_VERSION
    model.fitted_on["union"] = {"refit_version": refit.version, "judge_decision": refit.fitted_on.get("decision", {}),
                                "dense_seeds": refit.fitted_on["dense_seeds"], "net_training": dict(TRAINING, epochs=EPOCHS),
                                "scene_mix": list(mix)}
    return model


def check_mix(mix: Sequence[str]) -> tuple[str, ...]:
    """``mix`` as a tuple of scene types; ValueError naming a type :func:`vision.scenes.scene_options` does not know."""
    out = tuple(mix)
    if not out:
        raise ValueError("a union's fit mix needs at least one scene type")
    for name in out:
        try:
            scene_options(name)
        except KeyError:
            raise ValueError(f"unknown scene type {name!r} in the union's fit mix {list(out)}") from None
    return out


def base_path(mm_per_px: float, width_px: int, seed: int = 0, cache_dir: Path | None = None,
              mix: Sequence[str] = FIT_MIX) -> Path:
    """Where the union's base for these settings is cached: FIT_VERSION 13's key for FIT_MIX, else a key of
    :data:`CAMERA_UNION_VERSION` and the mix (never taken for FIT 13's base, nor it for this)."""
    version, kw = _base_recipe(check_mix(mix))
    return cache_path(mm_per_px, width_px, seed, cache_dir, version, **kw)


def _base_recipe(mix: tuple[str, ...]) -> tuple[int, dict[str, tuple[str, ...]]]:
    """(recipe version, extra cache-key settings) of the union's base for ``mix`` (:func:`base_path`)."""
    return (FEATURES_FIT_VERSION, {}) if mix == FIT_MIX else (CAMERA_UNION_VERSION, {"base_mix": mix})


def features_model(mm_per_px: float, width_px: int, seed: int = 0, cache_dir: Path | None = None,
                   mix: Sequence[str] = FIT_MIX) -> VisionModel:
    """The union's base for these built-in settings. FIT_MIX: FIT_VERSION 13's model, from the cache or the shipped
    models under its FIT 13 cache key, else fitted with FIT_VERSION 13's decision rule (``hold_regimes=False``; one
    BLAS thread, as every fit) and cached there, so that ``make models`` ships it beside the union. Another ``mix``
    (the camera union): from the cache under :func:`base_path`, else fitted on that mix with today's decision rule
    (recipe 19's, ``hold_regimes`` at its default) and cached there."""
    mix = check_mix(mix)
    version, kw = _base_recipe(mix)
    model = stored_model(mm_per_px, width_px, seed, cache_dir, version, **kw)
    if model is None:
        hold = False if mix == FIT_MIX else None
        model = fit_vision_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed, hold_regimes=hold, mix=mix)
        model.save(cache_path(mm_per_px, width_px, seed, cache_dir, version, **kw))
    return model


def with_base(union: VisionModel, base: VisionModel) -> VisionModel:
    """``base`` (a fit without the net) inside ``union``'s dense net and judge, as :func:`union_model` puts its base
    there: the base's ore model, detector and classifier with ``union.dense`` and ``union.dense_judge``; fitted_on the
    base's with the union's record (``union``) and its ``fit_version``. ModelError when ``union`` has no net or judge,
    ``base`` has no classifier or already a net, or their scale or width differ."""
    if union.dense is None or union.dense_judge is None:
        raise ModelError("with_base: the union model has no dense net or judge")
    if base.classifier is None or base.dense is not None:
        raise ModelError("with_base: the base needs a classifier of its own and no dense net")
    if abs(base.mm_per_px - union.mm_per_px) > 1e-9 or base.width_px != union.width_px:
        raise ModelError(f"with_base: base at {base.mm_per_px:g} mm/px, {base.width_px} px; union at "
                         f"{union.mm_per_px:g} mm/px, {union.width_px} px")
    fitted_on = dict(base.fitted_on, union=union.fitted_on.get("union", {}), base_fit_version=base.fitted_on.get("fit_version"),
                     fit_version=union.fitted_on.get("fit_version"))
    return replace(base, dense=union.dense, dense_judge=union.dense_judge, fitted_on=fitted_on)


def _say(log: bool, line: str) -> None:
    if log:
        print(line, flush=True)


__all__ = ["CAMERA_UNION_VERSION", "FIT_PACKAGES", "base_path", "check_mix", "features_model", "require_fit_packages",
           "union_model", "with_base"]
