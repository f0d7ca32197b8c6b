"""Vision benchmark: detector throughput and latency at 1 mm/px x 2048 px, and detection quality on held-out scenes.

Run: ``.venv/bin/python -m benchmarks.bench_vision`` (fits and caches the model on first use).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from vision.cli import evaluate  # noqa: E402
from vision.fit import cached_model  # noqa: E402
from vision.sim_camera import SimulatedCamera  # noqa: E402

TARGET_MPX_S = 2048 * 6000 * 3 / 1e6  # 3x real time for a 2048 px line at 6 m/s, 1 mm/px


def main(length_m: float = 60.0) -> list[dict]:
    model = cached_model(mm_per_px=1.0, width_px=2048)
    cam = SimulatedCamera(tiles="heldout", seed=5, width_px=2048, frame_lines=1024, mm_per_px=1.0).open()
    frames = [cam.grab() for _ in range(12)]
    det = model.detector()
    det.process(frames[0])
    lat = []
    for f in frames[1:]:
        t = time.perf_counter()
        det.process(f)
        lat.append(time.perf_counter() - t)
    mpx_s = sum(f.image.shape[0] * f.image.shape[1] for f in frames[1:]) / sum(lat) / 1e6
    table, _ = evaluate(model, backgrounds="heldout", length_m=length_m, seed=2, objects_per_m=0.6)
    rec = table["recall"].get("size>=50:all", {"recall": float("nan")})["recall"]
    rows = [
        dict(name="vision detection throughput (1 core)", value=mpx_s, unit="Mpx/s", target=f">= {TARGET_MPX_S:.1f}", ok=mpx_s >= TARGET_MPX_S),
        dict(name="vision frame-to-detection latency p99 (2048x1024 frame)", value=float(np.percentile(lat, 99) * 1000), unit="ms", target="< 200", ok=float(np.percentile(lat, 99)) < 0.2),
        dict(name=f"vision recall objects >= 50 mm (held-out tiles, {table['belt_m']:.0f} m)", value=100 * rec, unit="%", target=">= 95", ok=rec >= 0.95),
        dict(name=f"vision false alarms (held-out tiles, {table['belt_m']:.0f} m)", value=table["false_alarms_per_1000_m"], unit="per 1,000 m", target="<= 1", ok=table["false_alarms_per_1000_m"] <= 1.0),
    ]
    for r in rows:
        print(f"{r['name']}: {r['value']:,.1f} {r['unit']} (target {r['target']}) {'OK' if r['ok'] else 'MISSED'}")
    return rows


if __name__ == "__main__":
    main()
