"""Run a sampler station on the real line runtime (conveyor.runtime.Line) with a simulated feed."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any, Sequence

from conveyor.clock import SimulatedClock
from conveyor.feed import BeltEvent, SimulatedFeed
from conveyor.records import LineEvent, LotEnd, LotIdentity, Measurement
from conveyor.runtime import Line
from conveyor.station import StationContext

from sampler.station import SamplerStation, from_config


class Sink:
    """Keeps every validated record."""

    def __init__(self) -> None:
        self.records: list = []

    def handle(self, record) -> None:
        self.records.append(record)

    def of(self, cls) -> list:
        return [r for r in self.records if isinstance(r, cls)]


@dataclass
class LotResult:
    station: SamplerStation
    sink: Sink
    end: LotEnd
    line: Line

    @property
    def increments(self) -> list[Measurement]:
        return [m for m in self.sink.of(Measurement) if m.stream == self.station.name]

    @property
    def alarms(self) -> list[LineEvent]:
        return [e for e in self.sink.of(LineEvent) if e.source == self.station.name]

    def by_status(self, role: str = "routine") -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.increments:
            if m.data["role"] == role:
                out[m.data["status"]] = out.get(m.data["status"], 0) + 1
        return out


def make_station(tmp_path: pathlib.Path, clock: SimulatedClock | None = None, seed: int = 0,
                 **keys: Any) -> SamplerStation:
    clock = clock or SimulatedClock()
    ctx = StationContext(clock=clock, belt_width_m=1.6, nominal_speed_m_s=6.0, run_dir=tmp_path, seed=seed)
    section: dict[str, Any] = {"kind": "sampler", "position_m": 150.0}
    section.update(keys)
    return from_config("sampler", section, ctx)


def run_lot(station: SamplerStation, *, lot_mass_t: float = 1500.0, rate_t_h: float = 8000.0,
            speed_m_s: float = 6.0, events: Sequence[BeltEvent] = (), seed: int = 1, lot_id: str = "LOT1",
            pre_tick=(), listeners=()) -> LotResult:
    feed = SimulatedFeed(rate_t_h, speed_m_s, lot_mass_t, events=tuple(events), seed=seed)
    sink = Sink()
    line = Line(station.clock, feed, [station], sinks=[sink], pre_tick=pre_tick, listeners=listeners)
    end = line.run_lot(LotIdentity(lot_id, "MV TEST", "H1", "fines", lot_mass_t))
    return LotResult(station, sink, end, line)
