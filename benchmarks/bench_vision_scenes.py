"""Vision on scenes like a real belt (issue 27): recall of the built-in model on each scene type of
:mod:`vision.scenes` against the targets, false alarms on object-free realistic belt, and how far each physical
effect of the renderer is from the real images it stands for (:mod:`vision.realism`, rendered vs real with the error
and the real images' own spread).

Scene types (held-out CDM tiles, 1 mm/px unless ``--mm-per-px``; objects by seed; see vision/scenes.py):
``today`` (patchwork, rule-drawn surfaces), ``realistic`` (full burden, photographed surfaces, coated, partly buried,
half the wood wet, real lighting spread / shadow depth / haze colour, motion blur, spillage), ``dark-rubber`` (dark
ore, rubber only), ``wet-wood`` (wet wood only), and wood alone on today's and on realistic belt.

Targets: >= 90 % of objects >= 50 mm on realistic scenes, >= 95 % on today's; wood >= 90 % on both; dark rubber
>= 80 %; wet wood >= 80 %; false alarms <= 1 per 1,000 m (95 % bound) on object-free realistic belt; every realism
check within the real spread.

``--camera calibrated|renderer|real`` (default :data:`vision.scenes.EVALUATION_CAMERA`, calibrated): how the realistic,
dark-rubber and wet-wood types are lit and seen (:data:`vision.scenes.CAMERA_OPTIONS`; today's as they are):
the lighting and colour pipeline calibrated on the real photos (RULE_REND49), the renderer's own exposure (the belt the
built-in fit renders), or clip42's shoulder (:data:`vision.scenes.REAL_CAMERA`). The realism rows are of the realistic
type seen through the same camera. ``--exposure-norm on|off``: every detector of the run
darkens frames brighter than the fit's range (:mod:`vision.exposure`); the frames it darkened are printed per row.

Run: ``.venv/bin/python -m benchmarks.bench_vision_scenes [--model M.npz]
[--length-m 200] [--fa-m 3000] [--fa-today-m 3000] [--seed 11] [--ceiling] [--spread] [--camera renderer]
[--exposure-norm on] [--local-load on] [--wood-evidence on] [--kind-evidence on] [--split-merged on] [--group-fragments on]
[--thin-sticks on] [--wood-judge on] [--lump-judge on]``.
``--wood-evidence on|off``: the union's part-loaded
features' candidates also reported on the second judge's odds of wood against "none" (:mod:`vision.decision_wood`).
``--kind-evidence on|off``: the union's candidates at full burden that the second judge judges alone also reported on
its odds of each kind against "none" (:mod:`vision.decision_kind`). ``--split-merged on|off``: an unreported
features' candidate whose cells fall into two colour groups (merged with the belt around it) split into its pieces,
each judged as a candidate (:mod:`vision.split`).
``--group-fragments on|off``: at full burden the seeded components within :data:`vision.fragments.GAP_MM` of each other
(the visible pieces of a partly buried object) also judged together as one candidate (``Detector.group_fragments``).
``--thin-sticks on|off``: on part-loaded belt the thin sticks seen at pixel scale also reported as wood
(``Detector.thin_sticks``, :mod:`vision.sticks`).
``--wood-judge on|off``: the union's part-loaded features' candidates left unreported also reported as wood on the wood
judge, a boosted model of wood against the belt (``Detector.wood_judge``, :mod:`vision.wood_judge`).
``--lump-judge on|off``: a candidate the kind rule calls a foreign kind reported as uncertain where the lump judge finds
it lump-like (``Detector.lump_judge``, :mod:`vision.lump_judge`).
``--local-load on|off``: each candidate judged at the lower of the whole belt's
load and the ore's share around it (``Detector.local_load``; the false-alarm lines show the whole belt's load where
the local one lowered it).
Images: see :data:`vision.tiles.ATTRIBUTION` and :data:`vision.objects.ATTRIBUTION_TEXTURES`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from typing import ContextManager
from dataclasses import replace

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import vision.sim_eval as sim_eval
from benchmarks.bench_vision import LINE_TARGET_M_S, line_rows
from benchmarks.common import every_detector, quantiles_text, switch_cost
from vision.densenet_data import stream
from vision.cli import decision_line
from vision.detect import Detection, Detector
from vision.exposure import ExposureNorm
from vision.station_settings import BELT_EDGE, DETECTOR_SWITCHES, EXPOSURE_NORM, METAL_BARS, SETTINGS
from vision.evaluate import MATCH_MARGIN_MM, Match, score_table
from vision.matched import MatchedFilter, MatchedRegion, MatchedStream
from vision.metal_bars import MetalBarStream
from vision.matched_level import FLOOR, check_filter, shipped_filter
from vision.features import CellFeatures, cell_features
from vision.pixelnet import BLOCK_PX, PixelNet, PixelRegion, PixelStream, pixel_inputs, shipped_pixelnet
from vision.pixelnet_level import FLOOR as PIXEL_FLOOR
from vision.sim_eval import evaluate
from vision.fit import VisionModel
from vision.model_cache import cached_model
from vision.frontier import CandidateScores, candidate_scores
from vision.realism import CLIPPING_M, all_checks, realism_lengths
from vision.scene import SceneObject
from vision.scene_report import exposure_text
from vision.scenes import (CAMERA_OPTIONS, CAMERAS, EVALUATION_CAMERA, REAL_CAMERA_TYPES, camera_scene_options,
                           scene_options)
from vision.visibility import visibility_table

#: (row label, scene type, extra object options, length share, recall target %, key of the recall row)
CASES: tuple[tuple[str, str, dict, float, float, str], ...] = (
    ("realistic", "realistic", {}, 1.0, 90.0, "size>=50:all"),
    ("today", "today", {}, 1.0, 95.0, "size>=50:all"),
    ("wood on realistic belt", "realistic", {"kinds": ("wood",)}, 0.5, 90.0, "kind>=50:wood"),
    ("wood on today's belt", "today", {"kinds": ("wood",)}, 0.5, 90.0, "kind>=50:wood"),
    ("dark rubber on dark ore", "dark-rubber", {}, 0.5, 80.0, "kind>=50:rubber"),
    ("wet wood", "wet-wood", {}, 0.5, 80.0, "kind>=50:wood"),
)


def exposure_norm_on(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds darkens its frames into the fit's range (:mod:`vision.exposure`)
    when ``on`` (as :func:`matched_on` attaches its filter); nothing changes when off."""
    def attach(det: Detector, mm_per_px: float) -> None:
        det.exposure = ExposureNorm(det.block)
    return _evidence_on(attach, None) if on else nullcontext()


