"""The dense learned detector (issue 27): does a small fully convolutional net that sees every pixel find what the
feature detector's candidate stage misses?

The network (:mod:`vision.densenet`, fitted by :mod:`vision.densenet_fit` on fit-split frames only) is measured on
held-out tiles and fresh seeds, the cases of ``bench_vision_scenes`` (seed 11; 100 m realistic and today's, 50 m each
other case; object-free realistic and today's belt, seed 1011, 3,006 m each), on the same frames as the feature
detector of FIT_VERSION 13's 4 mm/px model (the shipped union's base, :func:`vision.union_fit.features_model`, without
its net and second classifier):

(a) the net alone as a detector: components of its map, reported when their peak passes the level set on the fit
    split's object-free streamed belt (half the p(none) of its highest false peak); recall per case (>= 50 mm) and
    false alarms with the 95 % bound; and, for reference, the recall at the level of 0 false alarms on the held-out
    belt itself (a level no fit could know);
(b) the net as an extra candidate source beside the features: the candidate ceiling per case, features' candidates
    vs their union with the net's components (at its level, at p >= 0.5 and at the base p >= 0.25), the net's
    components per km of object-free belt, and by visibility (:mod:`vision.visibility`);
(c) its cost: the ONNX run alone (Mpx/s, p99 per frame; target >= 100 Mpx/s), with its input features and
    components, and added to the detector (m of belt per CPU second; the station's target 135 m/s).

Run: ``.venv/bin/python -m benchmarks.bench_vision_dense [--length-m 100] [--fa-m 3000] [--calib-m 3000] [--seed 11]
[--quick] [--model OUT.npz]`` (``--quick``: a small net on a small training set, 10 m per case, 100 m object-free;
< 2 min). ``--speed [--model OUT.npz]``: only the switch's cost (:func:`speed_rows`: the detector per 2,048-line frame
and the 4 mm/px line station, off and on, in turn; about 2 min).

``--hybrid C.npz`` (a model refitted with the seeds on, ``python -m vision.densenet_refit --own-peak C.npz``):
FIT_VERSION 13's model with the refit's net as seeds of its own regions only and the refit's classifier and decision
judging those alone (``Detector.dense_classifier``; the features' candidates as with the net off), against FIT_VERSION 13's
model alone on the same frames (``--union``: the refit's classifier on the features' candidates too, either reporting:
the shipped union when C.npz is the refit it carries): recall per case with the objects gained and lost, false alarms (those of the net's own
components apart) on the object-free belts with the 95 % bound, the p(none) of the net's own candidates on objects
and on ore, and the detector's CPU per frame off and on (with ``--speed``: only that, on seed 1011's belt).
``--union --judge-level-max P`` (issue 27, w27x): the union as given beside the same union with its judge's level at
most P under every belt condition (:func:`judge_at_most`; P = the judge's strictest level is what
``vision.decision_level.hold_unfounded_regimes`` gives a condition leave-one-group-out does not found), on the same
frames, in place of FIT_VERSION 13 alone. ``--hybrid C.npz --judge-hold``: only what that hold decides for C's judge,
from C's fit again with the hold on (:func:`judge_hold_rows`).
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.common import every_detector, frame_cpu_ms, quantiles_text, switch_cost
from vision.classify import KindClassifier
from vision.densenet import BASE_LOGIT, DenseNet, DenseSeeds, block_px
from vision.densenet_data import stream
from vision.densenet_eval import DensePass, calibration, level_of, run_case
from vision.densenet_fit import TRAINING, fitted_densenet
from vision.errors import VisionError
from vision.evaluate import _poisson_upper95
from vision.fit import VisionModel, cache_path, fit_vision_model
from vision.union_fit import features_model
from vision.planks import PlankParams, PlankStream
from vision.scenes import scene_options
from vision.visibility import visibility_table

#: (label, scene type, extra object options, length share) as bench_vision_scenes.CASES.
CASES: tuple[tuple[str, str, dict, float], ...] = (
    ("realistic", "realistic", {}, 1.0), ("today", "today", {}, 1.0),
    ("wood on realistic belt", "realistic", {"kinds": ("wood",)}, 0.5), ("wood on today's belt", "today", {"kinds": ("wood",)}, 0.5),
    ("dark rubber on dark ore", "dark-rubber", {}, 0.5), ("wet wood", "wet-wood", {}, 0.5))
FREE_SCENES = ("realistic", "today")
#: Training set of the full and the quick mode (:func:`vision.densenet_data.training_set`) and epochs.
FULL_TRAINING: dict[str, Any] = TRAINING
QUICK_TRAINING: dict[str, Any] = dict(n_object_scenes=2, n_free_scenes=1, frames_per_scene=2, objects_per_m=4.0)
MPX_TARGET = 100.0
LINE_TARGET_M_S = 8100.0 / 60.0
MM_PER_PX, WIDTH_PX = 4.0, 512


def _row(name: str, value: float, unit: str, target: str, ok: bool) -> dict:
    return {"name": name, "value": float(value), "unit": unit, "target": target, "ok": bool(ok)}


def _pct(k: int, n: int) -> str:
    return f"{100.0 * k / max(n, 1):5.1f} % ({k}/{n})"


def _p(logit: float) -> str:
    """A log-odds as p(none) = 1 / (1 + e^logit), printed."""
    return f"logit {logit:.2f} (p(none) {1.0 / (1.0 + np.exp(min(logit, 700.0))):.2g})"


def alone_rows(label: str, r: DensePass, level: float) -> list[dict]:
    """(a) per case: the net alone at its level, and its false components on this belt."""
    n, found = r.object_peak.size, int(np.sum(r.object_peak >= level))
    fa = int(np.sum(r.false_peaks >= level))
    kinds = ", ".join(f"{k} {int(np.sum((r.object_peak >= level) & (np.asarray(r.kinds) == k)))}/{int(np.sum(np.asarray(r.kinds) == k))}"
                      for k in sorted(set(r.kinds)))
    print(f"{label}: net alone at its level {_pct(found, n)} ({kinds}); false components {fa} in {r.belt_m:.0f} m; "
          f"features at their decision {_pct(int(r.reported.sum()), n)}", flush=True)
    return [_row(f"vision dense net alone, recall >= 50 mm, {label} ({found}/{n}; {fa} false in {r.belt_m:.0f} m)",
                 100.0 * found / max(n, 1), "%", "", True)]


def union_rows(label: str, r: DensePass, level: float) -> list[dict]:
    """(b) per case: the candidate ceiling of the features and of their union with the net's components."""
    n = r.object_peak.size
    feat = int(r.feature_candidate.sum())
    parts = [f"features {_pct(feat, n)}"]
    rows = [_row(f"vision candidate ceiling, features, {label} ({feat}/{n})", 100.0 * feat / max(n, 1), "%", "", True)]
    for name, lv in (("at its level", level), ("p >= 0.5", 0.0), ("p >= 0.25", BASE_LOGIT)):
        u = int(np.sum(r.feature_candidate | (r.object_peak >= lv)))
        parts.append(f"union with the net {name} {_pct(u, n)}")
        rows.append(_row(f"vision candidate ceiling, features + dense net {name}, {label} ({u}/{n})", 100.0 * u / max(n, 1), "%",
                         ">= 88 (realistic)" if label == "realistic" else "", label != "realistic" or 100.0 * u / max(n, 1) >= 88.0))
    print(f"{label}: candidate ceiling " + "; ".join(parts), flush=True)
    return rows


