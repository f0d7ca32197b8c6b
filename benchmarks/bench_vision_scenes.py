"""Vision on scenes like a real belt (issue 17, item 5): recall of the built-in model on today's scenes beside harder
ones, and how far each physical effect of the renderer is from the real images it stands for (:mod:`vision.realism`).

Scenes (held-out CDM tiles, 1 mm/px unless ``--mm-per-px``, the same objects by seed in each):
- ``today``: the patchwork of loaded and bare-belt tiles, objects with rule-drawn surfaces;
- ``real belt``: a full burden of ore, objects with photographed surfaces (textures-cc0) and relief shading, partly
  buried (0..50 % covered), coated by the ore (colour cast 10..35 %, dust 0..20 %), half the wood wet;
- ``dark rubber on dark ore``: the same belt at 0.45 x the ore's brightness, rubber objects only;
- ``wet wood on brown ore``: the full burden of the brown CDM ore, wet wood only.

Run: ``.venv/bin/python -m benchmarks.bench_vision_scenes [--model M.npz] [--length-m 200]``.
Images: see :data:`vision.tiles.ATTRIBUTION` and :data:`vision.objects.ATTRIBUTION_TEXTURES`.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from vision.cli import evaluate  # noqa: E402
from vision.fit import VisionModel, cached_model  # noqa: E402
from vision.frontier import candidate_scores  # noqa: E402
from vision.realism import all_checks  # noqa: E402

REAL = dict(burden="full", surface="photo")
SCENES = {
    "today": ({}, {}),
    "real belt": (REAL, dict(buried_max=0.5, wet_share=0.5)),
    "dark rubber on dark ore": (dict(REAL, ore_gain=(0.45, 0.45, 0.45)), dict(buried_max=0.3, kinds=("rubber",))),
    "wet wood on brown ore": (REAL, dict(buried_max=0.3, wet_share=1.0, kinds=("wood",))),
    "wood on today's belt": ({}, dict(kinds=("wood",))),
}
#: Planks and sticks narrower than this (mm) are "thin wood" (issue 17, item 3).
THIN_MM = 40.0


def scene_rows(model: VisionModel, length_m: float, seed: int) -> list[dict]:
    """Renderer checks printed; one recall row per scene type (figures beside today's scenes, no target)."""
    rows = []
    print("Renderer against real images (rendered, real, error):")
    for c in all_checks():
        print(f"  {c.name}: {c.rendered:.3f} vs {c.real:.3f} ({c.error:+.3f} {c.unit})")
    for name, (scene, objects) in SCENES.items():
        n = length_m if "kinds" not in objects else length_m / 2
        table, _ = evaluate(model, backgrounds="heldout", length_m=n, seed=seed, objects_per_m=1.0, scene=scene, objects=objects)
        r = table["recall"]["size>=50:all"]
        kinds = ", ".join(f"{k[9:]} {v['detected']}/{v['objects']}" for k, v in sorted(table["recall"].items()) if k.startswith("kind>=50:"))
        print(f"{name}: recall >= 50 mm {100 * r['recall']:.1f} % ({r['detected']}/{r['objects']}; {kinds}); "
              f"false alarms {table['false_alarms']} in {table['belt_m']:.0f} m", flush=True)
        if name == "wood on today's belt":
            rows.append(_thin_wood_row(model, n, seed, objects))
        rows.append(dict(name=f"vision recall objects >= 50 mm, {name} scenes ({r['detected']}/{r['objects']}; "
                              f"{table['false_alarms']} false alarms in {table['belt_m']:.0f} m; {model.mm_per_px:g} mm/px)",
                         value=100 * r["recall"], unit="%", target="-", ok=True))
    return rows


def _thin_wood_row(model: VisionModel, length_m: float, seed: int, objects: dict) -> dict:
    """Recall of wood >= 50 mm long and narrower than THIN_MM (a reported candidate on the piece) on today's belt."""
    sc = candidate_scores(model, "heldout", length_m=length_m, seed=seed, objects_per_m=1.0, frame_lines=1024, objects=objects)
    none_max = model.classifier.none_max if model.classifier is not None else 1.0
    found, n = sc.recall(none_max, "wood", THIN_MM)
    print(f"  thin wood (< {THIN_MM:.0f} mm wide, >= 50 mm long): {found}/{n} found", flush=True)
    return dict(name=f"vision recall thin wood (< {THIN_MM:.0f} mm wide, >= 50 mm long) on held-out CDM ({found}/{n}; {model.mm_per_px:g} mm/px)",
                value=100.0 * found / max(n, 1), unit="%", target=">= 90", ok=n > 0 and found >= 0.9 * n)


def main(argv: list[str] | None = None) -> list[dict]:
    """``--quick``: the shipped 4 mm/px model on a few metres of each scene (checks the benchmark runs)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_scenes", description=__doc__)
    ap.add_argument("--model", help="saved model (.npz); default the built-in model, fitted and cached")
    ap.add_argument("--mm-per-px", type=float, default=1.0)
    ap.add_argument("--length-m", type=float, default=200.0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quick", action="store_true", help="4 mm/px, 10 m per scene")
    a = ap.parse_args(argv)
    if a.quick:
        a.mm_per_px, a.length_m = 4.0, 10.0
    m = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=a.mm_per_px, width_px=int(round(2048 / a.mm_per_px)))
    return scene_rows(m, a.length_m, a.seed)


if __name__ == "__main__":
    main()
