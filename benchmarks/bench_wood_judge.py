"""The wood judge (:mod:`vision.wood_judge`): its fit and its level on the fit split's belt, and its spread on belt.

``--fit``: the shipped 4 mm/px union's detector, as a station runs it (its defaults; every candidate kept), streams
fit-split belt only: today's scenes (the cases "today's" and "wood on today's belt" of ``bench_vision_scenes``, 100 m
x their share, seeds :data:`FIT_SCENE_SEEDS`) and object-free today's belt (:data:`FIT_BELT_SEEDS`, 3,006 m each);
wood objects >= 50 mm against the belt (:func:`training_set`) fit a boosted model
(``HistGradientBoostingClassifier``, :data:`BOOST`); then its level is set (:func:`vision.wood_judge.set_level`) on
``--calibrate-m`` of object-free fit-split belt per :data:`CALIBRATION_TYPES` (seeds from
:data:`~benchmarks.bench_vision_unreported.CALIBRATION_SEED0`, as the wood evidence's), and the judge written to
``--out`` with its provenance. ``--calibrate``: the stored judge's level set again and printed (nothing written).
``--tables DIR``: each belt's candidate table is kept there (``.npz``) and read back when present.

Held-out belt is never used here. Run: ``.venv/bin/python -m benchmarks.bench_wood_judge --fit [--out
vision/wood_judge_4mm.npz] [--tables DIR]`` or ``... --calibrate [--calibrate-m 12024]``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from benchmarks.bench_vision_scenes import CASES
from benchmarks.bench_vision_unreported import CALIBRATION_BELT_M, CALIBRATION_SEED0, CALIBRATION_TYPES
from vision.decision import LOAD_EDGE
from vision.decision_kind import judge_key
from vision.densenet_eval import _near
from vision.fit import VisionModel
from vision.frontier import TARGET_MM, every_candidate
from vision.model_cache import cached_model
from vision.scenes import EVALUATION_CAMERA, camera_scene_options
from vision.wood_judge import FIT_COMMAND, WOOD, WOOD_JUDGE_PATH, WoodJudge, candidates, design, from_sklearn, reports, set_level

#: Seeds of the fit split's today's scenes the judge learns wood from (both today's cases each).
FIT_SCENE_SEEDS = tuple(range(2201, 2231))
#: Seeds of the fit split's object-free today's belt it learns the belt from (3,006 m each; not the level's seeds).
FIT_BELT_SEEDS = (2101, 2102)
#: The boosted model's settings (scikit-learn's HistGradientBoostingClassifier): 200 trees of depth 3 (cheap to step
#: through at run time), the classes weighted alike; no early stopping (its held-back tenth stopped a first fit at 66
#: trees, which ranked no development wood above the fit belt's tail).
BOOST = {"learning_rate": 0.1, "max_iter": 200, "max_leaf_nodes": 8, "max_depth": 3, "min_samples_leaf": 20,
         "l2_regularization": 1.0, "class_weight": "balanced", "early_stopping": False, "random_state": 0}


@dataclass
class Table:
    """Size-passing candidates of one belt: component feature rows ``x``, the second judge's ``proba``, ``load``, the net's
    own (``own``), ``reported`` by the detector, the object each lies on (``obj_of``, -1: none; its ``kinds`` and
    ``objects`` rows: belt, lateral, length, width mm) and the metres seen."""

    x: np.ndarray
    proba: np.ndarray
    load: np.ndarray
    own: np.ndarray
    reported: np.ndarray
    obj_of: np.ndarray
    kinds: np.ndarray
    objects: np.ndarray
    belt_m: float

    def looked_at(self) -> np.ndarray:
        """The rows the wood judge looks at (:func:`vision.wood_judge.candidates`)."""
        return candidates(self.load, self.reported, self.own)


def table(model: VisionModel, scene_type: str, length_m: float, seed: int, objects: dict | None, per_m: float, frame_lines: int,
          tiles: str = "fit", folder: Path | None = None, name: str = "") -> Table:
    """Every size-passing candidate of ``model``'s detector (its defaults) over ``length_m`` of ``tiles`` belt of
    ``scene_type`` through the evaluation camera (as :func:`benchmarks.bench_vision_unreported.judged`), read from /
    kept in ``folder`` / ``name``.npz when given."""
    path = folder / f"{name}.npz" if folder is not None and name else None
    if path is not None and path.is_file():
        with np.load(path) as z:
            return Table(z["x"], z["proba"], z["load"], z["own"], z["reported"], z["obj_of"], z["kinds"], z["objects"], float(z["belt_m"]))
    scene, opts = camera_scene_options(scene_type, EVALUATION_CAMERA)
    found, truth, cam = every_candidate(model, tiles, length_m=length_m, seed=seed, objects_per_m=per_m, frame_lines=frame_lines,
                                        scene=scene, objects={**opts, **(objects or {})} if per_m > 0 else None)
    found = [d for d in found if d.length_mm >= model.params.min_length_mm and not d.off_belt]
    x = np.array([d.features for d in found], float).reshape(len(found), -1)
    pos = np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in found], float).reshape(-1, 2)
    objs = np.array([[o.belt_mm, o.lateral_mm, o.length_mm, o.width_mm] for o in truth], float).reshape(-1, 4)
    obj_of = np.full(len(found), -1)
    for i, o in enumerate(objs):
        if len(pos):
            obj_of[_near(pos, o[0], o[1], o[2]) & (obj_of < 0)] = i
    judge = model.dense_judge
    if judge is None:
        raise ValueError(f"model {model.version} has no second judge: not a union")
    t = Table(x, judge.proba(x) if len(x) else np.zeros((0, len(judge.classes_)), float), np.array([d.load for d in found], float),
              np.array([d.dense_own for d in found], bool), np.array([d.p_none <= d.none_max for d in found], bool), obj_of,
              np.array([o.kind for o in truth], str), objs, float(cam.position_m))
    if path is not None:
        np.savez_compressed(path, **{k: getattr(t, k) for k in Table.__dataclass_fields__})
    return t


def training_set(tables: list[Table], classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, labels) of the features' candidates at a part-loaded load: wood objects >= TARGET_MM (label 1, reported
    or not) against those on no object left unreported (0); candidates on other objects left out."""
    xs, ys = [], []
    for t in tables:
        part = ~t.own & (t.load < LOAD_EDGE)
        on = t.obj_of >= 0
        kind = np.where(on, t.kinds[np.maximum(t.obj_of, 0)] if len(t.kinds) else "", "")
        length = np.where(on, t.objects[np.maximum(t.obj_of, 0), 2] if len(t.objects) else 0.0, 0.0)
        wood = part & (kind == WOOD) & (length >= TARGET_MM)
        belt = part & ~on & ~t.reported
        keep = wood | belt
        xs.append(design(t.x[keep], t.proba[keep], classes))
        ys.append(wood[keep].astype(int))
    return np.concatenate(xs), np.concatenate(ys)