def visibility_print(label: str, r: DensePass, level: float) -> None:
    """Objects by visibility: features' ceiling and net alone; union at the net's level and at p >= 0.25."""
    if not r.truth:
        return
    a = visibility_table(r.object_peak >= level, r.feature_candidate, r.truth)
    b = visibility_table(r.feature_candidate | (r.object_peak >= level), r.feature_candidate | (r.object_peak >= BASE_LOGIT), r.truth)
    print(f"  {label}, by visibility: group | objects | net alone at its level | features' ceiling | union at its level | union p >= 0.25")
    for x, y in zip(a, b):
        n = x["objects"]
        print(f"    {x['group']:<36} {n:>4} {_pct(x['found'], n)} {_pct(x['ceiling'], n)} {_pct(y['found'], n)} {_pct(y['ceiling'], n)}")


def free_rows(scene_type: str, r: DensePass, level: float) -> list[dict]:
    """(a) false alarms of the net alone on object-free held-out belt; (b) its components per km there."""
    fa = int(np.sum(r.false_peaks >= level))
    bound = 1000.0 * _poisson_upper95(fa) / max(r.belt_m, 1e-9)
    km = r.belt_m / 1000.0
    per_km = {name: np.sum(r.false_peaks >= lv) / km for name, lv in (("p >= 0.5", 0.0), ("p >= 0.25", BASE_LOGIT))}
    top = float(r.false_peaks.max()) if r.false_peaks.size else -np.inf
    print(f"object-free {scene_type} belt (held-out): net alone {fa} false alarms in {r.belt_m:.0f} m, 95 % bound {bound:.2f} per "
          f"1,000 m (target <= 1); highest false peak {_p(top)}; net components per km " +
          ", ".join(f"{k} {v:.0f}" for k, v in per_km.items()) + f"; features' false alarms {r.feature_false}", flush=True)
    return [_row(f"vision dense net alone, false alarms, object-free {scene_type} belt ({fa} in {r.belt_m:.0f} m; 95 % bound)",
                 bound, "per 1,000 m", "<= 1", bound <= 1.0)]


def oracle_rows(cases: dict[str, DensePass], free: dict[str, DensePass]) -> list[dict]:
    """The net alone at the level of 0 false alarms on the held-out object-free belts (known only afterwards)."""
    tops = [float(r.false_peaks.max()) for r in free.values() if r.false_peaks.size]
    if not tops:
        return []
    lv = float(np.nextafter(max(tops), np.inf))
    rows = []
    for label, r in cases.items():
        found, n = int(np.sum(r.object_peak >= lv)), r.object_peak.size
        print(f"{label}: net alone at 0 false alarms on the held-out belts ({_p(lv)}) {_pct(found, n)}", flush=True)
        rows.append(_row(f"vision dense net alone at 0 held-out false alarms, {label} ({found}/{n})", 100.0 * found / max(n, 1), "%",
                         ">= 75 (realistic)" if label == "realistic" else "", label != "realistic" or 100.0 * found / max(n, 1) >= 75))
    return rows


