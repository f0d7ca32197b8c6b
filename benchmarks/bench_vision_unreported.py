"""Objects with a candidate that the union's decision leaves unreported (issue 27, today51), and the wood evidence.

For every case of ``bench_vision_scenes`` (the same belts for the same seed and camera), the shipped union's detector
with every candidate kept: per object >= 50 mm that has a size-passing candidate and is not reported, which
classifier judged its best candidate (the base then the second judge on part-loaded belt, the judge alone at full
burden with ``Detector.full_burden_judge``, the judge for the dense net's own regions), each one's p(none) against its
decision at the candidate's load, the class other than "none" with the most mass, the judge's odds of wood against
"none" (:func:`vision.decision_wood.wood_log_odds`), the cause (:func:`benchmarks.bench_vision_wood.cause`) and the
candidate's length against the object's; then per case the counts. With ``--fa-m``: the same spreads on object-free
held-out belt (today's and realistic, seed + 1000): each classifier's lowest p(none) against its decision and the
judge's highest wood odds on part-loaded features' candidates. Every row also says what the wood evidence
(:mod:`vision.decision_wood`, its level :data:`~vision.decision_wood.SHIPPED_WOOD` or ``--wood-level``) would add:
objects and false candidates, from the same candidates.

``--calibrate-kinds``: the kind evidence's levels at full burden (:mod:`vision.decision_kind`), one per kind, set on
``--calibrate-m`` of object-free fit-split realistic and dark-rubber belt.

``--calibrate-groups``: the fragment groups' own judge (:mod:`vision.decision_groups`), fitted on the fit split's
realistic belt with objects and its level set on ``--calibrate-m`` of object-free fit-split realistic and dark-rubber
belt streamed with the grouping on (``Detector.group_fragments``).

``--calibrate``: the wood evidence's level for the model's judge, set on ``--calibrate-m`` of object-free belt of the
fit split's tiles per part-loaded scene type (today's and, through the camera, dark rubber), streamed as a station
sees it (:func:`vision.decision_wood.set_level`).

Run: ``.venv/bin/python -m benchmarks.bench_vision_unreported [--seed 51] [--length-m 100] [--fa-m 3000]
[--camera calibrated] [--wood-level L] [--quick]`` or ``... --calibrate [--calibrate-m 12000]`` or ``... --calibrate-kinds [--calibrate-m 12000]`` or ``... --calibrate-groups [--calibrate-m 12000]``. Development seeds
only.
"""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from collections.abc import Iterator
from dataclasses import dataclass, replace

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from benchmarks.bench_vision_scenes import CASES, group_fragments_set, kind_evidence_set, wood_evidence_set
from benchmarks.bench_vision_wood import NEAR_FACTOR, Scores, cause, score
from benchmarks.common import quantiles_text
from vision.decision import LOAD_EDGE
from vision.decision_groups import GroupJudge, fit_group_judge, group_inputs, set_group_level
from vision.decision_kind import FULL_BURDEN, KindEvidence, kind_log_odds, set_levels
from vision.decision_wood import SHIPPED_WOOD, WoodEvidence, judge_key, set_level, wood_log_odds
from vision.densenet_eval import _near
from vision.fit import VisionModel
from vision.frontier import TARGET_MM, every_candidate
from vision.model_cache import cached_model
from vision.scenes import CAMERAS, EVALUATION_CAMERA, camera_scene_options
from vision.station_settings import FULL_BURDEN_JUDGE

#: Part-loaded scene types whose fit-split belt sets the wood evidence's level (dark rubber through the camera: its
#: dark ore falls under the part-loaded load there).
CALIBRATION_TYPES = ("today", "dark-rubber")
#: Scene types whose fit-split belt sets the kind evidence's levels at full burden (dark rubber through the camera:
#: its dark ore's full-burden part).
KIND_CALIBRATION_TYPES = ("realistic", "dark-rubber")
#: Seeds of the fit-split calibration belt (one 3,006 m belt each, per type, until --calibrate-m is reached).
CALIBRATION_SEED0 = 2001
#: Seeds of the fit split's realistic belt with objects that the fragment groups' judge is fitted on, and its metres each.
GROUP_FIT_SEEDS = tuple(range(3001, 3013))
GROUP_FIT_M = 100.0
CALIBRATION_BELT_M = 3006.0


