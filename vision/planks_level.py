"""The plank evidence's level (:data:`vision.planks.PLANK_LEVEL`), or with ``--evidence metal`` the metal bar
evidence's (:data:`vision.metal_bars.METAL_LEVEL`), set on fit-split object-free belt only.

Streams ``--length-m`` of object-free belt of each scene type (realistic and today's, :mod:`vision.scenes`) rendered
from the FIT tiles (never the held-out tiles, never the development or confirmation seeds) through
:class:`vision.planks.PlankStream` in 2,048-line frames, as the detector does, and prints the spread of the region
scores at full burden and the level that lets at most ``--per-km`` regions per 1,000 m through on either belt: the
(floor(per_km x km) + 1)-th highest score of the belt with the most, rounded up to 0.5.

The metal bar evidence is streamed as the detector runs it (:meth:`vision.metal_bars.MetalBarStream.push_frame`: 4 mm
cells, frames under a full burden's ore share not searched).

Run: ``.venv/bin/python -m vision.planks_level [--length-m 3000] [--seeds 931 932] [--per-km 0.3] [--evidence metal]
[--camera calibrated]`` (``--camera``: :data:`vision.scenes.CAMERAS`, default the renderer's own).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace

import numpy as np

from vision.densenet_data import stream
from vision.features import belt_columns, block_means
from vision.metal_bars import MetalBarStream, metal_params
from vision.planks import PlankParams, PlankStream
from vision.scene import ore_mask
from vision.scenes import CAMERAS, camera_scene_options

#: The command that set :data:`vision.planks.PLANK_LEVEL` (docs/vision.md "Pixel-scale plank evidence").
LEVEL_COMMAND = "python -m vision.planks_level --length-m 3000 --seeds 931 932 --per-km 0.3"
#: The command that set :data:`vision.metal_bars.METAL_LEVEL` (docs/vision.md "Metal bar evidence").
METAL_LEVEL_COMMAND = "python -m vision.planks_level --evidence metal --camera calibrated --length-m 3000 --seeds 931 932 --per-km 0.3"
#: The evidences ``--evidence`` takes.
EVIDENCES = ("planks", "metal")
#: Seeds never to level on: the development (51, 52, 1051, 1052) and confirmation (61, 62, 1061, 1062) seeds.
RESERVED_SEEDS = frozenset({11, 12, 1011, 1012, 51, 52, 1051, 1052, 61, 62, 1061, 1062, 71, 72, 1071, 1072})


def belt_scores(scene_type: str, seed: int, length_m: float, params: PlankParams, mm_per_px: float = 4.0,
                width_px: int = 512, evidence: str = "planks", camera: str = "renderer") -> tuple[np.ndarray, np.ndarray]:
    """(score, belt load) of every plank region (``evidence`` "metal": metal bar region, :mod:`vision.metal_bars`)
    on ``length_m`` of object-free fit-split belt of ``scene_type`` seen through ``camera``
    (:func:`vision.scenes.camera_scene_options`)."""
    if seed in RESERVED_SEEDS:
        raise ValueError(f"seed {seed} is reserved for development or confirmation: level on other seeds")
    if evidence not in EVIDENCES:
        raise ValueError(f"expected evidence {' or '.join(EVIDENCES)}, got {evidence!r}")
    block = 2
    st = MetalBarStream(mm_per_px, params) if evidence == "metal" else PlankStream(params, block * mm_per_px)
    found = []
    for frame, _ in stream("fit", seed, length_m, scene=camera_scene_options(scene_type, camera)[0], objects=None, objects_per_m=0.0,
                           mm_per_px=mm_per_px, width_px=width_px):
        rgb = block_means(frame.image, block)  # as CellFeatures.rgb
        cols = belt_columns(rgb)
        if isinstance(st, MetalBarStream):  # as the detector: its belt columns in pixels, its ore share of the belt
            share = float(ore_mask(rgb)[:, cols].mean()) if cols.any() else 0.0
            found += [r for r, _ in st.push_frame(frame.image, np.repeat(cols, block), int(round(frame.start_belt_m * 1000.0 / mm_per_px)), share)]
            continue
        row0 = int(round(frame.start_belt_m * 1000.0 / (block * mm_per_px)))
        found += [r for r, _ in st.push(rgb, np.broadcast_to(cols, rgb.shape[:2]), row0)]
    found += [r for r, _ in st.flush()]
    return np.array([r.score for r in found], float), np.array([r.load for r in found], float)


def level_of(scores: list[np.ndarray], km: float, per_km: float) -> float:
    """The level letting at most ``per_km`` regions per 1,000 m through on each belt's ``scores`` (``km`` each)."""
    allowed = int(math.floor(per_km * km))
    worst = max((np.sort(s)[::-1][allowed] if s.size > allowed else -np.inf) for s in scores)
    return float(math.floor(worst * 2.0) / 2.0 + 0.5) if np.isfinite(worst) else 0.0


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(prog="python -m vision.planks_level", description=__doc__)
    ap.add_argument("--length-m", type=float, default=3000.0, help="object-free fit belt per scene type and seed (m)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[931, 932])
    ap.add_argument("--per-km", type=float, default=0.3, help="regions allowed per 1,000 m of each belt")
    ap.add_argument("--evidence", choices=EVIDENCES, default="planks", help="the plank evidence (vision/planks.py) or the "
                    "metal bar evidence (vision/metal_bars.py)")
    ap.add_argument("--camera", choices=CAMERAS, default="renderer", help="how the realistic belt is lit and seen "
                    "(vision.scenes.camera_scene_options; the plank level was set on the renderer's own, the metal bars' on "
                    "the calibrated camera the evaluation uses)")
    a = ap.parse_args(argv)
    if any(s in RESERVED_SEEDS for s in a.seeds):
        ap.error(f"seeds {sorted(set(a.seeds) & RESERVED_SEEDS)} are reserved for development or confirmation: level on other seeds")
    # every region with its load
    params = metal_params(0.0) if a.evidence == "metal" else PlankParams(level=0.0, min_load=0.0)
    params = replace(params, min_load=0.0)
    full = []
    for st in ("realistic", "today"):
        for seed in a.seeds:
            t0 = time.process_time()
            s, load = belt_scores(st, seed, a.length_m, params, evidence=a.evidence, camera=a.camera)
            at = s[load >= PlankParams().min_load]
            full.append(at)
            q = np.quantile(at, [0.5, 0.9, 0.99, 1.0]) if at.size else np.full(4, np.nan)
            print(f"{st} seed {seed}, {a.length_m:.0f} m: {s.size} regions, {at.size} at full burden; score quantiles "
                  f"0.5 / 0.9 / 0.99 / max {q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f} / {q[3]:.1f}; top 5 "
                  + ", ".join(f"{v:.1f}" for v in np.sort(at)[::-1][:5]) + f" ({time.process_time() - t0:.0f} s CPU)", flush=True)
    level = level_of(full, a.length_m / 1000.0, a.per_km)
    print(f"level {level:g} (at most {a.per_km:g} regions per 1,000 m of each belt)", flush=True)
    return level


if __name__ == "__main__":
    main()
