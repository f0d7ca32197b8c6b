"""Decoding an image file strictly: a truncated file is an error, whatever another part of the process set.

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

from PIL import Image, ImageFile, UnidentifiedImageError

from vision.errors import ImageFileError

_STRICT = threading.Lock()
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


__all__ = ["DECODE_ERRORS", "decoded"]