def local_load_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds judges each candidate at the load around it
    (``Detector.local_load``, :func:`vision.regime.local_load`) when ``on``, at the whole belt's load when not."""
    return _switch_set("local_load", on)


def full_burden_judge_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds leaves the features' candidates at full burden to the union's
    second judge alone (``Detector.full_burden_judge``) when ``on``; both classifiers judge them when not."""
    return _switch_set("full_burden_judge", on)


def wood_evidence_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds also reports the union's part-loaded features' candidates on the
    second judge's odds of wood (``Detector.wood_evidence``, :mod:`vision.decision_wood`) when ``on``; not when off."""
    return _switch_set("wood_evidence", on)


def kind_evidence_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds also reports the union's candidates at full burden that the
    second judge judges alone on its odds of each kind (``Detector.kind_evidence``, :mod:`vision.decision_kind`) when
    ``on``; not when off."""
    return _switch_set("kind_evidence", on)


def split_merged_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds splits an unreported features' candidate whose cells fall into
    two colour groups and judges its pieces (``Detector.split_merged``, :mod:`vision.split`) when ``on``; not when off."""
    return _switch_set("split_merged", on)


def group_fragments_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds also judges the fragments of one object at full burden together
    (``Detector.group_fragments``, :mod:`vision.fragments`) when ``on``; not when off."""
    return _switch_set("group_fragments", on)


def wood_judge_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds also reports the union's part-loaded features' candidates left
    unreported as wood on the wood judge (``Detector.wood_judge``, :mod:`vision.wood_judge`) when ``on``; not when off."""
    return _switch_set("wood_judge", on)


def lump_judge_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds reports a candidate the kind rule calls a foreign kind as
    uncertain where the lump judge reaches its level (``Detector.lump_judge``, :mod:`vision.lump_judge`) when ``on``;
    not when off."""
    return _switch_set("lump_judge", on)


def thin_sticks_set(on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds also reports the thin sticks it sees at pixel scale on part-loaded
    belt (``Detector.thin_sticks``, :mod:`vision.sticks`) when ``on``; not when off."""
    return _switch_set("thin_sticks", on)


def _switch_set(switch: str, on: bool) -> ContextManager[None]:
    """Within the block every detector a model builds has its boolean attribute ``switch`` set to ``on`` (on or off:
    either overrides the station's default)."""
    def attach(det: Detector, mm_per_px: float) -> None:
        setattr(det, switch, on)
    return _evidence_on(attach, None)


#: ``--quick``'s realism belt (m): the checks run, their figures not comparable.
QUICK_CLIPPING_M = 10.0


def _row(name: str, value: float, unit: str, target: str, ok: bool) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}


def realism_rows(seed: int = 0, camera: str = EVALUATION_CAMERA, realism_m: float = CLIPPING_M) -> list[dict]:
    """Every realism check of the realistic scene type seen through ``camera`` on
    :func:`vision.realism.realism_lengths` of ``realism_m`` (printed; a row each: within the real spread or not)."""
    print(f"Renderer (realistic scenes, camera {camera}) against real images: rendered vs real (error; real spread):")
    rows = []
    for c in all_checks(seed, scene=camera_scene_options("realistic", camera)[0], **realism_lengths(realism_m)):
        print(f"  {c.line()}", flush=True)
        rows.append(_row(f"vision realism {c.name} (rendered {c.rendered:.3f}, real {c.real:.3f})", abs(c.error), c.unit,
                         f"<= {c.spread:.3f} (real spread)", c.ok))
    return rows


def decision_rows(model: VisionModel) -> list[dict]:
    """The model's object decision as ``vision fit`` prints it (:func:`vision.cli.decision_line`, ending with
    :func:`vision.cli.foundation_line`: the metres of the fit's own object-free belt it rests on), the union's second
    judge's the same way, and a row with the first decision's belt's 95 % bound per 1,000 m; none for a model without
    a decision record."""
    decision = model.fitted_on.get("decision") or {}
    print(f"model {model.version} ({model.mm_per_px:g} mm/px, fit version {model.fitted_on.get('fit_version')}): "
          f"{decision_line(decision)}", flush=True)
    judge = (model.fitted_on.get("union") or {}).get("judge_decision") or {}
    if judge:
        print(f"its second judge (the union's refit): {decision_line(judge)}", flush=True)
    if not decision.get("belt_m"):
        return []
    belt_m, bound = float(sum(decision["belt_m"].values())), float(decision["fa_bound_per_1000_m"]["all"])
    return [_row(f"vision decision founded on {belt_m:,.0f} m of the fit's object-free belt ({model.mm_per_px:g} mm/px; "
                 "95 % bound on that belt)", bound, "per 1,000 m", "<= 1", bound <= 1.0)]


