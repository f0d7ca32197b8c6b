"""Refit the union with its own recipe (issue 27, w27f) and save it beside the cache, not over the shipped file.

Run (the fit's net and training frames land in ``$ORELINE_CACHE/vision``; empty cache: rendered fresh)::

    export ORELINE_CACHE=/work/w27f-cache
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 5 .venv/bin/python scripts/refit_union.py \
        /work/w27f-cache/refit-union.npz

:func:`vision.union_fit.union_model` at its defaults (4 mm/px, 512 px, seed 0), as
:func:`vision.model_cache.cached_model` calls it where no union is stored; nothing set by hand.

``--mix camera``: the camera union (cam44): the same recipe on :data:`vision.scenes.CAMERA_FIT_MIX`.
``--base-only``: fit (or find) only the union's base for that mix and cache it (:func:`vision.union_fit.base_path`),
so that a second process fitting the whole union meanwhile takes it from the cache (the two fits run side by side).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from vision.scenes import CAMERA_FIT_MIX, FIT_MIX
from vision.union_fit import base_path, features_model, union_model

#: The fit mixes of ``--mix``.
MIXES = {"fit": FIT_MIX, "camera": CAMERA_FIT_MIX}


def main(argv: list[str] | None = None) -> None:
    """Fit the union (or its base), save it, print its version, digest and the fit's wall and CPU time."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="where to save the refitted union (.npz); with --base-only: ignored")
    ap.add_argument("--mix", choices=tuple(MIXES), default="fit", help="the fit's scene mix: fit (FIT_MIX, FIT_VERSION "
                    "18's recipe) or camera (CAMERA_FIT_MIX, the camera union)")
    ap.add_argument("--base-only", action="store_true", help="fit only the union's base for the mix into the cache")
    args = ap.parse_args(argv)
    mix = MIXES[args.mix]
    wall_s, cpu_s = time.perf_counter(), time.process_time()
    if args.base_only:
        base = features_model(4.0, 512, 0, mix=mix)
        path = base_path(4.0, 512, 0, mix=mix)
        print(f"union base ({args.mix} mix) {base.version}: {path}; decision "
              f"{base.classifier.none_max if base.classifier is not None else float('nan'):.6g}; "
              f"{time.perf_counter() - wall_s:.0f} s wall, {time.process_time() - cpu_s:.0f} s CPU", flush=True)
        return
    model = union_model(width_px=512, seed=0, mix=mix)
    wall_s, cpu_s = time.perf_counter() - wall_s, time.process_time() - cpu_s
    path = model.save(args.out)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    judge = model.dense_judge.none_max if model.dense_judge is not None else float("nan")
    base = model.classifier.none_max if model.classifier is not None else float("nan")
    print(f"refit union {model.version} ({args.mix} mix, fit version {model.fitted_on['fit_version']}): {path} "
          f"sha256 {digest}; base decision {base:.6g}, judge decision {judge:.6g}; "
          f"fit {wall_s:.0f} s wall, {cpu_s:.0f} s CPU", flush=True)


if __name__ == "__main__":
    main()
