"""The learned patch verifier against the hand-made features (issue 27): both verifiers are trained on the same
stored fit candidates (:func:`vision.patchnet_data.fit_pool`), each gets its own object decision on the same
decision-only object-free belt (:mod:`vision.decision`), and both score the same held-out candidates
(:func:`vision.patchnet_data.heldout_candidates`: held-out tiles, fresh seeds, the scene cases of
``bench_vision_scenes``). Printed per case: recall of objects >= 50 mm (and per kind) features-only vs features+CNN;
false alarms on object-free realistic and today's belt with the 95 % bound; the verifier's CPU ms per frame
(2048 rows), the CNN's fitting time, and the detector's belt rate with each verifier on the same frames.

Run: ``.venv/bin/python -m benchmarks.bench_vision_patchnet [--length-m 100] [--fa-m 3000] [--seed 11] [--quick]``
(the pool is computed once, about as long as a 4 mm/px fit, and cached under ``$ORELINE_CACHE/vision/patchnet``).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from vision.classify import KindClassifier
from vision.evaluate import _poisson_upper95
from vision.fit import VisionModel, train_classifier
from vision.patchnet_data import HeldoutCandidates, fit_pool, heldout_candidates
from vision.scene import random_objects
from vision.scenes import scene_options
from vision.sim_camera import SimulatedCamera

#: (label, scene type, extra object options, length share) as bench_vision_scenes.CASES.
CASES: tuple[tuple[str, str, dict, float], ...] = (("realistic", "realistic", {}, 1.0), ("today", "today", {}, 1.0),
         ("wood on realistic belt", "realistic", {"kinds": ("wood",)}, 0.5), ("wood on today's belt", "today", {"kinds": ("wood",)}, 0.5),
         ("dark rubber on dark ore", "dark-rubber", {}, 0.5), ("wet wood", "wet-wood", {}, 0.5))
FREE_SCENES = ("realistic", "today")
FRAME_ROWS = 2048
LINE_TARGET_M_S = 8100.0 / 60.0


def _row(name: str, value: float, unit: str, target: str, ok: bool) -> dict:
    return {"name": name, "value": float(value), "unit": unit, "target": target, "ok": bool(ok)}


def _p_none(clf: KindClassifier, h: HeldoutCandidates) -> tuple[np.ndarray, float]:
    """p(none) of every held-out candidate and the CPU seconds it took."""
    t = time.thread_time()
    p = clf.p_none(h.x, h.patch if clf.needs_patches else None) if len(h.x) else np.zeros(0)
    return p, time.thread_time() - t


def _recall_text(s: dict) -> str:
    kinds = ", ".join(f"{k} {f}/{n}" for k, (f, n) in s["kinds"].items())
    return f"{100.0 * s['found'] / max(1, s['objects']):5.1f} % ({s['found']}/{s['objects']}; {kinds})"


def compare(model: VisionModel, verifiers: dict[str, KindClassifier], length_m: float, fa_m: float, seed: int) -> list[dict]:
    """Print and return the comparison rows: recall per case, false alarms per object-free scene, ms per frame."""
    rows, cpu, frames = [], {k: 0.0 for k in verifiers}, 0.0
    gate = model.params.min_length_mm
    for label, scene_type, extra, share in CASES:
        scene, objects = scene_options(scene_type)
        h = heldout_candidates(model, length_m=length_m * share, seed=seed, objects_per_m=1.0, scene=scene, objects={**objects, **extra})
        print(f"{label} ({len(h.x)} candidates, {h.belt_m:.0f} m):", flush=True)
        first = None
        for name, clf in verifiers.items():
            p, sec = _p_none(clf, h)
            cpu[name] += sec
            s = h.score(p, clf.none_max, gate)
            first = s["found_mask"] if first is None else first
            change = f"; against {next(iter(verifiers))}: +{int(np.sum(s['found_mask'] & ~first))} -{int(np.sum(first & ~s['found_mask']))} objects"
            print(f"  {name:<18} recall >= 50 mm {_recall_text(s)}; false alarms {s['false_alarms']}{change}", flush=True)
            rows.append(_row(f"vision verifier {name}, recall >= 50 mm, {label} ({s['found']}/{s['objects']}; {model.mm_per_px:g} mm/px, seed {seed})",
                             100.0 * s["found"] / max(1, s["objects"]), "%", "", True))
        frames += h.belt_m * 1000.0 / model.mm_per_px / FRAME_ROWS
    for scene_type in FREE_SCENES if fa_m > 0 else ():
        h = heldout_candidates(model, length_m=fa_m, seed=seed + 1000, objects_per_m=0.0, scene=scene_options(scene_type)[0])
        for name, clf in verifiers.items():
            p, sec = _p_none(clf, h)
            cpu[name] += sec
            fa = h.score(p, clf.none_max, gate)["false_alarms"]
            bound = 1000.0 * _poisson_upper95(fa) / max(h.belt_m, 1e-9)
            print(f"object-free {scene_type} belt, {name}: {fa} false alarms in {h.belt_m:.0f} m ({len(h.x)} candidates), "
                  f"95 % bound {bound:.2f} per 1,000 m (target <= 1)", flush=True)
            rows.append(_row(f"vision verifier {name}, false alarms, object-free {scene_type} belt ({fa} in {h.belt_m:.0f} m; 95 % bound)",
                             bound, "per 1,000 m", "<= 1", bound <= 1.0))
        frames += h.belt_m * 1000.0 / model.mm_per_px / FRAME_ROWS
    for name in verifiers:
        ms = 1000.0 * cpu[name] / max(frames, 1e-9)
        print(f"verifier {name}: {ms:.2f} ms CPU per {FRAME_ROWS}-row frame ({model.mm_per_px:g} mm/px, candidates of the belt above)")
        rows.append(_row(f"vision verifier {name}, CPU per {FRAME_ROWS}-row frame ({model.mm_per_px:g} mm/px)", ms, "ms", "", True))
    return rows


def detector_rows(model: VisionModel, verifiers: dict[str, KindClassifier], n_frames: int) -> list[dict]:
    """The detector's CPU time per 2048-row frame with each verifier, on the same held-out frames of today's and
    realistic belt with objects (1 per metre), and the belt rate it allows (m of belt per CPU second)."""
    rows = []
    for scene_type in FREE_SCENES:
        scene, objects = scene_options(scene_type)
        objs = random_objects(n_frames * FRAME_ROWS * model.mm_per_px, np.random.default_rng(21), per_m=1.0, **objects)
        cam = SimulatedCamera(tiles="heldout", seed=21, objects=objs, width_px=model.width_px, frame_lines=FRAME_ROWS,
                              mm_per_px=model.mm_per_px, scene_options=scene).open()
        frames = [cam.grab() for _ in range(n_frames)]
        for name, clf in verifiers.items():
            det = replace(model, classifier=clf).detector()
            t = time.thread_time()
            for f in frames:
                det.process(f)
            ms = 1000.0 * (time.thread_time() - t) / n_frames
            rate = FRAME_ROWS * model.mm_per_px / ms
            print(f"detector with {name}, {scene_type} belt: {ms:.1f} ms CPU per frame = {rate:.0f} m of belt per CPU second "
                  f"({model.mm_per_px:g} mm/px; the line station's target {LINE_TARGET_M_S:.0f} m/s includes its records)", flush=True)
            rows.append(_row(f"vision detector with {name}, {scene_type} belt ({model.mm_per_px:g} mm/px, {n_frames} frames, CPU)",
                             rate, "m/s", f">= {LINE_TARGET_M_S:.0f}", rate >= LINE_TARGET_M_S))
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    """``--quick``: a small fit pool (60 m of objects, 150 m of decision belt), 10 m per case, 100 m object-free."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_patchnet", description=__doc__)
    ap.add_argument("--length-m", type=float, default=100.0, help="held-out belt with objects per case (m; wood-only cases half)")
    ap.add_argument("--fa-m", type=float, default=3000.0, help="object-free realistic and today's belt each (m; 0: skip)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quick", action="store_true", help="small pool, 10 m per case, 100 m object-free (checks the benchmark runs)")
    a = ap.parse_args(argv)
    small: dict = {"objects_m": 60.0, "decision_m": 150.0, "normal_m": 10.0, "calibration_m": 40.0} if a.quick else {}
    if a.quick:
        a.length_m, a.fa_m = 10.0, 100.0
    model, pool = fit_pool(**small)
    features, _ = train_classifier(pool, model.params, patchnet=False)
    t = time.process_time()
    with_cnn, _ = train_classifier(pool, model.params, patchnet=True)
    fit_s = time.process_time() - t
    print(f"fit pool: {len(pool.y)} candidates ({int(np.sum(pool.train))} training); features+CNN classifier fitted in "
          f"{fit_s:.0f} s CPU; decisions: features-only {features.none_max:.3g}, features+CNN {with_cnn.none_max:.3g}", flush=True)
    rows = [_row("vision verifier features+CNN, fitting CPU time (MLPs and CNN)", fit_s, "s", "<= 120 (CNN)", True)]
    verifiers = {"features-only": features, "features+CNN": with_cnn}
    rows += compare(model, verifiers, a.length_m, a.fa_m, a.seed)
    return rows + detector_rows(model, verifiers, 4 if a.quick else 40)


if __name__ == "__main__":
    main()
