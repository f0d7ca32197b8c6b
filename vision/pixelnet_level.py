"""The pixel net's level (:mod:`vision.pixelnet`), on fit-split object-free belt only (issue 27).

Renders object-free belt from the FIT tiles (never the held-out tiles, never a development or confirmation seed),
4 mm/px, 2,048-line frames, in the built-in fit's mix (:data:`BELTS`: 1,500 m realistic, 750 m today's, 750 m dark ore,
as :data:`vision.scenes.FIT_MIX` weighs them: 3,000 m), streams each belt through :class:`vision.pixelnet.PixelStream`
with the detector's cell features (:func:`vision.features.cell_features`, the reference carried from frame to frame)
and keeps every region's peak log-odds down to :data:`FLOOR`. Per belt an exponential tail through its ``TAIL_N``
highest peaks (:func:`vision.matched_level.tail_level`) is extrapolated to ``--per-km`` regions per 1,000 m (0.25:
a margin of 4 on the target of 1); the level is the highest of these and of every belt's highest peak, rounded up to
a tenth. The rendered frames are cached under ``$ORELINE_CACHE/vision/pixelnet`` (``--render`` only renders them).

Run: ``python -m vision.pixelnet_level --onnx NET.onnx`` (:data:`LEVEL_COMMAND`), writes ``vision/pixelnet_4mm.npz``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vision.densenet_data import stream
from vision.features import cell_features
from vision.fit import default_cache_dir
from vision.matched_level import RESERVED_SEEDS as MATCHED_RESERVED
from vision.matched_level import tail_level
from vision.pixelnet import BLOCK_PX, MM_PER_PX, PIXELNET_PATH, PixelNet, PixelStream
from vision.scenes import scene_options

#: Object-free fit belts the level is set on: (scene type, seed, metres).
BELTS = (("realistic", 7600, 1500.0), ("today", 7601, 750.0), ("dark-ore", 7602, 750.0))
#: Seeds never to fit or level on: every development and confirmation seed of issue 27.
RESERVED_SEEDS = MATCHED_RESERVED | frozenset({101, 102, 1101, 1102, 121, 122, 1121, 1122})
#: Regions kept while levelling (far below any level).
FLOOR = -2.0
TAIL_N = 10
WIDTH_PX = 512
LEVEL_COMMAND = "python -m vision.pixelnet_level --onnx $ORELINE_CACHE/vision/pixelnet/net.onnx"


def belt_frames(scene_type: str, seed: int, length_m: float, cache_dir: Path | None = None) -> np.ndarray:
    """The (n, 2048, WIDTH_PX, 3) uint8 frames of ``length_m`` of object-free fit belt (cached). Raises ValueError on
    a reserved seed."""
    if seed in RESERVED_SEEDS:
        raise ValueError(f"seed {seed} is reserved for development or confirmation: level on other seeds")
    path = (cache_dir or default_cache_dir()) / "pixelnet" / f"level-{scene_type}-{seed}-{length_m:.0f}.npy"
    if path.exists():
        return np.load(path, mmap_mode="r")
    scene, _ = scene_options(scene_type)
    frames = np.stack([f.image for f, _ in stream("fit", seed, length_m, scene=scene, objects=None, objects_per_m=0.0,
                                                   mm_per_px=MM_PER_PX, width_px=WIDTH_PX)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npy")
    np.save(tmp, frames)
    tmp.replace(path)
    return frames


def streamed_peaks(net: PixelNet, frames: np.ndarray, level: float = FLOOR) -> Iterator[float]:
    """Peak log-odds of every region at or above ``level`` of the frames streamed as the detector streams them."""
    st = PixelStream(net, level)
    ref, row = None, 0
    for img in frames:
        feats = cell_features(np.asarray(img), BLOCK_PX, ref_start=ref)
        ref = feats.last_ref
        yield from (r.score for r, _ in st.push(np.asarray(img), feats, feats.belt_cols, row))
        row += feats.r.shape[0]
    yield from (r.score for r, _ in st.flush())


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(prog="python -m vision.pixelnet_level", description=__doc__)
    ap.add_argument("--onnx", type=Path, help="the fitted net (python -m vision.pixelnet_fit)")
    ap.add_argument("--render", action="store_true", help="only render (cache) the level belts")
    ap.add_argument("--per-km", type=float, default=0.25, help="regions per 1,000 m of each belt at the level")
    ap.add_argument("--out", type=Path, default=PIXELNET_PATH)
    a = ap.parse_args(argv)
    t0 = time.process_time()
    if a.render or a.onnx is None:
        for st, seed, m in BELTS:
            print(f"{st} seed {seed}: {len(belt_frames(st, seed, m))} frames ({time.process_time() - t0:.0f} s CPU)", flush=True)
        return float("nan")
    net = PixelNet(a.onnx.read_bytes())
    levels, spread = [], {}
    for st, seed, m in BELTS:
        s = np.array(list(streamed_peaks(net, belt_frames(st, seed, m))), float)
        levels.append(tail_level(s, m / 1000.0, a.per_km, TAIL_N) if s.size else FLOOR)
        q = np.quantile(s, [0.5, 0.9, 0.99, 1.0]) if s.size else np.full(4, np.nan)
        spread[st] = [round(float(v), 2) for v in q]
        print(f"{st} seed {seed}, {m:.0f} m object-free fit belt: {s.size} regions >= {FLOOR:g}; peak quantiles 0.5 / 0.9 / "
              f"0.99 / max {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f} / {q[3]:.2f}; top 5 " + ", ".join(f"{v:.2f}" for v in np.sort(s)[::-1][:5])
              + f"; tail level {levels[-1]:.2f}", flush=True)
    level = math.ceil(max(levels) * 10.0) / 10.0
    prov = {"command": LEVEL_COMMAND, "belts": [list(b) for b in BELTS], "per_km": a.per_km, "tiles": "fit", "peak_quantiles": spread}
    PixelNet(net.onnx_bytes, level, json.dumps(prov)).save(a.out)
    print(f"level {level:g} (the highest exponential tail at {a.per_km:g} regions per 1,000 m of each belt); written {a.out} "
          f"({time.process_time() - t0:.0f} s CPU)", flush=True)
    return level


if __name__ == "__main__":
    main()


__all__ = ["BELTS", "FLOOR", "LEVEL_COMMAND", "RESERVED_SEEDS", "belt_frames", "streamed_peaks"]
