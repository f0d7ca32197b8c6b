import pytest

from conveyor.clock import SimulatedClock
from conveyor.feed import BeltEvent, FaultyFeed, SimulatedFeed
from conveyor.records import Coverage, LineEvent, LotEnd, LotIdentity, Measurement, StreamDescription
from conveyor.runtime import Line

from tests.lines import build_line
from tests.lines.stations import MassProbe


def lot(mass_t=600.0):
    return LotIdentity("LOT-1", "MV TEST", "H1", "fines", mass_t)


def make_line(stations, feed=None, mass_t=600.0, **kw):
    """The line under test (the one test line builder) and the collector of its records."""
    rig = build_line(stations, feed=feed, mass_t=mass_t, **kw)
    return rig.line, rig.sink


def measured_t(sink, station):
    return sum(m.data["mass_t"] for m in sink.of(Measurement) if m.stream == station)


def test_every_station_sees_the_whole_lot_once():
    stations = [MassProbe("nir", 40.0), MassProbe("cam", 60.0), MassProbe("cut", 150.0)]
    line, sink = make_line(stations)
    end = line.run_lot(lot())
    assert end.status == "complete"
    assert end.end_mark_t == pytest.approx(600.0)
    for name in ("nir", "cam", "cut"):
        assert measured_t(sink, name) == pytest.approx(600.0, rel=1e-9)
    assert isinstance(sink.records[-1], LotEnd)


def test_a_stop_delays_but_loses_nothing():
    feed = SimulatedFeed(6000.0, 4.5, 600.0, events=[BeltEvent(100.0, 60.0)], seed=1)
    probe = MassProbe("nir", 40.0)
    line, sink = make_line([probe], feed)
    line.run_lot(lot())
    assert measured_t(sink, "nir") == pytest.approx(600.0)
    stopped = [w for w in probe.windows if 101 <= w.end_time_s <= 159]
    assert stopped and all(w.mass_t == 0 and w.empty for w in stopped)
    assert all(not c.inspected for c in sink.of(Coverage) if 101 <= c.time_s <= 159)


class Exploding(MassProbe):
    def process(self, window):
        if 200 <= window.end_time_s < 260:
            raise OSError("spectrometer USB link lost")
        return super().process(window)


def test_a_failing_station_marks_its_windows_uninspected_and_the_line_runs_on():
    line, sink = make_line([Exploding("nir", 40.0), MassProbe("cam", 60.0)])
    end = line.run_lot(lot())
    assert end.status == "complete"
    faults = [e for e in sink.of(LineEvent) if e.kind == "station_fault"]
    assert faults and "USB link lost" in faults[0].message and faults[0].severity == "alarm"
    bad = [c for c in sink.of(Coverage) if c.station == "nir" and not c.inspected and "station fault" in c.reason]
    assert len(bad) == 60
    assert line.counters.station_faults == {"nir": 60}
    assert measured_t(sink, "cam") == pytest.approx(600.0)


class WrongShape(MassProbe):
    def process(self, window):
        return [Measurement(window.lot_id, self.name, window.end_time_s, window.start_mark_t, {"oops": 1.0})]


def test_a_record_that_does_not_match_its_description_is_a_fault_not_a_silent_drop():
    line, sink = make_line([WrongShape("nir", 40.0)], mass_t=100.0)
    line.run_lot(lot(100.0))
    events = [e for e in sink.of(LineEvent) if e.kind == "station_fault"]
    assert events and "expected keys" in events[0].message
    assert all(not c.inspected for c in sink.of(Coverage))


def test_scale_dropout_is_an_alarm_and_tonnage_is_recovered_on_reconnect():
    feed = FaultyFeed(SimulatedFeed(6000.0, 4.5, 600.0, seed=1), dropouts=[(100.0, 130.0)])
    line, sink = make_line([MassProbe("nir", 40.0)], feed)
    end = line.run_lot(lot())
    kinds = [e.kind for e in sink.of(LineEvent)]
    assert kinds.count("scale_disconnected") == 1 and "scale_reconnected" in kinds
    assert line.counters.scale_ticks_lost == 30
    assert end.end_mark_t == pytest.approx(600.0)  # the integrator kept counting; nothing lost
    assert measured_t(sink, "nir") == pytest.approx(600.0)


def test_totaliser_going_backwards_is_resynchronised_and_raised():
    feed = FaultyFeed(SimulatedFeed(6000.0, 4.5, 600.0, seed=1), backsteps=[(50.0, 30.0)])
    line, sink = make_line([MassProbe("nir", 40.0)], feed)
    end = line.run_lot(lot(570.0))
    assert end.status == "complete"
    assert [e.kind for e in sink.of(LineEvent)].count("totaliser_resync") == 1
    assert line.counters.totaliser_resyncs == 1


def test_stop_request_aborts_the_lot_cleanly():
    line, sink = make_line([MassProbe("nir", 40.0)])
    line.listeners.append(lambda st: st.lot_tonnage_t > 200 and line.request_stop("operator stop"))
    end = line.run_lot(lot())
    assert end.status == "aborted" and end.reason == "operator stop"
    assert 200 < end.end_mark_t < 600


