"""The candidate ceiling on realistic scenes and what lifts it (issue 27): why each missed object is not a candidate,
and the ceiling, the extra false candidates and the detector cost with extra seed sources switched on at run time.

The shipped 4 mm/px model, held-out tiles, the scenes and seeds of ``bench_vision_scenes --ceiling`` (objects >= 50 mm;
the ceiling = objects with any size-passing candidate on them, every candidate reported). Variants of the detector,
each run on the same rendered frames:

- ``shipped``: the model as it is;
- ``+dark ridge`` (and ``x1.2``, ``x0.9``, ``x0.8``): gated dark-bar seeds (``DetectorParams.dark_ridge_threshold``, the
  Hessian per cell at two scales, loads >= 0.95; its threshold at 1.2 / 0.9 / 0.8 x: fewer / more seeds);
- ``+bars``: straight-dark-bar seeds (:mod:`vision.seeds_bars`, ``Detector.bar_seeds``, loads >= 0.95): cells on a
  dark bar (above its 99.5 % level on normal belt) whose line support along their own axis is above its 99 % level;
  ``x0.85``, ``x0.7``, ``x0.55``: the bar-strength level at that factor (more cells tried, the line support decides).

Thresholds are calibrated here on object-free belt of the *fit* tiles (realistic and dark-ore scenes), as a fit
would set them; the figures are on held-out tiles. Per case: the ceiling per variant, and for the shipped model the
cause of each miss that shows >= 50 mm of itself (:mod:`vision.seeds_diagnose`). Then the false candidates each
variant adds per 1,000 m of object-free held-out realistic and today's belt (all size-passing candidates, and those
the fitted decision would report), and the detector's CPU throughput (Mpx/s) with and without the bar seeds.

Run: ``.venv/bin/python -m benchmarks.bench_vision_seeds [--quick] [--length-m 100] [--fa-m 1000] [--seed 11]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from dataclasses import replace
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from vision.detect import Detector, ridge_score, ridge_sigmas
from vision.fit import VisionModel
from vision.model_cache import cached_model
from vision.frontier import TARGET_MM
from vision.regime import load_at
from vision.scene import random_objects
from vision.scenes import scene_options
from vision.seeds_bars import BarSeeds, bar_seeds, calibrate as calibrate_bars
from vision.seeds_diagnose import CAUSES, miss_causes, missed_objects
from vision.sim_camera import SimulatedCamera
from vision.visibility import VISIBLE_MM, truth_bins

from benchmarks.bench_vision_scenes import CASES

CEILING_TARGET = 90.0
TARGET_MPX_S = 2048 * 6000 * 3 / 1e6
#: name: (dark-ridge threshold factor, bar-strength threshold factor); None: that source off.
VARIANTS: dict[str, tuple[float | None, float | None]] = {
    "shipped": (None, None), "+dark ridge": (1.0, None), "+dark ridge x1.2": (1.2, None), "+dark ridge x0.9": (0.9, None),
    "+dark ridge x0.8": (0.8, None), "+bars": (None, 1.0), "+bars x0.85": (None, 0.85), "+bars x0.7": (None, 0.7),
    "+bars x0.55": (None, 0.55)}
#: Variants whose misses are sorted by cause.
CAUSE_VARIANTS = ("shipped", "+bars x0.7", "+dark ridge x0.9")
#: Belt lines per metre at 4 mm/px, and the line station's target (m/s of belt).
LINES_PER_M = 250.0
STATION_TARGET_M_S = 135.0


def calibrate(model: VisionModel, length_m: float, seed: int = 0) -> tuple[float, BarSeeds]:
    """(dark-ridge threshold, bar seeds) on ``length_m`` of object-free fit-tile belt of each of the realistic
    and dark-ore scenes: SEED_QUANTILE of the per-cell dark-ridge strength over the belt (as a fit sets it), and
    :func:`vision.seeds_bars.calibrate` over full-burden belt cells."""
    from vision.fit import SEED_QUANTILE

    det = model.detector()
    p = det.params
    ridge, lums = [], []
    for k, name in enumerate(("realistic", "dark-rubber")):
        cam = SimulatedCamera(tiles="fit", seed=seed + k, width_px=model.width_px, frame_lines=2048, mm_per_px=model.mm_per_px,
                              scene_options=scene_options(name)[0]).open()
        while cam.position_m < length_m:
            f = model.ore.features(cam.grab().image)
            raw = model.ore.score(f)
            cols = model.ore.belt_columns(f, raw)
            belt = np.broadcast_to(cols, raw.shape)
            lum = np.where(belt, f.lum, np.float32(0.0))
            ridge.append(ridge_score(-lum, ridge_sigmas(p))[:, cols].ravel())
            full = load_at(f.rgb, belt, np.arange(raw.shape[0]), det.cell_mm) >= p.dark_ridge_min_load
            lums.append((f.lum, np.asarray(belt), full[:, None] & belt))
    return float(np.quantile(np.concatenate(ridge), SEED_QUANTILE)), calibrate_bars(lums, det.cell_mm)


def detectors(model: VisionModel, dark: float, bars: BarSeeds) -> dict[str, Detector]:
    """One detector per :data:`VARIANTS`, every candidate reported."""
    out = {}
    for name, (dark_x, bars_x) in VARIANTS.items():
        d = model.detector()
        d.report_all = True
        if dark_x is not None:
            d.params.dark_ridge_threshold = dark * dark_x
        if bars_x is not None:
            d.bar_seeds = replace(bars, ridge_threshold=bars_x * bars.ridge_threshold)
        d.reset()
        out[name] = d
    return out


def run_case(model: VisionModel, dets: dict[str, Detector], scene_type: str, extra: dict, length_m: float, seed: int,
             objects_per_m: float) -> tuple[dict, list, SimulatedCamera, np.ndarray]:
    """Every candidate of each detector of ``dets`` on the same belt (held-out tiles): ({variant: detections},
    truth objects seen, the camera, the whole belt's image)."""
    scene, objects = scene_options(scene_type)
    rng = np.random.default_rng(seed)
    objs = random_objects(length_m * 1000.0, rng, per_m=objects_per_m, **{**objects, **extra}) if objects_per_m > 0 else []
    cam = SimulatedCamera(tiles="heldout", seed=seed, objects=objs, width_px=model.width_px, frame_lines=2048, mm_per_px=model.mm_per_px,
                          scene_options=scene).open()
    found: dict[str, list] = {k: [] for k in dets}
    images = []
    while cam.position_m < length_m - 1e-9:
        frame = cam.grab()
        images.append(frame.image)
        for k, d in dets.items():
            found[k] += d.process(frame).detections
    for k, d in dets.items():
        found[k] += d.flush()
        d.reset()
    truth = [o for o in objs if o.belt_mm < cam.position_m * 1000.0]
    return found, truth, cam, np.concatenate(images)


def ceiling_table(model: VisionModel, dark: float, bars: BarSeeds, length_m: float, seed: int) -> dict[str, dict]:
    """Per case of bench_vision_scenes' CASES: objects >= 50 mm, ceiling and recall at the shipped decision per
    variant (%), and for each of CAUSE_VARIANTS the causes of its misses that show >= VISIBLE_MM."""
    out = {}
    gate = model.params.min_length_mm
    for label, scene_type, extra, share, _, _ in CASES:
        dets = detectors(model, dark, bars)
        found, truth, cam, image = run_case(model, dets, scene_type, extra, length_m * share, seed, 1.0)
        big = [o for o in truth if o.length_mm >= TARGET_MM]
        row: dict[str, Any] = {"objects": len(big)}
        for k in dets:
            missed = missed_objects(found[k], truth, gate)
            row[k] = 100.0 * (len(big) - len(missed)) / max(1, len(big))
            reported = [d for d in found[k] if d.p_none <= d.none_max]
            row[f"{k} at the decision"] = 100.0 * (len(big) - len(missed_objects(reported, truth, gate))) / max(1, len(big))
            if k in CAUSE_VARIANTS:
                vis = truth_bins(cam.belt_scene, missed)["visible_mm"] if missed else np.zeros(0)
                seen = [o for o, v in zip(missed, vis) if v >= VISIBLE_MM]
                row[f"hidden {k}"] = len(missed) - len(seen)
                row[f"causes {k}"] = Counter(miss_causes(model, cam.belt_scene, image, 0.0, seen, bars=dets[k].bar_seeds))
        out[label] = row
        print(f"{label}: {len(big)} objects >= 50 mm; ceiling " + ", ".join(f"{k} {row[k]:.1f} %" for k in VARIANTS)
              + f" (target {CEILING_TARGET:.0f} %); at the shipped decision " + ", ".join(f"{row[f'{k} at the decision']:.1f}" for k in VARIANTS)
              + " %", flush=True)
    return out


def false_candidates(model: VisionModel, dark: float, bars: BarSeeds, length_m: float, seed: int) -> dict[str, dict]:
    """Per object-free held-out belt (realistic, today): size-passing candidates and decision-passing ones per variant
    over ``length_m``, and the metres seen."""
    out = {}
    gate = model.params.min_length_mm
    for scene_type in ("realistic", "today"):
        dets = detectors(model, dark, bars)
        found, _, cam, _ = run_case(model, dets, scene_type, {}, length_m, seed + 1000, 0.0)
        row: dict[str, Any] = {"belt_m": cam.position_m}
        for k, dl in found.items():
            size = [d for d in dl if d.length_mm >= gate]
            row[k] = (len(size), sum(d.p_none <= d.none_max for d in size))
        base = row["shipped"]
        print(f"object-free held-out {scene_type} belt, {cam.position_m:.0f} m: size-passing candidates (reported) "
              + ", ".join(f"{k} {row[k][0]} ({row[k][1]})" for k in VARIANTS)
              + "; added per 1,000 m: " + ", ".join(f"{k} {1000 * (row[k][0] - base[0]) / cam.position_m:+.0f} "
                                                    f"({1000 * (row[k][1] - base[1]) / cam.position_m:+.1f} reported)" for k in VARIANTS if k != "shipped"), flush=True)
        out[scene_type] = row
    return out


def speed(model: VisionModel, dark: float, bars: BarSeeds, n_frames: int) -> dict[str, float]:
    """Detector CPU throughput (Mpx/s, one core; rendering not counted) per variant on 2048-line held-out realistic
    frames, variants taking turns frame by frame."""
    cam = SimulatedCamera(tiles="heldout", seed=5, width_px=model.width_px, frame_lines=2048, mm_per_px=model.mm_per_px,
                          scene_options=scene_options("realistic")[0]).open()
    frames = [cam.grab() for _ in range(n_frames + 1)]
    dets = {k: d for k, d in detectors(model, dark, bars).items() if k in ("shipped", "+dark ridge", "+bars", "+bars x0.7")}
    for d in dets.values():
        d.report_all = False
        d.process(frames[0])
    cpu = dict.fromkeys(dets, 0.0)
    for f in frames[1:]:
        for k, d in dets.items():
            c = time.thread_time()
            d.process(f)
            cpu[k] += time.thread_time() - c
    mpx = sum(f.image.shape[0] * f.image.shape[1] for f in frames[1:]) / 1e6
    out = {k: mpx / v for k, v in cpu.items()}
    print("detector throughput (4 mm/px shipped model, 512 x 2048 realistic frames, one core, CPU): "
          + ", ".join(f"{k} {v:.1f} Mpx/s = {1e6 * v / (model.width_px * LINES_PER_M):.0f} m/s of belt" for k, v in out.items())
          + f" (station target >= {STATION_TARGET_M_S:.0f} m/s; extra time: bar seeds {100 * (out['shipped'] / out['+bars'] - 1):.0f} %, "
          f"dark ridge {100 * (out['shipped'] / out['+dark ridge'] - 1):.0f} %)", flush=True)
    return out


def cost_at_1mm(model: VisionModel, bars: BarSeeds, repeats: int) -> float:
    """CPU time (ms) of the bar seeds on the cell grid of one 2048 x 1024 frame at 1 mm/px (128 x 256 cells of 8 mm:
    the throughput target's frame), taken from realistic held-out belt at full burden."""
    cam = SimulatedCamera(tiles="heldout", seed=6, width_px=model.width_px, frame_lines=1024, mm_per_px=model.mm_per_px,
                          scene_options=scene_options("realistic")[0]).open()
    f = model.ore.features(cam.grab().image)
    lum = np.ascontiguousarray(f.lum[:128, :256])  # of the 512 x 256 cells of 1024 lines x 512 px at 4 mm/px
    belt, full = np.ones(lum.shape, bool), np.ones(lum.shape[0], bool)
    c = time.thread_time()
    for _ in range(repeats):
        bar_seeds(lum, belt, full, bars)
    ms = 1000.0 * (time.thread_time() - c) / repeats
    budget = 1000.0 * 2048 * 1024 / 1e6 / TARGET_MPX_S
    print(f"bar seeds at 1 mm/px: {ms:.2f} ms CPU per 2048 x 1024 frame (128 x 256 cells); the frame's budget at the "
          f"{TARGET_MPX_S:.1f} Mpx/s target is {budget:.1f} ms, at today's ~65 Mpx/s the detector takes {2048 * 1024 / 65e3:.1f} ms", flush=True)
    return ms


def cause_table(table: dict[str, dict], variant: str) -> None:
    """Prints the causes of ``variant``'s misses (objects >= 50 mm long showing >= 50 mm) per case, as numbers."""
    print(f"\nWhy objects >= 50 mm that show >= 50 mm of themselves are no candidate ({variant}):")
    print("  cause".ljust(28) + "".join(f"{label[:22]:>24}" for label in table))
    for cause in CAUSES:
        print(f"  {cause:<26}" + "".join(f"{table[label][f'causes {variant}'].get(cause, 0):>24}" for label in table))
    print("  shows < 50 mm".ljust(28) + "".join(f"{table[label][f'hidden {variant}']:>24}" for label in table))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_seeds", description=__doc__)
    ap.add_argument("--length-m", type=float, default=100.0, help="belt with objects per case (as bench_vision_scenes --length-m)")
    ap.add_argument("--fa-m", type=float, default=1000.0, help="object-free held-out belt per scene type for the false candidates")
    ap.add_argument("--calib-m", type=float, default=300.0, help="object-free fit-tile belt per scene type for the thresholds")
    ap.add_argument("--frames", type=int, default=12, help="frames for the throughput")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quick", action="store_true", help="12 m per case, 60 m object-free, 60 m calibration, 4 frames (< 2 min)")
    a = ap.parse_args(argv)
    if a.quick:
        a.length_m, a.fa_m, a.calib_m, a.frames = 12.0, 60.0, 60.0, 4
    model = cached_model(mm_per_px=4.0, width_px=512)
    dark, bars = calibrate(model, a.calib_m)
    print(f"thresholds on {a.calib_m:g} m of object-free fit-tile belt per scene: dark ridge {dark:.4f}; bars {bars}", flush=True)
    table = ceiling_table(model, dark, bars, a.length_m, a.seed)
    for k in CAUSE_VARIANTS:
        cause_table(table, k)
    fa = false_candidates(model, dark, bars, a.fa_m, a.seed)
    mpx = speed(model, dark, bars, a.frames)
    cost_at_1mm(model, bars, 20)
    return {"thresholds": {"dark_ridge": dark, "bars": bars}, "ceiling": table, "false_candidates": fa, "mpx_s": mpx}


if __name__ == "__main__":
    main()