def spread_print(cases: dict[str, DensePass], free: dict[str, DensePass]) -> None:
    """Peak log-odds (min / 5 % / median / 95 % / max) on objects (best component) and on false components."""
    def text(v: np.ndarray) -> str:
        return quantiles_text(v, fmt=".2f", legend=False)
    for label, r in cases.items():
        print(f"  peak logit, best component on each object with one, {label} ({int(np.isfinite(r.object_peak).sum())}): {text(r.object_peak)}")
    for scene_type, r in free.items():
        print(f"  peak logit, false components, object-free {scene_type} belt ({r.false_peaks.size}): {text(r.false_peaks)}")


def p_none_print(off: dict[str, DensePass], on: dict[str, DensePass]) -> None:
    """p(none) (min / 5 % / median / 95 % / max) of the best candidate on each object >= 50 mm with one, and of the
    candidates on no object, features' pass and with dense seeds, with the decision's range where the false ones are."""
    def text(v: np.ndarray) -> str:
        return quantiles_text(v, count=True, legend=False)
    for label in on:
        for name, r in (("features' pass", off[label]), ("with dense seeds", on[label])):
            levels = f"{r.false_none_max.min():.3g}-{r.false_none_max.max():.3g}" if r.false_none_max.size else "-"
            print(f"  p(none), {label}, {name}: objects {text(r.object_p_none)}; false candidates {text(r.false_p_none)}; "
                  f"decision there {levels}", flush=True)


def switch_rows(label: str, off: DensePass, on: DensePass) -> list[dict]:
    """(b) through the detector itself: ``Detector.dense_seeds`` on (the net's cells at p >= 0.25 as seeds and regions;
    the model's classifier and decision: FIT_VERSION 13's, or a refit's with the net) against the features' pass
    (FIT_VERSION 13's model, switch off), on the same frames."""
    n = on.object_peak.size
    c_on, r_on = int(on.feature_candidate.sum()), int(on.reported.sum())
    print(f"{label}: detector with dense seeds: candidate ceiling {_pct(c_on, n)} (off {_pct(int(off.feature_candidate.sum()), n)}); "
          f"at the model's decision {_pct(r_on, n)} (off {_pct(int(off.reported.sum()), n)}); false alarms {on.feature_false} "
          f"(off {off.feature_false}) in {on.belt_m:.0f} m", flush=True)
    return [_row(f"vision detector with dense seeds, candidate ceiling, {label} ({c_on}/{n})", 100.0 * c_on / max(n, 1), "%", "", True),
            _row(f"vision detector with dense seeds, recall at the model's decision, {label} ({r_on}/{n}; {on.feature_false} false)",
                 100.0 * r_on / max(n, 1), "%", "", True)]


def switch_free_rows(scene_type: str, off: DensePass, on: DensePass) -> list[dict]:
    """False alarms of the detector with the dense seeds on object-free held-out belt (95 % bound)."""
    bound = 1000.0 * _poisson_upper95(on.feature_false) / max(on.belt_m, 1e-9)
    det_off, det_on = 1000.0 * off.detector_s / off.frames, 1000.0 * on.detector_s / on.frames
    print(f"object-free {scene_type} belt (held-out): detector with dense seeds {on.feature_false} false alarms in {on.belt_m:.0f} m "
          f"(off {off.feature_false}), 95 % bound {bound:.2f} per 1,000 m; detector CPU per frame {det_on:.1f} ms (off {det_off:.1f})", flush=True)
    return [_row(f"vision detector with dense seeds, false alarms, object-free {scene_type} belt ({on.feature_false} in {on.belt_m:.0f} m)",
                 bound, "per 1,000 m", "<= 1", bound <= 1.0),
            _row(f"vision detector with dense seeds, CPU per frame, {scene_type} belt (off {det_off:.1f} ms)", det_on, "ms", "", True)]