def metal_bars_set(on: bool, record: MatchedRecord | None = None) -> ContextManager[None]:
    """Within the block every detector a model builds runs the metal bar evidence (``Detector.metal_bars``,
    :mod:`vision.metal_bars`) when ``on``, none when not (either overrides the default); ``record`` (if given) keeps
    of each scoring the truth and every detection, so that the union's own (:attr:`MatchedRecord.union`) are scored
    from the same run."""
    def attach(det: Detector, mm_per_px: float) -> None:
        det.metal_bars = MetalBarStream(mm_per_px) if on else None
    return _evidence_on(attach, record)


def _kinds_text(table: dict) -> str:
    return ", ".join(f"{k[9:]} {v['detected']}/{v['objects']}" for k, v in sorted(table["recall"].items()) if k.startswith("kind>=50:"))


def _union_text(record: MatchedRecord | None, table: dict, key: str) -> str:
    """With the metal bar evidence on (``record`` of the run): the union alone's recall row ``key`` and false alarms
    from the same run, and the metal bar regions reported (the evidence changes nothing the union reports)."""
    if record is None:
        return ""
    union = score_table(sim_eval.match(record.truth, record.union), table["belt_m"])
    u = union["recall"].get(key, {"recall": 0.0, "detected": 0, "objects": 0})
    n = sum(np.isfinite(d.metal_score) for d in record.detections)
    return (f"; the union alone {u['detected']}/{u['objects']} ({_kinds_text(union)}), false alarms {union['false_alarms']}; "
            f"metal bar regions reported {n}")


def scene_rows(model: VisionModel, length_m: float, seed: int, belt_edge: bool = BELT_EDGE, camera: str = "renderer",
               metal_bars: bool = False) -> list[dict]:
    """One recall row per case of :data:`CASES` against its target (``belt_edge``: candidates centred off the belt
    counted, not reported, :func:`vision.sim_eval.evaluate`; ``camera``: :func:`vision.scenes.camera_scene_options`;
    ``metal_bars``: with the metal bar evidence on, the union alone from the same run printed beside)."""
    rows = []
    for label, scene_type, extra, share, target, key in CASES:
        scene, objects = camera_scene_options(scene_type, camera)
        record = MatchedRecord() if metal_bars else None
        with metal_bars_set(True, record) if metal_bars else nullcontext():
            table, _ = evaluate(model, backgrounds="heldout", length_m=length_m * share, seed=seed, objects_per_m=1.0, scene=scene,
                                objects={**objects, **extra}, belt_edge=belt_edge, exposure_norm=False)  # on: exposure_norm_on
        r = table["recall"].get(key, {"recall": 0.0, "detected": 0, "objects": 0})
        print(f"{label}: recall >= 50 mm {100 * r['recall']:.1f} % ({r['detected']}/{r['objects']}; {_kinds_text(table)}); "
              f"false alarms {table['false_alarms']} in {table['belt_m']:.0f} m; {off_belt_text(table)}; "
              f"detector p99 {table['latency_p99_ms']:.0f} ms; target >= {target:.0f} %; {exposure_text(table)}"
              f"{_union_text(record, table, key)}", flush=True)
        rows.append(_row(f"vision recall >= 50 mm, {label} ({r['detected']}/{r['objects']}; {table['false_alarms']} false alarms in "
                         f"{table['belt_m']:.0f} m; {model.mm_per_px:g} mm/px, seed {seed})", 100 * r["recall"], "%", f">= {target:.0f}",
                         r["objects"] > 0 and 100 * r["recall"] >= target))
    return rows


def off_belt_text(table: dict) -> str:
    """How many reported candidates lay off the belt (:func:`vision.sim_eval.evaluate`'s ``off_belt``)."""
    return f"{table.get('off_belt', 0)} candidates off the belt (not reported)"


def false_alarm_row(model: VisionModel, fa_m: float, seed: int, scene_type: str = "realistic", belt_edge: bool = BELT_EDGE,
                    camera: str = "renderer", metal_bars: bool = False) -> dict:
    """False alarms on object-free belt of ``scene_type`` (held-out tiles; ``camera``: :func:`vision.scenes.camera_scene_options`), 95 %
    Poisson bound per 1,000 m (``metal_bars``: as :func:`scene_rows`)."""
    record = MatchedRecord() if metal_bars else None
    with metal_bars_set(True, record) if metal_bars else nullcontext():
        table, items = evaluate(model, backgrounds="heldout", length_m=fa_m, seed=seed + 1000, objects_per_m=0.0, frame_lines=2048,
                                scene=camera_scene_options(scene_type, camera)[0], belt_edge=belt_edge, exposure_norm=False)  # on: exposure_norm_on
    bound = table["false_alarms_per_1000_m_upper95"]
    print(f"object-free {scene_type} belt: {table['false_alarms']} false alarms in {table['belt_m']:.0f} m, 95 % bound {bound:.2f} per 1,000 m; "
          f"{off_belt_text(table)}; detector p99 {table['latency_p99_ms']:.0f} ms; {exposure_text(table)}{_union_text(record, table, 'all:all')}")
    for d in [d for truth, d in items if truth is None]:  # the first few (evaluate's gallery)
        print(f"  {false_alarm_line(d)}")
    return _row(f"vision false alarms, object-free {scene_type} belt ({table['false_alarms']} in {table['belt_m']:.0f} m; 95 % bound)",
                bound, "per 1,000 m", "<= 1", bound <= 1.0)


