"""Printing benchmark figures against their targets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from vision.detect import Detector


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


@dataclass(frozen=True)
class SwitchCost:
    """A run-time switch's cost measured off and on in turn: the detector's CPU per frame (median of each round, ms),
    the 99th percentile over every round's frames (ms), and the line station's rate of each round (m/s)."""

    detector_ms: dict[str, list[float]]
    p99_ms: dict[str, float]
    station_m_s: dict[str, list[float]]

    @property
    def added_ms(self) -> float:
        """CPU the switch adds per frame (mean over rounds of the medians, on minus off)."""
        return float(np.mean(self.detector_ms["on"]) - np.mean(self.detector_ms["off"]))

    @property
    def station_on_m_s(self) -> float:
        """The station's mean rate with the switch on."""
        return float(np.mean(self.station_m_s["on"]))

    @property
    def station_share(self) -> float:
        """The station's rate with the switch on as a share of its rate off (same rounds)."""
        return self.station_on_m_s / float(np.mean(self.station_m_s["off"]))

    def text(self, off: str, on: str) -> str:
        """One printed line: the rounds' detector medians, the p99s and the station rates, ``off`` / ``on`` named."""
        def rounded(v: list[float]) -> list[float]:
            return [round(x, 1) for x in v]
        return (f"detector CPU per frame (median per round): {off} {rounded(self.detector_ms['off'])} ms, {on} "
                f"{rounded(self.detector_ms['on'])} ms; p99 of all rounds' frames: {off} {self.p99_ms['off']:.0f} ms, {on} "
                f"{self.p99_ms['on']:.0f} ms; line station: {off} {rounded(self.station_m_s['off'])} m/s, {on} "
                f"{rounded(self.station_m_s['on'])} m/s")


def switch_cost(detector: Callable[[], _FrameSink], switch_on: Callable[[], AbstractContextManager[Any]],
                frames: Sequence[Any], station_m_s: Callable[[], float], rounds: int = 3) -> SwitchCost:
    """A run-time switch's cost: ``rounds`` times, first off then inside ``switch_on()``, a new ``detector()``'s CPU
    per frame over ``frames`` (:func:`frame_cpu_ms`) and the line station's rate (``station_m_s()``, run with the
    switch as it is set)."""
    if rounds < 1 or len(frames) < 2:
        raise ValueError(f"switch_cost needs at least one round and two frames (got {rounds}, {len(frames)})")
    every: dict[str, list[np.ndarray]] = {"off": [], "on": []}
    line: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        for state in ("off", "on"):
            with switch_on() if state == "on" else nullcontext():
                every[state].append(frame_cpu_ms(detector(), frames))
                line[state].append(float(station_m_s()))
    return SwitchCost({k: [float(np.median(v)) for v in every[k]] for k in every},
                      {k: float(np.percentile(np.concatenate(v), 99)) for k, v in every.items()}, line)


@contextmanager
def every_detector(attach: Callable[["Detector", float], None]) -> Iterator[None]:
    """Within the block every detector a vision model builds (``VisionModel.detector``: the scenes', the benchmarks' and
    the line station's) is handed to ``attach`` with its model's mm per pixel before it is used."""
    from vision.fit import VisionModel  # here: the benchmarks that never switch a detector do not load the vision fit

    built = VisionModel.detector

    def detector(self: VisionModel) -> "Detector":
        det = built(self)
        attach(det, self.mm_per_px)
        return det

    VisionModel.detector = detector  # type: ignore[method-assign]
    try:
        yield
    finally:
        VisionModel.detector = built  # type: ignore[method-assign]
