"""Unit conversions used along the line. Names carry their units."""

from __future__ import annotations

SECONDS_PER_HOUR = 3600.0
KG_PER_T = 1000.0
MM_PER_M = 1000.0


def rate_t_h_to_kg_s(rate_t_h: float) -> float:
    """Tonnes per hour → kilograms per second."""
    return rate_t_h * KG_PER_T / SECONDS_PER_HOUR


def loading_kg_m(rate_t_h: float, belt_speed_m_s: float) -> float:
    """Belt loading in kg/m for a flow ``rate_t_h`` on a belt running at ``belt_speed_m_s`` (0 when stopped)."""
    if belt_speed_m_s <= 0:
        return 0.0
    return rate_t_h_to_kg_s(rate_t_h) / belt_speed_m_s