def cost_rows(all_runs: list[DensePass]) -> list[dict]:
    """(c) CPU per 2,048-line frame: the ONNX run alone (Mpx/s, p99), the net with its inputs and components, the
    detector, and both (m of belt per CPU second)."""
    frames = sum(r.frames for r in all_runs)
    per = np.concatenate([r.onnx_frame_s for r in all_runs]) * 1000.0
    mpx = 2048 * WIDTH_PX / float(np.median(per)) / 1000.0
    p99 = float(np.percentile(per, 99))
    net_ms = 1000.0 * sum(r.net_s for r in all_runs) / frames
    with_det = [r for r in all_runs if r.detector_s > 0]
    det_ms = 1000.0 * sum(r.detector_s for r in with_det) / max(1, sum(r.frames for r in with_det))
    belt_m = 2048 * MM_PER_PX / 1000.0
    rate_det, rate_both = belt_m / (det_ms / 1000.0), belt_m / ((det_ms + net_ms) / 1000.0)
    print(f"cost per 2,048 x {WIDTH_PX} frame ({frames} frames): ONNX run median {np.median(per):.2f} ms = {mpx:.0f} Mpx/s (target >= "
          f"{MPX_TARGET:.0f}), p99 {p99:.2f} ms; with its input features and components {net_ms:.2f} ms; the feature detector "
          f"{det_ms:.1f} ms ({rate_det:.0f} m/s); both {det_ms + net_ms:.1f} ms ({rate_both:.0f} m/s; station target "
          f"{LINE_TARGET_M_S:.0f} m/s, which also pays its records)", flush=True)
    return [_row("vision dense net, ONNX run alone (4 mm/px input, one core)", mpx, "Mpx/s", f">= {MPX_TARGET:.0f}", mpx >= MPX_TARGET),
            _row("vision dense net, ONNX run p99 per 2048-row frame", p99, "ms", "< 200", p99 < 200.0),
            _row("vision dense net with its input features and components, per frame", net_ms, "ms", "", True),
            _row("vision detector + dense net, m of belt per CPU second", rate_both, "m/s", f">= {LINE_TARGET_M_S:.0f}",
                 rate_both >= LINE_TARGET_M_S)]


def _detector_ms(model: VisionModel, seeds: DenseSeeds | None, frames: list, dense_classifier: KindClassifier | None = None,
                 dense_union: bool = False) -> np.ndarray:
    """CPU (ms, one thread) of each frame after the first through ``model``'s detector with ``seeds`` (and
    ``dense_classifier``, :attr:`vision.detect.Detector.dense_classifier`)."""
    det = model.detector()
    det.dense_seeds = seeds
    det.dense_classifier = dense_classifier
    det.dense_union = dense_union
    return frame_cpu_ms(det, frames)


@contextmanager
def _station_model(model: VisionModel) -> Iterator[None]:
    """Within the block the line station's 4 mm/px model (from the model cache) is ``model``: a temporary cache."""
    old = os.environ.get("ORELINE_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ORELINE_CACHE"] = tmp
        try:
            model.save(cache_path(MM_PER_PX, WIDTH_PX))
            yield
        finally:
            if old is None:
                os.environ.pop("ORELINE_CACHE", None)
            else:
                os.environ["ORELINE_CACHE"] = old


def speed_rows(model: VisionModel, reference: VisionModel, net: DenseNet, n_frames: int = 25, station_m: float = 100.0) -> list[dict]:
    """The switch's cost, off (``reference``, FIT_VERSION 13's model) and on (``model``'s own net, or ``net`` with
    FIT_VERSION 13's classifier), twice in turn: the detector's CPU per 2,048-line frame of held-out object-free realistic
    belt (seed 1011, ``n_frames``), and the 4 mm/px line station (``bench_vision.line_rows``, ``station_m``)."""
    from benchmarks.bench_vision import line_rows

    seeds = model.dense or DenseSeeds(net)
    frames = [f for f, _ in stream("heldout", 1011, n_frames * 8.192, scene=scene_options("realistic")[0], objects=None, objects_per_m=0.0)]
    det: dict[str, list[float]] = {"off": [], "on": []}
    line: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(2):
        det["off"].append(float(np.median(_detector_ms(reference, None, frames))))
        det["on"].append(float(np.median(_detector_ms(model, seeds, frames))))
        with _station_model(reference):
            line["off"].append(line_rows(MM_PER_PX, max_m=station_m)[0]["value"])
        with _station_model(replace(model, dense=seeds)):  # the station's detector runs the model's seeds
            line["on"].append(line_rows(MM_PER_PX, max_m=station_m)[0]["value"])
    print(f"detector per 2,048-line frame (median of {n_frames - 1}, two rounds): off {det['off']} ms, dense seeds on {det['on']} ms; "
          f"line station {station_m:.0f} m: off {[round(v) for v in line['off']]} m/s, on {[round(v) for v in line['on']]} m/s "
          f"(load {os.getloadavg()[0]:.1f})", flush=True)
    added = float(np.mean(det["on"]) - np.mean(det["off"]))
    rate = float(np.mean(line["on"]))
    return [_row("vision detector, dense seeds' added CPU per 2048-line frame (4 mm/px)", added, "ms", "<= 5", added <= 5.0),
            _row("vision line station 4 mm/px with dense seeds, m of belt per CPU second", rate, "m/s", f">= {LINE_TARGET_M_S:.0f}",
                 rate >= LINE_TARGET_M_S)]


def _planks_on() -> AbstractContextManager[None]:
    """Within the block every detector a model builds (the line station's too) runs the plank evidence
    (``Detector.planks`` at its shipped level)."""
    return every_detector(lambda det, mm_per_px: setattr(det, "planks", PlankStream(PlankParams(), det.cell_mm)))