def false_alarm_line(d: Detection) -> str:
    """One false alarm: where, what, its p(none) against the level it passed at the belt load there, and who made and
    judged it (the features or the dense net's own region; the model's classifier or the union's second judge)."""
    made = "the dense net's own region" if d.dense_own else "the features"
    judged = "the union's second judge" if d.second_judge else "the model's classifier"
    if np.isfinite(d.metal_score):
        return (f"false alarm at {d.belt_m:.1f} m ({d.lateral_m:+.2f} m across): {d.kind}, {d.length_mm:.0f} x {d.width_mm:.0f} mm, "
                f"metal bar region, score {d.metal_score:.1f} at load {d.load:.3f}")
    return (f"false alarm at {d.belt_m:.1f} m ({d.lateral_m:+.2f} m across): {d.kind}, {d.length_mm:.0f} mm, p(none) {d.p_none:.3g} "
            f"<= {d.none_max:.3g} at load {d.load:.3f}{_belt_load_text(d)}; made by {made}, judged by {judged}")


def _belt_load_text(d: Detection) -> str:
    """Where the local load (``Detector.local_load``) lowered the load a candidate was judged at: the whole belt's."""
    return f" (local; whole belt {d.belt_load:.3f})" if np.isfinite(d.belt_load) and d.belt_load != d.load else ""


def ceiling_rows(model: VisionModel, length_m: float, seed: int, camera: str = "renderer") -> list[dict]:
    """Per case of :data:`CASES`: the candidate ceiling (objects >= 50 mm with any size-passing candidate on them:
    the recall if every candidate were reported) beside the recall at the fitted decision, from the same belt, and
    both by visible extent, burial and coating (:func:`visibility_rows`)."""
    rows = []
    for label, scene_type, extra, share, _, _ in CASES:
        scene, objects = camera_scene_options(scene_type, camera)
        cs = candidate_scores(model, "heldout", length_m=length_m * share, seed=seed, objects_per_m=1.0, scene=scene,
                              objects={**objects, **extra})
        n = max(1, cs.object_p_none.size)
        ceiling = 100.0 * float(cs.object_candidate.sum()) / n
        at_decision = 100.0 * float(cs.object_reported.sum()) / n
        print(f"{label}: candidate ceiling {ceiling:.1f} % of {cs.object_p_none.size} objects >= 50 mm "
              f"(at the decision {at_decision:.1f} %; {model.mm_per_px:g} mm/px, seed {seed})", flush=True)
        rows.append(_row(f"vision candidate ceiling, {label} ({cs.object_p_none.size} objects >= 50 mm; {model.mm_per_px:g} mm/px, "
                         f"seed {seed}; at the decision {at_decision:.1f} %)", ceiling, "%", "", True))
        rows += visibility_rows(label, cs)
        found = cs.object_p_none[np.isfinite(cs.object_p_none)]
        print(f"  {label}: p(none) of the best candidate on each object with one ({found.size}): {_spread(found)}")
    return rows


def _spread(p_none: np.ndarray) -> str:
    """min / 5 % / median / 95 % / max of ``p_none``, printed."""
    return quantiles_text(p_none, fmt=".2g")


def false_spread_row(model: VisionModel, fa_m: float, seed: int, scene_type: str, camera: str = "renderer") -> dict:
    """p(none) spread of the size-passing false candidates on object-free held-out belt of ``scene_type`` (the
    belt of :func:`false_alarm_row`), with how many lie at or below the decision applied where each lies."""
    cs = candidate_scores(model, "heldout", length_m=fa_m, seed=seed + 1000, objects_per_m=0.0, frame_lines=2048,
                          scene=camera_scene_options(scene_type, camera)[0])
    print(f"object-free {scene_type} belt: {cs.false_p_none.size} size-passing false candidates in {cs.belt_m:.0f} m, "
          f"p(none) {_spread(cs.false_p_none)}")
    low = float(cs.false_p_none.min()) if cs.false_p_none.size else 1.0
    return _row(f"vision lowest p(none) of a false candidate, object-free {scene_type} belt ({cs.false_p_none.size} in "
                f"{cs.belt_m:.0f} m)", low, "", "", True)


def visibility_rows(label: str, cs: CandidateScores) -> list[dict]:
    """Where recall is lost: objects >= 50 mm long by visible extent (the largest uncovered piece, >= 50 mm or
    less), burial and coating, found at the decision and with a candidate (printed as a table; a row each)."""
    if not cs.object_truth:
        return []
    table = visibility_table(cs.object_reported, cs.object_candidate, cs.object_truth)
    print(f"  {label}, by visibility: group | objects | at the decision | candidate ceiling")
    rows = []
    for r in table:
        n = r["objects"]
        print(f"    {r['group']:<36} {n:>4} {r['found']:>4} ({100 * r['found'] / n:5.1f} %) {r['ceiling']:>4} ({100 * r['ceiling'] / n:5.1f} %)")
        rows.append(_row(f"vision recall by visibility, {label}, {r['group']} ({r['found']}/{n}; ceiling {r['ceiling']}/{n})",
                         100.0 * r["found"] / n, "%", "", True))
    return rows


