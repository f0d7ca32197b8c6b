"""Real ore-on-belt image tiles and their fit / held-out split.

The tiles are the 250x250 RGB JPEGs of the Roboflow Universe "CDM" project (CC BY 4.0),
see ``shared/data/vision/SOURCES.md``. The 432 augmented train images are 144 source
images x 3 augmentations: the split is made **by source** (never augmentations of one
source on both sides). The 28 labelled validation images are always held out.

Tiles are cropped to their central ``CROP_PX`` square (the +-5 degree rotation
augmentation leaves black corners) and are taken to show 1 mm per pixel.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from conveyor.resources import shared_data_dir
from vision.errors import DataError
from vision.image_file import decoded, rgb8

#: Attribution that must accompany any rendered scene, report or gallery.
ATTRIBUTION = (
    "Ore-on-belt images: Roboflow Universe project \"CDM\" (https://universe.roboflow.com/object-detection/cdm-b4yrh), "
    "via GitHub guillermoecn/Mask_RCNN_TF2.4, CC BY 4.0; rock-pile crops: Roboflow Universe project \"Conversion\" "
    "(https://universe.roboflow.com/object-detection/conversion-98vve), CC BY 4.0; textures: scikit-image "
    "gravel/brick (CC0Textures, CC0). Scenes are composites rendered by oreline from these images."
)

CDM_DIR = "roboflow-cdm-ore-on-belt"
ROCKS_DIR = "roboflow-conversion-rock-piles"
#: Side of the central square kept from each 250x250 tile (px).
CROP_PX = 200
#: Fraction of the augmented train *sources* held out for evaluation.
HELDOUT_FRACTION = 0.25
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")

Split = Literal["fit", "heldout", "all"]


def source_of(path: Path) -> str:
    """Source image name of a Roboflow export file (``image01_png.rf.<hash>.jpg`` → ``image01``); a tile cut from a
    frame (``<file>@<k>``, :mod:`vision.site_images`) has the source of its frame."""
    name = re.sub(r"@\d+$", "", path.name)
    name = re.sub(r"\.rf\.[0-9a-f]+\.\w+$", "", name)
    return re.sub(r"_(png|jpg|jpeg)$", "", name)


def _heldout_source(source: str) -> bool:
    digest = hashlib.sha256(source.encode()).digest()
    return digest[0] / 256.0 < HELDOUT_FRACTION


def cdm_tile_paths(split: Split) -> list[Path]:
    """Paths of the CDM tiles of one split, sorted. Raises DataError when the data are missing."""
    root = shared_data_dir() / "vision" / CDM_DIR
    train = sorted((root / "unlabeled_train_augmented").glob("*.jpg"))
    labelled = sorted((root / "labeled").glob("*.jpg"))
    if not train:
        raise DataError(f"expected ore-on-belt tiles in {root / 'unlabeled_train_augmented'}, found none")
    if split == "all":
        return train + labelled
    held = [p for p in train if _heldout_source(source_of(p))] + labelled
    if split == "heldout":
        return held
    if split == "fit":
        return [p for p in train if not _heldout_source(source_of(p))]
    raise ValueError(f"split must be 'fit', 'heldout' or 'all', got {split!r}")


def image_paths(folder: Path) -> list[Path]:
    """Image files directly in ``folder`` (sorted). Raises DataError when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"expected a folder of images, got {folder}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DataError(f"expected image files {IMAGE_SUFFIXES} in {folder}, found none")
    return paths