def plank_speed_rows(n_frames: int = 25, station_m: float = 100.0) -> list[dict]:
    """The plank evidence's cost on the shipped union, off and on, three times in turn: the detector's CPU per 2,048-line
    frame of held-out object-free realistic belt (seed 1011, ``n_frames``) and the 4 mm/px line station
    (``bench_vision.line_rows``, ``station_m``)."""
    from benchmarks.bench_vision import line_rows
    from vision.model_cache import cached_model

    shipped = cached_model(mm_per_px=MM_PER_PX, width_px=WIDTH_PX)
    frames = [f for f, _ in stream("heldout", 1011, n_frames * 8.192, scene=scene_options("realistic")[0], objects=None, objects_per_m=0.0)]
    cost = switch_cost(lambda: shipped.detector(), _planks_on, frames, lambda: line_rows(MM_PER_PX, max_m=station_m)[0]["value"])
    print(f"{cost.text('union', 'union+P')} (2,048-line frames, median of {n_frames - 1}; station {station_m:.0f} m; "
          f"load {os.getloadavg()[0]:.1f})", flush=True)
    rate = cost.station_on_m_s
    return [_row("vision detector, plank evidence's added CPU per 2048-line frame (4 mm/px)", cost.added_ms, "ms", "", True),
            _row("vision line station 4 mm/px, union+P, m of belt per CPU second", rate, "m/s", f">= {LINE_TARGET_M_S:.0f}",
                 rate >= LINE_TARGET_M_S)]


def hybrid_of(path: str) -> VisionModel:
    """The refitted model at ``path`` whose net and classifier the hybrid uses; ValueError naming the file when it
    carries no net or no classifier (a model fitted without the seeds)."""
    model = VisionModel.load(Path(path))
    if model.dense is None or model.classifier is None:
        raise ValueError(f"--hybrid {path}: the model carries no dense net or no classifier (refit one with "
                         f"python -m vision.densenet_refit --own-peak OUT.npz)")
    return model


def hybrid_rows(label: str, off: DensePass, on: DensePass, name: str = "hybrid", off_name: str = "FIT 13 alone") -> list[dict]:
    """Recall (objects >= 50 mm) of ``off`` (``off_name``: FIT_VERSION 13's model alone, or the shipped union beside
    a judge with its levels capped) and of ``on`` (``name``: "hybrid", "union" or the capped union), with the objects
    gained and lost."""
    n, r_off, r_on = on.reported.size, int(off.reported.sum()), int(on.reported.sum())
    gained, lost = int(np.sum(on.reported & ~off.reported)), int(np.sum(off.reported & ~on.reported))
    print(f"{label}: {off_name} {_pct(r_off, n)}; {name} {_pct(r_on, n)} (+{gained} / -{lost} objects); false alarms "
          f"{on.feature_false} (off {off.feature_false}), of the net's own {on.own_false}, in {on.belt_m:.0f} m", flush=True)
    return [_row(f"vision {name} (beside {off_name}), recall >= 50 mm, {label} "
                 f"({r_on}/{n}; off {r_off}/{n}; {lost} lost)", 100.0 * r_on / max(n, 1), "%", "no object lost", lost == 0)]


def hybrid_free_rows(scene_type: str, off: DensePass, on: DensePass, name: str = "hybrid", union: bool = False) -> list[dict]:
    """False alarms of the hybrid (``name``) on object-free held-out belt (all, and the net's own) and the detector's
    CPU; with ``union`` the bound counts all its false alarms (``feature_false``: every reported candidate on no
    object, the net's own among them; the features' ones may be new), else the net's own only."""
    counted = on.feature_false if union else on.own_false
    bound = 1000.0 * _poisson_upper95(counted) / max(on.belt_m, 1e-9)
    det_off, det_on = 1000.0 * off.detector_s / off.frames, 1000.0 * on.detector_s / on.frames
    print(f"object-free {scene_type} belt (held-out): {name} {on.feature_false} false alarms (off {off.feature_false}), of the "
          f"net's own {on.own_false} in {on.belt_m:.0f} m (95 % bound {bound:.2f} per 1,000 m); detector CPU per frame "
          f"{det_on:.1f} ms (off {det_off:.1f}; load {os.getloadavg()[0]:.1f})", flush=True)
    return [_row(f"vision {name}, false alarms counted ({counted} in {on.belt_m:.0f} m; the net's own {on.own_false}, "
                 f"all {on.feature_false}, off {off.feature_false}), object-free {scene_type} belt", bound,
                 "per 1,000 m", "<= 1", bound <= 1.0)]


def judge_at_most(clf: KindClassifier, level: float) -> KindClassifier:
    """A copy of the union's judge ``clf`` whose decision is at most ``level`` (p(none)) under every belt condition:
    ``none_max`` and each regime's level (``regimes_``) clipped to it; the classifier's arrays are shared. ``level`` =
    the judge's ``none_max`` gives every condition the strictest level, what
    :func:`vision.decision_level.hold_unfounded_regimes` gives a condition whose own level leave-one-group-out does
    not found. Raises ValueError unless 0 < ``level`` <= 1."""
    if not 0.0 < level <= 1.0:
        raise ValueError(f"a judge's level is a p(none) in (0, 1], got {level}")
    out = copy.copy(clf)
    out.none_max = min(float(clf.none_max), float(level))
    out.regimes_ = np.asarray(clf.regimes_, np.float64).reshape(-1, 3).copy()
    out.regimes_[:, 2] = np.minimum(out.regimes_[:, 2], float(level))
    return out