class MatchedRecord:
    """What ``--matched`` (or ``--pixelnet``) records of one evaluate: every region of the evidence down to its floor
    (belt m, lateral m, score), and the truth with the union's own detections (those the evidence did not make)."""

    def __init__(self) -> None:
        self.regions: list[tuple[float, float, float]] = []
        self.truth: list[SceneObject] = []
        self.detections: list[Detection] = []

    @property
    def union(self) -> list[Detection]:
        """The union's own detections (those the matched filter, the pixel net or the metal bar evidence did not make)."""
        return [d for d in self.detections if not (np.isfinite(d.matched_score) or np.isfinite(d.pixelnet_score) or np.isfinite(d.metal_score))]


class _RecordedPixelStream(PixelStream):
    """A :class:`PixelStream` at :data:`vision.pixelnet_level.FLOOR` that records every region and passes on those at
    the net's level."""

    def __init__(self, net: PixelNet, record: MatchedRecord, cell_mm: float, width_px: int, mm_per_px: float) -> None:
        super().__init__(net, PIXEL_FLOOR)
        self.net_level, self.record, self.cell_mm, self.half_px, self.mm_per_px = net.level, record, cell_mm, width_px / 2.0, mm_per_px

    def _decide(self, img: np.ndarray, feats: CellFeatures, start_row: int, final: bool) -> list[tuple[PixelRegion, int]]:
        found = super()._decide(img, feats, start_row, final)
        block = self.cell_mm / self.mm_per_px
        self.record.regions += [((row0 + r.row + 0.5) * self.cell_mm / 1000.0, ((r.col + 0.5) * block - self.half_px) * self.mm_per_px / 1000.0,
                                 r.score) for r, row0 in found]
        return [(r, row0) for r, row0 in found if r.score >= self.net_level]


class _RecordedStream(MatchedStream):
    """A :class:`MatchedStream` at :data:`FLOOR` that records every region and passes on those at the filter's level."""

    def __init__(self, mf: MatchedFilter, record: MatchedRecord, cell_mm: float, width_px: int, mm_per_px: float) -> None:
        super().__init__(replace(mf, level=FLOOR))
        self.level, self.record, self.cell_mm, self.half_px, self.mm_per_px = mf.level, record, cell_mm, width_px / 2.0, mm_per_px

    def _decide(self, rgb: np.ndarray, belt: np.ndarray, start_row: int, final: bool) -> list[tuple[MatchedRegion, int]]:
        found = super()._decide(rgb, belt, start_row, final)
        block = self.cell_mm / self.mm_per_px
        self.record.regions += [((row0 + r.row + 0.5) * self.cell_mm / 1000.0, ((r.col + 0.5) * block - self.half_px) * self.mm_per_px / 1000.0,
                                 r.score) for r, row0 in found]
        return [(r, row0) for r, row0 in found if r.score >= self.level]


def matched_on(mf: MatchedFilter, record: MatchedRecord | None = None) -> ContextManager[None]:
    """Within the block every detector a model builds runs the matched filter ``mf`` (``Detector.matched``), and
    ``record`` (if given) keeps its regions down to :data:`FLOOR` and, of each scoring, the truth and the union's own
    detections (None: the filter exactly as the detector runs it, regions at its level only)."""
    def attach(det: Detector, mm_per_px: float) -> None:
        det.matched = MatchedStream(mf) if record is None else _RecordedStream(mf, record, det.cell_mm, det.width_px, mm_per_px)
    return _evidence_on(attach, record)


def pixelnet_on(net: PixelNet, record: MatchedRecord | None = None) -> ContextManager[None]:
    """:func:`matched_on` for the pixel net ``net`` (``Detector.pixelnet``; regions recorded down to its floor)."""
    def attach(det: Detector, mm_per_px: float) -> None:
        det.pixelnet = PixelStream(net) if record is None else _RecordedPixelStream(net, record, det.cell_mm, det.width_px, mm_per_px)
    return _evidence_on(attach, record)


@contextmanager
def _evidence_on(attach: Callable[[Detector, float], None], record: MatchedRecord | None) -> Iterator[None]:
    scored = sim_eval.match

    def match(truth: Sequence[SceneObject], detections: Sequence[Detection], *, origin_belt_m: float = 0.0) -> Match:
        if record is not None:
            record.truth, record.detections = list(truth), list(detections)
        return scored(truth, detections, origin_belt_m=origin_belt_m)

    sim_eval.match = match
    try:
        with every_detector(attach):
            yield
    finally:
        sim_eval.match = scored


def _evidence(ev: MatchedFilter | PixelNet) -> tuple[Callable[[MatchedRecord | None], ContextManager[None]], str]:
    """(its context with a record, its tag in the tables) of the matched filter or the pixel net ``ev``."""
    if isinstance(ev, PixelNet):
        return (lambda record: pixelnet_on(ev, record)), "PN"
    return (lambda record: matched_on(ev, record)), "MF"


def _quantiles(v: list[float] | np.ndarray) -> str:
    return quantiles_text(v, (0.0, 0.1, 0.5, 0.9, 1.0), fmt=".1f", count=True)


def _object_scores(record: MatchedRecord, none: float = 0.0) -> np.ndarray:
    """Per truth object >= 50 mm: the highest region score within its match radius (``none``: no region recorded)."""
    pos = np.array([(b, lat) for b, lat, _ in record.regions]).reshape(-1, 2) * 1000.0
    sc = np.array([s for _, _, s in record.regions])
    out = []
    for o in (o for o in record.truth if o.length_mm >= 50.0):
        near = np.hypot(pos[:, 0] - o.belt_mm, pos[:, 1] - o.lateral_mm) <= o.length_mm / 2 + MATCH_MARGIN_MM
        out.append(float(sc[near].max()) if near.any() else none)
    return np.array(out)


