"""The union's base against its training objects (issue 27, learn45): a learning curve.

For each ``--objects-scale`` k: recipe 19 (:data:`vision.fit.RECIPE_FIT_VERSION`, :func:`vision.fit.fit_vision_model`
at 4 mm/px, 512 px, seed 0, one BLAS thread) with ``objects_m`` = k x the default (OBJECTS_M_PER_MM x
min(4, OBJECTS_SCALE_CAP): 960 m, ~3,800 objects), cached where :func:`vision.model_cache.cached_model` keeps that fit
(``cached_model(4.0, 512, objects_m=...)``), then that base inside the shipped union's dense net and judge
(:func:`vision.union_fit.with_base`). Prints per k the fit's wall and CPU time, its training candidates (objects,
"none" kept after MAX_NONE_PER_OBJECT), the MLPs' convergence warnings and the decision (level per belt condition),
and writes ``base-k.npz`` and ``union-k.npz`` (with their sha256) to ``--out-dir``. Each pair is then measured with
``benchmarks.bench_vision_scenes --model`` (docs/vision-experiments.md "Learning curve of the union's base").

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 5 .venv/bin/python -m benchmarks.bench_vision_learning
--objects-scale 2 --out-dir DIR [--union vision/shipped/model-4mm-512px-2f7c0564758e.npz]``. Without
``--objects-scale``: the measured curve, k = 0.5, 1, 2 (~45 min CPU); without ``--out-dir``: ``$ORELINE_CACHE/vision/
learning``. ``--quick`` (``make bench-quick``): the test suite's small fit (20-30 m belts, k x 30 m of objects), k = 0.5
and 1, to check that the benchmark runs; its figures say nothing about the curve.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from vision.classify import NONE
from vision.fit import (MAX_NONE_PER_OBJECT, OBJECTS_M_PER_MM, OBJECTS_SCALE_CAP, SHIPPED_DIR, UNION_MM_PER_PX,
                        CandidatePool, VisionModel, cache_path, candidate_pool, default_cache_dir, finish_fit)
from vision.union_fit import with_base

#: The learning curve's settings: the union's scale and width, seed 0.
WIDTH_PX = 512
#: The shipped union (FIT_VERSION 18) whose dense net and judge each base goes into.
SHIPPED_UNION = SHIPPED_DIR / "model-4mm-512px-2f7c0564758e.npz"
#: The curve measured in docs/vision-experiments.md: the default ``--objects-scale``.
DEFAULT_SCALES = (0.5, 1.0, 2.0)
#: ``--quick``: the small fit's belts (m; as tests/vision/test_fit_threads.py's) and its training belt with objects at k = 1.
QUICK_FIT: dict = {"normal_m": 20.0, "calibration_m": 20.0, "decision_m": 30.0, "scene": {}, "objects": {}}
QUICK_OBJECTS_M = 30.0
QUICK_SCALES = (0.5, 1.0)


def objects_m_for(scale: float, mm_per_px: float = UNION_MM_PER_PX) -> float:
    """``scale`` x the built-in fit's training belt with objects (m) at ``mm_per_px``; ValueError unless scale > 0."""
    if not scale > 0:
        raise ValueError(f"objects scale must be > 0, got {scale}")
    return float(scale * OBJECTS_M_PER_MM * min(mm_per_px, OBJECTS_SCALE_CAP))


def objects_scale(text: str) -> float:
    """``--objects-scale``'s value: a number k > 0 (argparse names the option and exits 2 otherwise, before any fit)."""
    try:
        k = float(text)
        objects_m_for(k)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if "objects scale" in str(exc) else f"not a number: {text!r}") from exc
    return k


def training_counts(pool: CandidatePool) -> dict[str, int]:
    """The pool's training candidates as :func:`vision.fit.train_classifier` uses them: object candidates, "none" ones
    from object scenes (all and kept under MAX_NONE_PER_OBJECT), "none" ones of normal belt; and the decision-only ones."""
    y = np.asarray(pool.y)
    normal = np.asarray(pool.normal, bool)
    train = np.asarray(pool.train, bool) if pool.train else np.ones(len(y), bool)
    objects = int(np.sum((y != NONE) & train))
    none_scenes = int(np.sum((y == NONE) & ~normal & train))
    return {"objects": objects, "none_object_scenes": none_scenes,
            "none_object_scenes_kept": min(none_scenes, int(MAX_NONE_PER_OBJECT * objects)),
            "none_normal_belt": int(np.sum((y == NONE) & normal & train)), "decision_only": int(np.sum(~train))}


