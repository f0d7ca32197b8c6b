"""Refit the union with its own recipe (issue 27, w27f) and save it beside the cache, not over the shipped file.

Run (the fit's net and training frames land in ``$ORELINE_CACHE/vision``; empty cache: rendered fresh)::

    export ORELINE_CACHE=/work/w27f-cache
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 5 .venv/bin/python scripts/refit_union.py \
        /work/w27f-cache/refit-union.npz

:func:`vision.union_fit.union_model` at its defaults (4 mm/px, 512 px, seed 0), as
:func:`vision.model_cache.cached_model` calls it where no union is stored; nothing set by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from vision.union_fit import union_model


def main(argv: list[str] | None = None) -> None:
    """Fit the union, save it to the given path, print its version, digest and the fit's wall and CPU time."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path, help="where to save the refitted union (.npz)")
    args = ap.parse_args(argv)
    wall_s, cpu_s = time.perf_counter(), time.process_time()
    model = union_model(width_px=512, seed=0)
    wall_s, cpu_s = time.perf_counter() - wall_s, time.process_time() - cpu_s
    path = model.save(args.out)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    judge = model.dense_judge.none_max if model.dense_judge is not None else float("nan")
    base = model.classifier.none_max if model.classifier is not None else float("nan")
    print(f"refit union {model.version}: {path} sha256 {digest}; base decision {base:.6g}, judge decision {judge:.6g}; "
          f"fit {wall_s:.0f} s wall, {cpu_s:.0f} s CPU", flush=True)


if __name__ == "__main__":
    main()