def matched_scene_rows(model: VisionModel, mf: MatchedFilter | PixelNet, length_m: float, seed: int) -> list[dict]:
    """Per case of :data:`CASES`: recall >= 50 mm of the union alone and with the matched filter (U+MF; or the pixel
    net, U+PN), from the same run (the evidence changes nothing the union reports), with the evidence's score spread on
    the objects U+MF found and missed."""
    rows = []
    on, tag = _evidence(mf)
    for label, scene_type, extra, share, target, key in CASES:
        scene, objects = scene_options(scene_type)
        record = MatchedRecord()
        with on(record):
            table, _ = evaluate(model, backgrounds="heldout", length_m=length_m * share, seed=seed, objects_per_m=1.0, scene=scene,
                                objects={**objects, **extra})
        union = score_table(sim_eval.match(record.truth, record.union), table["belt_m"])
        r, u = (t["recall"].get(key, {"recall": 0.0, "detected": 0, "objects": 0}) for t in (table, union))
        by_obj = dict(zip([id(o) for o in record.truth if o.length_mm >= 50.0], _object_scores(record, 0.0 if tag == 'MF' else PIXEL_FLOOR)))
        pairs = [(o, d) for o, d in sim_eval.match(record.truth, record.detections).pairs if o.length_mm >= 50.0]
        found = np.array([d is not None for _, d in pairs], bool)
        sc = np.array([by_obj[id(o)] for o, _ in pairs])
        print(f"{label}: recall >= 50 mm union {100 * u['recall']:.1f} % ({u['detected']}/{u['objects']}), union+{tag} {100 * r['recall']:.1f} % "
              f"({r['detected']}/{r['objects']}); false alarms union {union['false_alarms']}, union+{tag} {table['false_alarms']} in "
              f"{table['belt_m']:.0f} m; target >= {target:.0f} %; detector p99 {table['latency_p99_ms']:.0f} ms", flush=True)
        print(f"  {tag} score on objects >= 50 mm found by U+{tag} {_quantiles(sc[found])}; missed {_quantiles(sc[~found])} (level {mf.level:g})", flush=True)
        alone = int((sc >= mf.level).sum())
        print(f"  {tag} alone at its level: {alone}/{sc.size} objects >= 50 mm ({100 * alone / max(sc.size, 1):.1f} %)", flush=True)
        rows.append(_row(f"vision recall >= 50 mm, {label}, union+{tag} ({r['detected']}/{r['objects']}; union {u['detected']}/{u['objects']}; "
                         f"{table['false_alarms']} false alarms in {table['belt_m']:.0f} m, union {union['false_alarms']}; {model.mm_per_px:g} mm/px, "
                         f"seed {seed})", 100 * r["recall"], "%", f">= {target:.0f}", r["objects"] > 0 and 100 * r["recall"] >= target))
    return rows


def matched_false_alarm_row(model: VisionModel, mf: MatchedFilter | PixelNet, fa_m: float, seed: int, scene_type: str) -> dict:
    """:func:`false_alarm_row` with the matched filter (or the pixel net) on: the union's and U+MF's false alarms from
    the same run, where the evidence's sit (lateral, load), and the spread of its region scores on that belt."""
    record = MatchedRecord()
    on, tag = _evidence(mf)
    with on(record):
        table, items = evaluate(model, backgrounds="heldout", length_m=fa_m, seed=seed + 1000, objects_per_m=0.0, frame_lines=2048,
                                scene=scene_options(scene_type)[0])
    union = score_table(sim_eval.match(record.truth, record.union), table["belt_m"])
    bound = table["false_alarms_per_1000_m_upper95"]
    print(f"object-free {scene_type} belt: union {union['false_alarms']}, union+{tag} {table['false_alarms']} false alarms in "
          f"{table['belt_m']:.0f} m, 95 % bound union {union['false_alarms_per_1000_m_upper95']:.2f}, union+{tag} {bound:.2f} per 1,000 m; "
          f"{tag} region scores (>= {FLOOR if tag == 'MF' else PIXEL_FLOOR:g}) {_quantiles([s for _, _, s in record.regions])}; level {mf.level:g}; "
          f"detector p99 {table['latency_p99_ms']:.0f} ms", flush=True)
    for d in [d for truth, d in items if truth is None]:
        print(f"  {false_alarm_line(d)}" + (f"; matched filter, score {d.matched_score:.1f}" if np.isfinite(d.matched_score) else "")
              + (f"; pixel net, peak log-odds {d.pixelnet_score:.2f}" if np.isfinite(d.pixelnet_score) else ""))
    return _row(f"vision false alarms, object-free {scene_type} belt, union+{tag} ({table['false_alarms']} in {table['belt_m']:.0f} m; union "
                f"{union['false_alarms']}; 95 % bound)", bound, "per 1,000 m", "<= 1", bound <= 1.0)


