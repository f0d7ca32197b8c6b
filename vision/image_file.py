"""Decoding an image file strictly, to 8-bit RGB: a truncated file is an error, whatever another part of the process
set; a camera's 10-16-bit, float, grey or transparent image is scaled, not clipped (:func:`rgb8`).

Pillow fills the missing part of a truncated file with grey when its global ``ImageFile.LOAD_TRUNCATED_IMAGES`` is
set, and weasyprint (the report's PDF engine, imported when a lot's report is printed) sets it on import. A camera
frame or a labelled photo cut short would then be read as ore on grey belt. :func:`decoded` turns the global off for
the decoding (under a lock; restored after) so that such a file raises ImageFileError naming it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from vision.errors import ImageFileError

_STRICT = threading.Lock()
#: Grey (0..255) of what is not image: beyond the belt, or transparent pixels.
OFF_BELT_GREY = 38
#: Bit depths a 16-bit grey image may hold (machine-vision cameras write 10, 12 or 14 bits into 16-bit files): it is
#: scaled from the smallest that holds its largest value.
SENSOR_BITS = (8, 10, 12, 14, 16)
#: What Pillow raises on a file it cannot decode.
DECODE_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError)


def _load_strictly(im: Image.Image) -> None:
    with _STRICT:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            im.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def rgb8(im: Image.Image) -> np.ndarray:
    """A decoded image as (H, W, 3) uint8 RGB: 16-bit grey scaled from its bit depth (SENSOR_BITS), float grey from
    its range, transparency over OFF_BELT_GREY, everything else as Pillow converts it."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(im, dtype=np.float64)
        top = a.max(initial=0)
        bits = next((b for b in SENSOR_BITS if top < 2**b), 16)  # 12-bit cameras write 0..4095 into 16-bit files
        grey = np.clip(np.rint(a * (255.0 / (2**bits - 1))), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if im.mode == "F":
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        grey = np.clip(np.rint((a - lo) * (255.0 / max(hi - lo, 1e-12))), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        back = Image.new("RGBA", rgba.size, (OFF_BELT_GREY,) * 3 + (255,))
        return np.asarray(Image.alpha_composite(back, rgba).convert("RGB"), dtype=np.uint8)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


@contextmanager
def decoded(path: Path) -> Iterator[Image.Image]:
    """``path`` opened and wholly decoded, closed after the block. Raises ImageFileError naming the file when it is
    no image, is cut short or cannot be decoded (exceptions raised inside the block pass unchanged)."""
    try:
        im = Image.open(path)
    except DECODE_ERRORS as exc:
        raise ImageFileError(f"cannot decode image {path}: {exc}") from exc
    with im:
        try:
            _load_strictly(im)
        except DECODE_ERRORS as exc:
            raise ImageFileError(f"cannot decode image {path}: {exc}") from exc
        yield im


__all__ = ["DECODE_ERRORS", "OFF_BELT_GREY", "SENSOR_BITS", "decoded", "rgb8"]