def fit_tables(model: VisionModel, folder: Path | None) -> list[Table]:
    """The candidate tables of the fit's scenes and object-free belt (:data:`FIT_SCENE_SEEDS`, :data:`FIT_BELT_SEEDS`)."""
    out = []
    for seed in FIT_SCENE_SEEDS:
        for label, scene_type, extra, share, _, _ in CASES:
            if scene_type == "today":
                out.append(table(model, scene_type, 100.0 * share, seed, extra, 1.0, 1024, folder=folder,
                                 name=f"{'wood' if WOOD in label else 'today'}_fit_{seed}"))
    for seed in FIT_BELT_SEEDS:
        out.append(table(model, "today", CALIBRATION_BELT_M, seed, None, 0.0, 2048, folder=folder, name=f"free_today_fit_{seed}"))
    return out


def calibrate(model: VisionModel, judge: WoodJudge, belt_m: float, folder: Path | None) -> WoodJudge:
    """``judge`` with its level set on ``belt_m`` of object-free fit-split belt per :data:`CALIBRATION_TYPES` (3,006 m
    belts from seed :data:`CALIBRATION_SEED0`), printed with its foundation."""
    scores, metres = [], 0.0
    for scene_type in CALIBRATION_TYPES:
        done, seed = 0.0, CALIBRATION_SEED0
        while done < belt_m - 1e-6:
            t = table(model, scene_type, min(CALIBRATION_BELT_M, belt_m - done), seed, None, 0.0, 2048, folder=folder,
                      name=f"free_{scene_type}_fit_{seed}")  # whole 2,048-line frames: the same belt for any length in the last one
            rows = t.looked_at()
            s = reports(judge, t.x[rows], t.proba[rows])[1]  # as the detector scores them (-inf: above the gate)
            scores.append(s)
            print(f"  fit split, {scene_type} seed {seed}: {t.belt_m:.0f} m, {int(rows.sum())} part-loaded features' candidates "
                  f"unreported; wood judge's highest {', '.join(f'{v:+.2f}' for v in np.sort(s)[::-1][:5])}", flush=True)
            done += t.belt_m
            metres += t.belt_m
            seed += 1
    all_scores = np.concatenate(scores)
    all_scores = all_scores[np.isfinite(all_scores)]
    out = set_level(judge, all_scores, metres / len(CALIBRATION_TYPES),
                    {"level_belt": f"{metres:.0f} m of object-free fit-split belt ({', '.join(CALIBRATION_TYPES)}; seeds from "
                                   f"{CALIBRATION_SEED0}, 3,006 m each), {all_scores.size} candidates scored (p(none) <= the gate)"})
    print(f"wood judge for judge {out.judge}: level {out.level:+.4f} (the {out.events + 1}th highest of {all_scores.size} part-loaded "
          f"features' candidates scored (p(none) <= the gate) on {metres:.0f} m of fit-split belt, {out.belt_m:.0f} m per type, + ln 2); highest "
          f"{', '.join(f'{v:+.2f}' for v in np.sort(all_scores)[::-1][:out.events + 3])}", flush=True)
    return out


