"""The matched filter's fit and level (:mod:`vision.matched`), on fit-split belt only (issue 27).

Renders belt from the FIT tiles (never the held-out tiles, never a development or confirmation seed), 4 mm/px, in
2,048-line frames as the station sees it, and keeps the detector's 8 mm cell means (``block_means``, as
``CellFeatures.rgb``):

1. **Clutter** (``--fit-m`` of object-free belt of each scene type of :data:`vision.scenes.FIT_MIX`, seed
   ``--seeds[0]``): each footprint's covariance of u (and the PSD's kernel with ``--whiten``).
2. **Colour bank** (``--objects-m`` of belt with 1 object per metre of each scene type, seed ``--seeds[1]``): per
   kind (wet wood apart) the mean direction of its objects' footprint sums (:func:`vision.matched.kind_directions`).
3. **Level** (``--length-m`` of object-free belt of each scene type, seed ``--seeds[2]``, streamed through
   :class:`vision.matched.MatchedStream`): per belt, an exponential tail through its ``TAIL_N`` highest region
   scores (at the belt load the filter reports at), extrapolated to ``--per-km`` regions per 1,000 m; the level is the
   highest of these and of every belt's highest score.

Run: ``.venv/bin/python -m vision.matched_level [--out vision/matched_4mm.npz]`` (:data:`LEVEL_COMMAND`).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from vision.densenet_data import stream
from vision.features import belt_columns, block_means
from vision.matched import MatchedFilter, MatchedParams, MatchedStream, fit_filter, kind_directions
from vision.planks_level import RESERVED_SEEDS as PLANK_RESERVED
from vision.scenes import FIT_MIX, scene_options

#: The filter the detector's ``--matched`` switch loads (:func:`shipped_filter`).
MATCHED_PATH = Path(__file__).with_name("matched_4mm.npz")
#: The command that wrote :data:`MATCHED_PATH` (docs/vision.md "Colour-contrast matched filter").
LEVEL_COMMAND = "python -m vision.matched_level --out vision/matched_4mm.npz"
#: Seeds never to fit or level on: every development and confirmation seed of issue 27.
RESERVED_SEEDS = PLANK_RESERVED | frozenset({81, 82, 1081, 1082})
#: Highest region scores of a belt the exponential tail is fitted through.
TAIL_N = 10
#: Regions kept while levelling (far below any level).
FLOOR = 9.0
MM_PER_PX, WIDTH_PX, BLOCK = 4.0, 512, 2


def belt_cells(scene_type: str, seed: int, length_m: float, objects_per_m: float = 0.0) -> Iterator[tuple[np.ndarray, np.ndarray, int, list]]:
    """(8 mm cell means (h, w, 3), belt (h, w) bool, belt row of the first row (cells), the objects in the frame) of
    each 2,048-line frame of ``length_m`` of fit-split belt of ``scene_type``. Raises ValueError on a reserved seed."""
    if seed in RESERVED_SEEDS:
        raise ValueError(f"seed {seed} is reserved for development or confirmation: fit and level on other seeds")
    scene, objects = scene_options(scene_type)
    cell_mm = BLOCK * MM_PER_PX
    for frame, cam in stream("fit", seed, length_m, scene=scene, objects=objects if objects_per_m > 0 else None,
                             objects_per_m=objects_per_m, mm_per_px=MM_PER_PX, width_px=WIDTH_PX):
        rgb = block_means(frame.image, BLOCK)
        row0 = int(round(frame.start_belt_m * 1000.0 / cell_mm))
        lo, hi = frame.start_belt_m * 1000.0, frame.start_belt_m * 1000.0 + rgb.shape[0] * cell_mm
        inside = [o for o in cam.objects if lo <= o.belt_mm < hi and o.length_mm >= 50.0]
        yield rgb, np.broadcast_to(belt_columns(rgb), rgb.shape[:2]), row0, inside


def colour_bank(mf: MatchedFilter, seed: int, length_m: float) -> tuple[list[str], np.ndarray]:
    """(kinds, directions) measured on ``length_m`` of fit belt with objects of each scene type of FIT_MIX."""
    kinds: list[str] = []
    colours = []
    cell_mm = BLOCK * MM_PER_PX
    for st in dict.fromkeys(FIT_MIX):
        for rgb, belt, row0, objs in belt_cells(st, seed, length_m, objects_per_m=1.0):
            if objs:
                places = [(o.belt_mm / cell_mm - row0, (o.lateral_mm / MM_PER_PX + WIDTH_PX / 2) / BLOCK - 0.5, o.length_mm) for o in objs]
                colours.append(mf.colour_at(rgb, belt, places))
                kinds += [o.kind + ("-wet" if o.wet else "") for o in objs]  # wet wood is darker than dry wood
    return kind_directions(kinds, np.concatenate(colours) if colours else np.zeros((0, 3)))


def belt_scores(mf: MatchedFilter, scene_type: str, seed: int, length_m: float) -> np.ndarray:
    """Scores of every region (above :data:`FLOOR`, at the reported load) on ``length_m`` of object-free fit belt."""
    st = MatchedStream(replace(mf, level=FLOOR))
    found = []
    for rgb, belt, row0, _ in belt_cells(scene_type, seed, length_m):
        found += [r.score for r, _ in st.push(rgb, belt, row0)]
    found += [r.score for r, _ in st.flush()]
    return np.array(found, float)


def tail_level(scores: np.ndarray, km: float, per_km: float, n: int = TAIL_N) -> float:
    """The score exceeded ``per_km`` times per 1,000 m by an exponential tail through the ``n`` highest ``scores``
    of ``km`` of belt (the excess over the n-th highest: its mean is the scale), never below the highest score."""
    s = np.sort(np.asarray(scores, float))[::-1]
    if s.size == 0:
        return FLOOR
    if s.size < n:
        return float(s[0])
    scale = float(np.mean(s[:n] - s[n - 1]))
    return float(max(s[0], s[n - 1] + scale * math.log(n / (per_km * km))))


def main(argv: list[str] | None = None) -> MatchedFilter:
    ap = argparse.ArgumentParser(prog="python -m vision.matched_level", description=__doc__)
    ap.add_argument("--fit-m", type=float, default=400.0, help="object-free fit belt per scene type for the covariances")
    ap.add_argument("--objects-m", type=float, default=200.0, help="fit belt with objects per scene type for the colour bank")
    ap.add_argument("--length-m", type=float, default=3000.0, help="object-free fit belt per scene type for the level")
    ap.add_argument("--seeds", type=int, nargs=3, default=[952, 953, 955], help="clutter, colour bank and level seeds")
    ap.add_argument("--per-km", type=float, default=0.1, help="regions per 1,000 m of each belt at the level")
    ap.add_argument("--whiten", action="store_true", help="also prewhiten with the clutter PSD (measured worse)")
    ap.add_argument("--glrt", action="store_true", help="the GLRT over colour instead of the colour bank")
    ap.add_argument("--out", default=str(MATCHED_PATH))
    a = ap.parse_args(argv)
    t0 = time.process_time()
    params = MatchedParams(whiten=a.whiten)
    frames = ((rgb, belt) for st in dict.fromkeys(FIT_MIX) for rgb, belt, _, _ in belt_cells(st, a.seeds[0], a.fit_m))
    mf = fit_filter(frames, params, BLOCK * MM_PER_PX)
    kinds: list[str] = []
    if not a.glrt:
        kinds, directions = colour_bank(mf, a.seeds[1], a.objects_m)
        mf = replace(mf, directions=directions)
        print("colour bank: " + "; ".join(f"{k} {np.round(d, 2).tolist()}" for k, d in zip(kinds, directions)), flush=True)
    levels, km = [], a.length_m / 1000.0
    for st in dict.fromkeys(FIT_MIX):
        s = belt_scores(mf, st, a.seeds[2], a.length_m)
        levels.append(tail_level(s, km, a.per_km))
        q = np.quantile(s, [0.5, 0.9, 0.99, 1.0]) if s.size else np.full(4, np.nan)
        print(f"{st} seed {a.seeds[2]}, {a.length_m:.0f} m object-free fit belt: {s.size} regions >= {FLOOR:g} at load >= "
              f"{params.min_load:g}; score quantiles 0.5 / 0.9 / 0.99 / max {q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f} / {q[3]:.1f}; top 5 "
              + ", ".join(f"{v:.1f}" for v in np.sort(s)[::-1][:5]) + f"; tail level {levels[-1]:.1f}", flush=True)
    level = float(math.ceil(max(levels)))
    mf = replace(mf, level=level, provenance={"command": LEVEL_COMMAND, "fit_m": a.fit_m, "objects_m": a.objects_m, "level_m": a.length_m,
                                              "seeds": a.seeds, "scene_types": list(dict.fromkeys(FIT_MIX)), "per_km": a.per_km,
                                              "kinds": kinds, "tiles": "fit"})
    mf.save(a.out)
    print(f"level {level:g} (the highest exponential tail at {a.per_km:g} regions per 1,000 m of each belt); written {a.out} "
          f"({time.process_time() - t0:.0f} s CPU)", flush=True)
    return mf


def shipped_filter() -> MatchedFilter:
    """The filter at :data:`MATCHED_PATH`, checked (:func:`check_filter`)."""
    return check_filter(MatchedFilter.load(MATCHED_PATH))


def check_filter(mf: MatchedFilter) -> MatchedFilter:
    """``mf`` if its level is finite and was set on fit-split belt of unreserved seeds, else ValueError saying why."""
    prov = mf.provenance
    if not np.isfinite(mf.level) or mf.level <= FLOOR:
        raise ValueError(f"matched filter level {mf.level} is not set (expected > {FLOOR:g})")
    if prov.get("tiles") != "fit":
        raise ValueError(f"matched filter fitted on {prov.get('tiles')!r} tiles, expected the fit split")
    bad = sorted(set(prov.get("seeds", [])) & RESERVED_SEEDS)
    if bad or not prov.get("seeds"):
        raise ValueError(f"matched filter fitted on reserved seeds {bad} (or none recorded)")
    return mf


if __name__ == "__main__":
    main()
