"""Is there headroom in one decision on both classifiers' evidence instead of the union's OR? (issue 27, fuse46)

Runs the model (default the shipped union) as ``bench_vision_scenes`` does, with every candidate kept
(``Detector.report_all``: it only shows the unreported ones), on the realistic case (``--length-m`` of belt with objects,
1,024-line frames) and on object-free realistic and today's belt (``--fa-m`` each, seed + 1000, 2,048-line frames), and
scores every size-passing features' candidate again with both classifiers: u = ln(p_b / l_b) (the base at its level
at the candidate's load), v = ln(p_j / l_j) (the second judge). The net's own components stay judged by the judge at
its level. Prints the rank correlation of u and v on ore and on objects, their spreads, and the realistic objects
>= 50 mm found by each rule of :func:`vision.decision_fusion.rules` at the same count of object-free false candidates
(the level read off the development belt itself: an oracle, for headroom only, never a level to ship), with the OR's
two levels moved apart as its own best at each count; a PNG of ore and objects in (u, v) with the OR's boundary.

Run: ``.venv/bin/python -m benchmarks.bench_vision_fusion [--seed 51 --seed 52] [--model M.npz] [--length-m 100]
[--fa-m 3000] [--runs DIR] [--png PATH] [--quick]``. ``--runs DIR``: each seed's candidates are saved there (features, load,
place, truth) and taken from there when present, so a second analysis costs no detector run.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from scipy.stats import spearmanr

from benchmarks.common import quantiles_text
from vision.decision_fusion import Score, level_at_false_count, level_ratio, or_score, or_shift_choices, or_shifted, rules
from vision.detect import Detection
from vision.evaluate import MATCH_MARGIN_MM, match, score_table
from vision.fit import SHIPPED_DIR, VisionModel
from vision.frontier import every_candidate
from vision.scene import SceneObject
from vision.scenes import camera_scene_options

#: The shipped union (FIT_VERSION 18), the model the diagnostic is about.
SHIPPED_UNION = SHIPPED_DIR / "model-4mm-512px-2f7c0564758e.npz"
#: Counts of object-free false candidates at which the rules are compared (the OR's own count is added).
COUNTS = (0, 1, 2, 3, 5, 8, 12, 20)
#: The development seeds of fuse46 run by default (``make bench``).
DEV_SEEDS = (51, 52)
#: The runs of one seed: the realistic case with objects and the two object-free belts.
PARTS = ("realistic", "fa-realistic", "fa-today")


@dataclass
class Run:
    """Every candidate of one run (feature rows, judged load, length, the net's own or not, place, as-run kind) and
    the truth objects on the belt seen (``seen_m``)."""

    features: np.ndarray
    load: np.ndarray
    length_mm: np.ndarray
    dense_own: np.ndarray
    belt_m: np.ndarray
    lateral_m: np.ndarray
    kind: np.ndarray
    truth: list[SceneObject]
    seen_m: float

    @classmethod
    def of(cls, found: list[Detection], truth: list[SceneObject], seen_m: float) -> "Run":
        col = lambda name, dtype=float: np.array([getattr(d, name) for d in found], dtype)  # noqa: E731
        feats = np.array([np.asarray(d.features, float) for d in found]).reshape(len(found), -1)
        return cls(feats, col("load"), col("length_mm"), col("dense_own", bool), col("belt_m"), col("lateral_m"), col("kind", str),
                   truth, float(seen_m))

    def save(self, path: Path) -> None:
        t = self.truth
        np.savez_compressed(path, features=self.features, load=self.load, length_mm=self.length_mm, dense_own=self.dense_own,
                            belt_m=self.belt_m, lateral_m=self.lateral_m, kind=self.kind, seen_m=np.float64(self.seen_m),
                            truth_kind=np.array([o.kind for o in t], str), truth_belt_mm=np.array([o.belt_mm for o in t], float),
                            truth_lateral_mm=np.array([o.lateral_mm for o in t], float),
                            truth_length_mm=np.array([o.length_mm for o in t], float), truth_width_mm=np.array([o.width_mm for o in t], float))

    @classmethod
    def load_from(cls, path: Path) -> "Run":
        a = np.load(path)
        width = a["truth_width_mm"] if "truth_width_mm" in a.files else np.ones(len(a["truth_kind"]))  # not used in matching
        truth = [SceneObject(kind=str(k), belt_mm=float(b), lateral_mm=float(lat), length_mm=float(ln), width_mm=float(w))
                 for k, b, lat, ln, w in zip(a["truth_kind"], a["truth_belt_mm"], a["truth_lateral_mm"], a["truth_length_mm"], width)]
        return cls(a["features"], a["load"], a["length_mm"], a["dense_own"].astype(bool), a["belt_m"], a["lateral_m"], a["kind"],
                   truth, float(a["seen_m"]))


@dataclass
class Scored:
    """A run with both classifiers' level ratios: u (base), v (judge), and which candidates pass the size gate."""

    run: Run
    u: np.ndarray
    v: np.ndarray
    size_ok: np.ndarray
    #: which of :data:`PARTS` it is
    part: str = ""

    @property
    def features_cand(self) -> np.ndarray:
        """Size-passing candidates of the features (not the net's own)."""
        return self.size_ok & ~self.run.dense_own

    def own_reported(self) -> np.ndarray:
        return self.size_ok & self.run.dense_own & (self.v <= 0.0)

    def result(self, score: Score, level: float) -> tuple[int, int, int]:
        """(objects >= 50 mm found, objects >= 50 mm, false alarms) when the features' candidates are reported at
        ``score(u, v) <= level`` and the net's own by the judge, matched as ``bench_vision_scenes`` matches."""
        rep = np.where(self.run.dense_own, self.v <= 0.0, score(self.u, self.v) <= level) & self.size_ok
        r = self.run
        dets = [Detection(kind=str(r.kind[i]), probability=1.0, length_mm=float(r.length_mm[i]), width_mm=0.0, area_mm2=0.0,
                          belt_m=float(r.belt_m[i]), lateral_m=float(r.lateral_m[i]), tonnage_mark_t=0.0, time_s=0.0, anomaly_score=0.0,
                          thumbnail=np.zeros((1, 1, 3), np.uint8), frame_id=0) for i in np.flatnonzero(rep)]
        t = score_table(match(r.truth, dets), r.seen_m)
        big = t["recall"].get("size>=50:all", {"detected": 0, "objects": 0})
        return int(big["detected"]), int(big["objects"]), int(t["false_alarms"])

    def best_on_objects(self, min_mm: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) of the features' candidate with the lowest min(u, v) on each object >= ``min_mm`` that has one."""
        r, ok = self.run, self.features_cand
        bu, bv = [], []
        for o in (o for o in r.truth if o.length_mm >= min_mm):
            near = ok & (np.hypot(r.belt_m * 1000.0 - o.belt_mm, r.lateral_m * 1000.0 - o.lateral_mm) <= o.length_mm / 2 + MATCH_MARGIN_MM)
            if near.any():
                j = np.flatnonzero(near)[np.argmin(or_score(self.u, self.v)[near])]
                bu.append(self.u[j])
                bv.append(self.v[j])
        return np.array(bu, float), np.array(bv, float)


def run_part(model: VisionModel, part: str, seed: int, length_m: float, fa_m: float) -> Run:
    """Every candidate of ``part`` of :data:`PARTS` for ``seed``, as ``bench_vision_scenes`` runs it."""
    with_objects = part == "realistic"
    scene, objects = camera_scene_options("realistic" if with_objects else part[3:], "renderer")
    length, s, lines = (length_m, seed, 1024) if with_objects else (fa_m, seed + 1000, 2048)
    found, seen, cam = every_candidate(model, "heldout", length_m=length, seed=s, objects_per_m=1.0 if with_objects else 0.0,
                                       frame_lines=lines, scene=scene, objects=objects)
    return Run.of(found, seen, cam.position_m)


def scored(model: VisionModel, run: Run, part: str = "") -> Scored:
    """Both classifiers' level ratios of every candidate of ``run``. Raises ValueError without a second judge."""
    if model.classifier is None or model.dense_judge is None:
        raise ValueError("the fusion diagnostic needs a union model (a classifier and a second judge)")
    n = len(run.features)
    u = v = np.zeros(0)
    if n:
        f, load = run.features, run.load
        u = level_ratio(np.maximum(model.classifier.p_none(f), 1e-300), model.classifier.levels(load))
        v = level_ratio(np.maximum(model.dense_judge.p_none(f), 1e-300), model.dense_judge.levels(load))
    return Scored(run, u, v, run.length_mm >= model.params.min_length_mm, part)


def seed_runs(model: VisionModel, seed: int, length_m: float, fa_m: float, runs_dir: Path | None) -> dict[str, Scored]:
    """The parts of ``seed``, taken from ``runs_dir`` (``s{seed}-{part}.npz``) when there, else run (and saved there)."""
    out = {}
    for part in PARTS:
        path = runs_dir / f"s{seed}-{part}.npz" if runs_dir is not None else None
        if path is not None and path.exists():
            run = Run.load_from(path)
        else:
            run = run_part(model, part, seed, length_m, fa_m)
            if path is not None:
                run.save(path)
        out[part] = scored(model, run, part)
        print(f"seed {seed} {part}: {len(run.features)} candidates, {len(run.truth)} objects, {run.seen_m:.0f} m", flush=True)
    return out


def correlation_lines(objs: list[Scored], fas: list[Scored]) -> None:
    """Spearman rank correlation of u and v (equivalently of log p_b and log p_j per belt condition) and spreads."""
    fu = np.concatenate([s.u[s.features_cand] for s in fas])
    fv = np.concatenate([s.v[s.features_cand] for s in fas])
    best = [s.best_on_objects() for s in objs]
    bu, bv = np.concatenate([b[0] for b in best]), np.concatenate([b[1] for b in best])
    print("\nrank correlation of log p_b and log p_j (in level units u, v):")
    for name, sel in (("all", np.ones(fu.size, bool)), ("within 100 x of either level", or_score(fu, fv) <= np.log(100.0)),
                      ("within 10 x of either level", or_score(fu, fv) <= np.log(10.0))):
        print(f"  ore false candidates, {name} ({sel.sum()}): {_rho(fu[sel], fv[sel])}")
    print(f"  realistic objects >= 50 mm, best candidate each ({bu.size}): {_rho(bu, bv)}")
    print(f"spreads, u = ln(p_b / l_b): ore {quantiles_text(fu)}; objects {quantiles_text(bu)}")
    print(f"         v = ln(p_j / l_j): ore {quantiles_text(fv)}; objects {quantiles_text(bv)}")
    low = np.argsort(or_score(fu, fv))[:12]
    print("the 12 most object-like ore candidates (u, v): " + "; ".join(f"{fu[i]:+.1f}, {fv[i]:+.1f}" for i in low))


def _rho(a: np.ndarray, b: np.ndarray) -> str:
    return f"{spearmanr(a, b)[0]:.3f}" if a.size > 2 else "n/a"


def headroom_rows(objs: list[Scored], fas: list[Scored], counts: tuple[int, ...] = COUNTS) -> list[dict]:
    """Realistic objects >= 50 mm found by each rule at each count of object-free false candidates (printed as a
    table; a row per rule: found at the OR's own count)."""
    fu = np.concatenate([s.u[s.features_cand] for s in fas])
    fv = np.concatenate([s.v[s.features_cand] for s in fas])
    own = sum(int(s.own_reported().sum()) for s in fas)
    shipped = [sum(x) for x in zip(*(s.result(or_score, 0.0) for s in objs))]
    or_count = int(np.sum(or_score(fu, fv) <= 0.0)) + own
    ks = sorted(set(counts) | {or_count})
    print(f"\nthe OR at the shipped levels: {or_count} object-free false candidates ({own} the net's own) in "
          f"{sum(s.run.seen_m for s in fas):,.0f} m; realistic objects >= 50 mm found {shipped[0]}/{shipped[1]}")
    print("realistic objects >= 50 mm found at <= k object-free false candidates (level read off this belt: an oracle)")
    print("| rule | " + " | ".join(f"k = {k}" for k in ks) + " |\n|---|" + "---|" * len(ks))
    rows = []
    for name, score in rules().items():
        fs = score(fu, fv)
        found = [sum(s.result(score, level_at_false_count(fs, k - own))[0] for s in objs) if k >= own else -1 for k in ks]
        print(f"| {name} | " + " | ".join(str(f) if f >= 0 else "-" for f in found) + " |", flush=True)
        rows.append({"name": f"vision fusion headroom, {name}: objects found at the OR's {or_count} false candidates "
                             f"(OR at the shipped levels {shipped[0]})", "value": found[ks.index(or_count)] - shipped[0],
                     "unit": "objects", "target": "", "ok": True})
    best = [_best_or(objs, fu, fv, k - own) if k >= own else (-1, 0.0, 0.0) for k in ks]
    print("| OR, its two levels moved apart (best at each k) | " + " | ".join(str(b[0]) for b in best) + " |")
    print("  (its shifts of u, v: " + "; ".join(f"k = {k}: {b[1]:+.2f}, {b[2]:+.2f}" for k, b in zip(ks, best)) + ")")
    return rows


def _best_or(objs: list[Scored], fu: np.ndarray, fv: np.ndarray, k: int) -> tuple[int, float, float]:
    grid = np.unique(np.concatenate([np.linspace(-6.0, 4.0, 41), np.sort(fu)[:30] - 1e-9]))
    best = (-1, 0.0, 0.0)
    for a, b in or_shift_choices(fu, fv, k, grid):
        f = sum(s.result(or_shifted(a, min(b, 50.0)), 0.0)[0] for s in objs)
        best = max(best, (f, a, min(b, 50.0)), key=lambda t: t[0])
    return best


def picture(objs: list[Scored], fas: list[Scored], seeds: list[int], path: Path) -> None:
    """Ore (object-free belts) and realistic objects (best candidate each) in (u, v), with the OR's boundary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6))
    for part, colour in (("fa-realistic", "0.55"), ("fa-today", "tab:orange")):
        mine = [s for s in fas if s.part == part]
        fu = np.concatenate([s.u[s.features_cand] for s in mine]) if mine else np.zeros(0)
        fv = np.concatenate([s.v[s.features_cand] for s in mine]) if mine else np.zeros(0)
        ax.scatter(fu, fv, s=3, c=colour, alpha=0.4, label=f"ore, object-free {part[3:]} belt ({fu.size})")
    best = [s.best_on_objects() for s in objs]
    bu, bv = np.concatenate([b[0] for b in best]), np.concatenate([b[1] for b in best])
    ax.scatter(bu, bv, s=14, c="tab:blue", marker="x", label=f"realistic objects >= 50 mm, best candidate each ({bu.size})")
    ax.axvline(0, c="k", lw=0.8)
    ax.axhline(0, c="k", lw=0.8)
    ax.fill_between([-30, 0], -30, 30, color="tab:green", alpha=0.06)
    ax.fill_between([0, 30], -30, 0, color="tab:green", alpha=0.06, label="the OR reports (u <= 0 or v <= 0)")
    ax.set_xlim(-8, 10)
    ax.set_ylim(-8, 8)
    ax.set_xlabel("u = ln(p_b / l_b): base classifier, its level at the load")
    ax.set_ylabel("v = ln(p_j / l_j): second judge, its level at the load")
    ax.set_title(f"fuse46: the shipped union's features' candidates, seeds {', '.join(map(str, seeds))}", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"picture: {path}")


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_fusion", description=__doc__)
    ap.add_argument("--seed", type=int, action="append", help="development seed (repeat; object-free belt seed + 1000; "
                    f"default {' and '.join(map(str, DEV_SEEDS))})")
    ap.add_argument("--model", type=Path, default=SHIPPED_UNION, help="a union model (.npz); default the shipped union")
    ap.add_argument("--length-m", type=_positive, default=100.0, help="realistic belt with objects per seed (m)")
    ap.add_argument("--fa-m", type=_positive, default=3000.0, help="object-free realistic and today's belt per seed (m, each)")
    ap.add_argument("--runs", type=Path, help="save each seed's candidates here, and take them from here when present")
    ap.add_argument("--png", type=Path, help="the (u, v) picture (default: none)")
    ap.add_argument("--quick", action="store_true", help="seed 51 on 10 m with objects and 30 m of each object-free belt "
                    "(checks the benchmark runs; figures not comparable)")
    a = ap.parse_args(argv)
    a.seed = a.seed or ([DEV_SEEDS[0]] if a.quick else list(DEV_SEEDS))
    if a.quick:
        a.length_m, a.fa_m = 10.0, 30.0
    model = VisionModel.load(a.model)
    if a.runs is not None:
        a.runs.mkdir(parents=True, exist_ok=True)
    parts = [seed_runs(model, s, a.length_m, a.fa_m, a.runs) for s in a.seed]
    objs = [p["realistic"] for p in parts]
    fas = [p[k] for p in parts for k in PARTS[1:]]
    correlation_lines(objs, fas)
    rows = headroom_rows(objs, fas)
    if a.png is not None:
        picture(objs, fas, a.seed, a.png)
    return rows


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of metres, got {text!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number of metres, got {text!r}")
    return value


if __name__ == "__main__":
    main()
