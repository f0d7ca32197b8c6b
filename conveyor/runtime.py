"""The line runtime: reads the belt scale each tick, tracks material and drives the stations.

One :class:`Line` runs one lot at a time on a :class:`~conveyor.clock.Clock`
(wall or simulated). Each tick it

1. reads the belt scale (:class:`~conveyor.feed.FeedSource`),
2. unfolds the totaliser and integrates the belt odometer,
3. records the reading in the :class:`~conveyor.tracking.MaterialTracker`,
4. hands every station the :class:`~conveyor.station.MaterialWindow` that passed it,
5. validates every record (:class:`~conveyor.records.LotRun`) and passes it to the sinks,
6. publishes a :class:`LineState` to the tick listeners.

Faults never stop the line: a station that raises gets its window marked
uninspected and a :class:`~conveyor.records.LineEvent`; a dropped belt scale is an
alarm and the time it was away is tracked by holding the last speed. A sink that
raises (the archive on a full disk) is counted per sink, gets one ``sink_fault``
event per lot (source: the sink's ``sink_name``), and the lot then ends
``aborted``: its record is incomplete, so it is never reported complete.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol, Sequence

from conveyor.clock import Clock
from conveyor.errors import KinematicsError, RecordError, TotaliserError
from conveyor.feed import FeedSource, ScaleReading
from conveyor.kinematics import BeltKinematics
from conveyor.records import Coverage, LineEvent, LotEnd, LotIdentity, LotRun, LotStart, LotStatus, Record
from conveyor.segments import SegmentPlan
from conveyor.station import MaterialWindow, Station
from conveyor.totaliser import TonnageCounter
from conveyor.tracking import MaterialTracker

log = logging.getLogger(__name__)


class RecordSink(Protocol):
    """Receives every validated record of the lot, in order.

    A sink may name itself with a ``sink_name`` attribute (the source of its fault events);
    otherwise its class name is used.
    """

    def handle(self, record: Record) -> None: ...


def sink_name(sink: object) -> str:
    """The name a sink's faults are counted and reported under."""
    return str(getattr(sink, "sink_name", "") or type(sink).__name__)


@dataclass(frozen=True)
class LineState:
    """What the line looks like after a tick (for the PLC, the control room and progress bars)."""

    time_s: float
    epoch_s: float
    lot_id: str
    lot_tonnage_t: float
    lot_mass_t: float
    belt_speed_m_s: float
    rate_t_h: float
    odometer_m: float
    running: bool
    scale_ok: bool
    segment_index: int
    phase: str  # "loading", "draining", "ended"
    stations_faulted: tuple[str, ...] = ()

    @property
    def progress(self) -> float:
        """Fraction of the lot weighed, 0..1."""
        return min(1.0, self.lot_tonnage_t / self.lot_mass_t) if self.lot_mass_t > 0 else 0.0


@dataclass
class LineCounters:
    """Faults seen during a lot."""

    station_faults: dict[str, int] = field(default_factory=dict)
    sink_faults: dict[str, int] = field(default_factory=dict)
    scale_dropouts: int = 0
    scale_ticks_lost: int = 0
    totaliser_resyncs: int = 0
    speed_rejections: int = 0
    ticks: int = 0