def main(argv: list[str] | None = None) -> list[dict]:
    """``--quick``: the shipped 4 mm/px model on a few metres of each scene (checks the benchmark runs)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_scenes", description=__doc__)
    ap.add_argument("--model", help="saved model (.npz); default the built-in model, fitted and cached")
    ap.add_argument("--mm-per-px", type=float, default=1.0)
    ap.add_argument("--length-m", type=float, default=200.0)
    ap.add_argument("--fa-m", type=float, default=3000.0, help="object-free realistic belt for the false-alarm bound (0: skip)")
    ap.add_argument("--fa-today-m", type=float, default=0.0, help="also object-free belt of today's scenes (0: skip)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--ceiling", action="store_true", help="also the candidate ceiling per case (every candidate reported) and "
                    "recall by visible extent, burial and coating")
    ap.add_argument("--spread", action="store_true", help="also the p(none) spread of the false candidates on the "
                    "object-free belts (their detection runs once more)")
    ap.add_argument("--quick", action="store_true", help="4 mm/px, 10 m per scene, 30 m object-free, the realism checks on 10 m")
    ap.add_argument("--matched", nargs="?", const="", default=None, metavar="NPZ",
                    help="also the colour-contrast matched filter (Detector.matched; default its file vision/matched_4mm.npz): the union "
                    "alone and union+MF from the same run, the filter's score spread on objects and belt")
    ap.add_argument("--pixelnet", nargs="?", const="", default=None, metavar="NPZ",
                    help="also the pixel net (Detector.pixelnet; default its file vision/pixelnet_4mm.npz), as --matched")
    ap.add_argument("--speed", action="store_true", help="with --matched, --pixelnet or --metal-bars on: only its cost, detector CPU "
                    "per frame and the line station")
    ap.add_argument("--station-m", type=float, default=300.0, help="line station run for --speed (m of belt)")
    ap.add_argument("--belt-edge", choices=("on", "off"), default="on" if BELT_EDGE else "off", help="candidates centred "
                    "beyond the scene's belt edge counted, not reported (on), or judged as any other (off); default "
                    "vision.detect.BELT_EDGE")
    ap.add_argument("--camera", choices=CAMERAS, default=EVALUATION_CAMERA, help="how the realistic, dark-rubber and wet-wood "
                    "types are lit and seen (vision.scenes.CAMERA_OPTIONS; default the lighting and colour pipeline "
                    "calibrated on the real photos; renderer: the renderer's own exposure; real: clip42's shoulder)")
    ap.add_argument("--exposure-norm", choices=("on", "off"), default="on" if EXPOSURE_NORM else "off", help="frames brighter than "
                    "the fit's range darkened into it before detection (vision/exposure.py); default vision.station_settings.EXPOSURE_NORM")
    for key in DETECTOR_SWITCHES:  # the station's switches of every detector, each as its key says
        on = SETTINGS.fields[key].default
        ap.add_argument("--" + key.replace("_", "-"), choices=("on", "off"), default="on" if on else "off",
                        help=f"{SETTINGS.fields[key].doc} (Detector.{key}; the station's {key} key; default {'on' if on else 'off'})")
    ap.add_argument("--metal-bars", choices=("on", "off"), default="on" if METAL_BARS else "off", help="the metal bar evidence "
                    "(vision/metal_bars.py, Detector.metal_bars) on every detector of the scene and false-alarm runs, the union "
                    "alone printed beside from the same run; default vision.station_settings.METAL_BARS")
    a = ap.parse_args(argv)
    if a.quick:
        a.mm_per_px, a.length_m, a.fa_m, a.ceiling = 4.0, 10.0, 30.0, True
    m = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=a.mm_per_px, width_px=round(2048 / a.mm_per_px))
    edge = a.belt_edge == "on"
    if a.matched is not None or a.pixelnet is not None:
        return matched_main(m, a)
    if a.speed:
        if a.metal_bars != "on":
            ap.error("--speed needs --matched, --pixelnet or --metal-bars on")
        return metal_speed_rows(m, a.station_m, a.camera, 8 if a.quick else 25)
    print(f"belt edge rule {a.belt_edge}: candidates centred beyond the belt's edge {'counted, not reported' if edge else 'judged as any other'}")
    print(f"camera {a.camera} ({CAMERA_OPTIONS[a.camera] or 'the renderer as it is'} on {', '.join(REAL_CAMERA_TYPES)}); "
          f"exposure normalisation {a.exposure_norm}; "
          + "".join(f"{key.replace('_', ' ')} {getattr(a, key)}; " for key in DETECTOR_SWITCHES) + f"metal bars {a.metal_bars}", flush=True)
    with exposure_norm_on(a.exposure_norm == "on"), ExitStack() as switches:
        for key in DETECTOR_SWITCHES:
            switches.enter_context(_switch_set(key, getattr(a, key) == "on"))
        realism = realism_rows(camera=a.camera, realism_m=QUICK_CLIPPING_M if a.quick else CLIPPING_M)
        return decision_rows(m) + realism + _measured_rows(m, a, edge)


def _measured_rows(m: VisionModel, a: argparse.Namespace, edge: bool) -> list[dict]:
    """The scene, ceiling, false-alarm and spread rows of :func:`main`."""
    metal = a.metal_bars == "on"
    rows = scene_rows(m, a.length_m, a.seed, edge, a.camera, metal)
    if a.ceiling:
        rows += ceiling_rows(m, a.length_m, a.seed, a.camera)
    if a.fa_m > 0:
        rows.append(false_alarm_row(m, a.fa_m, a.seed, belt_edge=edge, camera=a.camera, metal_bars=metal))
    if a.fa_today_m > 0:
        rows.append(false_alarm_row(m, a.fa_today_m, a.seed, "today", belt_edge=edge, camera=a.camera, metal_bars=metal))
    for belt_m, scene_type in ((a.fa_m, "realistic"), (a.fa_today_m, "today")):
        if a.spread and belt_m > 0:
            rows.append(false_spread_row(m, belt_m, a.seed, scene_type, a.camera))
    return rows


def matched_speed_rows(model: VisionModel, mf: MatchedFilter | PixelNet, n_frames: int = 25, station_m: float = 300.0) -> list[dict]:
    """The matched filter's (or pixel net's) cost on the shipped union, off and on (as the detector runs it: regions at
    its level only), three times in turn: the detector's CPU per 2,048-line frame of held-out object-free realistic
    belt (seed 1011, ``n_frames``) and the 4 mm/px line station (``bench_vision.line_rows``, ``station_m``)."""
    frames = [f for f, _ in stream("heldout", 1011, n_frames * 8.192, scene=scene_options("realistic")[0], objects=None, objects_per_m=0.0)]
    switch, tag = _evidence(mf)
    own = []
    if isinstance(mf, PixelNet):
        ms = pixelnet_ms(mf, frames)
        own = [_row("vision pixel net's own run, CPU per 2048 x 512 frame (4 mm/px, one thread, median)", ms, "ms", "<= 15", ms <= 15.0)]
    return own + evidence_speed_rows(model, lambda: switch(None), tag, "matched filter's" if tag == "MF" else "pixel net's", frames,
                                     station_m)


def evidence_speed_rows(model: VisionModel, switch: Callable[[], ContextManager[None]], tag: str, what: str, frames: Sequence,
                        station_m: float = 300.0) -> list[dict]:
    """A run-time evidence's cost on the shipped union, off and on (``switch()``: its context), three times in turn: the
    detector's CPU per frame of ``frames`` and the 4 mm/px line station (``bench_vision.line_rows``, ``station_m``)."""
    cost = switch_cost(lambda: model.detector(), switch, frames, lambda: line_rows(4.0, max_m=station_m)[0]["value"])
    print(f"{cost.text('union', f'union+{tag}')} (2,048-line frames, median of {len(frames) - 1}; station {station_m:.0f} m; "
          f"load {os.getloadavg()[0]:.1f})", flush=True)
    rate = cost.station_on_m_s
    return [_row(f"vision detector, {what} added CPU per 2048-line frame (4 mm/px)", cost.added_ms, "ms", "", True),
            _row(f"vision line station 4 mm/px, union+{tag}, m of belt per CPU second", rate, "m/s", f">= {LINE_TARGET_M_S:.0f}",
                 rate >= LINE_TARGET_M_S),
            _row(f"vision line station 4 mm/px, union+{tag} against the union in the same run", 100.0 * cost.station_share,
                 "%", ">= 85", cost.station_share >= 0.85)]


