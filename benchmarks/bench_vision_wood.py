"""Wood (or another kind, ``--kind``) under the union (issue 27, w27t; metal51): why the shipped union leaves it unreported.

For each wood object >= 50 mm of the three wood cases of ``bench_vision_dense`` (wood on realistic belt, on today's
belt, wet wood; the same frames for the same seed), through the union's detector (FIT_VERSION 13's model with the
refit's net as seeds and its classifier, the judge, beside FIT 13's; every candidate kept): whether a size-passing
candidate lies on it (the features' / the net's own), the lowest p(none) on it under FIT 13's classifier (features'
candidates: the ones it judges) and under the judge (all), each against its decision at the candidate's belt load,
the class other than "none" with the most mass, and the object's visible extent, burial, coating and wetness
(:func:`vision.visibility.truth_bins`). Each object gets one cause (:func:`cause`). With ``--fa-m``: the judge's
lowest p(none) on ore of object-free held-out belt (the ore that holds the decision down), and the features that
separate the missed wood candidates from it (standardised by the judge's own scaling).

Run: ``.venv/bin/python -m benchmarks.bench_vision_wood [--judge C.npz] [--seed 51] [--length-m 100] [--fa-m 1000]
[--save OUT.npz] [--quick] [--causes] [--kind metal] [--camera calibrated]`` (``--kind``: another kind than wood, alone on
realistic and on today's belt, :func:`kind_cases`; ``--camera``: the realistic types' camera, default the renderer's) (``--judge``: a refit's net and classifier, default the shipped union's own;
``--save``: every candidate's features, belt load and whether it is the net's own, to score other judges offline,
:func:`score`; ``--quick``: 10 m of each wood case, no object-free belt; ``--causes``: for each wood object
without a size-passing candidate, the stage that loses it, for the features and for the union's net,
:func:`loss_rows`). Development seeds only (docs/vision.md
"Wood under the union").
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, replace

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from benchmarks.bench_vision_dense import CASES, FREE_SCENES, MM_PER_PX, WIDTH_PX, hybrid_of
from vision.classify import COMPONENT_FEATURES, DENSE_FEATURE, KindClassifier
from vision.densenet import DenseSeeds
from vision.densenet_data import stream
from vision.densenet_eval import TARGET_MM, _near
from vision.errors import VisionError
from vision.fit import VisionModel
from vision.kind_decision import NONE
from vision.model_cache import cached_model
from vision.objects import KINDS
from vision.metal_bars import METAL_PARAMS, MetalBarStream
from vision.planks import PlankParams, PlankStream
from vision.scene import BeltScene
from vision.scenes import CAMERAS, camera_scene_options
from vision.seeds_diagnose import loss_details
from vision.union_fit import features_model
from vision.visibility import truth_bins

WOOD_CASES = tuple(c for c in CASES if "wood" in c[0])
#: The kinds ``--kind`` takes (:data:`vision.objects.KINDS`).
DIAGNOSED_KINDS = KINDS


def kind_cases(kind: str) -> tuple[tuple[str, str, dict, float], ...]:
    """The cases diagnosed for ``kind`` (as :data:`benchmarks.bench_vision_dense.CASES`): wood's three of that
    benchmark (:data:`WOOD_CASES`), any other kind alone on realistic and on today's belt (half the length each).
    Raises ValueError for a kind not in :data:`vision.objects.KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"expected a kind of {', '.join(KINDS)}, got {kind!r}")
    if kind == "wood":
        return WOOD_CASES
    return tuple((f"{kind} on {where} belt", st, {"kinds": (kind,)}, 0.5) for where, st in (("realistic", "realistic"), ("today's", "today")))
#: A missed candidate whose p(none) is within this factor of its decision is "near" the decision, else "far".
NEAR_FACTOR = 10.0


@dataclass
class Candidates:
    """Size-passing candidates of one stream: ``x`` (n, features), belt ``load``, ``own`` (the net's own region),
    centres ``pos`` (n, 2) belt / lateral mm; the truth objects >= TARGET_MM (``objects``: kind, length, centre) and
    their :func:`vision.visibility.truth_bins`; with ``keep_frames`` the ``frames`` and the camera's ``scene``;
    each candidate's ``area`` (mm²)."""

    x: np.ndarray
    load: np.ndarray
    own: np.ndarray
    pos: np.ndarray
    objects: list
    bins: dict
    frames: list = field(default_factory=list)
    area: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scene: BeltScene | None = None
    #: With the plank evidence on (``--planks``): its regions, (n, 4) belt / lateral mm, score, reported (1 / 0).
    planks: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    #: With the metal bar evidence on (``--metal-bars``): its regions, as ``planks``.
    metal: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))


def union_candidates(reference: VisionModel, judged: VisionModel, seed: int, length_m: float, scene: dict,
                     objects: dict | None, objects_per_m: float, keep_frames: bool = False, planks: bool = False,
                     metal: bool = False) -> Candidates:
    """Every size-passing candidate of the union's detector (``reference``'s model, ``judged``'s net and classifier,
    ``Detector.dense_union``) over ``length_m`` of held-out belt of ``seed`` (``keep_frames``: with the frames, for
    :func:`loss_rows`; ``planks``: with the plank evidence on, ``Detector.planks``, its regions apart; ``metal``: the
    metal bar evidence, ``Detector.metal_bars``, the same way)."""
    det = reference.detector()
    det.report_all, det.dense_seeds, det.dense_classifier, det.dense_union = True, judged.dense, judged.classifier, True
    det.thin_sticks = False  # the union's candidates and the evidences named here (the sticks: bench_vision_scenes)
    det.planks = PlankStream(PlankParams(), det.cell_mm) if planks else None
    det.metal_bars = MetalBarStream(reference.mm_per_px) if metal else None
    found, cam, frames = [], None, []
    for frame, camera in stream("heldout", seed, length_m, scene=scene, objects=objects, objects_per_m=objects_per_m,
                                mm_per_px=MM_PER_PX, width_px=WIDTH_PX):
        cam = camera
        frames += [frame] if keep_frames else []
        found += det.process(frame).detections
    found += det.flush()
    if cam is None:
        raise ValueError(f"no belt streamed (length_m {length_m})")
    plank, bars = (np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0, getattr(d, f), float(d.p_none <= d.none_max)]
                             for d in found if np.isfinite(getattr(d, f))], float).reshape(-1, 4) for f in ("plank_score", "metal_score"))
    cand = [d for d in found if d.length_mm >= reference.params.min_length_mm and not np.isfinite(d.plank_score) and not np.isfinite(d.metal_score)]
    big = [o for o in cam.objects if o.belt_mm < cam.position_m * 1000.0 and o.length_mm >= TARGET_MM]
    x = np.array([d.features for d in cand], float).reshape(len(cand), -1)
    return Candidates(x, np.array([d.load for d in cand], float), np.array([d.dense_own for d in cand], bool),
                      np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in cand], float).reshape(-1, 2), big,
                      truth_bins(cam.scene, big) if big and cam.scene is not None else {}, frames=frames,
                      area=np.array([d.area_mm2 for d in cand], float), scene=cam.scene, planks=plank, metal=bars)


@dataclass
class Scores:
    """One classifier's verdict on candidates: p(none), the decision at each one's load, the kind (not "none") with
    the most mass and that mass."""

    p_none: np.ndarray
    decision: np.ndarray
    kind: np.ndarray
    kind_p: np.ndarray

    @property
    def reported(self) -> np.ndarray:
        return self.p_none <= self.decision


def score(clf: KindClassifier, x: np.ndarray, load: np.ndarray) -> Scores:
    """``clf``'s :class:`Scores` of candidate rows ``x`` at belt ``load``."""
    if not len(x):
        return Scores(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    p = clf.proba(x)
    none = clf.classes_ == NONE
    other = np.where(none[None, :], -1.0, p)
    return Scores(p[:, none].sum(axis=1), np.broadcast_to(clf.levels(load), (len(x),)).astype(float),
                  clf.classes_[other.argmax(axis=1)], other.max(axis=1))


def cause(any_cand: bool, reported: bool, ratio: float) -> str:
    """The cause of one object: "found", "no candidate", or a missed candidate "near" (its lowest p(none) within
    NEAR_FACTOR of the decision, for the better of the two classifiers) or "far" from the decision. ``ratio``: the
    better classifier's p(none) / decision on the object."""
    if reported:
        return "found"
    if not any_cand:
        return "no candidate"
    return "missed, near the decision" if ratio <= NEAR_FACTOR else "missed, far from the decision"


def object_rows(c: Candidates, base: Scores, judge: Scores) -> list[dict]:
    """Per truth object >= TARGET_MM: candidates on it, the best p(none) of each classifier with its decision and
    kind, reported by the union, the cause, and its visibility."""
    rows = []
    for i, o in enumerate(c.objects):
        on = _near(c.pos, o.belt_mm, o.lateral_mm, o.length_mm) if len(c.pos) else np.zeros(0, bool)
        feat, own = on & ~c.own, on & c.own
        row: dict = {"kind": o.kind, "length_mm": float(o.length_mm), "width_mm": float(o.width_mm), "features": bool(feat.any()), "own": bool(own.any())}
        for name, s, mask in (("fit13", base, feat), ("judge", judge, on)):
            if mask.any():
                j = np.flatnonzero(mask)[int(np.argmin(s.p_none[mask] / s.decision[mask]))]
                row.update({f"{name}_p_none": float(s.p_none[j]), f"{name}_decision": float(s.decision[j]),
                            f"{name}_kind": str(s.kind[j]), f"{name}_kind_p": float(s.kind_p[j]), f"{name}_reported": bool(s.reported[j])})
            else:
                row.update({f"{name}_p_none": np.nan, f"{name}_decision": np.nan, f"{name}_kind": "-", f"{name}_kind_p": np.nan,
                            f"{name}_reported": False})
        ratios = [row[f"{n}_p_none"] / row[f"{n}_decision"] for n in ("fit13", "judge") if np.isfinite(row[f"{n}_p_none"])]
        row["reported"] = row["fit13_reported"] or row["judge_reported"]
        for name, regions in (("plank", c.planks), ("metal", c.metal)):
            pl = _near(regions[:, :2], o.belt_mm, o.lateral_mm, o.length_mm) if len(regions) else np.zeros(0, bool)
            row[f"{name}_score"] = float(regions[pl, 2].max()) if pl.any() else np.nan
            row[f"{name}_reported"] = bool((regions[pl, 3] > 0).any()) if pl.any() else False
        row["cause"] = cause(bool(on.any()), row["reported"], min(ratios) if ratios else np.inf)
        row.update({k: (bool(v[i]) if v.dtype == bool else float(v[i])) for k, v in c.bins.items()})
        rows.append(row)
    return rows


def cause_counts(rows: list[dict], kind: str = "wood") -> dict[str, int]:
    """Objects of ``kind`` per cause."""
    out: dict[str, int] = {}
    for r in rows:
        if r["kind"] == kind:
            out[r["cause"]] = out.get(r["cause"], 0) + 1
    return out


def _print_rows(label: str, rows: list[dict], kind: str = "wood") -> None:
    print(f"{label}: {kind} objects >= {TARGET_MM:g} mm: " + ", ".join(f"{k} {v}" for k, v in sorted(cause_counts(rows, kind).items())), flush=True)
    for r in rows:
        if r["kind"] != kind:
            continue
        print(f"  {r['length_mm']:5.0f} mm vis {r.get('visible_mm', np.nan):4.0f} buried {r.get('buried', np.nan):.2f} coat "
              f"{r.get('coating', np.nan):.2f} wet {int(r.get('wet', False))} | cand feat {int(r['features'])} own {int(r['own'])} | "
              f"FIT13 {r['fit13_p_none']:.2g}/{r['fit13_decision']:.2g} {r['fit13_kind']} | judge {r['judge_p_none']:.2g}/"
              f"{r['judge_decision']:.2g} {r['judge_kind']} {r['judge_kind_p']:.2f} | {r['cause']} | plank {r['plank_score']:.1f}"
              f"{' reported' if r['plank_reported'] else ''} | metal bars {r['metal_score']:.1f}{' reported' if r['metal_reported'] else ''}",
              flush=True)


#: Belt either side of an object (mm) rendered as one stretch for :func:`loss_rows`.
STRETCH_MM = 2500.0


def stretch(frames: list, belt_mm: float, mm_per_px: float = MM_PER_PX) -> tuple[np.ndarray, float]:
    """(image, start belt m) of the consecutive ``frames`` within STRETCH_MM of ``belt_mm``, joined as one frame."""
    near = [f for f in frames if f.start_belt_m * 1000.0 <= belt_mm + STRETCH_MM
            and f.start_belt_m * 1000.0 + f.image.shape[0] * mm_per_px >= belt_mm - STRETCH_MM]
    if not near:
        raise ValueError(f"no frame within {STRETCH_MM:g} mm of belt {belt_mm:.0f} mm")
    return np.concatenate([f.image for f in near], axis=0), near[0].start_belt_m


def loss_rows(c: Candidates, rows: list[dict], reference: VisionModel, judged: VisionModel, kind: str = "wood") -> None:
    """Add to each row of ``kind`` without a candidate where it is lost (:func:`vision.seeds_diagnose.loss_details`): the
    features' stage with the matching region's measured length / area, and the union's net's (its peak log-odds on
    the object against its level; below level / merged / too small / frame cut)."""
    if c.scene is None:
        raise ValueError("no scene kept: run union_candidates with keep_frames")
    for r, o in zip(rows, c.objects):
        if r["kind"] != kind or r["cause"] != "no candidate":
            continue
        img, start_m = stretch(c.frames, o.belt_mm, reference.mm_per_px)
        loss = loss_details(reference, c.scene, img, start_m, [o], judged.dense)[0]
        r.update({"feat_cause": loss.cause, "feat_length_mm": loss.length_mm, "feat_area_mm2": loss.area_mm2})
        if loss.net is not None:
            r.update({"net_cause": loss.net.cause, "net_peak": loss.net.peak, "net_level": loss.net.level,
                      "net_length_mm": loss.net.length_mm, "net_area_mm2": loss.net.area_mm2})


def _print_losses(label: str, rows: list[dict], gate_mm: float, gate_mm2: float, kind: str = "wood") -> None:
    lost = [r for r in rows if "feat_cause" in r]
    print(f"{label}: {len(lost)} {kind} objects without a candidate (size gate {gate_mm:g} mm, {gate_mm2:g} mm²)", flush=True)
    for r in lost:
        print(f"  {r['length_mm']:5.0f} x {r.get('width_mm', np.nan):3.0f} mm vis {r.get('visible_mm', np.nan):4.0f} buried "
              f"{r.get('buried', np.nan):.2f} coat {r.get('coating', np.nan):.2f} | features: {r['feat_cause']} (region "
              f"{r['feat_length_mm']:.0f} mm {r['feat_area_mm2']:.0f} mm²) | {r.get('net_cause', '-')} (peak "
              f"{r.get('net_peak', np.nan):+.3f} / level {r.get('net_level', np.nan):+.3f}; own region "
              f"{r.get('net_length_mm', np.nan):.0f} mm {r.get('net_area_mm2', np.nan):.0f} mm²)", flush=True)


def loss_counts(rows: list[dict]) -> dict[str, int]:
    """Objects without a candidate (of the kind diagnosed) per (features' stage | net's stage)."""
    out: dict[str, int] = {}
    for r in rows:
        if "feat_cause" in r:
            k = f"{r['feat_cause']} | {r.get('net_cause', '-')}"
            out[k] = out.get(k, 0) + 1
    return out


def separation(missed: np.ndarray, ore: np.ndarray, judge: KindClassifier, top: int = 8) -> list[tuple[str, float]]:
    """The ``top`` features by |mean difference| between missed candidates (of the kind diagnosed) and the ore candidates, in units of
    the judge's scaling (its ``scale_``), largest first: (name, missed minus ore)."""
    names = list(COMPONENT_FEATURES) + [DENSE_FEATURE]
    xm, xo = judge.inputs(missed), judge.inputs(ore)
    d = (xm.mean(axis=0) - xo.mean(axis=0)) / judge.scale_
    order = np.argsort(-np.abs(d))[:top]
    return [(names[k], float(d[k])) for k in order]


def shipped_union_judge() -> VisionModel:
    """The shipped 4 mm/px union's net and judge as a model whose ``classifier`` is the judge (as ``--hybrid C.npz``)."""
    shipped = cached_model(mm_per_px=MM_PER_PX, width_px=WIDTH_PX)
    if shipped.dense is None or shipped.dense_judge is None:
        raise ValueError(f"the {MM_PER_PX:g} mm/px model {shipped.version} has no dense net and judge: give --judge C.npz")
    return replace(shipped, classifier=shipped.dense_judge)


def run_time_variant(reference: VisionModel, judged: VisionModel, net_level: float | None,
                     min_area_mm2: float | None) -> tuple[VisionModel, VisionModel]:
    """(``reference``, ``judged``) with the union's run-time settings changed, no refit: the net's ``level``
    (log-odds; its own regions and seeds, :class:`vision.densenet.DenseSeeds`) and the size gate's
    ``min_area_mm2`` (:class:`vision.detect.DetectorParams`); None keeps the model's own."""
    if net_level is not None:
        if judged.dense is None:
            raise ValueError("--net-level: the union's model carries no dense net")
        judged = replace(judged, dense=DenseSeeds(judged.dense.net, net_level, judged.dense.own_peak))
    if min_area_mm2 is not None:
        if min_area_mm2 <= 0:
            raise ValueError(f"--min-area-mm2 {min_area_mm2:g}: the size gate's area must be positive (mm²)")
        reference = replace(reference, params=replace(reference.params, min_area_mm2=float(min_area_mm2)))
    return reference, judged


def union_reports(c: Candidates, base: Scores, judge: Scores) -> np.ndarray:
    """Which candidates the union reports: the features' by FIT 13's classifier or the judge, the net's own by the
    judge, each at its decision."""
    return (base.reported & ~c.own) | judge.reported


def plank_summary(label: str, rows: list[dict], kind: str = "wood", evidence: str = "plank") -> dict[str, int]:
    """Print and return, for the objects of ``kind`` >= 50 mm of one case, found by the union and by the union with the
    plank evidence (``evidence`` "metal": the metal bar evidence; its own reports added), and of those without a
    candidate how many a region of it reaches / reports."""
    wood = [r for r in rows if r["kind"] == kind]
    lost = [r for r in wood if r["cause"] == "no candidate"]
    tag, name = ("P", "plank evidence") if evidence == "plank" else ("M", "metal bar evidence")
    k = {kind: len(wood), "union": sum(r["reported"] for r in wood), f"union+{tag}": sum(r["reported"] or r[f"{evidence}_reported"] for r in wood),
         "no candidate": len(lost), "reached": sum(np.isfinite(r[f"{evidence}_score"]) for r in lost),
         "reported": sum(r[f"{evidence}_reported"] for r in lost)}
    print(f"{label}, {name}: {kind} found union {k['union']}/{k[kind]}, union+{tag} {k[f'union+{tag}']}/{k[kind]}; of the "
          f"{k['no candidate']} without a candidate, a {evidence} region reaches {k['reached']} and reports {k['reported']}", flush=True)
    return k


def spread_text(v: np.ndarray) -> str:
    """Quantiles 0 / 0.1 / 0.5 / 0.9 / 0.99 / 1 of ``v`` (NaN dropped) and its size."""
    v = v[np.isfinite(v)]
    return " / ".join(f"{x:.1f}" for x in np.quantile(v, [0.0, 0.1, 0.5, 0.9, 0.99, 1.0])) + f" ({v.size})" if v.size else "none"


def _print_free_planks(scene_type: str, fa_m: float, c: Candidates, union_fa: int, name: str = "plank evidence") -> None:
    """The plank evidence (``name``: another's regions in ``c.planks``) on ``fa_m`` of object-free belt: its regions and
    reports per 1,000 m, the false alarms of the union with it (``union_fa``: the union's own), and its score's spread."""
    n_rep = int(c.planks[:, 3].sum())
    print(f"object-free {scene_type} belt, {fa_m:.0f} m, {name}: {len(c.planks)} regions ({len(c.planks) / fa_m * 1000.0:.0f} "
          f"per 1,000 m), reported {n_rep} ({n_rep / fa_m * 1000.0:.2f} per 1,000 m): false alarms of union+{'P' if name == 'plank evidence' else 'M'} {union_fa + n_rep} "
          f"(the union's {union_fa}); score quantiles 0 / 0.1 / 0.5 / 0.9 / 0.99 / max, all regions {spread_text(c.planks[:, 2])}, "
          f"the reported {', '.join(f'{v:.0f}' for v in np.sort(c.planks[c.planks[:, 3] > 0, 2])[::-1])}", flush=True)


def _print_plank_totals(totals: dict[str, int], wood: list[dict], kind: str = "wood") -> None:
    """The plank evidence over the cases of ``kind``: counts (:func:`plank_summary` added up) and the spread of the best
    plank score on each object of the kind (``wood``: their rows) and on those without a candidate (regions on an object the union reports are merged
    into its report: not counted)."""
    best = np.array([r["plank_score"] for r in wood], float)
    lost = np.array([r["plank_score"] for r in wood if r["cause"] == "no candidate"], float)
    print(f"plank evidence, the {kind} cases: " + ", ".join(f"{n} {v}" for n, v in totals.items()) + "; best plank score "
          f"per {kind} object >= 50 mm, quantiles 0 / 0.1 / 0.5 / 0.9 / 0.99 / max {spread_text(best)}; on those without a "
          f"candidate {spread_text(lost)}; level {PlankParams().level:g} at belt load >= {PlankParams().min_load:g}", flush=True)


def rows_of(out: dict, kind: str = "wood") -> list[dict]:
    """Benchmark rows: per case of ``kind``, its objects found by the union and per cause."""
    rows = []
    for label, v in out.items():
        if "rows" not in v:
            continue
        n, counts = sum(r["kind"] == kind for r in v["rows"]), cause_counts(v["rows"], kind)
        for name, k in sorted(counts.items()):
            rows.append({"name": f"vision union, {kind} objects >= 50 mm, {label}: {name} ({k}/{n})", "value": 100.0 * k / max(n, 1),
                         "unit": "%", "target": "", "ok": True})
    return rows


def _free_belt(a: argparse.Namespace, st: str, reference: VisionModel, judged: VisionModel) -> tuple[dict, list[np.ndarray]]:
    """``a.fa_m`` of object-free belt of scene type ``st`` (seed + 1000): its candidates and false alarms printed (with
    the plank and metal bar evidence's regions where switched on); (its candidates' rows, the judge's 20 lowest)."""
    assert reference.classifier is not None and judged.classifier is not None
    c = union_candidates(reference, judged, a.seed + 1000, a.fa_m, camera_scene_options(st, a.camera)[0], None, 0.0, planks=a.planks,
                         metal=a.metal_bars)
    s = score(judged.classifier, c.x, c.load)
    fa = union_reports(c, score(reference.classifier, c.x, c.load), s)
    if a.planks:
        _print_free_planks(st, a.fa_m, c, int(fa.sum()))
    if a.metal_bars:
        _print_free_planks(st, a.fa_m, replace(c, planks=c.metal), int(fa.sum()), "metal bar evidence")
    low = np.argsort(s.p_none / s.decision)[:20]
    print(f"object-free {st} belt, {a.fa_m:.0f} m: {len(c.x)} candidates ({len(c.x) / a.fa_m * 1000.0:.0f} per 1,000 m; "
          f"the net's own {int(c.own.sum())}, under 300 mm² {int(np.sum(c.area < 300.0))}); false alarms of the union "
          f"{int(fa.sum())} (the net's own {int(np.sum(fa & c.own))}); judge's lowest p(none)/decision "
          + ", ".join(f"{s.p_none[j]:.2g}/{s.decision[j]:.2g} {s.kind[j]}" for j in low[:8]), flush=True)
    return {"x": c.x, "load": c.load, "own": c.own}, [c.x[j] for j in low]


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_wood", description=__doc__)
    ap.add_argument("--judge", metavar="C.npz", help="the refit whose net and classifier make the union (default: the "
                    "shipped union's own net and judge)")
    ap.add_argument("--seed", type=int, default=51, help="objects' seed (object-free belts: seed + 1000)")
    ap.add_argument("--length-m", type=float, default=100.0, help="as bench_vision_dense: the wood cases get half")
    ap.add_argument("--fa-m", type=float, default=0.0, help="object-free held-out realistic and today's belt each (m); 0: none")
    ap.add_argument("--save", help="save every candidate's features, load and whether it is the net's own (.npz)")
    ap.add_argument("--quick", action="store_true", help="10 m of each wood case, no object-free belt")
    ap.add_argument("--net-level", type=float, help="run-time change: the union's net's level (log-odds; shipped "
                    "log(1/3) = -1.10)")
    ap.add_argument("--min-area-mm2", type=float, help="run-time change: the size gate's area (mm²; shipped 300)")
    ap.add_argument("--planks", action="store_true", help="with the plank evidence switched on (Detector.planks, "
                    "vision/planks.py): wood found with its reports added, the planks without a candidate it reaches, its "
                    "score's spread on wood and on object-free belt, its false alarms")
    ap.add_argument("--metal-bars", action="store_true", help="with the metal bar evidence switched on (Detector.metal_bars, "
                    "vision/metal_bars.py): as --planks, its score on each object and its reports")
    ap.add_argument("--kind", choices=DIAGNOSED_KINDS, default="wood", help="the kind diagnosed: wood its three cases "
                    "(wood on realistic and on today's belt, wet wood), any other kind alone on realistic and on today's belt")
    ap.add_argument("--camera", choices=CAMERAS, default="renderer", help="how the realistic types are lit and seen "
                    "(vision.scenes.camera_scene_options; default the renderer's own, as the wood figures were measured)")
    ap.add_argument("--causes", action="store_true", help="for each wood object without a candidate, the stage that "
                    "loses it, for the features and for the union's net (vision/seeds_diagnose.py)")
    a = ap.parse_args(argv)
    if a.quick:
        a.length_m, a.fa_m = 20.0, 0.0
    try:
        judged = hybrid_of(a.judge) if a.judge else shipped_union_judge()
    except (OSError, ValueError, VisionError) as e:
        ap.error(str(e))
    try:
        reference, judged = run_time_variant(features_model(MM_PER_PX, WIDTH_PX), judged, a.net_level, a.min_area_mm2)
    except ValueError as e:
        ap.error(str(e))
    assert reference.classifier is not None and judged.classifier is not None
    out: dict = {}
    missed_x, ore_x, losses = [], [], []
    totals: dict[str, int] = {}
    metal_totals: dict[str, int] = {}
    for label, scene_type, extra, share in kind_cases(a.kind):
        scene, objects = camera_scene_options(scene_type, a.camera)
        c = union_candidates(reference, judged, a.seed, a.length_m * share, scene, {**objects, **extra}, 1.0, a.causes, a.planks, a.metal_bars)
        base, judge = score(reference.classifier, c.x, c.load), score(judged.classifier, c.x, c.load)
        rows = object_rows(c, base, judge)
        _print_rows(label, rows, a.kind)
        if a.planks:
            totals = {n: totals.get(n, 0) + v for n, v in plank_summary(label, rows, a.kind).items()}
        if a.metal_bars:
            metal_totals = {n: metal_totals.get(n, 0) + v for n, v in plank_summary(label, rows, a.kind, "metal").items()}
        if a.causes:
            loss_rows(c, rows, reference, judged, a.kind)
            _print_losses(label, rows, reference.params.min_length_mm, reference.params.min_area_mm2, a.kind)
            losses.append(rows)
        out[label] = {"rows": rows, "x": c.x, "load": c.load, "own": c.own, "pos": c.pos}
        for r, o in zip(rows, c.objects):
            if r["cause"].startswith("missed"):
                on = _near(c.pos, o.belt_mm, o.lateral_mm, o.length_mm)
                missed_x.append(c.x[on][np.argmin(judge.p_none[on])])
    for st in FREE_SCENES if a.fa_m > 0 else ():
        out["free " + st], low_x = _free_belt(a, st, reference, judged)
        ore_x += low_x
    if missed_x and ore_x:
        sep = separation(np.array(missed_x), np.array(ore_x), judged.classifier)
        print(f"missed {a.kind} (best candidate each, " + str(len(missed_x)) + ") minus the judge's 20 lowest ore per belt, "
              "in the judge's scale units: " + ", ".join(f"{n} {d:+.2f}" for n, d in sep), flush=True)
    if totals:
        _print_plank_totals(totals, [r for rows in out.values() for r in rows.get("rows", []) if r["kind"] == a.kind], a.kind)
    if metal_totals:
        print(f"metal bar evidence, the {a.kind} cases: " + ", ".join(f"{n} {v}" for n, v in metal_totals.items()) + "; best metal bar "
              f"score per {a.kind} object >= 50 mm, quantiles 0 / 0.1 / 0.5 / 0.9 / 0.99 / max "
              f"{spread_text(np.array([r['metal_score'] for rows in out.values() for r in rows.get('rows', []) if r['kind'] == a.kind], float))}; "
              f"level {METAL_PARAMS.level:g} at belt load >= {METAL_PARAMS.min_load:g}", flush=True)
    if losses:
        print(f"{a.kind} without a candidate, features' stage | net's stage: " + ", ".join(
            f"{k} {v}" for k, v in sorted(loss_counts([r for rows in losses for r in rows]).items())), flush=True)
    if a.save:
        np.savez_compressed(a.save, **{f"{k}|{f}": v[f] for k, v in out.items() for f in ("x", "load", "own")})
    return rows_of(out, a.kind)


if __name__ == "__main__":
    main()
