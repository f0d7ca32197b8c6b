"""Command-line entry points the ``oreline`` CLI wires in: ``vision fit`` and ``vision evaluate``."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from conveyor.files import staged_folder
from vision.decision import TARGET_FA_PER_1000_M, ZERO_EVENTS_UPPER95
from vision.errors import VisionError
from vision.fit import VisionModel, fit_site_model, fit_vision_model
from vision.model_cache import cached_model
from vision.labels import LabelledSet, evaluate_labelled, fit_with_labelled, read_labelled
from vision.labels_names import parse_kinds_map
from vision.labels_read import SPLITS
from vision.realism import CLIPPING_M, image_stats, rendered_stats, stats_distance
from vision.scene_report import evaluate_scenes
from vision.scenes import CAMERAS, EVALUATION_CAMERA, camera_scene_options, scene_names, scene_options
from vision.station_settings import EXPOSURE_NORM
from vision.sim_eval import appearance_line, evaluate, write_report  # noqa: F401 - evaluate, write_report: the CLI's public helpers
from vision.tiles import load_tiles

#: The model ``evaluate --labelled`` scores with when no --model is named: the line camera's (the shipped one).
LABELLED_MODEL_MM_PER_PX = 4.0
LABELLED_MODEL_WIDTH_PX = 512
#: Sets of at least this many photos print a progress line (stderr) every 5 %.
PROGRESS_MIN_PHOTOS = 20
#: Photos not scored listed on stdout (all of them are in labelled.json).
NOT_SCORED_SHOWN = 50


def _labelled_args(ap: argparse.ArgumentParser, help_text: str) -> None:
    ap.add_argument("--labelled", type=Path, help=help_text)
    ap.add_argument("--kinds-map", help="with --labelled: category names to kinds, 'NAME=KIND,...' or a .json/.toml file "
                                        "(KIND: an object kind, foreign or ignore); the built-in synonyms otherwise")


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
    ap.add_argument("--split", choices=("all", "fit", "heldout", "train", "valid", "test"), default="all",
                    help="use all --images, or the fit / held-out part by source image (to evaluate on the rest); "
                         "with --labelled: the set's train, valid or test split, or all")
    ap.add_argument("--mm-per-px", type=float, default=1.0, help="pixel scale of the frames and the model")
    ap.add_argument("--width-px", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    _labelled_args(ap, "a site's labelled photos (COCO json(s), Pascal VOC xml, LabelMe json or YOLO txt, any size, at "
                       "--photo-mm-per-px): their objects and "
                       "their ore are added to the kind classifier's training")
    ap.add_argument("--photo-mm-per-px", type=float, help="scale of the --labelled photos (default: --mm-per-px)")
    ap.add_argument("--normal-m", type=float, help="metres of normal belt to fit the ore density on (default 40)")
    ap.add_argument("--calibration-m", type=float, help="metres of belt to calibrate thresholds on (default 100 x mm/px)")
    ap.add_argument("--objects-m", type=float, help="metres of belt with objects to train the classifier on (default by scale)")
    ap.add_argument("--decision-m", type=float, help="metres of object-free belt scored only to set the object decision "
                                                      "(default 650 x mm/px; a site fit 150)")
    ap.add_argument("--scenes", default="mix", help="scene type of the built-in fit's belt: mix (default: realistic, today's and "
                                                      "dark-ore scenes in turn) or one of today|realistic|dark-rubber|wet-wood")
    a = ap.parse_args(argv)
    if a.scenes != "mix":
        try:
            (name,) = scene_names(a.scenes)
        except ValueError:
            ap.error(f"expected --scenes mix|today|realistic|dark-rubber|wet-wood (one type), got {a.scenes!r}")
        scene, objects = scene_options(name)
        scene_kw: dict[str, Any] = {"scene": scene, "objects": objects}
    else:
        scene_kw = {}
    if not a.mm_per_px > 0 or a.width_px <= 0:
        ap.error(f"--mm-per-px must be > 0 and --width-px > 0, got {a.mm_per_px} and {a.width_px}")
    lengths = {k: v for k, v in (("normal_m", a.normal_m), ("calibration_m", a.calibration_m), ("objects_m", a.objects_m),
                                                  ("decision_m", a.decision_m)) if v is not None}
    if any(v <= 0 for v in lengths.values()):
        ap.error(f"belt lengths must be > 0 m, got {lengths}")
    if a.labelled is None and a.split in SPLITS[:3]:
        ap.error(f"--split {a.split} is for --labelled sets; --images takes all, fit or heldout")
    if a.labelled is not None and a.split in ("fit", "heldout"):
        ap.error(f"--split {a.split} is for --images; a --labelled set takes train, valid, test or all")
    if a.photo_mm_per_px is not None and not a.photo_mm_per_px > 0:
        ap.error(f"--photo-mm-per-px must be > 0, got {a.photo_mm_per_px}")
    t0 = time.perf_counter()
    if a.images is not None and a.labelled is not None:
        ap.error("--images and --labelled are separate fits: fit the site's frames with --images, or add labelled photos "
                 "to the built-in fit with --labelled")
    try:
        if a.images is not None:
            model = fit_site_model(a.images, mm_per_px=a.mm_per_px, width_px=a.width_px, seed=a.seed, frame_px=a.frame_px, split=a.split,
                                   **lengths)
        elif a.labelled is not None:
            lset = _labelled_set(a)
            model, added = fit_with_labelled(lset.items, photo_mm_per_px=a.photo_mm_per_px or a.mm_per_px, mm_per_px=a.mm_per_px,
                                             width_px=a.width_px, seed=a.seed, **lengths, **scene_kw)
            print(f"site photos {a.labelled} ({lset.layout}, split {a.split}): {len(lset.items)} photos, {len(lset.not_scored)} "
                  "left out; candidates added to the classifier's training: " + (", ".join(f"{k} {n}" for k, n in added.items()) or "none found"))
            for row in lset.not_scored[:NOT_SCORED_SHOWN]:
                print(f"  left out {row.path}: {row.reason}")
        else:
            model = fit_vision_model(mm_per_px=a.mm_per_px, width_px=a.width_px, seed=a.seed, **lengths, **scene_kw)
    except VisionError as exc:
        print(f"vision fit: {exc}")
        return 2
    model.save(a.out)
    on = model.fitted_on
    print(f"vision model {model.version} (threshold {model.params.threshold:.2f}, kinds {model.kinds}) → {a.out} in {time.perf_counter() - t0:.1f} s")
    print(f"fitted on {on.get('images')}: {on.get('n_files')} files (sha256 list {on.get('files_sha256') or '-'}), {on.get('n_tiles')} tiles"
          f"{', ' + str(on['tiles_dropped']) + ' dropped as unusual' if on.get('tiles_dropped') else ''}, {model.mm_per_px:g} mm/px, "
          f"belt found by {model.ore.belt_test}, fit version {on.get('fit_version')}, data {on.get('data_digest')}")
    print(decision_line(on.get("decision") or {}))
    return 0


def decision_line(decision: dict) -> str:
    """The object decision a fit set and what it rests on (``fitted_on["decision"]``), as ``vision fit`` prints it."""
    if not decision:
        return "object decision: none (no classifier)"
    per_type = ", ".join(f"{t} {m:.0f} m (lowest p(none) {decision['lowest_p_none'].get(t, 1.0):.3g})" for t, m in decision["belt_m"].items())
    regimes = "".join(f"; {r['name']} belt (load {r['load_lo']:.2f}-{r['load_hi']:.2f}, {r['belt_m']:.0f} m): p(none) <= "
                      f"{r['none_max']:.3g}, bound {r['fa_bound_per_1000_m']:.2f} per 1,000 m" for r in decision.get("regimes", []))
    return (f"object decision: p(none) <= {decision['none_max']:.3g}{' on a belt no regime covers' if regimes else ''}, set on "
            f"object-free belt {per_type}; false alarms <= {decision['fa_bound_per_1000_m']['all']:.2f} per 1,000 m (95 % bound "
            f"from the belt scored){regimes}\n{foundation_line(decision)}")


def foundation_line(decision: dict) -> str:
    """How well founded the object decision is, for the engineer who fitted it: how much object-free belt it was set on,
    scored in or out of fold, and the metres a bound of TARGET_FA_PER_1000_M needs when the belt scored falls short."""
    belt_m = float(sum(decision["belt_m"].values()))
    bound = float(decision["fa_bound_per_1000_m"]["all"])
    scored = "out of fold" if str(decision.get("reason", "")).startswith("out of fold") else "in fold"
    line = (f"decision founded on {belt_m:,.0f} m of object-free belt scored {scored}: on that belt it bounds false "
            f"alarms at {bound:.2f} per 1,000 m (95 %)")
    if bound > TARGET_FA_PER_1000_M:
        need = 1000.0 * ZERO_EVENTS_UPPER95 / TARGET_FA_PER_1000_M
        line += (f", above the {TARGET_FA_PER_1000_M:g} per 1,000 m target: not measured to it; fit with --decision-m "
                 f"{math.ceil(need / 100.0) * 100:.0f} (or more) to found it on {need:,.0f} m")
    return line


def _recall_lines(table: dict) -> list[str]:
    """Recall per kind and per size class as printed by ``vision evaluate``."""
    out = []
    for key, r in table["recall"].items():
        if key.startswith(("kind:", "size:", "size>=50:", "all:")):
            out.append(f"  {key:<22} {r['detected']:>4}/{r['objects']:<4} recall {r['recall']:.3f}")
    return out


def _labelled_set(a: argparse.Namespace) -> LabelledSet:
    """The set ``--labelled`` names, with ``--split`` and ``--kinds-map`` (raises VisionError naming what is wrong)."""
    return read_labelled(a.labelled, split=a.split, kinds_map=parse_kinds_map(a.kinds_map) if a.kinds_map else None)


def _progress(t0: float) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        if total >= PROGRESS_MIN_PHOTOS and (done % max(1, total // 20) == 0 or done == total):
            dt = time.perf_counter() - t0
            print(f"  scored {done}/{total} photos ({done / max(dt, 1e-9):.2f} photos/s)", file=sys.stderr, flush=True)
    return report


def _cli_labelled(a: argparse.Namespace) -> int:
    if a.mm_per_px is None or not a.mm_per_px > 0:
        print(f"vision evaluate: --labelled needs the photos' scale: --mm-per-px S > 0 (mm of belt per photo pixel), got {a.mm_per_px}")
        return 2
    try:
        lset = _labelled_set(a)  # bad labels are refused before any model is loaded or fitted
        model = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=LABELLED_MODEL_MM_PER_PX, width_px=LABELLED_MODEL_WIDTH_PX)
        table, sample = evaluate_labelled(model, lset, a.mm_per_px, progress=_progress(time.perf_counter()),
                                          exposure_norm=a.exposure_norm == "on")
        table["realism_scene"] = scene_names(a.scenes)[0]
        table["realism"] = (stats_distance(image_stats(sample), rendered_stats(camera_scene_options(table["realism_scene"], EVALUATION_CAMERA)[0]))
                            if sample else [])
    except (VisionError, ValueError) as exc:  # and a bad --scenes
        print(f"vision evaluate: {exc}")
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "labelled.json").write_text(json.dumps(table, indent=2, default=float))
    _print_labelled(a, table, model)
    if not table["images"]:
        print("vision evaluate: no photo could be scored")
        return 2
    return 1 if table["not_scored"] else 0


def _print_labelled(a: argparse.Namespace, table: dict, model: VisionModel) -> None:
    ns = table["not_scored"]
    free = table["object_free_no_label_file"]
    print(f"labelled photos {a.labelled} ({table['layout']}, split {a.split}): {table['images']} scored"
          f"{f' ({free} without a label file, scored as object-free)' if free else ''}, {len(ns)} not scored; "
          f"photos at {a.mm_per_px:g} mm/px resampled to the model's {model.mm_per_px:g} mm/px; model {model.version}")
    gains = [float(p["exposure_gain"]) for p in table["per_image"]]
    print(f"exposure normalisation {a.exposure_norm}: " + (f"{sum(g < 1.0 for g in gains)} of {len(gains)} photos darkened (gain min "
          f"{min(gains):.3f}, median {statistics.median(gains):.3f})" if gains else "no photo scored"))
    print("category names: " + (", ".join(f"{n} -> {k}" for n, k in sorted(table["names"].items())) or "none used"))
    print("recall per kind:")
    print("\n".join(_recall_lines(table)))
    print("precision per reported kind: " + (", ".join(f"{k} {v:.2f}" for k, v in table["precision_by_kind"].items()) or "no detections"))
    print(f"false alarms: {table['false_alarms']} in {table['images']} images = {table['false_alarms_per_image']:.2f} per image "
          f"(95 % upper bound {table['false_alarms_per_image_upper95']:.2f}) → {a.out / 'labelled.json'}")
    print(f"the photos against rendered {table['realism_scene']} belt (real, rendered, rendered - real):")
    for name, real, rend, err in table["realism"]:
        print(f"  {name}: {real:.3f} vs {rend:.3f} ({err:+.3f})")
    if ns:
        print(f"not scored ({len(ns)}; neither found nor clean; exit status 1):")
        for row in ns[:NOT_SCORED_SHOWN]:
            print(f"  {row['path']}: {row['reason']}")
        if len(ns) > NOT_SCORED_SHOWN:
            print(f"  ... and {len(ns) - NOT_SCORED_SHOWN} more in {a.out / 'labelled.json'}")


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
    ap.add_argument("--mm-per-px", type=float, help="scale of the scenes and the model (default 1); with --labelled, of the photos")
    ap.add_argument("--width-px", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenes", default="realistic",
                    help="scene types to render: today|realistic|dark-rubber|wet-wood|all or a comma list (default realistic); "
                         "several: one report folder each under --out, summed up in scenes.md")
    ap.add_argument("--fa-m", type=float, default=0.0, help="also score this many metres of object-free belt of each scene type")
    ap.add_argument("--realism-m", type=float, default=CLIPPING_M, help=f"belt of each scene type's realism checks (m; default "
                    f"{CLIPPING_M:g}: the clipping checks', the others take at most 30 and 10 m of it; shorter: quicker, noisier)")
    _labelled_args(ap, "score real labelled photos instead (COCO json(s), Pascal VOC xml (Annotations/ + JPEGImages/, ImageSets "
                       "splits), LabelMe json, or YOLO txt with data.yaml / classes.txt / obj.names; "
                       "photos at --mm-per-px, any size; default model: the line camera's, 4 mm/px)")
    ap.add_argument("--split", choices=SPLITS, default="all", help="with --labelled: score the set's train, valid or test split, or all")
    ap.add_argument("--camera", choices=CAMERAS, help="scene types only: how the realistic, dark-rubber and wet-wood belt "
                    f"is lit and seen (default {EVALUATION_CAMERA}: the lighting and colour pipeline calibrated on the real "
                    "photos; renderer: the renderer's own exposure, as the built-in fit renders it; real: clip42's shoulder)")
    ap.add_argument("--exposure-norm", choices=("on", "off"), default="on" if EXPOSURE_NORM else "off", help="frames (with "
                    "--labelled: each photo) darkened into the fit's range by the ore's median grey first (vision/exposure.py)")
    a = ap.parse_args(argv)
    if a.labelled is not None:
        if a.camera is not None:
            ap.error("--camera applies to rendered scene types, not to --labelled photos (a real camera took them)")
        return _cli_labelled(a)
    a.mm_per_px = 1.0 if a.mm_per_px is None else a.mm_per_px
    if a.length_m <= 0 or a.fa_m < 0 or not a.realism_m > 0:
        ap.error(f"--length-m and --realism-m must be > 0 and --fa-m >= 0, got {a.length_m}, {a.realism_m} and {a.fa_m}")
    if not a.mm_per_px > 0 or a.width_px <= 0:
        ap.error(f"--mm-per-px must be > 0 and --width-px > 0, got {a.mm_per_px} and {a.width_px}")
    try:
        load_tiles(a.backgrounds)  # refuse an empty or unreadable folder before fitting or scoring anything
    except VisionError as exc:
        ap.error(f"--backgrounds {a.backgrounds}: {exc}")
    try:
        names = scene_names(a.scenes)
    except ValueError as exc:
        ap.error(str(exc))
    try:
        model = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=a.mm_per_px, width_px=a.width_px)
        with staged_folder(a.out) as stage:  # a failure leaves no half-written report in --out
            results = evaluate_scenes(model, names, stage.dir, length_m=a.length_m, seed=a.seed, objects_per_m=a.objects_per_m,
                                      fa_m=a.fa_m, backgrounds=a.backgrounds, camera=a.camera or EVALUATION_CAMERA,
                                      exposure_norm=a.exposure_norm == "on", realism_m=a.realism_m)
    except VisionError as exc:
        print(f"oreline vision evaluate: error: {exc}", file=sys.stderr)
        return 2
    for res in results:
        table = res["table"]
        r = table["recall"].get("size>=50:all", {"recall": float("nan")})
        print(f"{res['scene']}: recall per kind and size:")
        print("\n".join(_recall_lines(table)))
        print(f"{res['scene']}: " + appearance_line(table))
        print(f"{res['scene']}: recall (>= 50 mm) {r['recall']:.3f}, false alarms {table['false_alarms_per_1000_m']:.1f} per 1,000 m "
              f"(95 % upper bound {table['false_alarms_per_1000_m_upper95']:.1f})")
    print(f"→ {a.out / 'scenes.md'}")
    return 0
