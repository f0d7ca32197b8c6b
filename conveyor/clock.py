"""Clocks: the wall clock, and a simulated clock that runs N× faster (or as fast as possible).

Both count seconds from an arbitrary origin with :meth:`now_s` and wait with
:meth:`sleep_until`. The line runtime only ever talks to a clock, so the same
code drives a real line and a simulated one.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod

from conveyor.errors import ConfigError


class Clock(ABC):
    """Seconds since the clock's origin."""

    @abstractmethod
    def now_s(self) -> float:
        """Current time in seconds."""

    @abstractmethod
    def sleep_until(self, time_s: float) -> None:
        """Return once :meth:`now_s` ≥ ``time_s`` (at once if already past)."""

    def epoch_s(self) -> float:
        """Unix time corresponding to ``now_s()`` (for records people read)."""
        return time.time()


class WallClock(Clock):
    """Real time from a monotonic clock."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def now_s(self) -> float:
        return time.monotonic() - self._t0

    def sleep_until(self, time_s: float) -> None:
        delay = time_s - self.now_s()
        if delay > 0:
            time.sleep(delay)


class SimulatedClock(Clock):
    """Simulated time running ``speedup`` times faster than real time.

    ``speedup=math.inf`` jumps straight to each requested time (as fast as the
    work allows). Thread-safe: other threads may read :meth:`now_s`.
    """

    def __init__(self, speedup: float = math.inf, start_s: float = 0.0, epoch_start_s: float | None = None) -> None:
        if not speedup > 0:
            raise ConfigError("simulation.speedup", f"must be > 0, got {speedup}")
        self.speedup = float(speedup)
        self._sim_s = float(start_s)
        self._lock = threading.Lock()
        self._epoch0 = time.time() if epoch_start_s is None else epoch_start_s
        self._start_s = float(start_s)

    def now_s(self) -> float:
        with self._lock:
            return self._sim_s

    def epoch_s(self) -> float:
        return self._epoch0 + (self.now_s() - self._start_s)

    def sleep_until(self, time_s: float) -> None:
        now = self.now_s()
        if time_s <= now:
            return
        if math.isfinite(self.speedup):
            time.sleep((time_s - now) / self.speedup)
        with self._lock:
            self._sim_s = max(self._sim_s, time_s)

    def advance(self, dt_s: float) -> float:
        """Advance by ``dt_s`` seconds (honouring the speed-up) and return the new time."""
        self.sleep_until(self.now_s() + dt_s)
        return self.now_s()
