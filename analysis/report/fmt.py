"""Text for the report's cells: clock times (never raw Unix seconds), tonnes, numbers as given."""

from __future__ import annotations

import math
import time
from typing import Any

#: Values above this are Unix times (s); below, line-clock seconds from the lot start.
EPOCH_MIN_S = 1e9


def utc(epoch_s: Any) -> str:
    """``2026-12-04 14:05:47 UTC`` for a Unix time; "unknown" for anything else."""
    try:
        value = float(epoch_s)
    except (TypeError, ValueError):
        return "unknown"
    if not math.isfinite(value):
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))


def clock(seconds: Any, epoch_offset_s: float = math.nan) -> str:
    """A time as a clock time: Unix seconds as UTC; line-clock seconds as UTC with ``epoch_offset_s`` (Unix time of
    line-clock zero, from the lot start record) when known, else as ``+h:mm:ss`` on the line clock."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(value):
        return ""
    if value >= EPOCH_MIN_S:
        return utc(value)
    if math.isfinite(epoch_offset_s):
        return utc(epoch_offset_s + value)
    h, rem = divmod(round(value), 3600)
    return f"+{h}:{rem // 60:02d}:{rem % 60:02d}"


def tonnes(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{v:,.1f} t" if math.isfinite(v) else ""


def text(value: Any, digits: int = 3) -> str:
    """Any value as cell text: floats to ``digits`` significant figures (never used for the lab's numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:,.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"
    return str(value)
