"""Fleet benchmarks: re-scoring archives with a NIR model on 1 and 2 local dask workers, both scoring modes.

Run: ``.venv/bin/python -m benchmarks.bench_fleet [--lots 8] [--mass-t 25000] [--repeat 3]``.

Two distinct lots are written with :func:`benchmarks.bench_archive.write_synthetic_lot` and copied
to ``--lots`` archive files. The model is a ``spectra`` SpectraModel trained with a small
configuration (scoring cost does not depend on the training size). Fair 1-vs-2-worker comparison: the same
files for every run, read once beforehand (warm page cache); workers are processes of a ``dask.distributed``
LocalCluster (its nanny sets ``MALLOC_TRIM_THRESHOLD_`` as a real cluster does), started and warmed up (imports,
model load, both modes) before the clock starts; each figure is the median of ``--repeat`` runs, the modes
interleaved, and the 1-minute load average is printed with every run (2 cores are shared with other work).
The cold figure with the default local process pool, start-up included, is printed too.
Targets: >= 1 GB of archives per minute per worker in both segment-scoring modes, "calibrated" (static
calibration) and "line" (the line's stateful per-lot scorer, bound by ``spectra.lotdetector``);
2 workers >= 1.6x one worker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from benchmarks.bench_archive import write_synthetic_lot
from benchmarks.common import row
from analysis.fleet import run_fleet

MODES = ("calibrated", "line")


def _timed(paths: list[Path], model: Path, scheduler: Any, workers: int, scoring: str) -> tuple[float, float]:
    """Wall-clock seconds of the run and the CPU seconds its archives took in the workers."""
    t0 = time.perf_counter()
    rows = run_fleet(paths, model, scheduler=scheduler, workers=workers, segment_scoring=scoring)
    dt = time.perf_counter() - t0
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        raise RuntimeError(f"fleet benchmark: {bad[0]['file']}: {bad[0]['error']}")
    return dt, sum(r["cpu_seconds"] for r in rows)


def _warm_page_cache(paths: list[Path]) -> None:
    for p in paths:
        with open(p, "rb") as fh:
            while fh.read(1 << 24):
                pass


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster

    from spectra.models.training import TrainConfig, train_model

    parser = argparse.ArgumentParser(prog="bench_fleet")
    parser.add_argument("--lots", type=int, default=8)
    parser.add_argument("--mass-t", type=float, default=25_000.0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per mode and worker count (median)")
    parser.add_argument("--quick", action="store_true", help="2 small lots, one run (checks the benchmark runs)")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.quick:
        args.lots, args.mass_t, args.repeat = 2, min(args.mass_t, 1_000.0), 1
    tmp = Path(tempfile.mkdtemp(prefix="oreline-bench-fleet-"))
    rows = []
    try:
        print("training a small model and writing archives ...", flush=True)
        model = train_model(TrainConfig.small(), progress=None).save(tmp / "model.npz")
        seeds = [tmp / "src0.h5", tmp / "src1.h5"]
        write_synthetic_lot(seeds[0], args.mass_t, lot_id="F0", supplier="Alpha", seed=0)
        write_synthetic_lot(seeds[1], args.mass_t, lot_id="F1", supplier="Beta", seed=1,
                            waste_t=(1000.0, 3000.0))
        paths = []
        for i in range(args.lots):
            p = tmp / f"lot{i}.h5"
            shutil.copy(seeds[i % 2], p)
            paths.append(p)
        total_mb = sum(p.stat().st_size for p in paths) / 1e6
        print(f"  {args.lots} archives, {total_mb:,.0f} MB", flush=True)
        _warm_page_cache(paths)
        times: dict[tuple[str, int], float] = {}
        cpus: dict[tuple[str, int], list[float]] = {(m, n): [] for m in MODES for n in (1, 2)}
        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                for mode in MODES:  # warm-up: imports and model load on every worker
                    _timed(paths[:n], model, client, n, mode)
                runs: dict[str, list[float]] = {m: [] for m in MODES}
                for k in range(args.repeat):
                    for mode in MODES:
                        load = os.getloadavg()[0]
                        dt, cpu = _timed(paths, model, client, n, mode)
                        runs[mode].append(dt)
                        cpus[mode, n].append(cpu)
                        print(f"  {n} worker(s) {mode:10s} run {k + 1}: {dt:5.2f} s "
                              f"({total_mb / dt * 60 / 1000 / n:4.2f} GB/min/worker), worker CPU {cpu:5.2f} s "
                              f"({total_mb / cpu * 60 / 1000:4.2f} GB/CPU-min), load average {load:.2f}", flush=True)
                for mode in MODES:
                    times[mode, n] = statistics.median(runs[mode])
        for mode in MODES:
            label = "calibrated segment scoring" if mode == "calibrated" else "line's per-lot segment scorer"
            for n in (1, 2):
                rows.append(row(f"fleet rescoring ({label}), {n} worker(s), {total_mb:,.0f} MB, median of "
                                f"{args.repeat}", total_mb / times[mode, n] * 60.0 / 1000.0 / n, "GB/min/worker", 1.0))
            rows.append(row(f"fleet speed-up 2 workers vs 1 ({mode})", times[mode, 1] / times[mode, 2], "x", 1.6))
            c1, c2 = statistics.median(cpus[mode, 1]), statistics.median(cpus[mode, 2])
            print(f"  {mode}: CPU per archive byte, 2 workers vs 1: {c2 / c1:.2f} (1.0 = no scaling loss in the "
                  f"workers; the wall-clock speed-up also needs 2 free cores: load average {os.getloadavg()[0]:.2f} "
                  f"on {os.cpu_count()} cores)")
        load = os.getloadavg()[0]
        cold = _timed(paths, model, None, 2, "calibrated")[0]
        print(f"  cold local process pool (2 workers, start-up included, calibrated): {total_mb / cold:,.1f} MB/s, "
              f"load average {load:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
