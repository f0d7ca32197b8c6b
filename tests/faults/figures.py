"""Figures the fault suite proves, kept in ``tests/faults/figures.json`` (one entry per test, rounded).

Each test calls :func:`record` with what it injected and what it saw; entries of tests not run keep
their last values, so a partial run does not erase the rest. :mod:`tests.faults.render` turns the
file (plus ``benchmarks/soak_figures.json``) into docs/reliability.md.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

FIGURES = Path(__file__).with_name("figures.json")
_lock = threading.Lock()
touched: set[str] = set()


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 3) if abs(v) < 100 else round(v, 1)
    if isinstance(v, dict):
        return {str(k): _round(x) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple, set)):
        items = sorted(v) if isinstance(v, set) else v
        return [_round(x) for x in items]
    return v


def load() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(FIGURES.read_text())
    except (OSError, ValueError):
        return {}


def record(key: str, *, group: str, fault: str, injected: int, survived: bool, **facts: Any) -> None:
    """Store one proven figure: ``group`` (sensor, process, load, fuzz), what was ``injected`` (count),
    whether the line ``survived`` it, and any other facts (alarms, lost rows, RSS...)."""
    with _lock:
        data = load()
        data[key] = _round({"group": group, "fault": fault, "injected": int(injected), "survived": bool(survived),
                            **facts})
        FIGURES.write_text(json.dumps(dict(sorted(data.items())), indent=1, sort_keys=True) + "\n")
        touched.add(key)
