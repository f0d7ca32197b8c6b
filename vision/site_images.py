"""A site's own ore-on-belt frames as fitting tiles: checks, native-scale tiles, provenance.

``oreline vision fit --images DIR`` fits the normal-ore model on the cargo a site actually unloads. The
frames carry no labels: normal ore is the negative class. Each usable frame is cut into square tiles of
SITE_TILE_PX px at its own pixel scale (never upsampled), resampled to the 1 mm/px convention of
:class:`~vision.tiles.TileSet`, exposure-equalised like the CDM tiles, and named ``<file>@<k>`` so folds and
splits keep every tile of one frame (and of one Roboflow source image) together.

Checks, each raising an error that names the file: a folder without usable images (DataError), an image that
cannot be decoded (ImageFileError), an image of another size than the declared ``frame_px`` (DataError), and an
image whose own resolution metadata states another pixel scale than the declared ``mm_per_px`` (DataError).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from vision.errors import DataError, ImageFileError
from vision.image_file import decoded, rgb8
from vision.tiles import TileSet, _heldout_source, image_paths, normalise_tiles, source_of

#: Side (px, at the frames' own scale) of the square tiles cut from site frames.
SITE_TILE_PX = 96
#: At most this many tiles are kept (evenly over the frames): the scene's tile bank stays small and fast; and at most
#: MAX_TILES_PER_FRAME from one frame (evenly over it), so one large photo does not make up the whole cargo.
MAX_SITE_TILES = 800
MAX_TILES_PER_FRAME = 48
#: Relative difference between a file's stated pixel scale and the declared one that is refused.
SCALE_TOLERANCE = 0.05
#: Resolutions written by software that does not know the optics (screen defaults): not a pixel scale.
_DEFAULT_DPI = (72.0, 96.0)

SiteSplit = Literal["fit", "heldout", "all"]


def stated_mm_per_px(im: Image.Image) -> float | None:
    """The pixel scale (mm/px) an image file states in its resolution metadata (PNG pHYs in metres, TIFF/JPEG
    dots per inch or per cm), or None when it states none or only a screen default (72 or 96 dpi)."""
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        x = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    if not np.isfinite(x) or x <= 1.0 or any(abs(x - d) < 0.5 for d in _DEFAULT_DPI):
        return None
    return 25.4 / x


def _read(path: Path) -> tuple[np.ndarray, float | None, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImageFileError(f"cannot read image {path}: {exc}") from exc
    with decoded(path) as im:
        return rgb8(im), stated_mm_per_px(im), raw


def _split_of(path: Path, split: SiteSplit) -> bool:
    if split == "all":
        return True
    held = _heldout_source(source_of(path))
    return held if split == "heldout" else not held


def _tiles_of(image: np.ndarray, tile_px: int, mm_per_px: float) -> list[np.ndarray]:
    """Non-overlapping tile_px squares of one frame, centred, resampled to 1 mm/px."""
    h, w = image.shape[:2]
    ny, nx = h // tile_px, w // tile_px
    y0, x0 = (h - ny * tile_px) // 2, (w - nx * tile_px) // 2
    side = max(8, int(round(tile_px * mm_per_px)))
    out = []
    for i in range(ny):
        for j in range(nx):
            t = image[y0 + i * tile_px : y0 + (i + 1) * tile_px, x0 + j * tile_px : x0 + (j + 1) * tile_px]
            if side != tile_px:
                t = np.asarray(Image.fromarray(np.ascontiguousarray(t)).resize((side, side), Image.Resampling.BILINEAR))
            out.append(np.ascontiguousarray(t))
    return out


def load_site_tiles(folder: str | Path, *, mm_per_px: float = 1.0, frame_px: tuple[int, int] | None = None,
                    split: SiteSplit = "all", tile_px: int = SITE_TILE_PX) -> TileSet:
    """Tiles (at 1 mm/px) of the ore-on-belt frames in ``folder``, with their files' sha256 in ``files``.

    ``mm_per_px``: the frames' declared pixel scale; ``frame_px``: (width, height) every frame must have (None: any
    size, frames smaller than ``tile_px`` are skipped as unusable); ``split``: all frames, or the fit / held-out part
    by source image (as the CDM split). Raises DataError (no usable image, a frame of another size or stated pixel
    scale, naming the file) and ImageFileError (a file that cannot be decoded, naming it).
    """
    if not (mm_per_px > 0 and np.isfinite(mm_per_px)):
        raise DataError(f"expected a pixel scale > 0 mm/px, got {mm_per_px}")
    folder = Path(folder)
    paths = [p for p in image_paths(folder) if _split_of(p, split)]
    if not paths:
        raise DataError(f"expected images of split {split!r} in {folder}, found none")
    per_frame: list[list[np.ndarray]] = []
    names: list[list[str]] = []
    files: list[tuple[str, str]] = []
    small: list[str] = []
    for p in paths:
        image, stated, raw = _read(p)
        h, w = image.shape[:2]
        if frame_px is not None and (w, h) != tuple(frame_px):
            raise DataError(f"expected frames of {frame_px[0]}x{frame_px[1]} px, got {w}x{h} px in {p}")
        if stated is not None and abs(stated - mm_per_px) > SCALE_TOLERANCE * mm_per_px:
            raise DataError(f"expected frames at {mm_per_px:g} mm/px, {p} states {stated:.3g} mm/px in its resolution metadata")
        tiles = _tiles_of(image, tile_px, mm_per_px)
        if len(tiles) > MAX_TILES_PER_FRAME:
            tiles = [tiles[i] for i in np.linspace(0, len(tiles) - 1, MAX_TILES_PER_FRAME).round().astype(int)]
        if not tiles:
            small.append(f"{p.name} ({w}x{h} px)")
            continue
        per_frame.append(tiles)
        names.append([f"{p.name}@{k}" for k in range(len(tiles))])
        files.append((p.name, hashlib.sha256(raw).hexdigest()))
    if not per_frame:
        raise DataError(f"expected frames of at least {tile_px}x{tile_px} px in {folder}, all {len(small)} are smaller "
                        f"(e.g. {', '.join(small[:3])})")
    flat = [t for f in per_frame for t in f]
    flat_names = [n for f in names for n in f]
    if len(flat) > MAX_SITE_TILES:  # evenly over all tiles, deterministic
        keep = np.unique(np.linspace(0, len(flat) - 1, MAX_SITE_TILES).round().astype(int))
        flat = [flat[i] for i in keep]
        flat_names = [flat_names[i] for i in keep]
    stack, ok = normalise_tiles(np.stack(flat))
    stack.setflags(write=False)
    kept = tuple(n for n, k in zip(flat_names, ok) if k)
    return TileSet(stack, kept, f"{folder}:{split}", files=tuple(files), mm_per_px=float(mm_per_px),
                   skipped=tuple(small))


def files_digest(files: tuple[tuple[str, str], ...]) -> str:
    """SHA-256 (hex, 16 digits) over the (name, sha256) list of the frames a model was fitted on."""
    h = hashlib.sha256()
    for name, digest in sorted(files):
        h.update(f"{name}\0{digest}\n".encode())
    return h.hexdigest()[:16]