def test_descriptions_come_before_measurements_and_names_must_be_unique():
    line, sink = make_line([MassProbe("nir", 40.0)], mass_t=50.0)
    line.run_lot(lot(50.0))
    first_measure = next(i for i, r in enumerate(sink.records) if isinstance(r, Measurement))
    assert any(isinstance(r, StreamDescription) for r in sink.records[:first_measure])
    with pytest.raises(ValueError, match="unique"):
        Line(SimulatedClock(), SimulatedFeed(6000.0, 4.5, 50.0), [MassProbe("a", 1.0), MassProbe("a", 2.0)])


class Tracked(MassProbe):
    def attach_tracker(self, tracker):
        self.tracker = tracker


def test_stations_that_want_the_tracker_get_it():
    st = Tracked("cut", 100.0)
    line, _ = make_line([st], mass_t=50.0)
    assert st.tracker is line.tracker


def test_two_lots_run_back_to_back_on_one_line():
    feed = SimulatedFeed(6000.0, 4.5, 10_000.0, seed=1)
    line, sink = make_line([MassProbe("nir", 40.0)], feed)
    first = line.run_lot(LotIdentity("LOT-1", "MV T", "H1", "fines", 200.0))
    second = line.run_lot(LotIdentity("LOT-2", "MV T", "H2", "fines", 200.0))
    assert first.status == second.status == "complete"
    assert second.end_mark_t - first.end_mark_t == pytest.approx(200.0, abs=2.0)


def test_a_stop_requested_between_lots_stops_the_next_one():
    line, _ = make_line([MassProbe("nir", 40.0)])
    line.request_stop("shift change")
    end = line.run_lot(lot())
    assert end.status == "aborted" and end.reason == "shift change"
    assert line.run_lot(LotIdentity("LOT-2", "MV T", "H2", "fines", 50.0)).status == "complete"


def test_a_lot_whose_feed_stops_short_ends_aborted_instead_of_ticking_forever():
    feed = SimulatedFeed(6000.0, 4.5, 300.0, seed=1)  # the unloader only has 300 t
    line, _ = make_line([MassProbe("nir", 40.0)], feed, drain_timeout_s=120.0)
    end = line.run_lot(lot(600.0))
    assert end.status == "aborted" and "no material for 120 s" in end.reason
    assert end.end_mark_t == pytest.approx(300.0)


class FailingSink:
    """A real sink whose disk is gone from its ``fail_from``-th record on."""

    sink_name = "archive"

    def __init__(self, fail_from: int) -> None:
        self.fail_from, self.calls = fail_from, 0

    def handle(self, record) -> None:
        self.calls += 1
        if self.calls >= self.fail_from:
            raise OSError(28, "No space left on device")


def test_a_failing_sink_is_counted_reported_once_and_the_lot_is_not_complete():
    broken = FailingSink(fail_from=20)
    line, sink = make_line([MassProbe("nir", 40.0)])
    line.sinks = [broken, sink]
    end = line.run_lot(lot())
    failures = broken.calls - broken.fail_from + 1
    assert failures > 100
    assert line.counters.sink_faults == {"archive": failures}
    assert line.lot_sink_faults == {"archive": failures}
    events = [e for e in sink.of(LineEvent) if e.kind == "sink_fault"]
    assert [(e.source, e.severity) for e in events] == [("archive", "alarm")]
    assert "No space left on device" in events[0].message
    assert end.status == "aborted"
    assert f"record sink 'archive' failed on {failures - 1} call(s)" in end.reason  # the LotEnd itself fails too
    assert sink.of(LotEnd) == [end]


def test_sink_faults_are_per_lot():
    broken = FailingSink(fail_from=10**9)
    line, sink = make_line([MassProbe("nir", 40.0)], feed=SimulatedFeed(6000.0, 4.5, 1200.0, seed=1))
    line.sinks.append(broken)
    broken.fail_from = 5
    assert line.run_lot(lot()).status == "aborted"
    broken.fail_from = 10**9
    assert line.run_lot(LotIdentity("LOT-2", "MV TEST", "H2", "fines", 600.0)).status == "complete"
    assert line.lot_sink_faults == {}
    assert line.counters.sink_faults["archive"] > 0


def test_a_sink_fault_reported_from_another_thread_is_emitted_by_the_line():
    """An alarm listener on an HTTP thread may report the archive failing: the event waits for the line."""
    import threading

    line, sink = make_line([MassProbe("nir", 40.0)])
    reported = []

    def from_web_thread(state):
        if state.lot_tonnage_t > 100 and not reported:
            t = threading.Thread(target=line.sink_failed, args=("archive", OSError(5, "I/O error")))
            t.start()
            t.join()
            reported.append(state.time_s)
            assert not [e for e in sink.of(LineEvent) if e.kind == "sink_fault"]  # not emitted off the line thread

    line.listeners.append(from_web_thread)
    end = line.run_lot(lot())
    events = [e for e in sink.of(LineEvent) if e.kind == "sink_fault"]
    assert reported and [(e.source, e.time_s) for e in events] == [("archive", reported[0])]  # when it was reported
    assert end.status == "aborted" and "I/O error" in end.reason
