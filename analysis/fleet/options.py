"""Names the fleet's command line shares with its workers, in a module importing nothing: ``oreline fleet --help``
loads this, not the models."""

from __future__ import annotations

#: How a re-scored archive's segments are scored: the line's own per-lot scorer, or the static calibration.
SEGMENT_SCORING = ("line", "calibrated")