class LotPhase:
    """Where one lot is: ``loading`` → ``draining`` (declared mass weighed) → ``ended`` (complete or aborted).

    Transitions are named: :meth:`weighed`, :meth:`check_progress`, :meth:`check_drained`, :meth:`abort`.
    """

    def __init__(self, declared_mass_t: float, mark0_t: float, start_t: float) -> None:
        self.declared_mass_t = declared_mass_t
        self.mark0_t = mark0_t
        self.start_t = start_t
        self.name = "loading"
        self.status: LotStatus = "complete"
        self.reason = ""
        self.end_mark_t: float | None = None  # the lot's last tonnage mark, once weighed
        self.drain_start_t = math.nan
        self._progress_mark_t, self._progress_t = mark0_t, start_t

    @property
    def ended(self) -> bool:
        return self.name == "ended"

    def lot_t(self, mark_t: float) -> float:
        """Tonnes of this lot weighed so far (the declared mass once it is all weighed)."""
        return (self.end_mark_t if self.end_mark_t is not None else mark_t) - self.mark0_t

    def weighed(self, t: float, mark_t: float) -> None:
        """loading → draining once the declared mass has crossed the belt scale."""
        if self.name == "loading" and mark_t - self.mark0_t >= self.declared_mass_t - 1e-9:
            self.name, self.drain_start_t = "draining", t
            self.end_mark_t = self.mark0_t + self.declared_mass_t

    def check_progress(self, t: float, mark_t: float, speed_m_s: float, timeout_s: float) -> None:
        """While loading: the unloader stopped short of the declared mass (or the scale under-counted) for
        longer than ``timeout_s`` ends the lot as aborted, rather than ticking forever on an empty belt."""
        if self.name != "loading":
            return
        if speed_m_s > 0 and mark_t > self._progress_mark_t:
            self._progress_mark_t, self._progress_t = mark_t, t
        elif t - self._progress_t > timeout_s:
            self.abort(f"no material for {timeout_s:g} s at {mark_t - self.mark0_t:,.1f} t "
                       f"of {self.declared_mass_t:,.1f} t declared")

    def check_drained(self, t: float, passed_last_station: bool, timeout_s: float) -> None:
        """draining → ended when the lot's last tonne passed the last station (aborted after ``timeout_s``)."""
        if passed_last_station:
            self.name = "ended"
        elif t - self.drain_start_t > timeout_s:
            self.abort("drain timeout: material did not reach the last station")

    def abort(self, reason: str) -> None:
        self.status, self.reason, self.name = "aborted", reason, "ended"


