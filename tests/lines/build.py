"""Build a test line from real parts and run lots on it (see :mod:`tests.lines`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from conveyor.cargo import CargoModel
from conveyor.clock import SimulatedClock
from conveyor.feed import BeltEvent, FeedSource, SimulatedFeed
from conveyor.records import LineEvent, LotEnd, LotIdentity, Measurement
from conveyor.runtime import Line
from conveyor.station import Station, StationContext
from analysis.archive import LotArchive
from analysis.decide.alarms import AlarmBook
from analysis.decide.monitor import LotMonitor
from tests.lines.stations import CargoCamera, LibraryNir, Probe, ThresholdScorer


def station_context(run_dir: Path, *, clock: SimulatedClock | None = None, belt_width_m: float = 1.6,
                    nominal_speed_m_s: float = 6.0, seed: int = 0, cargo: CargoModel | None = None) -> StationContext:
    """What a station is built with (``from_config(name, section, context)``), on a simulated clock."""
    return StationContext(clock=clock or SimulatedClock(), belt_width_m=belt_width_m,
                          nominal_speed_m_s=nominal_speed_m_s, run_dir=Path(run_dir), seed=seed, cargo=cargo)


class Collector:
    """A record sink that keeps every validated record."""

    def __init__(self) -> None:
        self.records: list = []

    def handle(self, record) -> None:
        self.records.append(record)

    def of(self, cls) -> list:
        return [r for r in self.records if isinstance(r, cls)]


@dataclass
class LineRig:
    """A built test line: its parts, every record it sent (``sink``) and the ends of the lots it ran."""

    clock: SimulatedClock
    line: Line
    sink: Collector
    monitor: LotMonitor | None = None
    alarms: AlarmBook | None = None
    archive: LotArchive | None = None
    cargo: CargoModel | None = None
    ends: list[LotEnd] = field(default_factory=list)

    @property
    def end(self) -> LotEnd:
        """The end of the last lot run."""
        return self.ends[-1]

    def run_lot(self, lot_id: str = "LOT1", *, mass_t: float | None = None, vessel: str = "MV TEST", hold: str = "H1",
                product: str = "fines", supplier: str = "") -> LotEnd:
        """Run one lot to its end; its declared mass is the feed's lot mass unless ``mass_t`` says otherwise.
        The archive (if any) is closed after it."""
        declared_t = mass_t or getattr(self.line.feed, "lot_mass_t", None) or 1.0
        end = self.line.run_lot(LotIdentity(lot_id, vessel, hold, product, declared_t, supplier=supplier))
        if self.archive is not None:
            self.archive.close()
        self.ends.append(end)
        return end

    def measurements(self, stream: str) -> list[Measurement]:
        """The measurements of ``stream``, in order."""
        return [m for m in self.sink.of(Measurement) if m.stream == stream]

    def events(self, source: str) -> list[LineEvent]:
        """The line events ``source`` raised, in order."""
        return [e for e in self.sink.of(LineEvent) if e.source == source]


def build_line(stations: Sequence[Station], *, mass_t: float = 1000.0, rate_t_h: float = 6000.0,
               speed_m_s: float = 4.5, seed: int = 1, events: Sequence[BeltEvent] = (), feed: FeedSource | None = None,
               clock: SimulatedClock | None = None, decide: bool = False, verdict: Mapping[str, Any] | None = None,
               scorer: Callable[[Any], Any] = ThresholdScorer, on_targeted: Callable[..., Any] | None = None,
               monitor_options: Mapping[str, Any] | None = None,
               archive: Path | None = None, flush_interval_s: float = 0.0, cargo: CargoModel | None = None,
               sinks: Sequence[Any] = (), keep_records: bool = True, **line_options: Any) -> LineRig:
    """A line of ``stations`` on a simulated feed (``mass_t`` t at ``rate_t_h``, or ``feed``).

    ``decide`` adds the real monitor (``verdict`` settings, default the shipped site's; NIR segments scored by
    ``scorer(stream metadata)``; targeted cuts asked of ``on_targeted``; other keywords in ``monitor_options``)
    and its alarm book; ``archive`` (a path) adds a real archive, wired to the
    monitor's segments, verdicts and alarms as the lead wires it. ``keep_records=False`` leaves the collector off the
    line (a line that runs for long). ``line_options`` go to :class:`Line` (``tick_s``, ``segment_mass_t``,
    ``pre_tick``, ``listeners``).
    """
    clock = clock or SimulatedClock()
    feed = feed or SimulatedFeed(rate_t_h, speed_m_s, mass_t, events=tuple(events), seed=seed)
    sink = Collector()
    monitor = alarms = store = None
    parts: list[Any] = [sink] if keep_records else []
    if decide or archive is not None:
        from analysis.site import load_site

        alarms = AlarmBook(clock.now_s)
        monitor = LotMonitor(alarms, verdict if verdict is not None else load_site()["verdict"],
                             nir_scorer_factory=scorer, on_targeted=on_targeted, **(monitor_options or {}))
        parts.append(monitor)
    if archive is not None:
        store = LotArchive(archive, flush_interval_s=flush_interval_s, clock=clock)
        monitor.segment_listeners.append(store.add_segment)
        monitor.verdict_listeners.append(store.add_verdict)
        alarms.listeners.append(store.alarm_changed)
        parts.append(store)
    line = Line(clock, feed, stations, sinks=[*parts, *sinks], **line_options)
    return LineRig(clock, line, sink, monitor, alarms, store, cargo)


def archived_lot(path: Path, cargo: CargoModel | None = None, *, mass_t: float = 800.0, stations: str = "nir,cam",
                 offline_t: Sequence[tuple[float, float]] = (), lot_id: str = "LOT-A", supplier: str = "Supplier A",
                 product: str = "fines", flush_interval_s: float = 5.0, seed: int = 1, per_window: int = 1,
                 rate_t_h: float = 6000.0) -> LineRig:
    """One lot through the archive-kind stand-ins (``stations``: any of nir, cam, probe) into a real archive
    at ``path``, decided by the real monitor; returns the rig after the lot (archive closed). The archive flushes
    at the line's own interval (``flush_interval_s``, seconds of the simulated clock; 0: after every record, many
    times the CPU for the same rows once the lot is closed)."""
    cargo = cargo or CargoModel(product)
    chosen: list[Station] = []
    for key in stations.split(","):
        if key == "nir":
            chosen.append(LibraryNir("nir", 40.0, cargo, offline_t=offline_t, seed=seed, per_window=per_window))
        elif key == "cam":
            chosen.append(CargoCamera("cam", 60.0, cargo))
        elif key == "probe":
            chosen.append(Probe("probe", 20.0))
    rig = build_line(chosen, mass_t=mass_t, rate_t_h=rate_t_h, seed=seed, archive=path,
                     flush_interval_s=flush_interval_s, cargo=cargo)
    rig.run_lot(lot_id, vessel="MV Test", hold="H2", product=product, supplier=supplier)
    return rig
