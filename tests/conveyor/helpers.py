"""Small real stations and line builders shared by the conveyor tests."""

from __future__ import annotations

from conveyor.records import Measurement, StreamDescription
from conveyor.station import MaterialWindow, Station


class MassProbe(Station):
    """A real station that reports the tonnes it saw per window (and coverage)."""

    def __init__(self, name: str, position_m: float) -> None:
        super().__init__(name, position_m)
        self.windows: list[MaterialWindow] = []

    def describe(self):
        return [StreamDescription(self.name, self.name, "probe", {"mass_t": ((), "float64")}, {"mass_t": "t"})]

    def process(self, window: MaterialWindow):
        self.windows.append(window)
        if window.empty:
            return [window.coverage(False, "no material")]
        m = Measurement(window.lot_id, self.name, window.end_time_s, window.start_mark_t, {"mass_t": window.mass_t})
        return [m, window.coverage(True)]


class Collector:
    """A record sink that keeps everything."""

    def __init__(self) -> None:
        self.records: list = []

    def handle(self, record) -> None:
        self.records.append(record)

    def of(self, cls):
        return [r for r in self.records if isinstance(r, cls)]
