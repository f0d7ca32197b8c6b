"""The thin-stick evidence's level (:data:`vision.sticks.STICK_LEVEL`), set on the fit split's object-free belt only.

Streams ``--length-m`` of object-free today's belt (``--scene``) per seed, rendered from the FIT tiles (never the
held-out tiles, never a development or confirmation seed), in 2,048-line frames as the station sees them, through
:class:`vision.sticks.StickFinder` with the detector's inputs (the cells' green chromaticity, the belt columns, the
ore-coloured cells and the frame's ore share), and prints the spread of the stick scores on part-loaded belt (load <
``vision.decision.LOAD_EDGE``) and the level: the highest of them plus :data:`MARGIN`, rounded up to 0.001 (no stick of
the calibration belt reaches it).

Run: ``.venv/bin/python -m vision.sticks_level [--length-m 3000] [--seeds 2001 2002 2003 2004] [--scene today]``;
``--show`` prints the shipped level and its provenance.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from vision.densenet_data import stream
from vision.features import belt_columns, block_means
from vision.planks_level import RESERVED_SEEDS
from vision.scene import ore_mask
from vision.scenes import EVALUATION_CAMERA, camera_scene_options
from vision.sticks import STICK_LEVEL, STICK_LEVEL_PROVENANCE, STICK_MM_PER_PX, StickFinder, StickParams

#: The command that set :data:`vision.sticks.STICK_LEVEL`.
LEVEL_COMMAND = "python -m vision.sticks_level --length-m 3000 --seeds 2001 2002 2003 2004 --scene today"
#: Added to the calibration belt's highest score (q units): the level lies above every stick it showed.
MARGIN = 0.002
#: Development and confirmation seeds of this evidence (and their object-free belts): never levelled on.
HELD_OUT_SEEDS = frozenset({51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 1051, 1052, 291, 292, 1291, 1292})


def belt_scores(scene_type: str, seed: int, length_m: float, params: StickParams, width_px: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(score, belt load) of every stick scoring at least ``params.gate_q`` on ``length_m`` of object-free fit-split
    belt of ``scene_type`` (seen through the evaluation camera) at :data:`vision.sticks.STICK_MM_PER_PX`. Raises
    ValueError on a held-out seed."""
    if seed in RESERVED_SEEDS or seed in HELD_OUT_SEEDS:
        raise ValueError(f"seed {seed} is reserved for development or confirmation: level on other seeds")
    block = 2
    finder = StickFinder(STICK_MM_PER_PX, block, params)
    found = []
    scene = camera_scene_options(scene_type, EVALUATION_CAMERA)[0]
    for frame, _ in stream("fit", seed, length_m, scene=scene, objects=None, objects_per_m=0.0, mm_per_px=STICK_MM_PER_PX,
                           width_px=width_px):
        rgb = block_means(frame.image, block)  # as CellFeatures.rgb
        cols = belt_columns(rgb)
        green = rgb[..., 1] / (rgb[..., 0] + rgb[..., 1] + rgb[..., 2] + 1.0)  # as CellFeatures.g
        ore = ore_mask(rgb)
        row0 = int(round(frame.start_belt_m * 1000.0 / (block * STICK_MM_PER_PX)))
        found += finder.find(frame.image, green, cols, ore, row0, level=params.gate_q)
    return np.array([s.score for s in found], float), np.array([s.load for s in found], float)


def level_of(scores: list[np.ndarray], margin: float = MARGIN) -> float:
    """The level above every score of ``scores`` by ``margin``, rounded up to 0.001 (the gate's when there is none)."""
    top = max((float(s.max()) for s in scores if s.size), default=StickParams().gate_q)
    return math.ceil(round((top + margin) * 1000.0, 6)) / 1000.0


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(prog="python -m vision.sticks_level", description=__doc__)
    ap.add_argument("--length-m", type=float, default=3000.0, help="object-free fit belt per seed (m)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[2001, 2002, 2003, 2004])
    ap.add_argument("--scene", default="today", help="scene type of the belt (vision.scenes; today's part-loaded patchwork)")
    ap.add_argument("--show", action="store_true", help="print the shipped level and its provenance, and stop")
    a = ap.parse_args(argv)
    if a.show:
        print(f"STICK_LEVEL {STICK_LEVEL:g}: {STICK_LEVEL_PROVENANCE}")
        return STICK_LEVEL
    held = sorted(set(a.seeds) & (RESERVED_SEEDS | HELD_OUT_SEEDS))
    if held:
        ap.error(f"seeds {held} are reserved for development or confirmation: level on other seeds")
    part = []
    for seed in a.seeds:
        t0 = time.process_time()
        s, load = belt_scores(a.scene, seed, a.length_m, StickParams())
        at = s[load < StickParams().max_load]
        part.append(at)
        print(f"{a.scene} seed {seed}, {a.length_m:.0f} m: {s.size} sticks >= the gate, {at.size} part-loaded; top 5 "
              + ", ".join(f"{v:.4f}" for v in np.sort(at)[::-1][:5]) + f" ({time.process_time() - t0:.0f} s CPU)", flush=True)
    level = level_of(part)
    print(f"level {level:.3f} (the highest part-loaded score of {a.length_m * len(a.seeds):.0f} m plus {MARGIN:g})", flush=True)
    return level


if __name__ == "__main__":
    main()
