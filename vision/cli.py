"""Command-line entry points the ``oreline`` CLI wires in: ``vision fit`` and ``vision evaluate``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from vision.appearance import AppearanceMonitor, default_limit
from vision.errors import VisionError
from vision.evaluate import SIZE_CLASSES, match, score_table
from vision.fit import VisionModel, cached_model, fit_site_model, fit_vision_model
from vision.labels import evaluate_labelled, fit_with_labelled, read_labelled
from vision.objects import KINDS
from vision.scene import random_objects
from vision.realism import image_stats, rendered_stats, stats_distance
from vision.scenes import scene_names, scene_options
from vision.sim_camera import SimulatedCamera
from vision.tiles import ATTRIBUTION, load_tiles, read_rgb
from conveyor.files import staged_folder


def _frame_px(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w > 0 and h > 0:
            return w, h
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in px (e.g. 2048x1024), got {text!r}")


def cli_fit(argv: list[str]) -> int:
    """``oreline vision fit --out model.npz [--images DIR [--frame-px WxH] [--split all]] [--labelled DIR] [--mm-per-px 1]
    [--width-px 2048] [--seed 0]``: fit on the built-in fit split, or with ``--images`` on a site's own ore-on-belt
    frames (``--labelled``: plus a site's labelled photos for the kind classifier), and save."""
    ap = argparse.ArgumentParser(prog="oreline vision fit", description=cli_fit.__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--images", type=Path, help="folder of the site's ore-on-belt frames (no labels; normal ore)")
    ap.add_argument("--frame-px", type=_frame_px, help="WIDTHxHEIGHT every frame in --images must have")
    ap.add_argument("--split", choices=("all", "fit", "heldout"), default="all",
                    help="use all --images, or the fit / held-out part by source image (to evaluate on the rest)")
    ap.add_argument("--mm-per-px", type=float, default=1.0, help="pixel scale of the frames and the model")
    ap.add_argument("--width-px", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labelled", type=Path, help="a site's labelled photos (COCO json or YOLO txt + classes.txt, at --mm-per-px): "
                                                    "their objects and their ore are added to the kind classifier's training")
    ap.add_argument("--normal-m", type=float, help="metres of normal belt to fit the ore density on (default 40)")
    ap.add_argument("--calibration-m", type=float, help="metres of belt to calibrate thresholds on (default 100 x mm/px)")
    ap.add_argument("--objects-m", type=float, help="metres of belt with objects to train the classifier on (default by scale)")
    a = ap.parse_args(argv)
    if not a.mm_per_px > 0 or a.width_px <= 0:
        ap.error(f"--mm-per-px must be > 0 and --width-px > 0, got {a.mm_per_px} and {a.width_px}")
    lengths = {k: v for k, v in (("normal_m", a.normal_m), ("calibration_m", a.calibration_m), ("objects_m", a.objects_m)) if v is not None}
    if any(v <= 0 for v in lengths.values()):
        ap.error(f"belt lengths must be > 0 m, got {lengths}")
    t0 = time.perf_counter()
    if a.images is not None and a.labelled is not None:
        ap.error("--images and --labelled are separate fits: fit the site's frames with --images, or add labelled photos "
                 "to the built-in fit with --labelled")
    try:
        if a.images is not None:
            model = fit_site_model(a.images, mm_per_px=a.mm_per_px, width_px=a.width_px, seed=a.seed, frame_px=a.frame_px, split=a.split)
        elif a.labelled is not None:
            model, added = fit_with_labelled(read_labelled(a.labelled), mm_per_px=a.mm_per_px, width_px=a.width_px, seed=a.seed, **lengths)
            print(f"site photos {a.labelled}: candidates added to the classifier's training: "
                  + (", ".join(f"{k} {n}" for k, n in added.items()) or "none found"))
        else:
            model = fit_vision_model(mm_per_px=a.mm_per_px, width_px=a.width_px, seed=a.seed, **lengths)
    except VisionError as exc:
        print(f"vision fit: {exc}")
        return 2
    model.save(a.out)
    on = model.fitted_on
    print(f"vision model {model.version} (threshold {model.params.threshold:.2f}, kinds {model.kinds}) → {a.out} in {time.perf_counter() - t0:.1f} s")
    print(f"fitted on {on.get('images')}: {on.get('n_files')} files (sha256 list {on.get('files_sha256') or '-'}), {on.get('n_tiles')} tiles"
          f"{', ' + str(on['tiles_dropped']) + ' dropped as unusual' if on.get('tiles_dropped') else ''}, {model.mm_per_px:g} mm/px, "
          f"belt found by {model.ore.belt_test}, fit version {on.get('fit_version')}, data {on.get('data_digest')}")
    return 0


def evaluate(model: VisionModel, *, backgrounds: str | Path = "heldout", length_m: float = 100.0, seed: int = 1,
             objects_per_m: float = 0.5, motion_blur_px: float = 0.0, frame_lines: int = 1024, gallery: int = 24,
             scene: dict | None = None, objects: dict | None = None) -> tuple[dict, list]:
    """Run the detector over simulated belt built from ``backgrounds`` (a split, a folder or a TileSet) and score it.
    ``scene``: extra :class:`~vision.scene.BeltScene` options (realistic scenes); ``objects``: extra
    :func:`~vision.scene.random_objects` options. Returns (table, gallery items)."""
    rng = np.random.default_rng(seed)
    objs = random_objects(length_m * 1000.0, rng, per_m=objects_per_m, **(objects or {}))
    cam = SimulatedCamera(tiles=backgrounds, seed=seed, objects=objs, width_px=model.width_px, frame_lines=frame_lines,
                          mm_per_px=model.mm_per_px, motion_blur_px=motion_blur_px, scene_options=scene).open()
    det = model.detector()
    monitor = AppearanceMonitor(getattr(model, "appearance_limit", None) or default_limit(model.ore, model.version, model.width_px))
    shares, unusual_frames = [], 0
    dets, latencies, n_px, inspected, frames = [], [], 0, 0, 0
    t0 = time.perf_counter()
    while cam._pos_m < length_m - 1e-9:
        f = cam.grab()
        t = time.perf_counter()
        r = det.process(f)
        latencies.append(time.perf_counter() - t)
        shares.append(r.unusual_share)
        unusual_frames += monitor.update(r.unusual_share if r.reason != "no material" else float("nan"), f.length_m).unusual
        dets += r.detections
        n_px += f.image.shape[0] * f.image.shape[1]
        inspected += r.inspected
        frames += 1
    dets += det.flush()
    m = match([o for o in objs if o.belt_mm < cam._pos_m * 1000.0], dets)
    table = score_table(m, cam._pos_m)
    table.update({"backgrounds": getattr(backgrounds, "origin", str(backgrounds)), "model_version": model.version, "mm_per_px": model.mm_per_px, "frames": frames,
                  "frames_inspected": inspected, "detector_mpx_s": n_px / max(sum(latencies), 1e-9) / 1e6,
                  "latency_p99_ms": float(np.percentile(latencies, 99) * 1000.0) if latencies else float("nan"),
                  "wall_s": time.perf_counter() - t0, "attribution": ATTRIBUTION,
                  "appearance": {"median_frame_share": float(np.nanmedian(shares)) if shares else float("nan"),
                                 "max_running": monitor.peak, "limit": monitor.limit, "frames_unusual": int(unusual_frames)}})
    items = [(o, d) for o, d in m.pairs][:gallery] + [(None, d) for d in m.false_alarms][: max(0, gallery // 3)]
    return table, items


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
    lines += ["", f"False alarms: {table['false_alarms']} in {table['belt_m']:.0f} m = {table['false_alarms_per_1000_m']:.1f} per 1,000 m "
              f"(95 % upper bound {table['false_alarms_per_1000_m_upper95']:.1f}; target <= 1); "
              f"{table.get('duplicates', 0)} duplicate detections (an object reported in two pieces).",
              _appearance_line(table),
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


def _appearance_line(table: dict) -> str:
    a = table.get("appearance")
    if not a:
        return ""
    return (f"Appearance: median frame {100 * a['median_frame_share']:.2f} % of the belt unlike the fitted ore, running peak "
            f"{100 * a['max_running']:.1f} % (limit {100 * a['limit']:.1f} %); {a['frames_unusual']} of {table['frames']} frames "
            "judged unusual (uninspected on the line).")


def _recall_lines(table: dict) -> list[str]:
    """Recall per kind and per size class as printed by ``vision evaluate``."""
    out = []
    for key, r in table["recall"].items():
        if key.startswith(("kind:", "size:", "size>=50:", "all:")):
            out.append(f"  {key:<22} {r['detected']:>4}/{r['objects']:<4} recall {r['recall']:.3f}")
    return out


def _cli_labelled(a: argparse.Namespace) -> int:
    try:
        items = read_labelled(a.labelled)  # bad labels are refused before any model is loaded or fitted
        model = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=a.mm_per_px, width_px=a.width_px)
        if abs(model.mm_per_px - a.mm_per_px) > 1e-9:
            print(f"vision evaluate: model {a.model or 'default'} is fitted for {model.mm_per_px} mm/px, the photos are declared at {a.mm_per_px} mm/px (--mm-per-px)")
            return 2
        table = evaluate_labelled(model, items)
        scene = scene_options(scene_names(a.scenes)[0])[0]
        table["realism"] = stats_distance(image_stats([read_rgb(i.path) for i in items]), rendered_stats(scene))
    except (VisionError, ValueError) as exc:  # and a bad --scenes
        print(f"vision evaluate: {exc}")
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "labelled.json").write_text(json.dumps(table, indent=2, default=float))
    print(f"labelled photos {a.labelled}: {table['images']} images, model {model.version}")
    print("recall per kind:")
    print("\n".join(_recall_lines(table)))
    print("precision per reported kind: " + (", ".join(f"{k} {v:.2f}" for k, v in table["precision_by_kind"].items()) or "no detections"))
    print(f"false alarms: {table['false_alarms']} in {table['images']} images = {table['false_alarms_per_image']:.2f} per image "
          f"(95 % upper bound {table['false_alarms_per_image_upper95']:.2f}) → {a.out / 'labelled.json'}")
    print(f"the photos against rendered {a.scenes.split(',')[0]} belt (real, rendered, rendered - real):")
    for name, real, rend, err in table["realism"]:
        print(f"  {name}: {real:.3f} vs {rend:.3f} ({err:+.3f})")
    return 0


def cli_evaluate(argv: list[str]) -> int:
    """``oreline vision evaluate --out DIR [--scenes realistic] [--backgrounds DIR] [--model M.npz] [--length-m 100] ...``:
    recall/precision per kind and size class, false alarms, gallery and the renderer's realism checks per scene type
    on scenes from images not used to fit the model; ``--labelled DIR``: on real labelled photos."""
    ap = argparse.ArgumentParser(prog="oreline vision evaluate", description="Score the foreign-object detector on simulated belt.")
    ap.add_argument("--out", type=Path, required=True, help="report folder (report.md, report.json, gallery.png)")
    ap.add_argument("--backgrounds", default="heldout", help="folder of ore-on-belt images (default: the held-out CDM split)")
    ap.add_argument("--model", type=Path, help="saved model (.npz); default: fitted on the fit split and cached")
    ap.add_argument("--length-m", type=float, default=100.0)
    ap.add_argument("--objects-per-m", type=float, default=0.5)
    ap.add_argument("--mm-per-px", type=float, default=1.0)
    ap.add_argument("--width-px", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenes", default="realistic",
                    help="scene types to render: today|realistic|dark-rubber|wet-wood|all or a comma list (default realistic); "
                         "several: one report folder each under --out, summed up in scenes.md")
    ap.add_argument("--fa-m", type=float, default=0.0, help="also score this many metres of object-free belt of each scene type")
    ap.add_argument("--labelled", type=Path, help="score real labelled photos instead (COCO json or YOLO txt + classes.txt; "
                                                    "photos at --mm-per-px)")
    a = ap.parse_args(argv)
    if a.labelled is not None:
        return _cli_labelled(a)
    if a.length_m <= 0 or a.fa_m < 0:
        ap.error(f"--length-m must be > 0 and --fa-m >= 0, got {a.length_m} and {a.fa_m}")
    if not a.mm_per_px > 0 or a.width_px <= 0:
        ap.error(f"--mm-per-px must be > 0 and --width-px > 0, got {a.mm_per_px} and {a.width_px}")
    try:
        load_tiles(a.backgrounds)  # refuse an empty or unreadable folder before fitting or scoring anything
    except VisionError as exc:
        ap.error(f"--backgrounds {a.backgrounds}: {exc}")
    from vision.scene_report import evaluate_scenes  # it builds on evaluate() and write_report() of this module

    try:
        names = scene_names(a.scenes)
    except ValueError as exc:
        ap.error(str(exc))
    try:
        model = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=a.mm_per_px, width_px=a.width_px)
        with staged_folder(a.out) as stage:  # a failure leaves no half-written report in --out
            results = evaluate_scenes(model, names, stage.dir, length_m=a.length_m, seed=a.seed, objects_per_m=a.objects_per_m,
                                      fa_m=a.fa_m, backgrounds=a.backgrounds)
    except VisionError as exc:
        print(f"oreline vision evaluate: error: {exc}", file=sys.stderr)
        return 2
    for res in results:
        table = res["table"]
        r = table["recall"].get("size>=50:all", {"recall": float("nan")})
        print(f"{res['scene']}: recall per kind and size:")
        print("\n".join(_recall_lines(table)))
        print(f"{res['scene']}: " + _appearance_line(table))
        print(f"{res['scene']}: recall (>= 50 mm) {r['recall']:.3f}, false alarms {table['false_alarms_per_1000_m']:.1f} per 1,000 m "
              f"(95 % upper bound {table['false_alarms_per_1000_m_upper95']:.1f})")
    print(f"→ {a.out / 'scenes.md'}")
    return 0