def fit(model: VisionModel, folder: Path | None) -> WoodJudge:
    """The wood judge fitted on :func:`fit_tables` (no level)."""
    if model.dense_judge is None:
        raise ValueError(f"model {model.version} has no second judge: not a union")
    classes = model.dense_judge.classes_
    x, y = training_set(fit_tables(model, folder), classes)
    if y.sum() < 10 or (1 - y).sum() < 10:
        raise ValueError(f"expected at least 10 wood and 10 belt candidates, got {int(y.sum())} and {int((1 - y).sum())}")
    boost = HistGradientBoostingClassifier(**BOOST).fit(x, y)
    print(f"wood judge fitted: {int(y.sum())} wood candidates (>= {TARGET_MM:g} mm, part-loaded) against {int((1 - y).sum())} of "
          f"the belt; {boost.n_iter_} trees", flush=True)
    return from_sklearn(boost, classes, judge_key(model.dense_judge),
                        {"command": FIT_COMMAND, "model": model.version, "scene_seeds": f"{FIT_SCENE_SEEDS[0]}-{FIT_SCENE_SEEDS[-1]}",
                         "belt_seeds": list(FIT_BELT_SEEDS), "tiles": "fit", "camera": EVALUATION_CAMERA, "boost": BOOST,
                         "wood": int(y.sum()), "belt": int((1 - y).sum())})


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_wood_judge", description=__doc__)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--fit", action="store_true", help="fit the wood judge on the fit split and set its level")
    mode.add_argument("--calibrate", action="store_true", help="set the stored judge's level again and print it")
    ap.add_argument("--out", default=str(WOOD_JUDGE_PATH), help="where --fit writes the judge (.npz)")
    ap.add_argument("--judge", default=str(WOOD_JUDGE_PATH), help="the judge --calibrate reads (.npz)")
    ap.add_argument("--calibrate-m", type=float, default=12024.0, help="fit-split belt per calibration scene type (m)")
    ap.add_argument("--tables", help="folder keeping each belt's candidate table (.npz), read back when present")
    ap.add_argument("--quick", action="store_true", help="--calibrate on 60 m of each belt type (make bench-quick: it runs; "
                                                         "its level is not comparable); refused with --fit")
    a = ap.parse_args(argv)
    if a.quick and a.fit:
        ap.error("--quick sets the stored judge's level again on a short belt; the fit has no small size: drop --fit")
    if a.quick:
        a.calibrate, a.calibrate_m = True, 60.0
    if not (a.fit or a.calibrate):
        ap.error("one of the arguments --fit --calibrate (or --quick) is required")
    if a.calibrate_m <= 0:
        ap.error(f"expected --calibrate-m > 0, got {a.calibrate_m}")
    folder = Path(a.tables) if a.tables else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    m = cached_model(mm_per_px=4.0, width_px=512)
    if m.dense_judge is None:
        ap.error(f"model {m.version} has no second judge: not a union")
    judge = fit(m, folder) if a.fit else WoodJudge.load(a.judge)
    judge = calibrate(m, judge, a.calibrate_m, folder)
    if a.fit:
        judge.save(a.out)
        print(f"wrote {a.out}", flush=True)
    return [{"name": f"vision wood judge level, judge {judge.judge} ({judge.belt_m:.0f} m per type of fit-split belt, k {judge.events})",
             "value": judge.level, "unit": "log odds", "target": "", "ok": True}]


if __name__ == "__main__":
    main()