def judge_hold_rows(hybrid: VisionModel) -> list[dict]:
    """``--judge-hold``: what :func:`vision.decision_level.hold_unfounded_regimes` decides for the judge of ``hybrid``
    (the union's refit, C.npz): the refit's fit (:func:`vision.densenet_refit.refit_model`'s: the built-in 4 mm/px fit
    with the refit's net as seeds in every detector, one BLAS thread) again with ``hold_regimes=True``, which changes
    the decision only; its classifier is checked to equal the judge's to the bit (else its out-of-fold p(none) are
    not the judge's). Nothing is saved. About 10 min of CPU."""
    assert hybrid.dense is not None and hybrid.classifier is not None  # hybrid_of checked
    t = time.process_time()
    with threadpool_limits(1):
        refit = fit_vision_model(mm_per_px=MM_PER_PX, width_px=WIDTH_PX, seed=0, dense=hybrid.dense, hold_regimes=True)
    print(f"the refit's fit with the hold: {refit.version}, {time.process_time() - t:.0f} s CPU", flush=True)
    assert refit.classifier is not None
    return hold_rows(refit.fitted_on.get("decision") or {}, hybrid.classifier, same_classifier(refit.classifier, hybrid.classifier))


def same_classifier(a: KindClassifier, b: KindClassifier) -> bool:
    """Whether ``a`` and ``b`` score every candidate alike: equal input scaling and weights, bit for bit."""
    arrays = [(a.mean_, b.mean_), (a.scale_, b.scale_)]
    arrays += [(x, y) for la, lb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_) for x, y in zip(la, lb)]
    return len(a.coefs_) == len(b.coefs_) and all(np.array_equal(x, y) for x, y in arrays)


def hold_rows(decision: dict, judge: KindClassifier, same: bool) -> list[dict]:
    """Each belt condition's leave-one-group-out check at rank 1 from ``decision`` (a fit's record with the hold on:
    ``level_choice`` and ``regimes``) and its level with the hold beside ``judge``'s as given; a row per condition
    (ok: the hold leaves its level as given). ``same``: whether the fit's classifier is the judge's (printed; rows
    not ok when not)."""
    choice = decision.get("level_choice") or {}
    if not choice:
        raise ValueError("the fit's decision has no leave-one-group-out record (no out-of-fold belt per source group)")
    print(f"classifier {'equal to' if same else 'DIFFERENT from'} the judge's (its out-of-fold p(none) "
          f"{'are' if same else 'are not'} the judge's); judge's strictest level {judge.none_max:.4g}", flush=True)
    given = {(round(lo, 6), round(hi, 6)): level for lo, hi, level in np.asarray(judge.regimes_).reshape(-1, 3)}
    rows = []
    for r in decision.get("regimes", []):
        c, before = choice.get(r["name"]), given.get((round(r["load_lo"], 6), round(r["load_hi"], 6)), float("nan"))
        check = "no check (one source group)" if c is None else (
            f"{sum(c['group_belt_m'].values()):,.0f} m, group lows " + ", ".join(f"{v:.3g}" for v in c["group_low"].values())
            + f"; rank 1: events per group {c['estimates'][0]['events_per_group']}, bound "
            f"{c['estimates'][0]['fa_bound_per_1000_m']:.2f} per 1,000 m: {'founded' if c['passed'] else 'not founded'}")
        print(f"  {r['name']} (load {r['load_lo']:.2f}-{r['load_hi']:.2f}): {check}; level as given {before:.4g}, "
              f"with the hold {r['none_max']:.4g}", flush=True)
        rows.append(_row(f"vision union's judge, {r['name']} level with the hold (as given {before:.4g}; {check})",
                         r["none_max"], "p(none)", "as given", same and r["none_max"] == before))
    return rows


def hybrid_p_none_print(runs: dict[str, DensePass], none_max: float) -> None:
    """p(none) (min / 5 % / median / 95 % / max) of the net's own candidates: the best on each object >= 50 mm with
    one, and those on no object (ore), against the refit's decision ``none_max``."""
    def text(v: np.ndarray) -> str:
        return quantiles_text(v, count=True, legend=False)
    for label, r in runs.items():
        print(f"  p(none) of the net's own candidates, {label}: on objects {text(r.own_object_p_none)}; on ore "
              f"{text(r.own_false_p_none)}; the refit's base decision {none_max:.3g} (its belt regimes may loosen it)", flush=True)


