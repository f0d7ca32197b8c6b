"""Training frames for the dense detector (:mod:`vision.densenet`): fit split only, streamed as the station sees them.

Every frame is rendered by the simulated camera (2,048-line frames through one stream, as the station and the
benchmarks see belt) over fit-split tiles (:func:`vision.tiles.augmented_tiles`, as the built-in fit) with fit seeds,
in the built-in fit's scene mix (:data:`vision.scenes.FIT_MIX` in turn, :func:`vision.fit._scene_kw`); never
held-out tiles, never the benchmarks' seeds (11, 1011). Its truth is the share of each output cell's pixels that show
an object (the sprite's alpha > 0.5 as rendered: burial hides pixels, coating does not), from
:meth:`vision.scene.BeltScene.object_cover`. Object-free scenes give hard negatives. The frames' network inputs and
truth are cached under ``$ORELINE_CACHE/vision/densenet``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from vision.cache_io import save_npz
from vision.densenet import OUT_CELLS, block_px, dense_inputs
from vision.fit import default_cache_dir
from vision.frames import Frame
from vision.scene import random_objects
from vision.scenes import FIT_MIX, scene_options
from vision.sim_camera import SimulatedCamera
from vision.tiles import TileSet, augmented_tiles

#: A pixel shows an object when the sprite's alpha there is above this (as rendered, burial included).
VISIBLE_ALPHA = 0.5
#: Seeds of the training scenes (fit seeds: far from the benchmarks' 11 / 1011 and the fit's own 0..10**6 + ...).
TRAIN_SEED0 = 5000
#: Seeds of the fit-split object-free calibration belt (the net's level).
CALIBRATION_SEED0 = 7000


@dataclass
class DenseTrainingSet:
    """Inputs (n, IN_CHANNELS, h, w) float16, truth (n, h / OUT_CELLS, w / OUT_CELLS) float16 (share of each output
    cell's pixels showing an object) and the scene type of each frame."""

    x: np.ndarray
    cover: np.ndarray
    scene_type: np.ndarray


def stream(tiles: str | TileSet, seed: int, length_m: float, *, scene: dict, objects: dict | None, objects_per_m: float,
           mm_per_px: float = 4.0, width_px: int = 512, frame_lines: int = 2048) -> Iterator[tuple[Frame, SimulatedCamera]]:
    """Frames of ``length_m`` of simulated belt (random objects as :func:`vision.frontier.every_candidate` draws
    them: the same objects for the same seed), with the camera (its ``scene`` renders the truth)."""
    rng = np.random.default_rng(seed)
    objs = random_objects(length_m * 1000.0, rng, per_m=objects_per_m, **(objects or {})) if objects_per_m > 0 else []
    cam = SimulatedCamera(tiles=tiles, seed=seed, objects=objs, width_px=width_px, frame_lines=frame_lines,
                          mm_per_px=mm_per_px, scene_options=scene)
    cam.open()
    while cam.position_m < length_m - 1e-9:
        yield cam.grab(), cam


def cover_cells(cam: SimulatedCamera, frame: Frame, h_out: int, w_out: int) -> np.ndarray:
    """Share (h_out, w_out) float32 of each output cell's pixels of ``frame`` that show an object."""
    if cam.scene is None:
        raise ValueError("the camera is not open")
    n = frame.image.shape[0]
    row0 = int(np.floor(frame.start_belt_m * 1000.0 / frame.mm_per_px + 0.5))
    lo, hi = frame.start_belt_m * 1000.0 - 1000.0, frame.start_belt_m * 1000.0 + n * frame.mm_per_px + 1000.0
    near = [o for o in cam.objects if lo <= o.belt_mm <= hi]
    seen = (cam.scene.object_cover(row0, n, near) > VISIBLE_ALPHA).astype(np.float32)
    px = block_px(frame.mm_per_px) * OUT_CELLS
    return seen[: h_out * px, : w_out * px].reshape(h_out, px, w_out, px).mean(axis=(1, 3))


def _render(tiles: TileSet, n_scenes: int, frames_per_scene: int, objects_per_m: float, seed0: int, mm_per_px: float,
            width_px: int, mix: Sequence[str]) -> DenseTrainingSet:
    xs, covers, types = [], [], []
    scene_m = frames_per_scene * 2048 * mm_per_px / 1000.0
    t0 = time.monotonic()
    for k in range(n_scenes):
        kind = mix[k % len(mix)]
        scene, objects = scene_options(kind)
        ref = None
        for frame, cam in stream(tiles, seed0 + k, scene_m, scene=scene, objects=objects, objects_per_m=objects_per_m,
                                 mm_per_px=mm_per_px, width_px=width_px):
            inp = dense_inputs(frame.image, mm_per_px, ref)
            ref = inp.last_ref
            xs.append(inp.x[0].astype(np.float16))
            covers.append(cover_cells(cam, frame, inp.x.shape[2] // OUT_CELLS, inp.x.shape[3] // OUT_CELLS).astype(np.float16))
            types.append(kind)
        print(f"dense training frames: scene {k + 1}/{n_scenes} ({objects_per_m:g} objects per m), {len(xs)} frames, "
              f"{time.monotonic() - t0:.0f} s", flush=True)
    return DenseTrainingSet(np.stack(xs), np.stack(covers), np.asarray(types))


def training_set(*, n_object_scenes: int = 8, n_free_scenes: int = 4, frames_per_scene: int = 6, objects_per_m: float = 3.0,
                 mm_per_px: float = 4.0, width_px: int = 512, seed: int = 0, cache_dir: Path | None = None,
                 mix: Sequence[str] = FIT_MIX) -> DenseTrainingSet:
    """The dense detector's training frames (fit split; see the module), from the cache or rendered and stored:
    ``n_object_scenes`` scenes with ``objects_per_m`` objects and ``n_free_scenes`` object-free ones, each
    ``frames_per_scene`` 2,048-line frames, the scene types ``mix`` in turn (default the built-in fit's, as
    :func:`vision.fit._scene_kw`)."""
    meta: dict[str, object] = dict(n_object_scenes=n_object_scenes, n_free_scenes=n_free_scenes, frames_per_scene=frames_per_scene,
                objects_per_m=objects_per_m, mm_per_px=mm_per_px, width_px=width_px, seed=seed, v=1)
    if tuple(mix) != FIT_MIX:
        meta["mix"] = list(mix)
    key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:12]
    path = (cache_dir or default_cache_dir()) / "densenet" / f"train-{key}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            return DenseTrainingSet(z["x"], z["cover"], z["scene_type"])
    tiles = augmented_tiles("fit", 2, seed)
    with_obj = _render(tiles, n_object_scenes, frames_per_scene, objects_per_m, TRAIN_SEED0 + 100 * seed, mm_per_px, width_px, mix)
    free = _render(tiles, n_free_scenes, frames_per_scene, 0.0, TRAIN_SEED0 + 100 * seed + 50, mm_per_px, width_px, mix)
    out = DenseTrainingSet(np.concatenate([with_obj.x, free.x]), np.concatenate([with_obj.cover, free.cover]),
                           np.concatenate([with_obj.scene_type, np.char.add(free.scene_type, " object-free")]))
    save_npz(path, dict(x=out.x, cover=out.cover, scene_type=out.scene_type))
    return out


__all__ = ["CALIBRATION_SEED0", "DenseTrainingSet", "TRAIN_SEED0", "VISIBLE_ALPHA", "cover_cells", "stream", "training_set"]
