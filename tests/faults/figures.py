"""Figures the fault suite proves (one entry per test, rounded).

Each test calls :func:`record` with what it injected and what it saw. Tests write only to
``runs/fault-figures.json`` (ignored by git; ``$ORELINE_FAULT_FIGURES`` moves it), never to a
tracked file. ``python -m tests.faults.render`` (or ``make reliability``) merges that run's entries
into the tracked ``tests/faults/figures.json`` (entries of tests not run keep their last values)
and regenerates docs/reliability.md from it and ``benchmarks/soak_figures.json``.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

#: The committed figures docs/reliability.md is rendered from (written only by ``tests.faults.render``).
FIGURES = Path(__file__).with_name("figures.json")
#: What this run's tests recorded (ignored by git).
RUN_FIGURES = Path(os.environ.get("ORELINE_FAULT_FIGURES") or Path(__file__).resolve().parents[2] / "runs" / "fault-figures.json")
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


def load(path: Path = FIGURES) -> dict[str, dict[str, Any]]:
    """The figures stored in ``path`` ({} when it is missing or unreadable)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def record(key: str, *, group: str, fault: str, injected: int, survived: bool, **facts: Any) -> None:
    """Store one proven figure: ``group`` (sensor, process, load, fuzz), what was ``injected`` (count),
    whether the line ``survived`` it, and any other facts (alarms, lost rows, RSS...)."""
    RUN_FIGURES.parent.mkdir(parents=True, exist_ok=True)
    # The thread lock orders this process's tests; the file lock orders pytest-xdist workers (read-modify-write).
    with _lock, open(RUN_FIGURES.with_name(RUN_FIGURES.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load(RUN_FIGURES)
        data[key] = _round({"group": group, "fault": fault, "injected": int(injected), "survived": bool(survived),
                            **facts})
        tmp = RUN_FIGURES.with_name(f".{RUN_FIGURES.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(sorted(data.items())), indent=1, sort_keys=True) + "\n")
        os.replace(tmp, RUN_FIGURES)
        touched.add(key)