@dataclass
class Judged:
    """Size-passing candidates of one belt with both classifiers' verdicts: belt ``pos`` (n, 2) mm, ``load``, the net's
    own (``own``), reported by the detector (``reported``), the base's and the judge's :class:`Scores`, whether the
    base judges a row (``base_judges``: a features' candidate below full burden), the judge's wood odds, lengths (mm);
    the judge's class probabilities (``proba``), the objects (belt, lateral, length, width mm; kinds) and the metres
    seen; ``pieces``: each row's fragments (``Detection.fragments``; 0: not a group), ``p_none`` the detector's p(none)
    (of the classifier that judged it), ``x`` the feature rows."""

    pos: np.ndarray
    load: np.ndarray
    own: np.ndarray
    reported: np.ndarray
    base: Scores
    judge: Scores
    base_judges: np.ndarray
    wood: np.ndarray
    proba: np.ndarray
    length_mm: np.ndarray
    objects: np.ndarray
    kinds: np.ndarray
    belt_m: float
    pieces: np.ndarray
    p_none: np.ndarray
    x: np.ndarray

    @property
    def groups(self) -> np.ndarray:
        """Which rows are fragment groups."""
        return self.pieces > 0

    def wood_adds(self, level: float) -> np.ndarray:
        """Candidates the wood evidence at ``level`` reports that the detector did not: part-loaded features' ones."""
        return ~self.reported & ~self.own & (self.load < LOAD_EDGE) & (self.wood >= level)


def judged(model: VisionModel, tiles: str, scene_type: str, camera: str, length_m: float, seed: int, objects: dict | None,
           per_m: float, frame_lines: int) -> Judged:
    """Every size-passing candidate of ``model``'s detector over ``length_m`` of ``tiles`` belt of ``scene_type`` seen
    through ``camera``, re-scored by the base classifier and the union's judge (they see feature rows only)."""
    if model.classifier is None or model.dense_judge is None:
        raise ValueError(f"model {model.version} is not a union (no base classifier or no second judge)")
    scene, opts = camera_scene_options(scene_type, camera)
    found, truth, cam = every_candidate(model, tiles, length_m=length_m, seed=seed, objects_per_m=per_m, frame_lines=frame_lines,
                                        scene=scene, objects={**opts, **(objects or {})} if per_m > 0 else None)
    found = [d for d in found if d.length_mm >= model.params.min_length_mm and not d.off_belt]
    x = np.array([d.features for d in found], float).reshape(len(found), -1)
    load = np.array([d.load for d in found], float)
    own = np.array([d.dense_own for d in found], bool)
    judge = model.dense_judge
    proba = judge.proba(x) if len(x) else np.zeros((0, len(judge.classes_)))
    wood = wood_log_odds(proba, judge.classes_)
    full = (load >= LOAD_EDGE) if FULL_BURDEN_JUDGE else np.zeros(len(load), bool)
    return Judged(np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in found], float).reshape(-1, 2), load, own,
                  np.array([d.p_none <= d.none_max for d in found], bool), score(model.classifier, x, load), score(judge, x, load),
                  ~own & ~full, wood, proba, np.array([d.length_mm for d in found], float),
                  np.array([[o.belt_mm, o.lateral_mm, o.length_mm, o.width_mm] for o in truth], float).reshape(-1, 4),
                  np.array([o.kind for o in truth], str), float(cam.position_m), np.array([d.fragments for d in found], int),
                  np.array([d.p_none for d in found], float), x)


def unreported_rows(j: Judged, wood_level: float) -> list[dict]:
    """Per object >= TARGET_MM: found, no candidate, or its unreported best candidate (the lowest p(none) / decision
    over the classifiers that judge it) with both classifiers' verdicts, the judge's wood odds and the cause."""
    rows = []
    adds = j.wood_adds(wood_level)
    for o, kind in zip(j.objects, j.kinds):
        if o[2] < TARGET_MM:
            continue
        on = _near(j.pos, o[0], o[1], o[2]) if len(j.pos) else np.zeros(0, bool)
        row: dict = {"kind": str(kind), "length_mm": float(o[2]), "width_mm": float(o[3]), "candidate": bool(on.any()),
                     "reported": bool(j.reported[on].any()), "wood_adds": bool(adds[on].any())}
        if on.any() and not row["reported"]:
            ix = np.flatnonzero(on)
            rb = np.where(j.base_judges[ix], j.base.p_none[ix] / j.base.decision[ix], np.inf)
            rj = j.judge.p_none[ix] / j.judge.decision[ix]
            k = ix[int(np.argmin(np.minimum(rb, rj)))]
            row.update({"judged_by": "judge (net's own)" if j.own[k] else ("base, then judge" if j.base_judges[k] else "judge alone (full burden)"),
                        "load": float(j.load[k]), "cand_length_mm": float(j.length_mm[ix].max()), "ratio": float(min(rb.min(), rj.min())),
                        "nearer": "base" if rb.min() < rj.min() else "judge", "wood_odds": float(j.wood[k])})
            for name, s in (("base", j.base), ("judge", j.judge)):
                row.update({f"{name}_p_none": float(s.p_none[k]), f"{name}_decision": float(s.decision[k]),
                            f"{name}_kind": str(s.kind[k]), f"{name}_kind_p": float(s.kind_p[k])})
        row["cause"] = cause(row["candidate"], row["reported"], row.get("ratio", np.inf))
        rows.append(row)
    return rows


