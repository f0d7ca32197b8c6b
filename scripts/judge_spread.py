"""The union's second judge's own p(none) on a model's candidates (issue 27, w27f): every size-passing candidate,
the features' and the dense net's, on objects >= 50 mm (the best on each) of realistic belt with one object per m
and on object-free realistic belt (seed + 1000), with how many lie at or under the judge's levels per belt load.

Run: ``PYTHONPATH=. .venv/bin/python scripts/judge_spread.py MODEL.npz SEED OBJECT_M FREE_M``
(docs/vision.md "The union refitted on the corrected belt").
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import quantiles_text
from vision.detect import Detection
from vision.errors import ModelError
from vision.fit import VisionModel
from vision.frontier import MATCH_MARGIN_MM, every_candidate
from vision.kind_decision import NONE
from vision.scenes import scene_options


def judge_p_none(model: VisionModel, found: list[Detection]) -> tuple[list[Detection], np.ndarray]:
    """The size-passing candidates of ``found`` and the model's second judge's p(none) of each."""
    if model.dense_judge is None:
        raise ModelError(f"model {model.version} has no second judge (not a union)")
    judge = model.dense_judge
    kept = [d for d in found if d.length_mm >= model.params.min_length_mm]
    if not kept:
        return kept, np.zeros(0)
    return kept, judge.proba(np.array([d.features for d in kept]))[:, int(np.flatnonzero(judge.classes_ == NONE)[0])]


def main(argv: list[str] | None = None) -> None:
    """Print the judge's p(none) spread on objects and on object-free realistic belt for one model and seed."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("seed", type=int)
    ap.add_argument("object_m", type=float)
    ap.add_argument("free_m", type=float)
    a = ap.parse_args(argv)
    m = VisionModel.load(a.model)
    scene, objects = scene_options("realistic")
    found, truth, _ = every_candidate(m, "heldout", length_m=a.object_m, seed=a.seed, objects_per_m=1.0, scene=scene, objects=objects)
    found, pj = judge_p_none(m, found)
    levels = m.dense_judge.regimes_[:, 2] if m.dense_judge is not None else np.ones(2)
    pos = np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in found]).reshape(-1, 2)
    best = np.array([float(pj[near].min()) if near.any() else np.inf for o in truth if o.length_mm >= 50
                     for near in [np.hypot(pos[:, 0] - o.belt_mm, pos[:, 1] - o.lateral_mm) <= o.length_mm / 2 + MATCH_MARGIN_MM]])
    print(f"{m.version} judge levels {levels}: objects >= 50 mm with a candidate {np.isfinite(best).sum()}/{best.size}, "
          f"judge p(none) best on each {quantiles_text(best[np.isfinite(best)], fmt='.2g', count=True)}; "
          f"<= part-loaded level {int((best <= levels[0]).sum())}, <= full-burden level {int((best <= levels[-1]).sum())}", flush=True)
    _, pf = judge_p_none(m, every_candidate(m, "heldout", length_m=a.free_m, seed=a.seed + 1000, objects_per_m=0.0, scene=scene)[0])
    print(f"{m.version}: object-free realistic {a.free_m:g} m (seed {a.seed + 1000}), judge p(none) of {pf.size} size-passing "
          f"candidates {quantiles_text(pf, fmt='.2g', count=True)}; <= part-loaded level {int((pf <= levels[0]).sum())}, "
          f"<= full-burden level {int((pf <= levels[-1]).sum())}; 10 lowest {np.round(np.sort(pf)[:10], 6).tolist()}", flush=True)


if __name__ == "__main__":
    main()
