import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conveyor.errors import TrackingError
from conveyor.tracking import MaterialTracker, transport_delay_s

RATE_T_S = 6000 / 3600


def run_belt(speeds_m_s, rate_t_s=RATE_T_S, dt_s=1.0):
    """Tracker fed with one reading per dt; tonnage flows only while the belt runs forward."""
    tr = MaterialTracker()
    odo = mark = 0.0
    tr.record(0.0, 0.0, 0.0)
    for i, v in enumerate(speeds_m_s, start=1):
        odo += v * dt_s
        if v > 0:
            mark += rate_t_s * dt_s
        tr.record(i * dt_s, odo, mark)
    return tr


def test_weighed_material_reaches_station_after_distance_over_speed():
    v = 4.0
    tr = run_belt([v] * 100)
    mark_weighed_at_10s = 10 * RATE_T_S
    assert tr.arrival_time_s(mark_weighed_at_10s, 40.0) == pytest.approx(10 + 40 / v)
    # and the station sees that mark at that time
    assert tr.mark_at(40.0, 10 + 40 / v) == pytest.approx(mark_weighed_at_10s)


def test_arrival_across_a_stop_adds_the_stop_duration():
    v = 4.0
    speeds = [v] * 12 + [0.0] * 20 + [v] * 40  # stop from t=12 s to t=32 s
    tr = run_belt(speeds)
    mark = 10 * RATE_T_S  # weighed at 10 s, 8 m travelled before the stop, 32 m after it
    assert tr.arrival_time_s(mark, 40.0) == pytest.approx(32 + 32 / v)


def test_arrival_across_speed_changes_integrates_speed():
    speeds = [2.0] * 10 + [5.0] * 30
    tr = run_belt(speeds)
    mark = 5 * RATE_T_S  # weighed at 5 s: 10 m at 2 m/s until t=10, then 30 m at 5 m/s
    assert tr.arrival_time_s(mark, 40.0) == pytest.approx(10 + 30 / 5.0)


def test_short_reversal_does_not_weigh_material_twice():
    speeds = [4.0] * 10 + [-0.5] * 4 + [4.0] * 10
    tr = run_belt(speeds)
    # 10 s forward + 10 s forward of tonnage; reversal and re-advance over weighed ground add none
    assert tr.last_mark_t == pytest.approx(20 * RATE_T_S)
    # the belt coordinate of a mark is unique even though the belt went back over it
    assert tr.coordinate_of_mark(5 * RATE_T_S) == pytest.approx(20.0)


def test_material_not_yet_arrived_is_nan_and_prediction_uses_speed():
    tr = run_belt([4.0] * 5)
    assert math.isnan(tr.arrival_time_s(4 * RATE_T_S, 100.0))
    assert tr.predict_arrival_s(4 * RATE_T_S, 100.0, 4.0) == pytest.approx(4 + 100 / 4.0)
    assert tr.predict_arrival_s(4 * RATE_T_S, 100.0, 0.0) == math.inf
    with pytest.raises(TrackingError, match="not been weighed"):
        tr.predict_arrival_s(1000.0, 100.0, 4.0)


def test_window_mass_matches_tonnage_and_empty_before_material_arrives():
    tr = run_belt([4.0] * 60)
    early = tr.window("L", "nir", 40.0, 0.0, 5.0)  # material has not reached 40 m yet
    assert early.mass_t == 0.0 and early.empty
    w = tr.window("L", "nir", 40.0, 20.0, 30.0)
    assert w.mass_t == pytest.approx(10 * RATE_T_S)
    assert w.length_m == pytest.approx(40.0)
    assert w.loading_kg_m == pytest.approx(1000 * RATE_T_S / 4.0)


def test_bad_readings_are_refused():
    tr = MaterialTracker()
    tr.record(0.0, 0.0, 0.0)
    with pytest.raises(TrackingError, match="time must increase"):
        tr.record(0.0, 1.0, 1.0)
    with pytest.raises(TrackingError, match="must not decrease"):
        tr.record(1.0, 1.0, -1.0)
    with pytest.raises(TrackingError, match="non-finite"):
        tr.record(2.0, float("nan"), 1.0)
    with pytest.raises(TrackingError, match="no belt-scale reading"):
        MaterialTracker().odometer_at(0.0)


def test_transport_delay():
    assert transport_delay_s(40, 100, 6.0) == pytest.approx(10.0)
    assert transport_delay_s(40, 100, 0.0) == math.inf


def test_lookups_are_vectorised():
    tr = run_belt([4.0] * 1000)
    t = np.linspace(20, 990, 10_000)
    marks = tr.mark_at(40.0, t)
    assert marks.shape == t.shape and np.all(np.diff(marks) >= 0)


speeds = st.lists(st.one_of(st.floats(0.5, 8.0), st.just(0.0)), min_size=5, max_size=80)


@settings(max_examples=60, deadline=None)
@given(speeds=speeds, position_m=st.floats(1.0, 150.0))
def test_property_mark_and_coordinate_are_inverse(speeds, position_m):
    tr = run_belt(speeds)
    if tr.last_mark_t <= 0:
        return
    marks = np.linspace(0.0, tr.last_mark_t, 25)
    u = tr.coordinate_of_mark(marks)
    assert np.allclose(tr.mark_of_coordinate(u), marks, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(speeds=speeds, position_m=st.floats(1.0, 150.0))
def test_property_station_sees_at_arrival_the_mark_that_arrives(speeds, position_m):
    tr = run_belt(speeds + [4.0] * 60)
    marks = np.linspace(0.0, tr.last_mark_t, 25)
    arrival = tr.arrival_time_s(marks, position_m)
    seen = np.isfinite(arrival)
    # whatever has arrived is exactly what the station sees at its arrival time
    assert np.allclose(tr.mark_at(position_m, arrival[seen]), marks[seen], atol=1e-6)
    # arrivals are ordered like the marks: material does not overtake itself
    assert np.all(np.diff(arrival[seen]) >= -1e-9)
