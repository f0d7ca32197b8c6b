"""Replay image files as camera frames (backend ``folder``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from conveyor.station import StationContext
from vision.camera import Camera
from vision.errors import CameraTimeout
from vision.frames import Frame
from vision.tiles import image_paths, read_rgb


class FolderCamera(Camera):
    """Frames from the image files of ``folder`` in name order (``loop`` to start over).

    Each image must be ``width_px`` wide; its height is the frame's line count. A corrupt file
    raises ImageFileError from :meth:`grab` and is counted as dropped (the next grab goes on
    with the next file). When the files run out, :meth:`grab` raises CameraTimeout.
    """

    def __init__(self, folder: str | Path, *, loop: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder)
        self.loop = loop
        self._paths: list[Path] = []
        self._next = 0
        self._frame_id = 0
        self._belt_m = 0.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], context: StationContext, **common: Any) -> "FolderCamera":
        """Replays ``folder`` in a loop (a line runs until its lot ends)."""
        return cls(settings["folder"], loop=True, **common)

    def _open(self) -> None:
        self._paths = image_paths(self.folder)
        self._next = 0

    def _grab(self, timeout_s: float) -> Frame:
        if self._next >= len(self._paths):
            if not self.loop:
                raise CameraTimeout(f"no more images in {self.folder} ({len(self._paths)} replayed)")
            self._next = 0
        path = self._paths[self._next]
        self._next += 1
        self._frame_id += 1
        image = read_rgb(path)  # ImageFileError on a corrupt file: frame id advanced, so it counts as dropped
        now = time.monotonic()
        belt_m, mark_t, t_per_m = self._stamp(now) if self.position_source else (self._belt_m, 0.0, 0.0)
        self._belt_m = belt_m + image.shape[0] * self.mm_per_px / 1000.0
        return Frame(np.ascontiguousarray(image), self._frame_id, now, self.exposure_us, belt_m, mark_t, self.mm_per_px, t_per_m)