def metal_speed_rows(model: VisionModel, station_m: float, camera: str, n_frames: int = 25) -> list[dict]:
    """The metal bar evidence's cost (:func:`evidence_speed_rows`) on ``n_frames`` 2,048-line frames of held-out
    object-free realistic belt seen through ``camera`` (seed 1011: a full burden, so every frame is searched)."""
    frames = [f for f, _ in stream("heldout", 1011, n_frames * 8.192, scene=camera_scene_options("realistic", camera)[0], objects=None,
                                   objects_per_m=0.0)]
    return evidence_speed_rows(model, lambda: metal_bars_set(True), "metal", "metal bar evidence's", frames, station_m)


def pixelnet_ms(net: PixelNet, frames: Sequence) -> float:
    """Median CPU ms of the net's own run (:meth:`PixelNet.logit_map`, one thread) per frame of ``frames`` (2,048 x
    512 px), the first left out (the session's start); printed with its p90 and the inputs' cost."""
    run_ms, inputs_ms, ref = [], [], None
    for f in frames:
        feats = cell_features(f.image, BLOCK_PX, ref_start=ref)
        t1 = time.thread_time()
        inp = pixel_inputs(f.image, feats)
        t2 = time.thread_time()
        net.logit_map(inp.px, inp.gain, inp.cells)
        run_ms.append(1000.0 * (time.thread_time() - t2))
        inputs_ms.append(1000.0 * (t2 - t1))
        ref = feats.last_ref
    med, p90 = np.median(run_ms[1:]), np.quantile(run_ms[1:], 0.9)
    print(f"pixel net's own run: {med:.1f} ms CPU median per {frames[0].image.shape[0]} x {frames[0].image.shape[1]} frame "
          f"(p90 {p90:.1f} ms; its inputs {np.median(inputs_ms[1:]):.1f} ms; {len(run_ms) - 1} frames; target <= 15 ms)", flush=True)
    return float(med)


def matched_main(m: VisionModel, a: argparse.Namespace) -> list[dict]:
    """``--matched`` (or ``--pixelnet``): every case and object-free belt with the union alone and union+MF (from the
    same runs); with ``--speed`` only the evidence's cost."""
    mf: MatchedFilter | PixelNet
    if a.pixelnet is not None:
        mf = PixelNet.load(a.pixelnet) if a.pixelnet else shipped_pixelnet()
        print(f"pixel net {mf.digest}: level {mf.level:g}, fitted {mf.provenance}", flush=True)
    else:
        mf = check_filter(MatchedFilter.load(a.matched)) if a.matched else shipped_filter()
        print(f"matched filter: level {mf.level:g}, {len(mf.directions)} colour directions, fitted {mf.provenance}", flush=True)
    if a.speed:
        return matched_speed_rows(m, mf, station_m=a.station_m)
    rows = decision_rows(m) + matched_scene_rows(m, mf, a.length_m, a.seed)
    for belt_m, scene_type in ((a.fa_m, "realistic"), (a.fa_today_m, "today")):
        if belt_m > 0:
            rows.append(matched_false_alarm_row(m, mf, belt_m, a.seed, scene_type))
    return rows


if __name__ == "__main__":
    main()
