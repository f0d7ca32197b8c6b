"""Segments: fixed tonnage increments of a lot, the unit of decision.

Segment ``k`` of a lot holds the material with lot-relative marks in
``[k * segment_mass_t, (k + 1) * segment_mass_t)``; the last segment of a lot may
be shorter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conveyor.errors import ConfigError


@dataclass(frozen=True)
class SegmentPlan:
    """Cuts a lot into segments of ``segment_mass_t`` tonnes starting at ``lot_start_mark_t``."""

    segment_mass_t: float = 100.0
    lot_start_mark_t: float = 0.0

    def __post_init__(self) -> None:
        if not (self.segment_mass_t > 0 and math.isfinite(self.segment_mass_t)):
            raise ConfigError("lot.segment_mass_t", f"must be a finite value > 0 t, got {self.segment_mass_t}")

    def index_of(self, mark_t: np.ndarray | float) -> np.ndarray:
        """Segment index of absolute mark(s); -1 for material before the lot start."""
        rel = np.asarray(mark_t, dtype=float) - self.lot_start_mark_t
        idx = np.floor(rel / self.segment_mass_t).astype(np.int64)
        return np.where(rel < 0, -1, idx)

    def bounds_t(self, index: int) -> tuple[float, float]:
        """Absolute marks (start, end) of segment ``index``."""
        if index < 0:
            raise ConfigError("segment", f"segment index must be >= 0, got {index}")
        start = self.lot_start_mark_t + index * self.segment_mass_t
        return start, start + self.segment_mass_t

    def count(self, lot_mass_t: float) -> int:
        """Number of segments a lot of ``lot_mass_t`` tonnes makes (the last may be partial)."""
        return max(1, math.ceil(lot_mass_t / self.segment_mass_t - 1e-9))

    def split(self, start_mark_t: float, end_mark_t: float) -> list[tuple[int, float, float]]:
        """Split [start, end) into (segment index, start, end) pieces along segment boundaries."""
        pieces: list[tuple[int, float, float]] = []
        if end_mark_t <= start_mark_t:
            return pieces
        k = int(self.index_of(start_mark_t))
        lo = start_mark_t
        while lo < end_mark_t:
            hi = min(end_mark_t, self.bounds_t(max(k, 0))[1]) if k >= 0 else min(end_mark_t, self.lot_start_mark_t)
            pieces.append((k, lo, hi))
            lo, k = hi, k + 1
        return pieces
