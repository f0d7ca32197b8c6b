"""What a refit with the dense detector's seeds on would give: the built-in fit with ``Detector.dense_seeds`` set in
every detector the fit builds (training, calibration, out-of-fold and decision belt), so that the classifier learns
the net's candidates on objects and on ore and the decision is set with them. A measurement, not a fit recipe: the
model is saved to a path of the caller's (never the model cache, whose key does not know the switch), and the
station's models are unchanged.

Run: ``python -m vision.densenet_refit OUT.npz`` (a built-in 4 mm/px fit with the seeds on, the net's peak log-odds
a component feature, the net saved in the model; one BLAS thread, as the built-in fit's figures are measured: with
two, the classifier's MLPs cost ~3.4 x the CPU on this shared 2-core machine); ``python -m benchmarks.bench_vision_dense
--model OUT.npz`` measures it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

from threadpoolctl import threadpool_limits

from vision.densenet import DenseSeeds
from vision.densenet_fit import EPOCHS, TRAINING, fitted_densenet
from vision.fit import VisionModel, fit_vision_model
from vision.scenes import FIT_MIX


def refit_model(seeds: DenseSeeds, mm_per_px: float = 4.0, width_px: int = 512, seed: int = 0,
                wood_weight: float = 1.0, mix: Sequence[str] = FIT_MIX) -> VisionModel:
    """The built-in fit (its defaults) with ``seeds`` on in every detector it builds (the fit's ``dense`` option:
    nothing outside the fit is touched), the net in the model (its detectors run it: the classifier's last input is
    its peak); not saved. ``wood_weight``: the classifier's training weight of wood (1: C's recipe; issue 27, w27t).
    The decision keeps FIT_VERSION 13's rule (``hold_regimes=False``), as C was made and confirmed. ``mix``: the
    fit's scene types (default FIT_MIX; the camera union's CAMERA_FIT_MIX). :mod:`vision.union_fit` takes its
    classifier as the union's dense judge."""
    weight = {"wood": float(wood_weight)} if wood_weight != 1.0 else None
    model = fit_vision_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed, dense=seeds, kind_weight=weight,
                             hold_regimes=False, mix=mix)
    model.fitted_on["dense_seeds"] = {"level": seeds.level, "onnx_bytes": len(seeds.net.onnx_bytes), "own_peak": seeds.own_peak}
    if weight is not None:
        model.fitted_on["kind_weight"] = weight
    return model


def refit_with_dense_seeds(seeds: DenseSeeds, path: Path, mm_per_px: float = 4.0, width_px: int = 512, seed: int = 0,
                           wood_weight: float = 1.0) -> VisionModel:
    """:func:`refit_model`, saved to ``path``."""
    model = refit_model(seeds, mm_per_px, width_px, seed, wood_weight)
    model.save(path)
    return model


def main(argv: list[str] | None = None) -> None:

    ap = argparse.ArgumentParser(prog="python -m vision.densenet_refit", description=__doc__)
    ap.add_argument("out", type=Path, help="where to save the refitted model (.npz)")
    ap.add_argument("--own-peak", action="store_true", help="the net's peak a feature of its own components only (DenseSeeds.own_peak)")
    ap.add_argument("--wood-weight", type=float, default=1.0, help="the classifier's training weight of wood (default 1: "
                    "refit C's recipe; C' of issue 27, w27t: 4)")
    a = ap.parse_args(argv)
    if not (a.wood_weight > 0 and a.wood_weight < float("inf")):
        ap.error(f"--wood-weight must be a positive number, got {a.wood_weight}")
    t = time.process_time()
    with threadpool_limits(1):  # the MLPs' matrix products: a second BLAS thread spins on a shared machine
        seeds = DenseSeeds(fitted_densenet(epochs=EPOCHS, **TRAINING), own_peak=a.own_peak)  # the benchmark's net
        model = refit_with_dense_seeds(seeds, a.out, wood_weight=a.wood_weight)
    print(f"refit with dense seeds: decision {model.classifier.none_max if model.classifier else None}; "
          f"{time.process_time() - t:.0f} s CPU; saved {a.out}", flush=True)


if __name__ == "__main__":
    main()
