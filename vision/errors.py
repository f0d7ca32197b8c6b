"""Exceptions raised by the vision package.

Every class also inherits the builtin it refines, so callers may catch either
``VisionError`` or the builtin (``ValueError``, ``TimeoutError``...).
"""

from __future__ import annotations


class VisionError(Exception):
    """Base class of every error raised by ``vision``."""


class FrameError(VisionError, ValueError):
    """A frame of the wrong size, dtype or sequence (dropped, duplicated, out of order)."""


class ImageFileError(VisionError, ValueError):
    """An image file that cannot be read or decoded (corrupt, truncated, wrong format)."""


class CameraError(VisionError, RuntimeError):
    """A camera that cannot be opened, configured or read."""


class CameraTimeout(CameraError, TimeoutError):
    """No frame arrived within the timeout."""


class CameraDisconnected(CameraError, ConnectionError):
    """The camera went away (link lost, device closed); reconnect to go on."""


class BackendUnavailable(CameraError, ImportError):
    """A camera backend whose library (e.g. Aravis/PyGObject) cannot be imported here."""


class ModelError(VisionError, RuntimeError):
    """A normal-ore model or classifier that is not fitted, or whose file does not match."""


class DataError(VisionError, FileNotFoundError):
    """Reference images (ore-on-belt tiles, textures) missing or unusable."""