class Line:
    """Drives stations along a belt from belt-scale readings.

    ``stations`` are ordered by position; ``tick_s`` is the runtime period;
    ``pre_tick`` callbacks run with the tick time before the scale is read (the
    simulated PLC updates its registers there); ``listeners`` get a
    :class:`LineState` after every tick.
    """

    def __init__(
        self,
        clock: Clock,
        feed: FeedSource,
        stations: Sequence[Station],
        *,
        tick_s: float = 1.0,
        segment_mass_t: float = 100.0,
        totaliser: TonnageCounter | None = None,
        allow_reverse: bool = True,
        drain_timeout_s: float = 3600.0,
        sinks: Iterable[RecordSink] = (),
        listeners: Iterable[Callable[[LineState], None]] = (),
        pre_tick: Iterable[Callable[[float], None]] = (),
    ) -> None:
        names = [s.name for s in stations]
        if len(set(names)) != len(names):
            raise RecordError(f"station names must be unique, got {names}")
        self.clock = clock
        self.feed = feed
        self.stations = sorted(stations, key=lambda s: s.position_m)
        self.tick_s = tick_s
        self.segment_mass_t = segment_mass_t
        self.totaliser = totaliser or TonnageCounter()
        self.kinematics = BeltKinematics(allow_reverse=allow_reverse)
        self.drain_timeout_s = drain_timeout_s
        self.sinks = list(sinks)
        self.listeners = list(listeners)
        self.pre_tick = list(pre_tick)
        self.tracker = MaterialTracker()
        self.counters = LineCounters()
        self.run: LotRun | None = None
        self.state: LineState | None = None
        self._stop = threading.Event()
        self._stop_reason = ""
        self._last_reading: ScaleReading | None = None
        self._scale_ok = True
        self._carry_mark_t: float | None = None  # where the previous lot ended: the next one starts there
        self._lot_sink_faults: dict[str, tuple[int, str]] = {}  # this lot: sink → (failures, first error)
        self._pending_events: list[LineEvent] = []
        self._fault_lock = threading.Lock()  # sink faults may be reported from other threads (alarm listeners)
        self._line_thread: int | None = None  # the thread running lots: the only one that emits records
        self._emit_depth = 0
        for station in self.stations:
            attach = getattr(station, "attach_tracker", None)
            if callable(attach):
                attach(self.tracker)

    # ---- control -----------------------------------------------------------------------------
    def request_stop(self, reason: str = "stopped by operator") -> None:
        """Ask the running lot to end as aborted after the current tick (thread-safe)."""
        self._stop_reason = reason
        self._stop.set()

    def add_sink(self, sink: RecordSink) -> None:
        self.sinks.append(sink)

    # ---- record plumbing ---------------------------------------------------------------------
    def _emit(self, record: Record) -> None:
        assert self.run is not None
        self.run.add(record)
        self._emit_depth += 1
        try:
            for sink in self.sinks:
                try:
                    sink.handle(record)
                except Exception as exc:  # a sink failing must not take the line down: counted, reported
                    log.debug("record sink %s failed on %s", sink_name(sink), type(record).__name__, exc_info=True)
                    self.sink_failed(sink_name(sink), exc)
        finally:
            self._emit_depth -= 1
        if self._emit_depth == 0:
            self._emit_pending()

    def _emit_pending(self) -> None:
        while True:
            with self._fault_lock:
                if not self._pending_events:
                    return
                event = self._pending_events.pop(0)
            self._emit(event)

    def sink_failed(self, name: str, exc: BaseException) -> None:
        """Count a failure of the sink (or sink listener) ``name``; its first one in a lot becomes a
        ``sink_fault`` alarm event, and the lot can no longer end complete. Thread-safe: from another thread
        the event waits for the line's next record (only the line's thread emits)."""
        with self._fault_lock:
            self.counters.sink_faults[name] = self.counters.sink_faults.get(name, 0) + 1
            count, first = self._lot_sink_faults.get(name, (0, f"{type(exc).__name__}: {exc}"))
            self._lot_sink_faults[name] = (count + 1, first)
            if count == 0:
                log.error("record sink %s failed: %s", name, first)
                self._pending_events.append(LineEvent(self.run.lot_id if self.run else "", self.clock.now_s(), name,
                                                      "sink_fault", "alarm", f"record sink {name!r} failed: {first}"))
        on_line = self._line_thread in (None, threading.get_ident())
        if count == 0 and on_line and self._emit_depth == 0 and self.run is not None:
            self._emit_pending()

    @property
    def lot_sink_faults(self) -> dict[str, int]:
        """Failures per sink during the current (or last) lot."""
        with self._fault_lock:
            return {name: count for name, (count, _first) in self._lot_sink_faults.items()}

    def _event(self, source: str, kind: str, severity: str, message: str, mark_t: float = math.nan) -> None:
        log.log(logging.WARNING if severity != "info" else logging.INFO, "%s %s: %s", source, kind, message)
        self._emit(LineEvent(self.run.lot_id if self.run else "", self.clock.now_s(), source, kind, severity, message, mark_t))

    # ---- the scale ---------------------------------------------------------------------------
    def _read_scale(self, time_s: float) -> tuple[float, float, float, bool]:
        """Return (odometer m, cumulative mark t, speed m/s, scale ok) for ``time_s``."""
        try:
            reading = self.feed.read(time_s)
        except Exception as exc:  # a feed should not raise, but a broken one must not stop the line
            reading = ScaleReading(time_s, 0.0, 0.0, 0.0, ok=False, fault=f"{type(exc).__name__}: {exc}")
        if not reading.ok:
            self.counters.scale_ticks_lost += 1
            if self._scale_ok:
                self.counters.scale_dropouts += 1
                self._event("scale", "scale_disconnected", "alarm", f"belt scale not answering: {reading.fault}")
            self._scale_ok = False
            # Dead reckoning: hold the last good speed; tonnage arriving meanwhile is spread on reconnect.
            last = self._last_reading
            speed = last.speed_m_s if last is not None else 0.0
            odo = self.kinematics.update_speed(time_s, speed)
            return odo, self.totaliser.total_t, speed, False
        if not self._scale_ok:
            self._event("scale", "scale_reconnected", "info", "belt scale answering again")
            self._scale_ok = True
        if reading.fault:
            self._event("scale", "scale_flag", "warning", reading.fault)
        speed = reading.speed_m_s
        try:
            self.kinematics.check_speed(speed)
        except KinematicsError as exc:
            self.counters.speed_rejections += 1
            self._event("scale", "bad_speed", "alarm", f"{exc}; holding last speed")
            speed = self.kinematics.speed_m_s
        odo = self.kinematics.update_speed(time_s, speed)
        try:
            mark = self.totaliser.update(reading.totaliser_t)
        except TotaliserError as exc:
            self.counters.totaliser_resyncs += 1
            self._event("scale", "totaliser_resync", "alarm", f"{exc}; resynchronised, tonnage held")
            mark = self.totaliser.resync(reading.totaliser_t)
        self._last_reading = reading
        return odo, mark, speed, True

    # ---- the lot -----------------------------------------------------------------------------
    def run_lot(
        self,
        lot: LotIdentity,
        *,
        sampling_plan: dict | None = None,
        config: dict | None = None,
        max_time_s: float = math.inf,
    ) -> LotEnd:
        """Run one lot until its declared mass has been weighed and has passed every station.

        Returns the :class:`LotEnd` (``complete``, or ``aborted`` on request, timeout or feed end).
        """
        start = self._start_lot(lot, sampling_plan, config)
        phase = LotPhase(lot.declared_mass_t, start.start_mark_t, start.time_s)
        plan = SegmentPlan(self.segment_mass_t, phase.mark0_t)
        # Material of this lot that already passed a station while the previous lot drained is
        # given to that station in its first window (the tracker remembers when it passed).
        window_start = {}
        for station in self.stations:
            passed = float(self.tracker.arrival_time_s(phase.mark0_t, station.position_m))
            window_start[station.name] = min(start.time_s, passed) if math.isfinite(passed) else start.time_s
        t = start.time_s
        while not phase.ended:
            t += self.tick_s
            self._tick(lot, phase, plan, window_start, t, max_time_s)
        return self._end_lot(lot, phase)

    def _start_lot(self, lot: LotIdentity, sampling_plan: dict | None, config: dict | None) -> LotStart:
        """Wait for the next tick, mark where the lot starts, emit its start and the stations' descriptions."""
        self.run = LotRun()
        self._line_thread = threading.get_ident()
        with self._fault_lock:
            self._lot_sink_faults = {}
        t0 = self.clock.now_s()
        if self.kinematics.time_s is not None and t0 < self.kinematics.time_s + self.tick_s:
            t0 = self.kinematics.time_s + self.tick_s  # the next lot starts on the next tick
            self.clock.sleep_until(t0)
        for cb in self.pre_tick:
            cb(t0)
        odo, mark_now, _speed, _ok = self._read_scale(t0)
        self.tracker.record(t0, odo, mark_now)
        carry = self._carry_mark_t
        mark0 = carry if carry is not None and carry <= mark_now else mark_now
        start = LotStart(lot, t0, mark0, self.segment_mass_t, sampling_plan or {}, config or {},
                         epoch_s=self.clock.epoch_s())
        self._emit(start)
        # start_lot first (a sampler computes its plan there), then the stream descriptions,
        # then whatever start_lot produced (reference measurements need their stream described).
        started: list[tuple[Station, list[Record]]] = []
        for station in self.stations:
            try:
                started.append((station, list(station.start_lot(start) or ())))
            except Exception as exc:
                started.append((station, []))
                self.counters.station_faults[station.name] = self.counters.station_faults.get(station.name, 0) + 1
                self._event(station.name, "station_fault", "alarm", f"start of lot failed: {type(exc).__name__}: {exc}")
        for station, _ in started:
            for desc in station.describe():
                self._emit(desc)
        for station, records in started:
            self._run_station(station, functools.partial(list, records), None)
        return start

    def _tick(self, lot: LotIdentity, phase: "LotPhase", plan: SegmentPlan, window_start: dict[str, float],
              t: float, max_time_s: float) -> None:
        """One tick at line time ``t``: read the scale, give every station its window, move the phase on."""
        self.clock.sleep_until(t)
        for cb in self.pre_tick:
            try:
                cb(t)
            except Exception:
                log.exception("pre-tick callback failed")
        odo, mark, speed, ok = self._read_scale(t)
        self.tracker.record(t, odo, mark)
        rate = self._last_reading.rate_t_h if (ok and self._last_reading) else 0.0
        phase.weighed(t, mark)
        lot_t = phase.lot_t(mark)
        for station in self.stations:
            window = self.tracker.window(lot.lot_id, station.name, station.position_m,
                                         window_start[station.name], t, phase.mark0_t, phase.end_mark_t)
            window_start[station.name] = t
            self._run_station(station, functools.partial(station.process, window), window)
        self.counters.ticks += 1
        phase.check_progress(t, mark, speed, self.drain_timeout_s)
        if phase.name == "draining":
            furthest_m = self.stations[-1].position_m if self.stations else 0.0
            reached_m = self.tracker.odometer_at(t) - furthest_m
            assert phase.end_mark_t is not None  # set when the lot turned to draining
            end_m = float(self.tracker.coordinate_of_mark(phase.end_mark_t))
            phase.check_drained(t, bool(reached_m >= end_m), self.drain_timeout_s)
        if self._stop.is_set():
            phase.abort(self._stop_reason)
            self._stop.clear()
        if t - phase.start_t > max_time_s and not phase.ended:
            phase.abort(f"time limit {max_time_s} s reached")
        self.state = LineState(
            time_s=t, epoch_s=self.clock.epoch_s(), lot_id=lot.lot_id, lot_tonnage_t=lot_t,
            lot_mass_t=lot.declared_mass_t, belt_speed_m_s=speed, rate_t_h=rate, odometer_m=odo,
            running=speed != 0.0, scale_ok=ok,
            segment_index=int(plan.index_of(phase.mark0_t + lot_t)) if lot_t > 0 else 0,
            phase=phase.name, stations_faulted=tuple(sorted(self.counters.station_faults)),
        )
        for listener in self.listeners:
            try:
                listener(self.state)
            except Exception:
                log.exception("tick listener failed")

    def _end_lot(self, lot: LotIdentity, phase: "LotPhase") -> LotEnd:
        """Close every station at the lot's end mark and emit the lot end."""
        end_mark = phase.end_mark_t if phase.end_mark_t is not None else self.tracker.last_mark_t
        self._carry_mark_t = end_mark
        for station in self.stations:
            self._run_station(station, functools.partial(station.end_lot, end_mark), None)
        with self._fault_lock:
            faults = sorted(self._lot_sink_faults.items())
        if faults:  # the lot's record is incomplete: never "complete"
            lost = "; ".join(f"record sink {name!r} failed on {n} call(s), first: {first}" for name, (n, first) in faults)
            phase.abort(f"{phase.reason}; {lost}" if phase.status == "aborted" else lost)
        end = LotEnd(lot.lot_id, self.clock.now_s(), end_mark, phase.status, phase.reason,
                     epoch_s=self.clock.epoch_s())
        self._emit(end)
        return end

    def _run_station(self, station: Station, call: Callable[[], Sequence[Record]],
                     window: MaterialWindow | None) -> None:
        """Run a station call and emit its records.

        A station that raises, or returns a record that does not match its stream
        description, gets the window marked uninspected and a line event; records it
        emitted before the bad one stand.
        """
        try:
            records = list(call() or ())
            for rec in records:
                self._check_lot_id(rec)
                self._emit(rec)
        except Exception as exc:
            self.counters.station_faults[station.name] = self.counters.station_faults.get(station.name, 0) + 1
            message = f"{type(exc).__name__}: {exc}"
            mark = window.start_mark_t if window is not None else math.nan
            self._event(station.name, "station_fault", "alarm", message, mark)
            if window is not None:
                self._emit(window.coverage(False, f"station fault: {message}"))

    def _check_lot_id(self, rec: Record) -> None:
        lot_id = getattr(rec, "lot_id", None)
        if lot_id is not None and self.run is not None and lot_id != self.run.lot_id:
            raise RecordError(f"station returned a record for lot {lot_id!r} during lot {self.run.lot_id!r}")

    def close(self) -> None:
        """Close every station and the feed."""
        for station in self.stations:
            try:
                station.close()
            except Exception:
                log.exception("closing station %s failed", station.name)
        try:
            self.feed.close()
        except Exception:
            log.exception("closing the feed failed")


__all__ = ["Line", "LineState", "LineCounters", "RecordSink", "Coverage", "sink_name"]
