"""What the detector and the line station output on fixed seeds, as plain JSON: the reference of the speed
equivalence test (tests/vision/test_speed_equivalence.py).

The reference was written from main's code *before* the speed work of issue 27 (w27d), so a speed change that moves
any output fails the test; it was written again at speed42 with the float32 filters of vision/filters.py (outputs
moved within float32 rounding, every box and report the same: docs/vision.md, *speed42*). It holds, besides the outputs, digests of what they were computed from (the model's
version and every rendered frame): when those differ the reference is stale (a refit or a renderer change moved the
inputs, not the speed work) and must be written again, with the code whose outputs are meant (after an intended refit
or model change: the merged code itself; to check a later speed change: the code before it, from its own checkout
and venv, since the editable install wins over PYTHONPATH):

    ORELINE_CACHE=... .venv/bin/python tests/vision/speed_reference.py

(run from the repository root; writes tests/vision/data/speed_reference.json).

Every run uses one BLAS thread (:func:`single_blas_thread`): a multi-threaded float32 matrix product sums in an
order that depends on the thread count, which moved the 7th digit of features and p(none) between a 1-thread
writer and a 2-core CI run. One thread makes the outputs the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

REFERENCE = Path(__file__).resolve().parent / "data" / "speed_reference.json"
#: (scene type, seed, frame lines, metres) of the detector runs at the shipped model's scale (4 mm/px, 2 x 2 px cells).
DETECTOR_RUNS = (("today", 21, 1024, 8.0), ("realistic", 22, 700, 12.0), ("dark-rubber", 23, 1125, 8.0))
#: The same model at 2 mm/px (4 x 4 px cells: the cell-feature path of 1 mm/px models, a 2x subsample inside each
#: cell), width 1024 px: the thresholds are not calibrated for it; the outputs only have to stay the same.
FINE_RUN = ("realistic", 24, 1024, 6.0)
LINE_M = 90.0


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def _detection(d: Any) -> dict:
    return {"kind": d.kind, "probability": d.probability, "p_none": d.p_none, "length_mm": d.length_mm, "width_mm": d.width_mm,
            "area_mm2": d.area_mm2, "belt_m": d.belt_m, "lateral_m": d.lateral_m, "tonnage_mark_t": d.tonnage_mark_t,
            "time_s": d.time_s, "anomaly_score": d.anomaly_score, "frame_id": d.frame_id, "thumbnail": _digest(d.thumbnail),
            "features": [float(v) for v in d.features]}


def _frame_result(r: Any) -> dict:
    return {"frame_id": r.frame_id, "material_fraction": r.material_fraction, "belt_fraction": r.belt_fraction,
            "inspected": r.inspected, "reason": r.reason, "unusual_share": r.unusual_share,
            "detections": [_detection(d) for d in r.detections]}


def _model():
    from vision.fit import stored_model

    model = stored_model(mm_per_px=4.0, width_px=512, seed=0)
    if model is None:
        raise RuntimeError("the shipped 4 mm/px vision model is missing")
    return model


#: Runs its function with BLAS and OpenMP at one thread, so the reference's outputs do not depend on the core count.
single_blas_thread = threadpool_limits.wrap(limits=1)


@single_blas_thread
def detector_run(model: Any, detector: Any, scene: str, seed: int, lines: int, length_m: float, mm_per_px: float, width_px: int) -> dict:
    """Every candidate (``report_all``) of ``length_m`` of belt of scene type ``scene`` with ~2 objects per metre."""
    from vision.scene import random_objects
    from vision.scenes import scene_options
    from vision.sim_camera import SimulatedCamera

    scene_kw, object_kw = scene_options(scene)
    objs = random_objects(length_m * 1000.0, np.random.default_rng(seed), per_m=2.0, **object_kw)
    cam = SimulatedCamera(tiles="heldout", seed=seed, objects=objs, width_px=width_px, frame_lines=lines, mm_per_px=mm_per_px,
                          scene_options=scene_kw).open()
    detector.report_all = True
    frames, results = [], []
    while cam.position_m < length_m - 1e-9:
        f = cam.grab()
        frames.append(_digest(f.image))
        results.append(_frame_result(detector.process(f)))
    flushed = [_detection(d) for d in detector.flush()]
    return {"scene": scene, "seed": seed, "lines": lines, "frames": frames, "results": results, "flushed": flushed}


@single_blas_thread
def line_run(length_m: float = LINE_M) -> dict:
    """The camera station at 4 mm/px in a simulated line (as benchmarks.bench_vision.line_rows): every record."""
    from conveyor.cargo import CargoModel
    from conveyor.clock import SimulatedClock
    from conveyor.records import Coverage, LotIdentity, LotStart, Measurement
    from conveyor.station import MaterialWindow, StationContext
    from vision.station import from_config

    rate_t_s, speed = 6000.0 / 3600.0, 4.5
    cargo = CargoModel.random("fines", 300.0, np.random.default_rng(4), objects_per_1000_t=400.0)
    ctx = StationContext(SimulatedClock(), 1.8, speed, Path("/tmp"), seed=3, cargo=cargo)
    st = from_config("cam", {"kind": "camera", "position_m": 50.0, "sim_mm_per_px": 4.0, "imaged_fraction": 1.0,
                             "group_fragments": False, "thin_sticks": False}, ctx)  # the reference predates both
    st.start_lot(LotStart(LotIdentity("B1", "V", "H1", "fines", 300.0), 0.0, 0.0, 0.0))
    windows = []
    for i in range(int(length_m / speed)):
        w = MaterialWindow("B1", "cam", float(i), i + 1.0, i * rate_t_s, (i + 1) * rate_t_s, i * speed, (i + 1) * speed, speed, 0.0)
        windows.append(list(st.process(w)))
    windows.append(list(st.end_lot(int(length_m / speed) * rate_t_s)))
    st.close()
    out = []
    for recs in windows:
        row = []
        for r in recs:
            if isinstance(r, Coverage):
                row.append({"coverage": [r.start_mark_t, r.end_mark_t, r.inspected, r.reason]})
            elif isinstance(r, Measurement):
                data = {k: (_digest(v) if k == "thumbnail" else (v if isinstance(v, str) else float(v))) for k, v in r.data.items()}
                row.append({"measurement": {"time_s": r.time_s, "mark_t": r.tonnage_mark_t, **data}})
            else:
                row.append({"other": type(r).__name__})
        out.append(row)
    return {"length_m": length_m, "windows": out}


def collect() -> dict:
    """Everything the reference holds (see the module doc), computed with the code on ``sys.path``."""
    from vision.detect import Detector
    from vision.fit import VisionModel

    model: VisionModel = _model()
    runs = [detector_run(model, model.detector(), s, seed, lines, m, 4.0, 512) for s, seed, lines, m in DETECTOR_RUNS]
    ore2 = replace_scale(model.ore, 2.0)
    det2 = Detector(ore2, model.classifier, replace(model.params), width_px=1024, objectness=model.objectness)
    s, seed, lines, m = FINE_RUN
    fine = detector_run(model, det2, s, seed, lines, m, 2.0, 1024)
    return {"model_version": model.version, "detector": runs, "detector_2mm": fine, "line": line_run()}


def replace_scale(ore: Any, mm_per_px: float) -> Any:
    """A copy of the normal-ore model ``ore`` that reads frames at ``mm_per_px`` (the same cells in mm, more px)."""
    from vision.model import NormalOreModel

    copy = NormalOreModel.from_arrays(ore.to_arrays())
    copy.mm_per_px = mm_per_px
    return copy


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else REFERENCE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(collect(), indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1000:.0f} kB)")


if __name__ == "__main__":
    main(sys.argv[1:])