def hybrid_main(a: argparse.Namespace, reference: VisionModel, hybrid: VisionModel) -> list[dict]:
    """``--hybrid``: FIT_VERSION 13's model alone and with the refit's net and classifier on the net's own regions (with
    ``--union`` on the features' candidates too, either classifier reporting); with ``--judge-level-max`` the union
    as given beside the union whose judge's levels are capped (:func:`judge_at_most`), on the same frames."""
    seeds, clf = hybrid.dense, hybrid.classifier
    assert seeds is not None and clf is not None  # hybrid_of checked
    name = ("union" if a.union else "hybrid") + ("+P" if a.planks else "")
    judged = "the net's own regions and the features' candidates" if a.union else "the net's own regions"
    print(f"{name}: FIT 13 model {reference.version}; {judged} judged by {hybrid.version} "
          f"(decision {clf.none_max:.3g}, per belt condition {clf.regimes_.tolist()}; own peak {seeds.own_peak})", flush=True)
    if a.speed and a.planks:
        return plank_speed_rows()
    if a.speed:
        return hybrid_speed_rows(reference, seeds, clf, name, a.union)
    off_judge, off_name = None, "union" if a.planks else "FIT 13 alone"
    if a.judge_level_max is not None:
        off_judge, off_name, clf = clf, "union", judge_at_most(clf, a.judge_level_max)
        name = f"union, judge at most {a.judge_level_max:.4g}"
        print(f"{name}: its levels per belt condition {clf.regimes_.tolist()}, beside the union as given", flush=True)
    rows: list[dict] = []
    runs: dict[str, DensePass] = {}
    kws = [(label, dict(length_m=a.length_m * share, scene=scene_options(st)[0], objects={**scene_options(st)[1], **extra},
                        objects_per_m=1.0), False) for label, st, extra, share in CASES]
    kws += [("free " + st, dict(length_m=a.fa_m, scene=scene_options(st)[0], objects=None, objects_per_m=0.0), True) for st in FREE_SCENES]
    planks = PlankStream(PlankParams(), reference.detector().cell_mm) if a.planks else None
    for label, kw, free in kws:
        seed = a.seed + 1000 if free else a.seed
        # --planks: the union against the union with the plank evidence (both on the same frames); --judge-level-max:
        # the union as given against its judge capped; else FIT 13 alone against the net's
        if planks is not None:
            off = run_case(seeds.net, reference, "heldout", seed=seed, dense_seeds=seeds, dense_classifier=clf, dense_union=a.union, **kw)
        else:
            off = run_case(seeds.net, reference, "heldout", seed=seed, dense_seeds=seeds if off_judge else None,
                           dense_classifier=off_judge, dense_union=off_judge is not None, **kw)
        runs[label] = on = run_case(seeds.net, reference, "heldout", seed=seed, dense_seeds=seeds, dense_classifier=clf,
                                    dense_union=a.union, planks=planks, **kw)
        rows += hybrid_free_rows(label[5:], off, on, name, a.union) if free else hybrid_rows(label, off, on, name, off_name)
    hybrid_p_none_print(runs, clf.none_max)
    return rows


def hybrid_speed_rows(reference: VisionModel, seeds: DenseSeeds, clf: KindClassifier, name: str, union: bool) -> list[dict]:
    """``--hybrid --speed``: the detector's CPU per 2,048-line frame of seed 1011's realistic belt, FIT_VERSION 13's
    model alone and the hybrid (``union``: the union), twice in turn."""
    frames = [f for f, _ in stream("heldout", 1011, 25 * 8.192, scene=scene_options("realistic")[0], objects=None, objects_per_m=0.0)]
    ms = {k: [] for k in ("off", "on")}  # type: dict[str, list[float]]
    for _ in range(2):
        ms["off"].append(float(np.median(_detector_ms(reference, None, frames))))
        ms["on"].append(float(np.median(_detector_ms(reference, seeds, frames, clf, union))))
    print(f"detector per 2,048-line frame (median of 24, two rounds): off {ms['off']} ms, {name} {ms['on']} ms "
          f"(load {os.getloadavg()[0]:.1f})", flush=True)
    added = float(np.mean(ms["on"]) - np.mean(ms["off"]))
    return [_row(f"vision detector, {name}'s added CPU per 2048-line frame (4 mm/px)", added, "ms", "", True)]


