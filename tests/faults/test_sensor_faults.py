"""Sensor faults on the composed line: the line keeps running, the affected segments are uninspected,
alarms are raised, and no segment is reported clean without inspection (checked from our own
Coverage log, not from the monitor's bookkeeping)."""

from __future__ import annotations

import math

import pytest

from tests.faults.figures import record
from tests.faults.invariant import invariant_violations, nir_scoring_available, uncovered_segments
from tests.lines.site import run_site_lot, short_site

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: A 150 t lot of three 50 t segments (the shipped site's 100 t segments halved): what each fault test checks is per
#: segment (the faulted one uninspected, the others covered; the NIR baseline's warm-up is counted in segments), so
#: three segments of half the tonnes show it as three of 100 t did, with the camera rendering half the belt.
LOT_T = 150.0
SEGMENT_T = 50.0
FAULT_SPAN_T = [52.5, 97.5]  # inside segment 1 (45 t of its 50 t, as 90 t of 100 t were)


def _short_site(**kwargs: object) -> dict:
    """:func:`short_site` of :data:`LOT_T` in segments of :data:`SEGMENT_T`."""
    site = short_site(LOT_T, **kwargs)  # type: ignore[arg-type]
    site["lot"]["segment_mass_t"] = SEGMENT_T
    return site


def _check(run, *, key: str, fault: str, injected: int, station: str | None, affected: list[int],
           reason_words: tuple[str, ...], alarm_categories: set[str]) -> None:
    """Assertions every sensor-fault test shares; records the figure once they pass."""
    assert run.end.status == "complete", run.end
    assert run.end.end_mark_t - run.log.start.start_mark_t == pytest.approx(run.plant.site["simulation"]["lot_mass_t"])
    violations = invariant_violations(run)
    assert violations == []
    min_cov = run.plant.site["verdict"]["min_coverage"]
    uncovered = uncovered_segments(run)
    for i in affected:
        seg = run.segment(i)
        assert seg.segment_class == "uninspected", seg
        assert i in uncovered
        if station is not None:
            frac = run.log.fraction(station, seg.start_t, seg.end_t)
            assert frac < min_cov
            reasons = " ".join(run.log.reasons(station, seg.start_t, seg.end_t))
            assert any(w in reasons for w in reason_words), reasons
            assert any(w in " ".join(seg.reasons) for w in reason_words), seg.reasons
    if station is not None:  # the fault stays where it was injected: the rest was seen by that station
        for seg in run.segments:
            if seg.index not in affected:
                assert run.log.fraction(station, seg.start_t, seg.end_t) >= min_cov, (station, seg)
    categories = run.alarm_categories()
    assert alarm_categories <= categories, categories
    affected_alarmed = {a.segment_index for a in run.plant.alarms.all() if a.category == "uninspected"}
    assert set(affected) <= affected_alarmed
    if nir_scoring_available():  # covered segments left uninspected must say why (e.g. NIR warm-up), not silently
        for s in run.segments:
            if s.segment_class == "uninspected" and s.index not in uncovered:
                assert s.reasons, s
    record(key, group="sensor", fault=fault, injected=injected, survived=True,
           segments=len(run.segments), uninspected=sum(s.segment_class == "uninspected" for s in run.segments),
           covered_but_uninspected=sum(s.segment_class == "uninspected" and s.index not in uncovered
                                       for s in run.segments),
           ore_without_inspection=len(violations), alarms=sorted(categories),
           station_faults=sum(run.plant.line.counters.station_faults.values()))


def test_spectrometer_dropout(tmp_path):
    site = _short_site()
    site["stations"]["nir"]["dropout_at_t"] = [FAULT_SPAN_T]
    run = run_site_lot(site, tmp_path)
    _check(run, key="sensor.nir_dropout", fault="spectrometer dropout (45 t)", injected=1, station="nir",
           affected=[1], reason_words=("dropout",), alarm_categories={"uninspected"})


def test_spectrometer_saturation(tmp_path):
    site = _short_site()
    site["stations"]["nir"]["saturate_at_t"] = [FAULT_SPAN_T]
    run = run_site_lot(site, tmp_path)
    _check(run, key="sensor.nir_saturation", fault="spectrometer saturation (45 t)", injected=1, station="nir",
           affected=[1], reason_words=("saturated",), alarm_categories={"uninspected"})


def test_dirty_window_white_reference_drift(tmp_path):
    """A window losing transmission fast (20 %/h of its transmission per hour, far beyond a real one).

    The white reference is taken through the same window, so referencing compensates the drift: with the
    window down to well under half its transmission by the lot's end, the NIR still covers every segment
    validly and the segments past the warm-up are ore (the lot is genuine). No segment is uninspected for
    the dirt, and no alarm is raised for it.
    """
    site = short_site(300.0, camera=False)
    site["stations"]["nir"].update(window_dirt_rate=20.0)
    run = run_site_lot(site, tmp_path)
    assert run.end.status == "complete"
    assert invariant_violations(run) == []
    lot_h = (run.end.time_s - run.log.start.time_s) / 3600.0
    assert math.exp(-20.0 * lot_h) < 0.5, f"the window lost too little to test anything ({lot_h:.3f} h)"
    uncovered = uncovered_segments(run)
    reasons = {c.reason.split(":")[0] for c in run.log.coverage if c.station == "nir" and not c.inspected}
    assert uncovered == [] and reasons <= {"empty belt"}, (uncovered, reasons)
    warm = [s for s in run.segments if any("warm-up" in r for r in s.reasons)]
    assert [s.segment_class for s in run.segments if s not in warm] == ["ore"] * (len(run.segments) - len(warm))
    assert len(warm) < len(run.segments)
    assert "nir_fault" not in run.alarm_categories()
    record("sensor.nir_dirty_window", group="sensor", fault="dirty window (20/h transmission loss)", injected=1,
           survived=True, segments=len(run.segments), uninspected_by_coverage=len(uncovered),
           ore_without_inspection=0, reasons=sorted(reasons), alarms=sorted(run.alarm_categories()))


def test_camera_frame_loss(tmp_path):
    site = _short_site()
    site["stations"]["camera"]["fault"] = {"frame_loss_at_t": [FAULT_SPAN_T]}
    run = run_site_lot(site, tmp_path)
    _check(run, key="sensor.camera_frame_loss", fault="camera frame loss (45 t)", injected=1, station="camera",
           affected=[1], reason_words=("frames lost", "no frames"), alarm_categories={"uninspected"})


def test_sampling_robot_jam(tmp_path):
    site = short_site(300.0, camera=False, sampler=True)
    site["stations"]["sampler"].update(fault_jam_at=[2, 5])
    run = run_site_lot(site, tmp_path)
    sampler = run.plant.stations["sampler"]
    assert run.end.status == "complete"
    assert invariant_violations(run) == []
    assert sampler.robot._counts["jams"] == 2
    jam_alarms = [a for a in run.plant.alarms.all() if a.category == "sampler_fault" and "jam" in a.message.lower()]
    assert jam_alarms, [a.message for a in run.plant.alarms.all()]
    # the robot was reset and cut again after the jams: the plan went on
    statuses = [str(m.get("status")) for m in run.plant.monitor.increments]
    assert statuses.count("fault") == 2, statuses  # the two jammed cuts
    last_jam = max(i for i, s in enumerate(statuses) if s == "fault")
    assert "cut" in statuses[last_jam + 1:], statuses
    record("sensor.robot_jam", group="sensor", fault="sampling robot jam", injected=2, survived=True,
           increments=len(statuses), increments_not_cut=sum(s != "cut" for s in statuses),
           ore_without_inspection=0, alarms=sorted(run.alarm_categories()))


def _scale_fault(down_s: tuple[float, float], *, totaliser_step_t: float = 0.0):
    """A pre-tick hook stopping the simulated PLC (belt scale) over ``down_s`` and restarting it after."""
    state = {"stopped": 0, "restarted": 0}

    def hook(plant, t: float) -> None:
        if t > 7200.0:  # guard: a lot that cannot end fails the test instead of hanging it
            plant.line.request_stop("fault-test guard: lot did not end within 2 h simulated")
        plc = plant.line.feed.plc
        if down_s[0] <= t < down_s[1] and plc.running:
            plc.stop()
            state["stopped"] += 1
        elif t >= down_s[1] and not plc.running and state["stopped"] > state["restarted"]:
            if totaliser_step_t:
                plc.inject_totaliser_step(totaliser_step_t)
                # the unloader goes on until the declared mass is weighed (otherwise the lot never ends)
                plc.feed.lot_mass_t += -totaliser_step_t
            plc.start()
            state["restarted"] += 1

    return hook, state


def test_belt_scale_disconnect_and_reconnect(tmp_path):
    site = _short_site(scale="simulated")  # the scale is down 60-75 s into the lot's 90 s
    hook, state = _scale_fault((60.0, 75.0))
    run = run_site_lot(site, tmp_path, pre_tick=hook)
    assert state == {"stopped": 1, "restarted": 1}
    assert run.end.status == "complete"
    assert invariant_violations(run) == []
    counters = run.plant.line.counters
    assert counters.scale_dropouts >= 1 and counters.scale_ticks_lost >= 1
    kinds = [e.kind for e in run.log.events if e.source == "scale"]
    assert "scale_disconnected" in kinds and "scale_reconnected" in kinds
    alarm = next(a for a in run.plant.alarms.all() if a.category == "scale_fault")
    assert alarm.state == "cleared" or not alarm.active, alarm
    record("sensor.scale_disconnect", group="sensor", fault="belt-scale disconnect and reconnect", injected=1,
           survived=True, scale_dropouts=counters.scale_dropouts, ticks_lost=counters.scale_ticks_lost,
           uninspected=sum(s.segment_class == "uninspected" for s in run.segments), ore_without_inspection=0,
           alarms=sorted(run.alarm_categories()))


def test_plc_restart_with_totaliser_reset(tmp_path):
    """The PLC (hosting the belt-scale integrator) power-cycles and comes back with its totaliser set back."""
    site = _short_site(scale="simulated")  # the PLC is down 50-58 s into the lot's 90 s (+ the 40 t set back)
    hook, state = _scale_fault((50.0, 58.0), totaliser_step_t=-40.0)
    run = run_site_lot(site, tmp_path, pre_tick=hook)
    assert state["restarted"] == 1
    assert run.end.status == "complete"
    assert invariant_violations(run) == []
    counters = run.plant.line.counters
    kinds = {e.kind for e in run.log.events if e.source == "scale"}
    assert {"scale_disconnected", "scale_reconnected"} <= kinds
    assert "scale_fault" in run.alarm_categories()
    lot_t = run.end.end_mark_t - run.log.start.start_mark_t
    assert lot_t == pytest.approx(LOT_T)  # the set-back totaliser is not counted twice nor lost
    record("sensor.plc_restart", group="sensor", fault="PLC restart, totaliser set back 40 t", injected=1,
           survived=True, totaliser_resyncs=counters.totaliser_resyncs, ticks_lost=counters.scale_ticks_lost,
           ore_without_inspection=0, alarms=sorted(run.alarm_categories()))
