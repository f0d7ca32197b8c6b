"""Printing benchmark figures against their targets."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


def row(name: str, value: float, unit: str, target: float, *, higher_is_better: bool = True) -> dict[str, Any]:
    """One benchmark figure with its target; prints it and returns it as a dict."""
    ok = value >= target if higher_is_better else value <= target
    op = ">=" if higher_is_better else "<="
    print(f"{name}: {value:,.3g} {unit} (target {op} {target:,} {unit}) {'OK' if ok else 'MISS'}", flush=True)
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}


#: The spread benchmarks print: min / 5 % / median / 95 % / max (the quantiles of :func:`vision.decision.spread`).
SPREAD = (0.0, 0.05, 0.5, 0.95, 1.0)


def quantile_name(q: float) -> str:
    """"min", "median", "max" or "10 %" for the quantile ``q`` (0-1)."""
    return {0.0: "min", 0.5: "median", 1.0: "max"}.get(q, f"{q * 100:g} %")


def quantiles_text(values: Sequence[float] | np.ndarray, quantiles: Sequence[float] = SPREAD, *, fmt: str = ".3g",
                   count: bool = False, legend: bool = True) -> str:
    """The finite ``values``' ``quantiles`` printed "a / b / c", then in brackets how many values there are
    (``count``) and which quantiles (``legend``); "none" when no value is finite."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "none"
    text = " / ".join(f"{x:{fmt}}" for x in np.quantile(v, quantiles))
    notes = ([f"n {v.size}"] if count else []) + ([" / ".join(quantile_name(q) for q in quantiles)] if legend else [])
    return text + (f" ({'; '.join(notes)})" if notes else "")


class _FrameSink(Protocol):
    def process(self, frame: Any) -> Any: ...

    def flush(self) -> Any: ...


def frame_cpu_ms(detector: _FrameSink, frames: Sequence[Any]) -> np.ndarray:
    """CPU time (ms, this thread) of each frame after the first through ``detector`` (its ``process``; flushed after
    the last): the first pays for warm-up."""
    out = []
    for f in frames:
        t = time.thread_time()
        detector.process(f)
        out.append(1000.0 * (time.thread_time() - t))
    detector.flush()
    return np.asarray(out[1:])