def _check_hybrid_options(ap: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Refuse (``ap.error``) the hybrid options given without what they need or together."""
    if a.planks and not a.union:
        ap.error("--planks needs --hybrid C.npz --union (it is measured against the union)")
    if a.planks and a.judge_level_max is not None:
        ap.error("--planks and --judge-level-max each measure against the union as given: one at a time")
    if a.judge_hold and not a.hybrid:
        ap.error("--judge-hold needs --hybrid C.npz (the refit whose judge is checked)")
    if a.union and not a.hybrid:
        ap.error("--union needs --hybrid C.npz (the refit whose classifier joins the shipped one)")
    if a.judge_level_max is not None and not (a.union and 0.0 < a.judge_level_max <= 1.0):
        ap.error(f"--judge-level-max needs --hybrid C.npz --union and a p(none) in (0, 1], got {a.judge_level_max}"
                 f"{'' if a.union else ' without --union'}")


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_dense", description=__doc__)
    ap.add_argument("--length-m", type=float, default=100.0, help="held-out belt with objects per case (m; the other cases half)")
    ap.add_argument("--fa-m", type=float, default=3000.0, help="object-free held-out realistic and today's belt each (m)")
    ap.add_argument("--calib-m", type=float, default=3000.0, help="object-free fit-split belt for the net's level (m)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quick", action="store_true", help="small net, 10 m per case, 100 m object-free, 200 m calibration")
    ap.add_argument("--speed", action="store_true", help="only the switch's cost: detector per frame and line station, off and on")
    ap.add_argument("--model", help="a saved vision model (.npz) instead of FIT_VERSION 13's 4 mm/px one (e.g. one "
                    "refitted with the dense seeds on: python -m vision.densenet_refit)")
    ap.add_argument("--hybrid", metavar="C.npz", help="FIT_VERSION 13's model with this refit's net and classifier on the net's "
                    "own regions only, against FIT_VERSION 13's model alone (see the module)")
    ap.add_argument("--union", action="store_true", help="with --hybrid: the refit's classifier judges the features' "
                    "candidates too, and a candidate is reported when either classifier reports it (Detector.dense_union)")
    ap.add_argument("--planks", action="store_true", help="with --hybrid --union: the union against the union with the "
                    "plank evidence switched on (Detector.planks, vision/planks.py), on the same frames")
    ap.add_argument("--judge-level-max", type=float, metavar="P_NONE", help="with --hybrid and --union: the union beside "
                    "the same union with its judge's level capped at P_NONE under every belt condition (e.g. the judge's "
                    "strictest, what a hold of an unfounded condition gives it), on the same frames")
    ap.add_argument("--judge-hold", action="store_true", help="with --hybrid: only what the hold of unfounded belt "
                    "conditions (vision.decision_level.hold_unfounded_regimes) decides for the refit's judge, from the "
                    "refit's fit again with the hold on (~10 min CPU; nothing saved)")
    a = ap.parse_args(argv)
    _check_hybrid_options(ap, a)
    if a.hybrid:
        if a.quick:
            a.length_m, a.fa_m = 10.0, 100.0
        try:
            hybrid = hybrid_of(a.hybrid)
        except (OSError, ValueError, VisionError) as e:
            ap.error(str(e))
        if a.judge_hold:
            return judge_hold_rows(hybrid)
        return hybrid_main(a, features_model(MM_PER_PX, WIDTH_PX), hybrid)
    training = QUICK_TRAINING if a.quick else FULL_TRAINING
    if a.quick:
        a.length_m, a.fa_m, a.calib_m = 10.0, 100.0, 200.0
    t = time.process_time()
    # FIT_VERSION 13's model (the shipped union's base, without its net and second classifier) unless a model is given;
    # a model fitted with the net (python -m vision.densenet_refit) runs its own, and the features' pass is then FIT 13's
    model = VisionModel.load(a.model) if a.model else features_model(MM_PER_PX, WIDTH_PX)
    reference = features_model(MM_PER_PX, WIDTH_PX) if model.dense is not None else model
    net = model.dense.net if model.dense is not None else fitted_densenet(epochs=3 if a.quick else 14, **training)
    source = "the model's own" if model.dense is not None else "cached under $ORELINE_CACHE/vision/densenet"
    print(f"dense net ready ({time.process_time() - t:.0f} s CPU; {source}); {block_px(MM_PER_PX)} px cells, training {training}; "
          f"features' pass: model {reference.version}, with dense seeds: model {model.version}", flush=True)
    if a.speed:
        return speed_rows(model, reference, net)
    level = level_of(calibration(net, a.calib_m).false_peaks)
    print(f"net's level (fit-split object-free belt, {a.calib_m:.0f} m): {_p(level)}", flush=True)
    rows: list[dict] = []
    cases, free = {}, {}
    seeds = model.dense or DenseSeeds(net)
    switched: dict[str, DensePass] = {}
    for label, scene_type, extra, share in CASES:
        scene, objects = scene_options(scene_type)
        kw = dict(seed=a.seed, length_m=a.length_m * share, scene=scene, objects={**objects, **extra}, objects_per_m=1.0)
        cases[label] = r = run_case(net, reference, "heldout", **kw)
        rows += alone_rows(label, r, level) + union_rows(label, r, level)
        if label in ("realistic", "wet wood", "wood on realistic belt"):
            visibility_print(label, r, level)
        switched[label] = run_case(net, model, "heldout", dense_seeds=seeds, **kw)
        rows += switch_rows(label, r, switched[label])
    for scene_type in FREE_SCENES:
        kw = dict(seed=a.seed + 1000, length_m=a.fa_m, scene=scene_options(scene_type)[0], objects=None, objects_per_m=0.0)
        free[scene_type] = r = run_case(net, reference, "heldout", **kw)
        rows += free_rows(scene_type, r, level)
        switched["free " + scene_type] = on = run_case(net, model, "heldout", dense_seeds=seeds, **kw)
        rows += switch_free_rows(scene_type, r, on)
    rows += oracle_rows(cases, free)
    spread_print(cases, free)
    p_none_print({**cases, **{"free " + k: v for k, v in free.items()}}, switched)
    return rows + cost_rows(list(cases.values()) + list(free.values()))


if __name__ == "__main__":
    main()