def _print_case(label: str, rows: list[dict], j: Judged, wood_level: float) -> dict[str, int]:
    """Print the unreported objects of one case and its counts; return the counts."""
    n = {"objects": len(rows), "found": sum(r["reported"] for r in rows), "no candidate": sum(not r["candidate"] for r in rows)}
    missed = [r for r in rows if r["candidate"] and not r["reported"]]
    n["unreported"] = len(missed)
    for key, name in (("judged_by", "judged by"), ("nearer", "nearer its level:")):
        for r in missed:
            n[f"{name} {r[key]}"] = n.get(f"{name} {r[key]}", 0) + 1
    n[f"within {NEAR_FACTOR:g} x its level"] = sum(r["ratio"] <= NEAR_FACTOR for r in missed)
    n["other class = the object's kind (judge)"] = sum(r["judge_kind"] == r["kind"] for r in missed)
    n["candidate > 1.5 x the object"] = sum(r["cand_length_mm"] > 1.5 * r["length_mm"] for r in missed)
    n["wood evidence adds"] = sum(r["wood_adds"] for r in missed)
    onany = np.zeros(len(j.pos), bool)
    for o in j.objects:
        onany |= _near(j.pos, o[0], o[1], o[2]) if len(j.pos) else onany
    n["wood evidence false candidates"] = int(np.sum(j.wood_adds(wood_level) & ~onany))
    print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in n.items()), flush=True)
    for r in missed:
        print(f"  {r['kind']:8s} {r['length_mm']:4.0f} x {r['width_mm']:3.0f} mm (candidate {r['cand_length_mm']:4.0f} mm) load {r['load']:.2f} "
              f"{r['judged_by']:26s} | base {r['base_p_none']:.2g} / {r['base_decision']:.2g} {r['base_kind']} {r['base_kind_p']:.2f} | "
              f"judge {r['judge_p_none']:.2g} / {r['judge_decision']:.2g} {r['judge_kind']} {r['judge_kind_p']:.2f} | "
              f"wood odds {r['wood_odds']:+.1f}{' (evidence adds)' if r['wood_adds'] else ''} | {r['cause']}", flush=True)
    return n


def free_rows(j: Judged, scene_type: str, wood_level: float) -> dict:
    """Spreads on object-free belt: each classifier's p(none) / decision where it judges (lowest five) and the judge's
    wood odds on part-loaded features' candidates (highest five), and what the wood evidence would report."""
    rb = np.where(j.base_judges, j.base.p_none / np.maximum(j.base.decision, 1e-300), np.inf)
    rj = j.judge.p_none / np.maximum(j.judge.decision, 1e-300)
    part = ~j.own & (j.load < LOAD_EDGE)
    top = np.sort(j.wood[part])[::-1][:5]
    adds = int(j.wood_adds(wood_level).sum())
    print(f"object-free {scene_type} belt, {j.belt_m:.0f} m: {len(j.load)} size-passing candidates ({int(part.sum())} part-loaded "
          f"features'), reported {int(j.reported.sum())}; base p(none) / decision lowest {', '.join(f'{v:.2g}' for v in np.sort(rb)[:5])}; "
          f"judge {', '.join(f'{v:.2g}' for v in np.sort(rj)[:5])}; judge's wood odds on part-loaded features' candidates highest "
          f"{', '.join(f'{v:+.2f}' for v in top)} (spread {quantiles_text(j.wood[part], fmt='+.2f')}); the wood evidence at "
          f"{wood_level:+.2f} adds {adds}", flush=True)
    return {"belt_m": j.belt_m, "wood_adds": adds}


