import math

import numpy as np
import pytest

from conveyor.clock import SimulatedClock
from sampler.errors import CutTimeoutError, RobotBackendError, RobotBusyError, RobotError, RobotFaultError
from sampler.robot import CutResult, RobotState, RobotTimings, create_robot, robot_class
from sampler.robot_sim import FaultPlan, SimulatedRobot

T = RobotTimings(travel_s=1.0, cut_s=2.0, return_s=1.5, jitter_s=0.0)


def robot(**kw):
    clock = SimulatedClock()
    kw.setdefault("timings", T)
    kw.setdefault("travel_variation", 0.0)
    return clock, SimulatedRobot(clock, **kw)


def test_state_machine_follows_the_clock():
    clock, r = robot()
    st = r.cut(10.0, "R1")  # mid-stream at 10 s: moving 8..9, cutting 9..11, returning 11..12.5
    seen = {}
    for t in np.arange(0.0, 14.0, 0.25):
        clock.sleep_until(float(t))
        seen[float(t)] = r.state
    assert seen[7.75] is RobotState.IDLE and seen[8.25] is RobotState.MOVING
    assert seen[9.5] is RobotState.CUTTING and seen[11.25] is RobotState.RETURNING
    assert seen[13.0] is RobotState.IDLE
    assert st.done and st.result is CutResult.CUT
    assert st.actual_time_s == pytest.approx(10.0)
    assert st.finished_at_s == pytest.approx(12.5)
    assert r.counters.cuts_ok == 1


def test_timing_error_with_jitter_is_small():
    clock, r = robot(timings=RobotTimings(1.0, 2.4, 1.6, 0.02), travel_variation=0.01, seed=5)
    errs = []
    for k in range(200):
        st = r.cut(clock.now_s() + 5.0, f"R{k}")
        st.wait()
        errs.append(st.timing_error_s)
    errs = np.abs(errs)
    assert errs.max() < 0.2
    assert errs.mean() > 0  # not a perfect robot


def test_a_target_inside_the_lead_time_is_cut_late():
    clock, r = robot()
    st = r.cut(clock.now_s() + 0.5, "R1").wait()  # lead is 2 s
    assert st.result is CutResult.CUT
    assert st.timing_error_s == pytest.approx(1.5)


def test_busy_robot_refuses_a_second_cut():
    clock, r = robot()
    r.cut(10.0, "R1")
    with pytest.raises(RobotBusyError, match="busy with R1"):
        r.cut(11.0, "R2")
    clock.sleep_until(13.0)
    r.cut(20.0, "R2")


def test_jam_faults_until_reset():
    clock, r = robot(faults=FaultPlan(jam_at={2}))
    r.cut(5.0, "R1").wait()
    st = r.cut(clock.now_s() + 5.0, "R2").wait()
    assert st.result is CutResult.JAMMED
    assert r.state is RobotState.FAULT
    with pytest.raises(RobotFaultError, match="FAULT"):
        r.cut(clock.now_s() + 5.0, "R3")
    r.reset()
    assert r.state is RobotState.IDLE
    assert r.cut(clock.now_s() + 5.0, "R3").wait().success
    assert r.counters.jams == 1


def test_missed_cut_leaves_the_robot_healthy():
    clock, r = robot(faults=FaultPlan(missed_at={1}))
    st = r.cut(5.0, "R1").wait()
    assert st.result is CutResult.MISSED and math.isfinite(st.actual_time_s)
    assert r.state is RobotState.IDLE
    assert r.counters.missed == 1


def test_scheduled_and_operator_estop():
    clock, r = robot(faults=FaultPlan(estop_at={1}))
    st = r.cut(5.0, "R1").wait()
    assert st.result is CutResult.ESTOP and math.isnan(st.actual_time_s)
    assert r.state is RobotState.ESTOP
    r.reset()
    st = r.cut(clock.now_s() + 10.0, "R2")
    r.estop()
    assert st.done and st.result is CutResult.ESTOP
    assert r.counters.estops == 2


def test_fault_probabilities_are_reproducible():
    def run(seed):
        clock, r = robot(faults=FaultPlan(missed_probability=0.3), seed=seed)
        return [r.cut(clock.now_s() + 3, f"R{k}").wait().result for k in range(30)]

    a, b = run(1), run(1)
    assert a == b
    assert 2 <= sum(x is CutResult.MISSED for x in a) <= 20


def test_wait_times_out_on_the_line_clock():
    clock, r = robot()
    st = r.cut(1000.0, "R1", timeout_s=5.0)
    with pytest.raises(CutTimeoutError, match="R1"):
        st.wait()
    assert clock.now_s() == pytest.approx(5.0)
    clock.sleep_until(6.0)
    assert st.done and st.result is CutResult.TIMEOUT


def test_callbacks_and_close():
    clock, r = robot()
    got = []
    st = r.cut(5.0, "R1")
    st.add_callback(got.append)
    r.close()
    assert got == [st] and st.result is CutResult.ABORTED
    with pytest.raises(RobotError, match="closed"):
        r.cut(10.0, "R2")
    r.close()


@pytest.mark.parametrize("bad", [dict(at_time_s=math.nan, increment_id="R1"), dict(at_time_s=5.0, increment_id="")])
def test_bad_cut_arguments(bad):
    _, r = robot()
    with pytest.raises(RobotError):
        r.cut(**bad)


def test_backend_registry():
    assert robot_class("simulated") is SimulatedRobot
    r = create_robot("simulated", SimulatedClock(), timings=T)
    assert r.lead_time_s == pytest.approx(2.0)
    with pytest.raises(RobotBackendError, match="expected robot backend one of"):
        robot_class("teleport")


@pytest.mark.parametrize("kw", [dict(jam_probability=1.5), dict(missed_at={0}), dict(estop_probability=-0.1)])
def test_fault_plan_validation(kw):
    with pytest.raises(RobotError):
        FaultPlan(**kw)


def test_timings_validation_and_cutter_geometry():
    t = RobotTimings.for_cutter(1.2, 0.4, travel_s=1.0, return_s=1.0)
    assert t.cut_s == pytest.approx(3.0) and t.lead_time_s == pytest.approx(2.5) and t.cycle_s == pytest.approx(5.0)
    with pytest.raises(RobotError):
        RobotTimings(travel_s=-1)
    with pytest.raises(RobotError):
        RobotTimings.for_cutter(1.2, 0.0)
