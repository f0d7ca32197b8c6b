"""Training frames for the pixel net (:mod:`vision.pixelnet`): fit split only, streamed as the station sees them.

As :mod:`vision.densenet_data` (its :func:`~vision.densenet_data.stream` and :func:`~vision.densenet_data.cover_cells`,
fit-split tiles ``augmented_tiles("fit")``), but the net's own inputs (the pixels, the belt gain per output row, the
detector's cell features), many more frames and a mix weighted to where the union fails (:data:`OBJECT_MIX`,
:data:`FREE_MIX`: realistic belt, wood and wet wood on it); seeds from :data:`TRAIN_SEED0` (fit seeds, far from every
development and confirmation seed). One file per scene under
``$ORELINE_CACHE/vision/pixelnet`` (rendered once; ``python -m vision.pixelnet_data --part K/N`` renders every N-th
scene from K, so that two processes share the work).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.cache_io import replace_atomically
from vision.densenet_data import cover_cells, stream
from vision.features import cell_features
from vision.fit import default_cache_dir
from vision.pixelnet import BLOCK_PX, MM_PER_PX, OUT_CELLS, pixel_inputs
from vision.scenes import scene_options
from vision.tiles import augmented_tiles

#: Seeds of the training scenes (object scene k: TRAIN_SEED0 + k; object-free: FREE_SEED0 + k). Fit seeds, unused by
#: any fit before (v1 used 5600-5679 and 5900-5919 on the renderer before the chroma fix).
TRAIN_SEED0 = 6100
FREE_SEED0 = 6200
#: The net's training set: scenes with objects and object-free ones, FRAMES_PER_SCENE 2,048-line frames each.
N_OBJECT_SCENES, N_FREE_SCENES, FRAMES_PER_SCENE, OBJECTS_PER_M = 100, 30, 8, 3.0
WIDTH_PX = 512
#: Scenes with objects, in turn: (scene type, extra object options), weighted to where the union fails (realistic
#: belt, wood and wet wood on it, buried and coated objects: REALISTIC_OBJECTS buries up to 60 %) with some of today's,
#: dark-ore and dark-rubber belt so that the net does not forget them.
OBJECT_MIX: tuple[tuple[str, dict], ...] = (
    ("realistic", {}), ("realistic", {"kinds": ("wood",)}), ("wet-wood", {}), ("realistic", {}), ("today", {}),
    ("realistic", {"kinds": ("wood",)}), ("wet-wood", {}), ("realistic", {}), ("dark-ore", {}), ("dark-rubber", {}),
)
#: Object-free scenes, in turn: mostly realistic belt (the hard negatives are mined there, vision.pixelnet_fit).
FREE_MIX = ("realistic", "realistic", "today", "realistic", "dark-ore", "realistic")


@dataclass
class PixelTrainingSet:
    """px (n, H, W, 3) uint8, gain (n, H / 8) float32, cells (n, CELL_CHANNELS, H / 2, W / 2) float16, cover
    (n, H / 8, W / 8) float16 (share of each output cell's pixels showing an object), scene type per frame."""

    px: np.ndarray
    gain: np.ndarray
    cells: np.ndarray
    cover: np.ndarray
    scene_type: np.ndarray


def scene_path(k: int, cache_dir: Path | None = None) -> Path:
    """The cache file of training scene ``k`` (object scenes first, then object-free)."""
    return (cache_dir or default_cache_dir()) / "pixelnet" / f"scene-{k:03d}-v2.npz"


def scene_of(k: int) -> tuple[str, dict, dict]:
    """(label, scene options, object options) of training scene ``k`` (:data:`OBJECT_MIX`, then :data:`FREE_MIX`)."""
    if not 0 <= k < N_OBJECT_SCENES + N_FREE_SCENES:
        raise ValueError(f"training scene {k} out of range 0 .. {N_OBJECT_SCENES + N_FREE_SCENES - 1}")
    if k >= N_OBJECT_SCENES:
        kind = FREE_MIX[(k - N_OBJECT_SCENES) % len(FREE_MIX)]
        return kind, scene_options(kind)[0], {}
    kind, extra = OBJECT_MIX[k % len(OBJECT_MIX)]
    scene, objects = scene_options(kind)
    label = kind + (" wood" if extra.get("kinds") == ("wood",) else "")
    return label, scene, {**objects, **extra}


def render_scene(k: int, cache_dir: Path | None = None) -> Path:
    """Render training scene ``k`` (0 .. N_OBJECT_SCENES + N_FREE_SCENES - 1) to its cache file, unless it is there."""
    path = scene_path(k, cache_dir)
    if path.exists():
        return path
    kind, scene, objects = scene_of(k)
    free = k >= N_OBJECT_SCENES
    seed = FREE_SEED0 + k - N_OBJECT_SCENES if free else TRAIN_SEED0 + k
    tiles = augmented_tiles("fit", 2, 0)
    px, gain, cells, cover = [], [], [], []
    ref = None
    length_m = FRAMES_PER_SCENE * 2048 * MM_PER_PX / 1000.0
    for frame, cam in stream(tiles, seed, length_m, scene=scene, objects=objects, objects_per_m=0.0 if free else OBJECTS_PER_M,
                             mm_per_px=MM_PER_PX, width_px=WIDTH_PX):
        feats = cell_features(frame.image, BLOCK_PX, ref_start=ref)
        ref = feats.last_ref
        inp = pixel_inputs(frame.image, feats)
        px.append(inp.px[0])
        gain.append(inp.gain[0, 0, :, 0])
        cells.append(inp.cells[0].astype(np.float16))
        cover.append(cover_cells(cam, frame, inp.gain.shape[2], inp.cells.shape[3] // OUT_CELLS).astype(np.float16))
    arrays = dict(px=np.stack(px), gain=np.stack(gain), cells=np.stack(cells), cover=np.stack(cover),
                  scene_type=np.array([kind + (" object-free" if free else "")] * len(px)))
    replace_atomically(path, lambda tmp: np.savez(tmp, **arrays))  # type: ignore[arg-type]
    return path


def training_set(cache_dir: Path | None = None, n_scenes: int | None = None) -> PixelTrainingSet:
    """The training frames of the first ``n_scenes`` scenes of :func:`render_order` (default all), rendering those
    not in the cache."""
    n = N_OBJECT_SCENES + N_FREE_SCENES if n_scenes is None else n_scenes
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("px", "gain", "cells", "cover", "scene_type")}
    for k in render_order()[:n]:
        with np.load(render_scene(k, cache_dir), allow_pickle=False) as z:
            for key, v in parts.items():
                v.append(z[key])
    return PixelTrainingSet(*(np.concatenate(parts[k]) for k in ("px", "gain", "cells", "cover", "scene_type")))


def render_order() -> list[int]:
    """Scene indices in the order they are rendered: an object-free scene after every four with objects, so that a
    training set cut short still holds both."""
    per = N_OBJECT_SCENES / N_FREE_SCENES
    return [k for f in range(N_FREE_SCENES) for k in [*range(round(f * per), round((f + 1) * per)), N_OBJECT_SCENES + f]]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="render the pixel net's training scenes (fit split, fit seeds)")
    ap.add_argument("--part", default="0/1", help="K/N: render every N-th scene from K")
    a = ap.parse_args(argv)
    k0, n = (int(v) for v in a.part.split("/"))
    t0 = time.monotonic()
    for k in render_order()[k0::n]:
        render_scene(k)
        print(f"pixel net training scene {k} rendered, {time.monotonic() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()


__all__ = ["FRAMES_PER_SCENE", "FREE_MIX", "N_FREE_SCENES", "N_OBJECT_SCENES", "OBJECT_MIX", "PixelTrainingSet", "TRAIN_SEED0",
           "render_scene", "scene_of", "scene_path", "training_set"]
