"""Scoring the detector on simulated belt: :func:`evaluate` renders held-out belt with objects of known kind, size and
place and scores what the detector reports; :func:`write_report` writes report.md, report.json and gallery.png.
Used by ``oreline vision evaluate`` (vision.cli, vision.scene_report) and the benchmarks."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from vision.appearance import AppearanceMonitor, default_limit
from vision.exposure import ExposureNorm
from vision.station_settings import BELT_EDGE, EXPOSURE_NORM
from vision.evaluate import SIZE_CLASSES, match, score_table
from vision.fit import VisionModel
from vision.objects import KINDS
from vision.scene import random_objects
from vision.sim_camera import SimulatedCamera
from vision.tiles import ATTRIBUTION, TileSet


def evaluate(model: VisionModel, *, backgrounds: str | Path | TileSet = "heldout", length_m: float = 100.0, seed: int = 1,
             objects_per_m: float = 0.5, motion_blur_px: float = 0.0, frame_lines: int = 1024, gallery: int = 24,
             scene: dict | None = None, objects: dict | None = None, belt_edge: bool = BELT_EDGE,
             exposure_norm: bool = EXPOSURE_NORM) -> tuple[dict, list]:
    """Run the detector over simulated belt built from ``backgrounds`` (a split, a folder or a TileSet) and score it.
    ``scene``: extra :class:`~vision.scene.BeltScene` options (realistic scenes); ``objects``: extra
    :func:`~vision.scene.random_objects` options; ``belt_edge``: the detector knows the scene's belt width
    (``Detector.belt_width_m``: candidates centred off the belt are counted, table key ``off_belt``, not reported);
    ``exposure_norm``: frames darkened into the fit's range (:mod:`vision.exposure`; table key ``exposure``: frames,
    frames darkened, the gains' quantiles). Returns (table, gallery items)."""
    rng = np.random.default_rng(seed)
    objs = random_objects(length_m * 1000.0, rng, per_m=objects_per_m, **(objects or {}))
    cam = SimulatedCamera(tiles=backgrounds, seed=seed, objects=objs, width_px=model.width_px, frame_lines=frame_lines,
                          mm_per_px=model.mm_per_px, motion_blur_px=motion_blur_px, scene_options=scene)
    cam.open()
    det = model.detector()
    det.belt_width_m = cam.belt_width_m if belt_edge else None
    if exposure_norm:  # else as the model's detector comes (a caller may have switched it on there)
        det.exposure = ExposureNorm(det.block)
    gains: list[float] = []
    monitor = AppearanceMonitor(getattr(model, "appearance_limit", None) or default_limit(model.ore, model.version, model.width_px))
    shares, unusual_frames = [], 0
    dets, latencies, n_px, inspected, frames = [], [], 0, 0, 0
    t0 = time.perf_counter()
    while cam.position_m < length_m - 1e-9:
        f = cam.grab()
        t = time.perf_counter()
        r = det.process(f)
        latencies.append(time.perf_counter() - t)
        gains += [det.exposure.last.gain] if det.exposure is not None and det.exposure.last is not None else []
        shares.append(r.unusual_share)
        unusual_frames += monitor.update(r.unusual_share if r.reason != "no material" else float("nan"), f.length_m).unusual
        dets += r.detections
        n_px += f.image.shape[0] * f.image.shape[1]
        inspected += r.inspected
        frames += 1
    dets += det.flush()
    m = match([o for o in objs if o.belt_mm < cam.position_m * 1000.0], dets)
    table = score_table(m, cam.position_m)
    table.update({"backgrounds": getattr(backgrounds, "origin", str(backgrounds)), "model_version": model.version, "mm_per_px": model.mm_per_px, "frames": frames, "off_belt": det.off_belt_seen,
                  "frames_inspected": inspected, "detector_mpx_s": n_px / max(sum(latencies), 1e-9) / 1e6,
                  "latency_p99_ms": float(np.percentile(latencies, 99) * 1000.0) if latencies else float("nan"),
                  "wall_s": time.perf_counter() - t0, "attribution": ATTRIBUTION, "exposure": exposure_summary(gains, det.exposure is not None),
                  "appearance": {"median_frame_share": float(np.nanmedian(shares)) if shares else float("nan"),
                                 "max_running": monitor.peak, "limit": monitor.limit, "frames_unusual": int(unusual_frames)}})
    items = [(o, d) for o, d in m.pairs][:gallery] + [(None, d) for d in m.false_alarms][: max(0, gallery // 3)]
    return table, items


def exposure_summary(gains: list[float], on: bool) -> dict:
    """The exposure normalisation over a run: on or off, frames, frames darkened (gain < 1), gain min / median / max."""
    g = np.asarray(gains, float)
    q = [float(x) for x in np.quantile(g, (0.0, 0.5, 1.0))] if g.size else [1.0, 1.0, 1.0]
    return {"on": bool(on), "frames": int(g.size), "frames_gained": int((g < 1.0).sum()), "gain_min": q[0], "gain_median": q[1], "gain_max": q[2]}


def write_report(table: dict, items: list, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(table, indent=2, default=float))
    lines = [f"# Vision evaluation ({table['backgrounds']}, {table['belt_m']:.0f} m of belt)", "",
             f"Model {table['model_version']}, {table['mm_per_px']} mm/px.", "",
             "| group | objects | detected | recall | kind correct |", "|---|---|---|---|---|"]
    for key in [f"kind:{k}" for k in KINDS] + [f"kind>=50:{k}" for k in KINDS] + [f"size:{s}" for s in SIZE_CLASSES] + ["size>=50:all", "all:all"]:
        r = table["recall"].get(key)
        if r:
            lines.append(f"| {key} | {r['objects']} | {r['detected']} | {r['recall']:.3f} | {r['kind_correct']} |")
    lines += ["", "| detected kind | precision |", "|---|---|"] + [f"| {k} | {v:.3f} |" for k, v in table["precision_by_kind"].items()]
    lines += ["", "Reported probability against the truth (share right: the detection lies on an object of its kind; `uncertain` on "
              "any foreign object; evidences without a probability of their own report 1.0):", "",
              "| reported probability | detections | mean probability | kind right | foreign or lump right |", "|---|---|---|---|---|"]
    lines += [f"| {b['bin']} | {b['detections']} | {b['mean_probability']:.2f} | {b['observed']:.2f} | {b['foreign_or_lump_right']:.2f} |"
              for b in table["reliability"]["bins"]]
    lines += ["", f"Calibration error (the classifier's bins): {table['reliability']['expected_calibration_error']:.3f}.", "",
              "Reported length / true length of the objects >= 50 mm found:", "",
              "| objects | found | reported / true, median | quartiles | within 25 % |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['objects']} | {v['ratio_median']:.2f} | {v['ratio_q25']:.2f}-{v['ratio_q75']:.2f} | {v['within_25pct']:.2f} |"
              for k, v in table["size"].items()]
    lines += ["", f"False alarms: {table['false_alarms']} in {table['belt_m']:.0f} m = {table['false_alarms_per_1000_m']:.1f} per 1,000 m "
              f"(95 % upper bound {table['false_alarms_per_1000_m_upper95']:.1f}; target <= 1); "
              f"{table.get('duplicates', 0)} duplicate detections (an object reported in two pieces).",
              appearance_line(table),
              f"Detector throughput {table['detector_mpx_s']:.1f} Mpx/s, latency p99 {table['latency_p99_ms']:.0f} ms.", "",
              "![gallery](gallery.png)", "", ATTRIBUTION, ""]
    (out / "report.md").write_text("\n".join(lines))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(items))
    cols = 8
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.9 + 0.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (obj, d) in zip(axes.ravel(), items):
        if d is not None:
            ax.imshow(d.thumbnail)
        title = (f"{obj.kind} {obj.length_mm:.0f}mm\n" if obj is not None else "FALSE ALARM\n") + (f"→{d.kind} {d.probability:.2f}" if d is not None else "MISSED")
        ax.set_title(title, fontsize=7)
    fig.text(0.01, 0.005, ATTRIBUTION, fontsize=4.5, wrap=True)
    fig.savefig(out / "gallery.png", dpi=110)
    plt.close(fig)


def appearance_line(table: dict) -> str:
    a = table.get("appearance")
    if not a:
        return ""
    return (f"Appearance: median frame {100 * a['median_frame_share']:.2f} % of the belt unlike the fitted ore, running peak "
            f"{100 * a['max_running']:.1f} % (limit {100 * a['limit']:.1f} %); {a['frames_unusual']} of {table['frames']} frames "
            "judged unusual (uninspected on the line).")
