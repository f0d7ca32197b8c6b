"""The segment class rule, as one pure function shared by the live monitor and fleet re-analysis."""

from __future__ import annotations

from typing import Any


def segment_class(*, seen_by: set[str], nir_stations: set[str], vision_stations: set[str], nir: Any | None,
                  foreign_objects: int) -> str:
    """Class of a segment from what saw it and what they found.

    ``seen_by`` are the stations that covered at least the minimum share of the segment;
    ``nir`` the NIR segment score (None, or ``scored=False``: NIR could not score it, so NIR did
    not see it); ``foreign_objects`` the camera detections that count as contamination.
    Contaminated needs the camera's evidence; waste-suspect a NIR flag (waste- or contaminant-like
    admixture, or more spectra identified ``unknown`` than the lot's own baseline rate: ``flagged_unknown``;
    unknown never counts toward ore); ore needs every inspecting station; anything else is uninspected, never
    clean.
    """
    nir_scored = bool(nir_stations & seen_by) and nir is not None and getattr(nir, "scored", True)
    if not nir_scored:
        seen_by = seen_by - nir_stations
    if foreign_objects and vision_stations & seen_by:
        return "contaminated"
    if nir_scored and nir is not None and (nir.flagged_waste or nir.flagged_contaminant or getattr(nir, "flagged_unknown", False)):
        return "waste-suspect"
    inspecting = nir_stations | vision_stations
    if inspecting and seen_by >= inspecting:
        return "ore"
    return "uninspected"
