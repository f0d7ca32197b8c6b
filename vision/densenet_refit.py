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
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from threadpoolctl import threadpool_limits

from vision.densenet import DenseSeeds
from vision.densenet_fit import EPOCHS, TRAINING, fitted_densenet
from vision.detect import Detector
from vision.fit import VisionModel, fit_vision_model


@contextmanager
def seeds_in_every_detector(seeds: DenseSeeds) -> Iterator[None]:
    """Within the block, every :meth:`vision.fit.VisionModel.detector` has ``dense_seeds`` = ``seeds``."""
    original = VisionModel.detector

    def detector(self: VisionModel) -> Detector:
        det = original(self)
        det.dense_seeds = seeds
        return det

    VisionModel.detector = detector  # type: ignore[method-assign]
    try:
        yield
    finally:
        VisionModel.detector = original  # type: ignore[method-assign]


def refit_model(seeds: DenseSeeds, mm_per_px: float = 4.0, width_px: int = 512, seed: int = 0) -> VisionModel:
    """The built-in fit (its defaults) with ``seeds`` on in every detector it builds, the net in the model (its
    detectors run it: the classifier's last input is its peak); not saved. :mod:`vision.union_fit` takes its
    classifier as the shipped model's dense judge."""
    with seeds_in_every_detector(seeds):
        model = fit_vision_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed)
    model.fitted_on["dense_seeds"] = {"level": seeds.level, "onnx_bytes": len(seeds.net.onnx_bytes), "own_peak": seeds.own_peak}
    model.dense = seeds
    return model


def refit_with_dense_seeds(seeds: DenseSeeds, path: Path, mm_per_px: float = 4.0, width_px: int = 512, seed: int = 0) -> VisionModel:
    """:func:`refit_model`, saved to ``path``."""
    model = refit_model(seeds, mm_per_px, width_px, seed)
    model.save(path)
    return model


def main(argv: list[str] | None = None) -> None:

    ap = argparse.ArgumentParser(prog="python -m vision.densenet_refit", description=__doc__)
    ap.add_argument("out", type=Path, help="where to save the refitted model (.npz)")
    ap.add_argument("--own-peak", action="store_true", help="the net's peak a feature of its own components only (DenseSeeds.own_peak)")
    a = ap.parse_args(argv)
    t = time.process_time()
    with threadpool_limits(1):  # the MLPs' matrix products: a second BLAS thread spins on a shared machine
        seeds = DenseSeeds(fitted_densenet(epochs=EPOCHS, **TRAINING), own_peak=a.own_peak)  # the benchmark's net
        model = refit_with_dense_seeds(seeds, a.out)
    print(f"refit with dense seeds: decision {model.classifier.none_max if model.classifier else None}; "
          f"{time.process_time() - t:.0f} s CPU; saved {a.out}", flush=True)


if __name__ == "__main__":
    main()
