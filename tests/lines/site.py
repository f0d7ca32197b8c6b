"""The shipped site as a test line: shortened (:func:`short_site`), composed and run for one lot
(:func:`run_site_lot`), with an independent record log (:class:`RecordLog`: our own sink on the line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from conveyor.records import Coverage, LineEvent, LotEnd, LotStart, Measurement, StreamDescription

#: Station kinds that inspect material (a segment they did not cover is never clean).
INSPECTING_KINDS = ("nir", "vision")


def short_site(lot_mass_t: float = 300.0, *, scale: str = "direct", camera: bool = True, sampler: bool = False,
               seed: int = 3, waste: bool = False, objects: bool = False) -> dict[str, Any]:
    """The shipped site, shortened for a test: as fast as possible, no belt events, the shipped camera model.

    Not validated yet: change it, then call :func:`analysis.site.validate`.
    """
    from analysis.site import load_site

    site = load_site()
    sim = site["simulation"]
    sim.update(lot_mass_t=float(lot_mass_t), speedup=0.0, seed=seed, events=[],
               waste_fraction=0.08 if waste else 0.0, waste_start_t=lot_mass_t / 2, waste_extent_t=0.0,
               objects_per_1000_t=1.0 if objects else 0.0)
    site["scale"]["backend"] = scale
    if not camera:
        site["stations"]["camera"]["enabled"] = False
    if not sampler:
        site["stations"]["sampler"]["enabled"] = False
    site["control_room"]["enabled"] = False
    site["plc"]["enabled"] = False
    site["archive"]["flush_interval_s"] = 0.5
    return site


class RecordLog:
    """A record sink keeping what the invariant needs: coverage spans, events, descriptions, lot bounds."""

    def __init__(self) -> None:
        self.coverage: list[Coverage] = []
        self.events: list[LineEvent] = []
        self.kinds: dict[str, str] = {}  # station → kind
        self.measurements: dict[str, int] = {}
        self.start: LotStart | None = None
        self.end: LotEnd | None = None

    def handle(self, record: Any) -> None:
        if isinstance(record, Coverage):
            self.coverage.append(record)
        elif isinstance(record, Measurement):
            self.measurements[record.stream] = self.measurements.get(record.stream, 0) + 1
        elif isinstance(record, LineEvent):
            self.events.append(record)
        elif isinstance(record, StreamDescription):
            self.kinds[record.station] = record.kind
        elif isinstance(record, LotStart):
            self.start = record
        elif isinstance(record, LotEnd):
            self.end = record

    @property
    def inspecting(self) -> list[str]:
        return sorted(s for s, k in self.kinds.items() if k in INSPECTING_KINDS)

    def covered_t(self, station: str, lo_rel_t: float, hi_rel_t: float) -> float:
        """Tonnes of lot-relative [lo, hi) the station reported inspected."""
        base = self.start.start_mark_t
        total = 0.0
        for c in self.coverage:
            if c.station != station or not c.inspected:
                continue
            a, b = max(c.start_mark_t - base, lo_rel_t), min(c.end_mark_t - base, hi_rel_t)
            if b > a:
                total += b - a
        return total

    def fraction(self, station: str, lo_rel_t: float, hi_rel_t: float) -> float:
        return self.covered_t(station, lo_rel_t, hi_rel_t) / max(hi_rel_t - lo_rel_t, 1e-12)

    def reasons(self, station: str, lo_rel_t: float, hi_rel_t: float) -> set[str]:
        base = self.start.start_mark_t
        return {c.reason for c in self.coverage if c.station == station and not c.inspected
                and min(c.end_mark_t - base, hi_rel_t) > max(c.start_mark_t - base, lo_rel_t)}


@dataclass
class SiteRun:
    """A composed plant after one lot: its record log, end, what it told (servers) and wrote (outputs)."""

    plant: Any
    log: RecordLog
    end: LotEnd
    told: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def segments(self) -> list[Any]:
        return self.plant.monitor.segments

    def alarm_categories(self) -> set[str]:
        return {a.category for a in self.plant.alarms.all()}

    def segment(self, index: int) -> Any:
        return next(s for s in self.segments if s.index == index)


def run_site_lot(site: dict[str, Any], run_dir: Path, *, serve: bool = False,
             pre_tick: Callable[[Any, float], None] | None = None, report: bool = False) -> SiteRun:
    """Validate, compose, attach (archive; servers when ``serve``), run one lot and finish it.

    ``pre_tick(plant, time_s)`` runs before every scale read (inject faults there). The plant is
    closed before returning; its monitor, alarms and archive path stay readable.
    """
    from analysis import integration
    from analysis.site import compose, validate

    plant = compose(validate(site), run_dir)
    log = RecordLog()
    plant.line.add_sink(log)
    if pre_tick is not None:
        plant.line.pre_tick.append(lambda t: pre_tick(plant, t))
    plant.new_lot()
    told = integration.attach(plant, serve=serve)
    try:
        end = plant.run_lot()
        outputs = integration.finish(plant, end, report=report)
    finally:
        plant.close()
    return SiteRun(plant, log, end, told, outputs)


