"""The built-in camera models by their settings: from the cache (or the shipped copies) when fitted before, else
fitted once and cached (``$ORELINE_CACHE/vision``, :func:`vision.fit.cache_path`). At the dense net's scale with the
built-in defaults the fit is the union (:mod:`vision.union_fit`, FIT_VERSION 18); every other setting is recipe 19
(:data:`vision.fit.RECIPE_FIT_VERSION`: FIT_VERSION 13's on one BLAS thread, a belt condition's own level only where
leave-one-group-out founds it; :func:`vision.fit.fit_vision_model`)."""

from __future__ import annotations

from pathlib import Path

from vision.fit import VisionModel, cache_path, fit_vision_model, stored_model, union_applies
from vision.union_fit import union_model


def cached_model(mm_per_px: float = 1.0, width_px: int = 2048, seed: int = 0, cache_dir: Path | None = None, **kw) -> VisionModel:
    """A fitted model for these settings, from the cache (:func:`vision.fit.cache_path`) when present, else fitted
    (the union where :func:`vision.fit.union_applies`) and cached."""
    model = stored_model(mm_per_px, width_px, seed, cache_dir, **kw)
    if model is None:
        if union_applies(mm_per_px, **kw):
            model = union_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed, cache_dir=cache_dir)
        else:
            model = fit_vision_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed, **kw)
        model.save(cache_path(mm_per_px, width_px, seed, cache_dir, **kw))
    return model


__all__ = ["cached_model"]
