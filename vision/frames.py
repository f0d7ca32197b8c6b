"""Frames as cameras deliver them, and the checks every frame passes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.errors import FrameError


@dataclass(frozen=True)
class Frame:
    """One camera frame: ``image`` (lines, width_px, 3) uint8 RGB, rows along the belt.

    ``frame_id`` counts frames from the camera (gaps = dropped frames); ``time_s`` is the
    line-clock time of the first line; ``exposure_us`` the exposure; ``start_belt_m`` and
    ``start_mark_t`` the belt odometer position (m) and tonnage mark (t) of the first line;
    ``t_per_m`` the tonnes per metre of belt (to mark later lines); ``mm_per_px`` the scale.
    """

    image: np.ndarray
    frame_id: int
    time_s: float
    exposure_us: float
    start_belt_m: float
    start_mark_t: float
    mm_per_px: float
    t_per_m: float = 0.0
    belt_speed_m_s: float = 0.0

    @classmethod
    def still(cls, image: np.ndarray, mm_per_px: float, frame_id: int = 0) -> "Frame":
        """A frame of a still image (a rendered or photographed belt): time and belt position 0, exposure 100 us."""
        return cls(image, frame_id, 0.0, 100.0, 0.0, 0.0, mm_per_px)

    @property
    def lines(self) -> int:
        return int(self.image.shape[0])

    @property
    def length_m(self) -> float:
        """Metres of belt this frame shows."""
        return self.lines * self.mm_per_px / 1000.0

    @property
    def end_belt_m(self) -> float:
        return self.start_belt_m + self.length_m

    def mark_at_row(self, row: float) -> float:
        """Tonnage mark (t) of frame row ``row``."""
        return self.start_mark_t + row * self.mm_per_px / 1000.0 * self.t_per_m


def check_image(image: object, width_px: int, *, min_lines: int = 1) -> np.ndarray:
    """Return ``image`` as a (lines, width_px, 3) uint8 array or raise FrameError saying what was wrong."""
    if not isinstance(image, np.ndarray):
        raise FrameError(f"expected a numpy array frame, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise FrameError(f"expected frame dtype uint8, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise FrameError(f"expected frame shape (lines, {width_px}, 3), got {image.shape}")
    if image.shape[1] != width_px:
        raise FrameError(f"expected frame width {width_px} px, got {image.shape[1]} px")
    if image.shape[0] < min_lines:
        raise FrameError(f"expected at least {min_lines} lines, got {image.shape[0]}")
    return image