def read_rgb(path: Path) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB (:func:`vision.image_file.rgb8`: a camera's 16-bit frame scaled, not
    clipped). Raises ImageFileError when it cannot be decoded or is cut short."""
    with decoded(path) as im:
        return rgb8(im)


def crop_tile(image: np.ndarray, crop_px: int = CROP_PX) -> np.ndarray:
    """Central ``crop_px`` square of an (H, W, 3) image (the whole image when smaller), resized to crop_px."""
    h, w = image.shape[:2]
    side = min(h, w, crop_px if min(h, w) >= crop_px else min(h, w))
    y0, x0 = (h - side) // 2, (w - side) // 2
    tile = image[y0 : y0 + side, x0 : x0 + side]
    if side != crop_px:
        tile = np.asarray(Image.fromarray(tile).resize((crop_px, crop_px), Image.Resampling.BILINEAR))
    return np.ascontiguousarray(tile)


@dataclass(frozen=True, eq=False)
class TileSet:
    """A stack of ore-on-belt tiles, (N, S, S, 3) uint8 at 1 mm/px, with where they came from: ``files`` lists
    (file name, sha256) of the frames they were cut from, at the frames' ``mm_per_px``, and ``skipped`` the frames
    too small to use (site folders, :mod:`vision.site_images`; empty for the CDM splits)."""

    tiles: np.ndarray
    names: tuple[str, ...]
    origin: str
    files: tuple[tuple[str, str], ...] = ()
    mm_per_px: float = 1.0
    skipped: tuple[str, ...] = ()
    #: (N,) exposure gain each tile was scaled by (:func:`exposure_gains`; None: not known), so that the camera's
    #: clipped pixels (the raw photo's >= CLIPPED_LEVEL) can be found again in the scaled tiles (:func:`clipped`).
    gain: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.tiles.shape[0])


#: Tiles with more than this fraction of near-black pixels show the belt edge or frame: not used as belt.
MAX_BLACK_FRACTION = 0.01
#: Median grey level every tile is scaled to (the source photos differ in exposure).
TARGET_MEDIAN_GREY = 80.0


#: A raw photo's channel value at or above which the camera clipped (its plateaus; JPEG leaves them at 254-255).
CLIPPED_LEVEL = 254


def exposure_gains(grey: np.ndarray) -> np.ndarray:
    """Gain (N,) float32 that scales each of (N, S, S) grey tiles to a median of TARGET_MEDIAN_GREY, clipped to 0.6..1.6."""
    median = np.median(grey.reshape(len(grey), -1), axis=1)
    return np.clip(TARGET_MEDIAN_GREY / np.maximum(median, 1.0), 0.6, 1.6).astype(np.float32)


def clipped(tiles: TileSet) -> np.ndarray | None:
    """(N, S, S, 3) bool: where each scaled tile of ``tiles`` shows a value its raw photo had at or above CLIPPED_LEVEL
    (a camera's clipped plateau, scaled below 255 by the exposure equalisation); None when the gains are not known."""
    if tiles.gain is None:
        return None
    level = np.minimum(np.floor(CLIPPED_LEVEL * tiles.gain.astype(np.float64)), 255.0)
    return tiles.tiles >= level.reshape(-1, 1, 1, 1)


def normalise_tiles(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop edge/frame tiles and equalise exposure.

    ``stack`` is (N, S, S, 3) uint8. Returns (kept tiles as uint8, boolean keep mask of length N).
    Tiles with more than MAX_BLACK_FRACTION near-black pixels are dropped unless that drops all.
    Each kept tile is scaled so its median grey level is TARGET_MEDIAN_GREY (gain clipped to 0.6..1.6).
    """
    stack, keep, _ = _normalised(stack)
    return stack, keep


def grey_of(stack: np.ndarray) -> np.ndarray:
    """Grey (..., H, W) float32 of uint8 RGB (..., H, W, 3): the mean of the channels, the very values of
    ``stack.astype(np.float32).mean(axis=-1)`` (the channel sum is a whole number, exact in float32, divided by 3 in
    float32 as that mean is) at a fraction of its cost (a reduction over an axis of 3 is numpy's slow case). Other
    dtypes: that mean itself."""
    if stack.dtype != np.uint8:
        return stack.astype(np.float32).mean(axis=-1)
    total = stack[..., 0].astype(np.uint16) + stack[..., 1] + stack[..., 2]
    return total.astype(np.float32) / np.float32(3)


def _normalised(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`normalise_tiles` and each kept tile's gain: (tiles, keep, gain). Each tile is scaled through a table of
    its 256 values (the float32 product, clip and truncation of the whole-stack arithmetic, value by value: the same
    bytes, without a float32 copy of the stack)."""
    grey = grey_of(stack)
    black = (grey < 8.0).mean(axis=(1, 2))
    keep = black <= MAX_BLACK_FRACTION
    if not keep.any():
        keep = np.ones(len(stack), dtype=bool)
    gain = exposure_gains(grey[keep])
    levels = np.arange(256, dtype=np.float32)
    kept = np.empty((int(keep.sum()),) + stack.shape[1:], np.uint8)
    for i, (tile, g) in enumerate(zip(stack[keep], gain)):
        kept[i] = np.clip(levels * g, 0, 255).astype(np.uint8)[tile]
    return kept, keep, gain


@lru_cache(maxsize=8)
def _load_tiles(paths: tuple[Path, ...], origin: str) -> TileSet:
    raw = np.stack([crop_tile(read_rgb(p)) for p in paths])
    stack, keep, gain = _normalised(raw)
    stack.setflags(write=False)
    return TileSet(stack, tuple(p.name for p, k in zip(paths, keep) if k), origin, gain=gain)


def load_tiles(split: Split | str | Path = "fit") -> TileSet:
    """Tiles of a CDM split (``"fit"``, ``"heldout"``, ``"all"``) or of any folder of ore-on-belt images.

    Raises DataError when there are no images, ImageFileError when one cannot be decoded.
    """
    cdm: dict[str, Split] = {"fit": "fit", "heldout": "heldout", "all": "all"}
    if isinstance(split, str) and split in cdm:
        return _load_tiles(tuple(cdm_tile_paths(cdm[split])), f"CDM:{split}")
    folder = Path(split)
    return _load_tiles(tuple(image_paths(folder)), str(folder))


def source_fold(name: str, n_folds: int) -> int:
    """Fold (0 .. n_folds - 1) of a tile by its *source* image (a hash of it), so augmentations and jittered
    copies (``name#k``) of one source always fall in the same fold. Raises ValueError when n_folds < 1."""
    if n_folds < 1:
        raise ValueError(f"n_folds must be >= 1, got {n_folds}")
    source = source_of(Path(name.split("#")[0]))
    return int.from_bytes(hashlib.sha256(b"fold:" + source.encode()).digest()[:4], "big") % n_folds


@lru_cache(maxsize=16)
def tile_fold(tiles: TileSet, k: int, n_folds: int = 2) -> TileSet:
    """The tiles of ``tiles`` whose source falls in fold ``k`` of ``n_folds`` (:func:`source_fold`).

    Raises DataError when the fold is empty."""
    keep = np.array([source_fold(n, n_folds) == k for n in tiles.names], bool)
    if not keep.any():
        raise DataError(f"expected tiles in fold {k} of {n_folds} of {tiles.origin}, found none")
    stack = tiles.tiles[keep]
    stack.setflags(write=False)
    return TileSet(stack, tuple(n for n, m in zip(tiles.names, keep) if m), f"{tiles.origin}/fold{k}of{n_folds}",
                   tiles.files, tiles.mm_per_px, tiles.skipped, None if tiles.gain is None else tiles.gain[keep])


@lru_cache(maxsize=2)
def rock_crops() -> tuple[np.ndarray, ...]:
    """The grey crushed-stone crops (Roboflow "Conversion", CC BY 4.0) as RGB arrays of at least 48 px."""
    folder = shared_data_dir() / "vision" / ROCKS_DIR / "labeled"
    crops = []
    for p in sorted(folder.glob("*.jpg")):
        img = read_rgb(p)
        if min(img.shape[:2]) >= 48:
            crops.append(img)
    if not crops:
        raise DataError(f"expected rock-pile crops in {folder}, found none")
    return tuple(crops)


@lru_cache(maxsize=4)
def augmented_tiles(split: Split = "fit", copies: int = 2, seed: int = 0) -> TileSet:
    """Tiles of a CDM split plus ``copies`` photometrically jittered versions of each (for fitting only).

    Each copy gets a random overall gain (log-sd 0.10), per-channel gain (log-sd 0.06) and gamma
    (log-sd 0.15), the kind of exposure and colour differences seen between source photos, so the
    normal-ore model and the "none" class do not hinge on the exact look of the fit photos.
    """
    return jittered(load_tiles(split), copies, seed)


@lru_cache(maxsize=4)
def jittered(base: TileSet, copies: int = 2, seed: int = 0) -> TileSet:
    """``base`` plus ``copies`` photometrically jittered versions of each tile (see :func:`augmented_tiles`)."""
    rng = np.random.default_rng([seed, copies, 12345])
    out = [base.tiles]
    x = base.tiles.astype(np.float32) / 255.0
    for _ in range(copies):
        n = len(base)
        gamma = np.exp(rng.normal(0, 0.15, n)).astype(np.float32)[:, None, None, None]
        gain = np.exp(rng.normal(0, 0.10, (n, 1)) + rng.normal(0, 0.06, (n, 3))).astype(np.float32)[:, None, None, :]
        out.append(np.clip(255.0 * np.power(x, gamma) * gain, 0, 255).astype(np.uint8))
    stack = np.concatenate(out)
    stack.setflags(write=False)
    names = tuple(f"{name}#{k}" for k in range(copies + 1) for name in base.names)
    return TileSet(stack, names, f"{base.origin}+jitter{copies}", base.files, base.mm_per_px, base.skipped)