def fit_base(scale: float, seed: int = 0, cache_dir: Path | None = None, quick: bool = False) -> tuple[VisionModel, dict]:
    """Recipe 19's fit at 4 mm/px, 512 px with :func:`objects_m_for` ``scale`` (from its cache file when there, else
    fitted and cached there: the file ``cached_model(4.0, 512, seed, objects_m=...)`` reads) and the fit's record
    (empty counts when taken from the cache). ``quick``: the small fit (QUICK_FIT, ``scale`` x QUICK_OBJECTS_M), under
    its own cache key."""
    objects_m = scale * QUICK_OBJECTS_M if quick and objects_m_for(scale) else objects_m_for(scale)
    fit_kw = dict(QUICK_FIT) if quick else {}
    path = cache_path(UNION_MM_PER_PX, WIDTH_PX, seed, cache_dir, objects_m=objects_m, **fit_kw)
    record: dict = {"objects_scale": scale, "objects_m": objects_m, "cache": str(path)}
    if path.exists():
        return VisionModel.load(path, UNION_MM_PER_PX), dict(record, cached=True)
    wall_s, cpu_s = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model, pool = candidate_pool(mm_per_px=UNION_MM_PER_PX, width_px=WIDTH_PX, seed=seed, objects_m=objects_m, **fit_kw)
        pool_s = time.perf_counter() - wall_s
        model = finish_fit(model, pool, seed=seed)
    model.save(path)
    not_converged = [str(w.message).split(" and ")[0] for w in caught if issubclass(w.category, ConvergenceWarning)]
    record.update(cached=False, wall_s=round(time.perf_counter() - wall_s), pool_wall_s=round(pool_s),
                  cpu_s=round(time.process_time() - cpu_s), counts=training_counts(pool),
                  not_converged=len(not_converged), not_converged_by=dict(Counter(not_converged)))
    return model, record


def decision_of(model: VisionModel) -> dict:
    """The base's decision: its level (``none_max``) and the level per belt condition."""
    clf = model.classifier
    if clf is None:
        return {}
    return {"none_max": float(clf.none_max), "regimes": np.asarray(clf.regimes_).tolist()}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects-scale", type=objects_scale, action="append",
                    help="k: the base's training belt with objects is k x the default (repeatable; default 0.5, 1, 2)")
    ap.add_argument("--out-dir", type=Path, help="where base-k.npz, union-k.npz and fit-k.json go (default "
                    "$ORELINE_CACHE/vision/learning)")
    ap.add_argument("--union", type=Path, default=SHIPPED_UNION, help="the union whose dense net and judge each base gets")
    ap.add_argument("--seed", type=int, default=0, help="the fit's seed (default 0, as the built-in fit)")
    ap.add_argument("--quick", action="store_true", help="the small fit at k = 0.5 and 1: checks the benchmark runs")
    args = ap.parse_args(argv)
    wanted = args.objects_scale or (QUICK_SCALES if args.quick else DEFAULT_SCALES)
    scales = [objects_scale(str(k)) for k in wanted]
    union = VisionModel.load(args.union, UNION_MM_PER_PX)
    out_dir = args.out_dir or default_cache_dir() / ("learning-quick" if args.quick else "learning")
    out_dir.mkdir(parents=True, exist_ok=True)
    for k in scales:
        base, record = fit_base(k, args.seed, quick=args.quick)
        base_path = base.save(out_dir / f"base-{k:g}.npz")
        union_path = with_base(union, base).save(out_dir / f"union-{k:g}.npz")
        record.update(base=str(base_path), base_sha256=sha256_of(base_path), union=str(union_path),
                      union_sha256=sha256_of(union_path), decision=decision_of(base))
        (out_dir / f"fit-{k:g}.json").write_text(json.dumps(record, indent=1, default=str))
        print(f"k {k:g}: objects_m {record['objects_m']:g}; " + json.dumps(
            {key: record[key] for key in ("wall_s", "pool_wall_s", "cpu_s", "counts", "not_converged_by") if key in record})
            + f"; decision {record['decision'].get('none_max', float('nan')):.6g}; base {base_path} "
            f"({record['base_sha256'][:12]}), union {union_path} ({record['union_sha256'][:12]})", flush=True)


if __name__ == "__main__":
    main()
