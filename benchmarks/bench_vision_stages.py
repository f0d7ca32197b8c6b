"""Where the 4 mm/px line station's CPU goes: thread CPU time of each stage of the detector, ms per 1 s window (one
frame of 1125 x 512 px), over :func:`benchmarks.bench_vision.line_rows` (the same line, the same windows), with a timer
around each stage instead of a profiler (which adds 10-15 %, most to the code with more calls). docs/vision.md,
"Speed (issue 27)".

Run: ``.venv/bin/python -m benchmarks.bench_vision_stages [--line-m 400] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import vision.densenet as densenet
import vision.detect as detect
import vision.model as model
from benchmarks.bench_vision import LINE_TARGET_M_S, line_rows

DENSE_NET = "dense net (onnxruntime)"
DENSE_REST = "dense net: its input, stream and own regions (besides the net)"
TOTAL = "Detector.process in all"
#: (object, attribute, stage): the detector's stages as it looks them up. Only DENSE_REST holds another (the net's
#: run), which is taken out of it.
STAGES: tuple[tuple[Any, str, str], ...] = (
    (model.NormalOreModel, "features", "cell features (features.cell_features)"),
    (model.NormalOreModel, "score", "density score (model.score)"),
    (detect, "belt_ridge", "bright-ridge map (two Gaussian scales, Hessian)"),
    (detect, "objectness_features", "objectness features (2 x 2 blocks, box means)"),
    (detect, "object_logodds", "objectness MLP and its cells"),
    (detect, "candidate_maps", "candidate maps (box means, seeds, regions)"),
    (detect, "component_features", "candidate statistics (classify.component_features)"),
    (densenet.DenseNet, "run", DENSE_NET),
    (detect.Detector, "_dense_regions", DENSE_REST),
    (detect.Detector, "_judge", "classifiers (5 MLPs x 2 judges)"),
    (detect.ndi, "label", "labelling (ndi.label)"),
)
REST = "the rest (joining the carry, pending components, counts, belt load, material share, carry)"


def _timed(fn: Callable[..., Any], stage: str, cpu_s: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            cpu_s[stage] = cpu_s.get(stage, 0.0) + time.thread_time() - t
    return timed


@contextmanager
def stage_timers(cpu_s: dict[str, float]) -> Iterator[dict[str, float]]:
    """While open, every stage of STAGES and ``Detector.process`` add their thread CPU seconds to ``cpu_s`` (by stage
    name); the functions are restored on leaving."""
    timed = STAGES + ((detect.Detector, "process", TOTAL),)
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in timed]
    try:
        for owner, attr, stage in timed:
            setattr(owner, attr, _timed(getattr(owner, attr), stage, cpu_s))
        yield cpu_s
    finally:
        for owner, attr, fn in saved:
            setattr(owner, attr, fn)


def stage_rows(line_m: float) -> list[dict]:
    """ms CPU per window of each stage over ``line_m`` of the 4 mm/px line (after a 45 m warm-up), the rest of
    ``Detector.process`` and its total, and the station's rate (m of belt per CPU second) in the same run."""
    line_rows(4.0, max_m=45.0)
    with stage_timers({}) as cpu_s:
        station = line_rows(4.0, max_m=line_m)[0]
    windows = int(line_m / 4.5)
    cpu_s[DENSE_REST] = cpu_s.get(DENSE_REST, 0.0) - cpu_s.get(DENSE_NET, 0.0)  # the net's own time in its row alone
    total = cpu_s.pop(TOTAL, 0.0)
    cpu_s[REST] = total - sum(cpu_s.values())
    per_window_ms = 1000.0 / windows
    rows = [dict(name=f"stage: {stage}", value=cpu_s.get(stage, 0.0) * per_window_ms, unit="ms CPU per window",
                 target="(no target)", ok=True) for stage in [s for _, _, s in STAGES] + [REST]]
    target_ms = 1000.0 * 4.5 / LINE_TARGET_M_S  # a 1 s window of 4.5 m at the line target
    rows.append(dict(name=f"stage: {TOTAL}", value=total * per_window_ms, unit="ms CPU per window", target=f"<= {target_ms:.1f}",
                     ok=total * per_window_ms <= target_ms))
    return rows + [station]


def main(argv: list[str] | None = None) -> list[dict]:
    """Print the stages' ms CPU per window of the 4 mm/px line (``--quick``: 45 m, that it runs)."""
    ap = argparse.ArgumentParser(prog="bench_vision_stages", description=__doc__)
    ap.add_argument("--line-m", type=float, default=400.0, help="metres of the simulated line timed (default 400)")
    ap.add_argument("--quick", action="store_true", help="45 m only (that it runs)")
    a = ap.parse_args(argv)
    rows = stage_rows(45.0 if a.quick else a.line_m)
    for r in rows:
        print(f"{r['name']}: {r['value']:,.2f} {r['unit']} (target {r['target']}) {'OK' if r['ok'] else 'MISSED'}")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
