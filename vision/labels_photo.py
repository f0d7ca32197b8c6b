"""A labelled photo as the detector needs it: decoded upright, resampled to the model's scale, cut into frames.

Photos come from other instruments: grayscale, RGBA, palette, 16-bit, EXIF-rotated. :func:`read_photo` returns
8-bit RGB of the view the labels were drawn on (EXIF orientation applied, as Roboflow and COCO tools show it;
16-bit scaled from its bit depth, not clipped; transparency over the dark off-belt grey). :func:`to_model_scale` resamples from the
photo's declared mm/px to the model's (area averaging when shrinking). :func:`windows` covers a photo wider than the
model's frame with frames that overlap by at least the largest object the detector reports across the belt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vision.errors import ImageFileError
from vision.image_file import DECODE_ERRORS, OFF_BELT_GREY, decoded, rgb8

#: Overlap (mm) of neighbouring frames on a wide photo: the largest object the detector is scored on across the belt
#: (the simulator's and the fit's longest objects are 600 mm; a 2 m carry along the belt does not apply across it).
OVERLAP_MM = 600.0


def read_photo(path: Path, *, upright: bool = True) -> np.ndarray:
    """``path`` as (H, W, 3) uint8 RGB, turned upright by its EXIF orientation (``upright``; else as stored). Raises
    ImageFileError (naming the file) when it cannot be decoded, truncated files included."""
    with decoded(path) as im:
        try:
            return rgb8(ImageOps.exif_transpose(im) if upright else im)
        except DECODE_ERRORS as exc:  # e.g. a malformed EXIF block
            raise ImageFileError(f"cannot decode image {path}: {exc}") from exc


def photo_size(path: Path) -> tuple[int, int]:
    """(width, height) px of the upright view of ``path`` (EXIF orientation 5-8 swaps them), from its header.
    Raises ImageFileError when the header cannot be read."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            swap = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise ImageFileError(f"cannot decode image {path}: {exc}") from exc
    return (h, w) if swap else (w, h)


def to_model_scale(image: np.ndarray, photo_mm_per_px: float, model_mm_per_px: float) -> tuple[np.ndarray, float]:
    """``image`` resampled from ``photo_mm_per_px`` to ``model_mm_per_px``: area averaging when shrinking, bilinear
    when enlarging. Returns the image and the factor (model px per photo px) boxes are multiplied by."""
    factor = photo_mm_per_px / model_mm_per_px
    if abs(factor - 1.0) < 1e-9:
        return image, 1.0
    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    method = Image.Resampling.BOX if factor < 1.0 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image).resize(size, method), dtype=np.uint8), factor


@dataclass(frozen=True)
class Window:
    """One frame of a photo: photo columns [x0, x0 + width) placed at canvas column ``pad`` of a model-wide frame;
    it owns the detections whose centre lies in photo columns [own_x0, own_x1)."""

    x0: int
    width: int
    pad: int
    own_x0: float
    own_x1: float


def windows(photo_width_px: int, frame_width_px: int, mm_per_px: float) -> list[Window]:
    """Frames covering a photo ``photo_width_px`` wide with frames ``frame_width_px`` wide at ``mm_per_px``: one
    centred frame when it fits, else frames overlapping by at least OVERLAP_MM (at most half a frame), each owning
    the photo up to the middle of its overlaps."""
    if photo_width_px <= frame_width_px:
        return [Window(0, photo_width_px, (frame_width_px - photo_width_px) // 2, 0.0, float(photo_width_px))]
    overlap = min(frame_width_px // 2, math.ceil(OVERLAP_MM / mm_per_px))
    n = math.ceil((photo_width_px - overlap) / (frame_width_px - overlap))
    starts = np.linspace(0, photo_width_px - frame_width_px, n).round().astype(int)
    out = []
    for k, x0 in enumerate(starts):
        lo = 0.0 if k == 0 else (x0 + starts[k - 1] + frame_width_px) / 2
        hi = float(photo_width_px) if k == n - 1 else (starts[k + 1] + x0 + frame_width_px) / 2
        out.append(Window(int(x0), frame_width_px, 0, lo, hi))
    return out


def frame_image(image: np.ndarray, window: Window, frame_width_px: int) -> np.ndarray:
    """The model-wide frame of ``window``: its photo columns, off-belt grey either side when narrower."""
    part = image[:, window.x0 : window.x0 + window.width]
    if window.width == frame_width_px:
        return np.ascontiguousarray(part)
    canvas = np.full((image.shape[0], frame_width_px, 3), OFF_BELT_GREY, np.uint8)
    canvas[:, window.pad : window.pad + window.width] = part
    return canvas
