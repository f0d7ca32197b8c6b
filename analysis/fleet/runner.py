"""The fleet: many lot archives analysed as a dask bag of paths (:func:`run_fleet`).

Work is a dask bag of archive paths, cut into partitions; each partition is one task that loads the model
once and analyses its archives with the pure function :func:`analysis.fleet.rescore.analyse_archive`. The
scheduler is a parameter: the local process pool by default (h5py holds a global lock, so threads do not
scale), or a ``dask.distributed`` scheduler address / Client for a cluster.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from analysis.errors import FleetError
from analysis.fleet.malloc import worker_malloc
from analysis.fleet.rescore import BATCH_ROWS, SEGMENT_SCORING, analyse_archive, angle_deg, load_model

__all__ = ["run_fleet", "find_archives", "add_fleet_drift"]


def _analyse_partition(paths: Iterable[str], model_path: str | None, batch_rows: int, unmix: bool,
                       segment_scoring: str = "line", run_id: str = "") -> list[dict[str, Any]]:
    """One dask task: load the model once, analyse each archive of the partition.

    ``run_id`` is unused here; it makes every run's task keys unique, so a cluster that still holds
    results of an earlier run (archives since changed) never serves them again.
    """
    paths = list(paths)
    model = None
    if model_path is not None:
        try:
            model = load_model(model_path)
        except Exception as exc:
            return [{"path": p, "file": Path(p).name, "status": "error",
                     "error": f"model {model_path} not loadable on this worker: {exc}"} for p in paths]
    # one worker = one core: BLAS threads would fight the other workers; malloc: see analysis.fleet.malloc
    with threadpool_limits(limits=1), worker_malloc():
        return [analyse_archive(p, model, batch_rows=batch_rows, unmix=unmix, segment_scoring=segment_scoring)
                for p in paths]


def find_archives(items: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Archive paths from files and folders (``*.h5`` beneath a folder, sorted). Missing paths are kept
    (they become error rows)."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        out += sorted(p.rglob("*.h5")) if p.is_dir() else [p]
    return out


def run_fleet(paths: Sequence[str | os.PathLike[str]], model_path: str | os.PathLike[str] | None = None, *,
              scheduler: Any = None, workers: int | None = None, batch_rows: int = BATCH_ROWS, unmix: bool = False,
              segment_scoring: str = "line", partitions_per_worker: int = 2,
              progress: bool = False) -> list[dict[str, Any]]:
    """Analyse (and with ``model_path`` re-score) every archive; rows in input order, drift vs fleet filled in.

    ``scheduler``: None or "processes" (local process pool of ``workers``), "threads", "sync", a
    ``dask.distributed`` address ("tcp://host:8786") or Client. ``segment_scoring``: "line" (the line's
    per-lot scorer, faithful) or "calibrated" (static calibration, much faster). Raises FleetError when the
    model cannot be loaded, the options are bad or the scheduler cannot be reached; bad archives are rows.
    """
    if segment_scoring not in SEGMENT_SCORING:
        raise FleetError(f"segment_scoring must be one of {SEGMENT_SCORING}, got {segment_scoring!r}")
    import dask.bag as db

    paths = [str(p) for p in paths]
    if not paths:
        raise FleetError("no archives given")
    if model_path is not None:
        try:
            load_model(model_path)  # fail fast, before any worker starts
        except Exception as exc:
            raise FleetError(f"model {model_path}: {exc}") from exc
        model_path = str(model_path)
    n_workers = max(1, int(workers or os.cpu_count() or 1))
    nparts = max(1, min(len(paths), n_workers * partitions_per_worker))
    bag = db.from_sequence(paths, npartitions=nparts).map_partitions(
        _analyse_partition, model_path, batch_rows, unmix, segment_scoring, uuid.uuid4().hex, token="oreline-fleet")
    if scheduler is None or scheduler in ("processes", "threads", "sync", "synchronous", "single-threaded"):
        kind = scheduler or "processes"
        if progress:
            from dask.diagnostics import ProgressBar

            with ProgressBar(out=sys.stderr, minimum=1.0):
                rows = bag.compute(scheduler=kind, num_workers=n_workers)
        else:
            rows = bag.compute(scheduler=kind, num_workers=n_workers)
    else:
        rows = _compute_distributed(bag, scheduler, progress)
    order = {p: i for i, p in enumerate(paths)}
    rows = sorted(rows, key=lambda r: order.get(r["path"], len(order)))
    add_fleet_drift(rows)
    return rows


def _compute_distributed(bag: Any, scheduler: Any, progress: bool) -> list[dict[str, Any]]:
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout="10s") if own else scheduler
    except (OSError, TimeoutError, ValueError) as exc:
        raise FleetError(f"dask scheduler {scheduler!r} not reachable: {exc}") from exc
    try:
        futures = client.compute(bag.to_delayed())
        rows: list[dict[str, Any]] = []
        for k, fut in enumerate(as_completed(futures), start=1):
            rows += fut.result()
            if progress:
                print(f"fleet: {k}/{len(futures)} partitions done", file=sys.stderr, flush=True)
        return rows
    finally:
        if own:
            client.close()


def add_fleet_drift(rows: list[dict[str, Any]]) -> None:
    """Fill ``drift_vs_fleet_deg``: angle of each lot's mean spectrum to the median of lots on the same grid."""
    by_grid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("_mean_spectrum") is not None:
            by_grid[r["_grid"]].append(r)
    for group in by_grid.values():
        ref = np.median(np.array([r["_mean_spectrum"] for r in group]), axis=0)
        for r in group:
            r["drift_vs_fleet_deg"] = angle_deg(np.asarray(r["_mean_spectrum"]), ref)