def fit_belts(model: VisionModel, scene_types: tuple[str, ...], belt_m: float, camera: str,
              groups: bool = False) -> Iterator[tuple[str, int, Judged]]:
    """(scene type, seed, :class:`Judged`) of ``belt_m`` of object-free fit-split belt per scene type, in 3,006 m belts
    (seeds from :data:`CALIBRATION_SEED0`), detected with the wood and the kind evidence off: the levels are set on
    what the judge's own decision leaves unreported. ``groups``: with the grouping on and every other switch as the
    station's (the groups' level is the last decision: set on what every other leaves)."""
    for scene_type in scene_types:
        done, seed = 0.0, CALIBRATION_SEED0
        while done < belt_m - 1e-6:
            with ExitStack() as switches:
                for switch in (group_fragments_set(True),) if groups else (wood_evidence_set(False), kind_evidence_set(False)):
                    switches.enter_context(switch)
                j = judged(model, "fit", scene_type, camera, min(CALIBRATION_BELT_M, belt_m - done), seed, None, 0.0, 2048)
            yield scene_type, seed, j
            done += j.belt_m
            seed += 1


def calibrate(model: VisionModel, belt_m: float, camera: str = EVALUATION_CAMERA) -> WoodEvidence:
    """The wood evidence's level for ``model``'s judge on ``belt_m`` of object-free fit-split belt per
    :data:`CALIBRATION_TYPES` (3,006 m belts, seeds from :data:`CALIBRATION_SEED0`), printed with its foundation."""
    if model.dense_judge is None:
        raise ValueError(f"model {model.version} has no second judge")
    odds, metres = [], 0.0
    for scene_type, seed, j in fit_belts(model, CALIBRATION_TYPES, belt_m, camera):
        part = ~j.own & (j.load < LOAD_EDGE) & ~j.reported
        odds.append(j.wood[part])
        metres += j.belt_m
        print(f"  fit split, {scene_type} seed {seed}: {j.belt_m:.0f} m, {int(part.sum())} part-loaded features' candidates "
              f"unreported; judge's wood odds highest {', '.join(f'{v:+.2f}' for v in np.sort(j.wood[part])[::-1][:5])}", flush=True)
    all_odds = np.concatenate(odds)
    ev = set_level(all_odds, float(metres / len(CALIBRATION_TYPES)), judge_key(model.dense_judge))
    print(f"wood evidence for judge {ev.judge}: level {ev.level:+.4f} (the {ev.events + 1}th highest of {all_odds.size} part-loaded "
          f"features' candidates on {metres:.0f} m of fit-split belt, {ev.belt_m:.0f} m per type, + ln 2); highest "
          f"{', '.join(f'{v:+.2f}' for v in np.sort(all_odds)[::-1][:ev.events + 3])}", flush=True)
    return ev


def calibrate_kinds(model: VisionModel, belt_m: float, camera: str = EVALUATION_CAMERA) -> tuple[KindEvidence, ...]:
    """The kind evidence's levels at full burden for ``model``'s judge (:func:`vision.decision_kind.set_levels`) on
    ``belt_m`` of object-free fit-split belt per :data:`KIND_CALIBRATION_TYPES` (3,006 m belts, seeds from
    :data:`CALIBRATION_SEED0`): the unreported candidates at full burden the judge judges alone (the features' with
    ``FULL_BURDEN_JUDGE``, and the net's own), printed with their foundation."""
    if model.dense_judge is None:
        raise ValueError(f"model {model.version} has no second judge")
    probas, metres = [], 0.0
    for scene_type, seed, j in fit_belts(model, KIND_CALIBRATION_TYPES, belt_m, camera):
        alone = ~j.base_judges & (j.load >= LOAD_EDGE) & ~j.reported
        probas.append(j.proba[alone])
        metres += j.belt_m
        print(f"  fit split, {scene_type} seed {seed}: {j.belt_m:.0f} m, {int(alone.sum())} unreported candidates at full burden "
              f"judged by the judge alone ({int((alone & j.own).sum())} the net's own)", flush=True)
    proba = np.concatenate(probas)
    evidence = set_levels(proba, model.dense_judge.classes_, float(metres / len(KIND_CALIBRATION_TYPES)), judge_key(model.dense_judge),
                          FULL_BURDEN)
    for ev in evidence:
        top = np.sort(kind_log_odds(proba, model.dense_judge.classes_, ev.kind))[::-1][:ev.events + 3]
        print(f"kind evidence at full burden for judge {ev.judge}, {ev.kind}: level {ev.level:+.4f} (the {ev.events + 1}th highest "
              f"of {len(proba)} candidates on {metres:.0f} m, {ev.belt_m:.0f} m per type, + ln 2); highest "
              f"{', '.join(f'{v:+.2f}' for v in top)}", flush=True)
    return evidence


