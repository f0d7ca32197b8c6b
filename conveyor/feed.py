"""The belt-scale feed: what the line reads each tick, and a simulated unloader feed.

A :class:`FeedSource` answers :meth:`FeedSource.read` with a :class:`ScaleReading`
(totaliser, rate, speed, running). The real source is a Modbus client of the
belt-scale integrator (``plc/``); :class:`SimulatedFeed` models a grab unloader
feeding the belt with rate fluctuation, stops and short reversals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

from conveyor.errors import ConfigError
from conveyor.units import SECONDS_PER_HOUR


@dataclass(frozen=True)
class ScaleReading:
    """One reading of the belt scale.

    ``totaliser_t`` is the integrator's raw totaliser (may wrap); ``rate_t_h`` the
    instantaneous flow; ``speed_m_s`` the belt speed (negative in a reversal);
    ``encoder_count`` the raw speed-sensor counter when the integrator exposes it.
    ``ok`` is False when the reading could not be taken (disconnect); the other
    fields then repeat the last good values.
    """

    time_s: float
    totaliser_t: float
    rate_t_h: float
    speed_m_s: float
    running: bool = True
    encoder_count: int | None = None
    ok: bool = True
    fault: str = ""


class FeedSource(Protocol):
    """Anything that yields belt-scale readings."""

    def read(self, time_s: float) -> ScaleReading:
        """The reading at ``time_s`` (the line's clock)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@dataclass(frozen=True)
class BeltEvent:
    """A scheduled change of belt motion: ``kind`` is "stop" or "reverse", for ``duration_s`` from ``start_s``.

    A reversal runs the belt backwards at ``reverse_speed_m_s`` (> 0 magnitude).
    """

    start_s: float
    duration_s: float
    kind: str = "stop"
    reverse_speed_m_s: float = 0.3

    def __post_init__(self) -> None:
        if self.kind not in ("stop", "reverse"):
            raise ConfigError("simulation.events.kind", f"expected 'stop' or 'reverse', got {self.kind!r}")
        if not self.duration_s > 0:
            raise ConfigError("simulation.events.duration_s", f"must be > 0 s, got {self.duration_s}")


@dataclass
class SimulatedFeed:
    """An unloader feeding a belt at ``rate_t_h`` (± grab-cycle fluctuation) and ``speed_m_s``.

    Flow stops once ``lot_mass_t`` has been fed (the belt keeps running empty);
    ``events`` schedule stops and short reversals. ``totaliser_modulus_t`` makes
    the raw totaliser wrap like a real integrator's. Deterministic for a seed.
    """

    rate_t_h: float
    speed_m_s: float
    lot_mass_t: float
    events: Sequence[BeltEvent] = field(default_factory=tuple)
    grab_cycle_s: float = 45.0
    rate_fluctuation: float = 0.15
    totaliser_offset_t: float = 0.0
    totaliser_modulus_t: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.rate_t_h > 0:
            raise ConfigError("simulation.rate_t_h", f"must be > 0 t/h, got {self.rate_t_h}")
        if not self.speed_m_s > 0:
            raise ConfigError("line.nominal_speed_m_s", f"must be > 0 m/s, got {self.speed_m_s}")
        if not self.lot_mass_t > 0:
            raise ConfigError("simulation.lot_mass_t", f"must be > 0 t, got {self.lot_mass_t}")
        rng = np.random.default_rng(self.seed)
        self._phase = float(rng.uniform(0, 2 * math.pi))
        self._fed_t = 0.0
        self._time_s: float | None = None

    def speed_at(self, time_s: float) -> float:
        """Belt speed (m/s) at ``time_s`` given the scheduled events."""
        for ev in self.events:
            if ev.start_s <= time_s < ev.start_s + ev.duration_s:
                return 0.0 if ev.kind == "stop" else -abs(ev.reverse_speed_m_s)
        return self.speed_m_s

    def rate_at(self, time_s: float) -> float:
        """Flow onto the belt (t/h): zero when stopped, reversing, or the lot is fed."""
        if self.speed_at(time_s) <= 0 or self._fed_t >= self.lot_mass_t:
            return 0.0
        wobble = 1.0 + self.rate_fluctuation * math.sin(2 * math.pi * time_s / self.grab_cycle_s + self._phase)
        return self.rate_t_h * wobble

    def read(self, time_s: float) -> ScaleReading:
        if self._time_s is not None and time_s > self._time_s:
            dt = time_s - self._time_s
            self._fed_t = min(self.lot_mass_t, self._fed_t + self.rate_at(self._time_s) * dt / SECONDS_PER_HOUR)
        self._time_s = time_s if self._time_s is None else max(self._time_s, time_s)
        raw = self.totaliser_offset_t + self._fed_t
        if self.totaliser_modulus_t:
            raw = math.fmod(raw, self.totaliser_modulus_t)
        speed = self.speed_at(time_s)
        return ScaleReading(
            time_s=time_s, totaliser_t=raw, rate_t_h=self.rate_at(time_s), speed_m_s=speed, running=speed != 0.0
        )

    @property
    def fed_t(self) -> float:
        """Tonnes fed so far."""
        return self._fed_t

    def close(self) -> None:
        pass


@dataclass
class FaultyFeed:
    """Wraps a feed and injects belt-scale faults on the line clock (for simulation and fault tests).

    ``dropouts`` are (start_s, end_s) spans in which the scale does not answer;
    ``backsteps`` are (time_s, tonnes) where the raw totaliser jumps back by that much.
    """

    inner: FeedSource
    dropouts: Sequence[tuple[float, float]] = ()
    backsteps: Sequence[tuple[float, float]] = ()

    def read(self, time_s: float) -> ScaleReading:
        reading = self.inner.read(time_s)
        for start, end in self.dropouts:
            if start <= time_s < end:
                return ScaleReading(time_s, 0.0, 0.0, 0.0, running=False, ok=False,
                                    fault="no answer from belt-scale integrator (simulated dropout)")
        offset = sum(t for when, t in self.backsteps if time_s >= when)
        if offset:
            return ScaleReading(reading.time_s, max(0.0, reading.totaliser_t - offset), reading.rate_t_h,
                                reading.speed_m_s, reading.running, reading.encoder_count, reading.ok, reading.fault)
        return reading

    def close(self) -> None:
        self.inner.close()