def on_objects(j: Judged) -> np.ndarray:
    """Which rows of ``j`` lie on an object >= TARGET_MM (:func:`vision.densenet_eval._near`)."""
    on = np.zeros(len(j.pos), bool)
    for o in j.objects:
        if o[2] >= TARGET_MM and len(j.pos):
            on |= _near(j.pos, o[0], o[1], o[2])
    return on


def calibrate_groups(model: VisionModel, belt_m: float, camera: str = EVALUATION_CAMERA, fit_seeds: tuple[int, ...] = GROUP_FIT_SEEDS,
                     fit_m: float = GROUP_FIT_M) -> GroupJudge:
    """The fragment groups' judge for ``model``'s union (:mod:`vision.decision_groups`), from the fit split only:
    fitted (:func:`~vision.decision_groups.fit_group_judge`) on the groups of ``fit_seeds``' realistic belt with
    objects (``fit_m`` each, 1,024-line frames as the scenes: groups on objects >= TARGET_MM against the rest), its
    level set on ``belt_m`` of object-free belt per :data:`KIND_CALIBRATION_TYPES` (3,006 m belts, seeds from
    :data:`CALIBRATION_SEED0`) streamed with the grouping on; printed with their foundation."""
    if model.dense_judge is None:
        raise ValueError(f"model {model.version} has no second judge")
    rows, labels = [], []
    for seed in fit_seeds:
        with group_fragments_set(True):
            j = judged(model, "fit", "realistic", camera, fit_m, seed, None, 1.0, 1024)
        g = j.groups
        rows.append(group_inputs(j.p_none[g], j.pieces[g], j.x[g]))
        labels.append(on_objects(j)[g])
        print(f"  fit split with objects, realistic seed {seed}: {j.belt_m:.0f} m, {int(g.sum())} groups, {int(labels[-1].sum())} on "
              f"objects >= {TARGET_MM:g} mm", flush=True)
    x, y = np.concatenate(rows), np.concatenate(labels)
    fitted = fit_group_judge(x, y)
    mean, scale, coef = (tuple(round(float(v), 6) for v in a) for a in fitted[:3])
    unset = GroupJudge(mean, scale, coef, round(fitted[3], 6), 0.0, judge_key(model.dense_judge), 1.0, 0)  # the level set below
    scores, metres = [], 0.0
    for scene_type, seed, j in fit_belts(model, KIND_CALIBRATION_TYPES, belt_m, camera, groups=True):
        g = j.groups
        z = unset.score(group_inputs(j.p_none[g], j.pieces[g], j.x[g]))
        scores.append(z)
        metres += j.belt_m
        print(f"  fit split, {scene_type} seed {seed}: {j.belt_m:.0f} m, {int(g.sum())} groups; scores highest "
              f"{', '.join(f'{v:+.2f}' for v in np.sort(z)[::-1][:5])}", flush=True)
    all_scores = np.concatenate(scores)
    level, k = set_group_level(all_scores, float(metres / len(KIND_CALIBRATION_TYPES)))
    judge = replace(unset, level=round(level, 4), belt_m=float(round(metres / len(KIND_CALIBRATION_TYPES))), events=k)
    print(f"fragment groups' judge for judge {judge.judge}: {len(y)} groups ({int(y.sum())} on objects) on {len(fit_seeds)} x "
          f"{fit_m:g} m; level {judge.level:+.4f} (the {k + 1}th highest of {all_scores.size} groups on {metres:.0f} m of "
          f"object-free fit-split belt, {judge.belt_m:.0f} m per type, + ln 2); highest "
          f"{', '.join(f'{v:+.2f}' for v in np.sort(all_scores)[::-1][:k + 3])}", flush=True)
    print(f"  {judge!r}", flush=True)
    return judge


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_unreported", description=__doc__)
    ap.add_argument("--model", help="saved union model (.npz); default the shipped 4 mm/px model")
    ap.add_argument("--seed", type=int, default=51, help="objects' seed (object-free belts: seed + 1000); development seeds only")
    ap.add_argument("--length-m", type=float, default=100.0, help="as bench_vision_scenes (the kind cases get half)")
    ap.add_argument("--fa-m", type=float, default=0.0, help="object-free held-out today's and realistic belt each (m); 0: none")
    ap.add_argument("--camera", choices=CAMERAS, default=EVALUATION_CAMERA, help="as bench_vision_scenes --camera")
    ap.add_argument("--wood-level", type=float, help="the wood evidence's level (ln p(wood)/p(none)) to count; default "
                    "vision.decision_wood.SHIPPED_WOOD's")
    ap.add_argument("--calibrate", action="store_true", help="set the wood evidence's level on the fit split's belt instead")
    ap.add_argument("--calibrate-kinds", action="store_true", help="set the kind evidence's levels at full burden on the "
                    "fit split's belt instead")
    ap.add_argument("--calibrate-groups", action="store_true", help="set the fragment groups' own level on the fit split's "
                    "belt instead")
    ap.add_argument("--calibrate-m", type=float, default=12024.0, help="fit-split belt per calibration scene type (m)")
    ap.add_argument("--quick", action="store_true", help="10 m of each case, no object-free belt; with --calibrate 60 m (with "
                    "--calibrate-groups the judge fitted on two 50 m belts)")
    a = ap.parse_args(argv)
    if a.quick:
        a.length_m, a.fa_m, a.calibrate_m = 10.0, 0.0, 60.0
    if a.length_m <= 0 or a.fa_m < 0 or a.calibrate_m <= 0:
        ap.error(f"expected --length-m > 0, --fa-m >= 0 and --calibrate-m > 0, got {a.length_m}, {a.fa_m}, {a.calibrate_m}")
    m = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=4.0, width_px=512)
    if m.dense_judge is None:
        ap.error(f"model {m.version} has no second judge: not a union")
    if a.calibrate_groups:
        gj = calibrate_groups(m, a.calibrate_m, a.camera, *((GROUP_FIT_SEEDS[:2], 50.0) if a.quick else ()))
        return [{"name": f"vision fragment groups' level, judge {gj.judge} ({gj.belt_m:.0f} m per type of fit-split belt, k {gj.events})",
                 "value": gj.level, "unit": "score", "target": "", "ok": True}]
    if a.calibrate_kinds:
        return [{"name": f"vision kind evidence level at full burden, {ev.kind}, judge {ev.judge} ({ev.belt_m:.0f} m per type of "
                 f"fit-split belt, k {ev.events})", "value": ev.level, "unit": "ln odds", "target": "", "ok": True}
                for ev in calibrate_kinds(m, a.calibrate_m, a.camera)]
    if a.calibrate:
        ev = calibrate(m, a.calibrate_m, a.camera)
        return [{"name": f"vision wood evidence level, judge {ev.judge} ({ev.belt_m:.0f} m per type of fit-split belt, k {ev.events})",
                 "value": ev.level, "unit": "ln odds", "target": "", "ok": True}]
    level = a.wood_level if a.wood_level is not None else (SHIPPED_WOOD.level if SHIPPED_WOOD is not None else np.inf)
    print(f"model {m.version}, judge {judge_key(m.dense_judge)}; seed {a.seed}, camera {a.camera}; wood evidence level {level:+.3f}; "
          f"'near': within {NEAR_FACTOR:g} x the decision", flush=True)
    out = []
    for label, scene_type, extra, share, _, _ in CASES:
        j = judged(m, "heldout", scene_type, a.camera, a.length_m * share, a.seed, extra, 1.0, 1024)
        n = _print_case(label, unreported_rows(j, level), j, level)
        out.append({"name": f"vision objects >= 50 mm with a candidate left unreported, {label} ({n['unreported']}/{n['objects']}; "
                    f"found {n['found']}; seed {a.seed})", "value": float(n["unreported"]), "unit": "objects", "target": "", "ok": True})
        out.append({"name": f"vision wood evidence, {label}: objects added (false candidates {n['wood evidence false candidates']}; seed {a.seed})",
                    "value": float(n["wood evidence adds"]), "unit": "objects", "target": "", "ok": True})
    for scene_type in ("today", "realistic") if a.fa_m > 0 else ():
        f = free_rows(judged(m, "heldout", scene_type, a.camera, a.fa_m, a.seed + 1000, None, 0.0, 2048), scene_type, level)
        out.append({"name": f"vision wood evidence, object-free {scene_type} belt: false candidates added ({f['belt_m']:.0f} m)",
                    "value": float(f["wood_adds"]), "unit": "", "target": "", "ok": True})
    return out


if __name__ == "__main__":
    main()
