"""One contract, every robot backend: the same tests run against each name in ``ROBOT_BACKENDS``.

``simulated`` is the simulated robot itself; ``modbus`` is the Modbus client talking over loopback TCP to
a real pymodbus server that hosts the robot block of a simulated robot. Both must behave the same from
the caller's side: no I/O when built, cuts as statuses on the line clock, faults, reset, e-stop, close.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import pytest

from conveyor.clock import SimulatedClock
from sampler.errors import RobotBusyError, RobotError, RobotFaultError
from sampler.robot import ROBOT_BACKENDS, CutResult, Robot, RobotState, RobotTimings, create_robot
from sampler.robot_sim import FaultPlan

from tests.sampler.modbus_server import robot_server
from tests.support import refused_port

T = RobotTimings(travel_s=1.0, cut_s=2.0, return_s=1.5, jitter_s=0.0)
FAULTS = FaultPlan(jam_at=frozenset({2}))


@contextmanager
def _simulated(clock: SimulatedClock):
    yield create_robot("simulated", clock, timings=T, travel_variation=0.0, faults=FAULTS)


@contextmanager
def _modbus(clock: SimulatedClock):
    inner = create_robot("simulated", clock, timings=T, travel_variation=0.0, faults=FAULTS)
    with robot_server(inner, base_address=100) as port:
        yield create_robot("modbus", clock, port=port, base_address=100)


#: backend → a context manager yielding a working robot of it on ``clock``
WORKING = {"simulated": _simulated, "modbus": _modbus}
#: backend → options naming a robot nobody answers for (building it must still succeed: no I/O in __init__)
UNREACHABLE = {"simulated": {}, "modbus": {"port": 0, "timeout_s": 0.2, "retries": 0}}


def test_every_backend_is_under_contract():
    assert set(WORKING) == set(ROBOT_BACKENDS) == set(UNREACHABLE)


@pytest.fixture(params=sorted(ROBOT_BACKENDS))
def backend(request):
    return request.param


@pytest.fixture
def rig(backend):
    clock = SimulatedClock()
    with WORKING[backend](clock) as robot:
        yield clock, robot
        robot.close()


def test_building_does_no_io(backend):
    with refused_port() as port:
        options = {**UNREACHABLE[backend], **({"port": port} if backend == "modbus" else {})}
        robot = create_robot(backend, SimulatedClock(), **options)  # nobody answers: building must not ask
        assert isinstance(robot, Robot) and robot.backend == backend
        robot.close()  # closing a robot never opened is fine too


def test_idle_with_its_timings(rig, backend):
    _clock, robot = rig
    assert robot.state is RobotState.IDLE
    assert robot.timings == T
    assert robot.lead_time_s == pytest.approx(T.travel_s + 0.5 * T.cut_s)
    assert robot.describe()["backend"] == backend
    assert not robot.busy and robot.active is None


def test_a_cut_finishes_on_the_line_clock(rig):
    clock, robot = rig
    status = robot.cut(clock.now_s() + 5.0, "C1", number=1)
    assert robot.busy and not status.done
    with pytest.raises(RobotBusyError):
        robot.cut(clock.now_s() + 9.0, "C2", number=2)
    clock.sleep_until(4.5)
    assert robot.state is RobotState.CUTTING
    status.wait()
    assert status.result is CutResult.CUT and status.success
    assert abs(status.timing_error_s) < 0.05
    assert robot.state is RobotState.IDLE and not robot.busy
    assert robot.counters.cuts_ok == 1 and robot.counters.cuts_commanded == 1


def test_a_jam_faults_until_reset(rig):
    clock, robot = rig
    robot.cut(clock.now_s() + 5.0, "C1", number=1).wait()
    jammed = robot.cut(clock.now_s() + 5.0, "C2", number=2).wait()
    assert jammed.result is CutResult.JAMMED and not jammed.success
    assert robot.state is RobotState.FAULT
    with pytest.raises(RobotFaultError):
        robot.cut(clock.now_s() + 5.0, "C3", number=3)
    robot.reset()
    assert robot.state is RobotState.IDLE
    assert robot.cut(clock.now_s() + 5.0, "C3", number=3).wait().result is CutResult.CUT
    assert robot.counters.jams == 1


def test_estop_ends_the_cut(rig):
    clock, robot = rig
    status = robot.cut(clock.now_s() + 5.0, "C1", number=1)
    robot.estop()
    assert status.wait().result is CutResult.ESTOP
    assert robot.state is RobotState.ESTOP
    robot.reset()
    assert robot.state is RobotState.IDLE and robot.counters.estops == 1


@pytest.mark.parametrize("args, match", [
    ((math.inf, "C1"), "finite"), ((5.0, ""), "non-empty"), ((5.0, "C1", 2**32), "uint32"),
])
def test_bad_cut_arguments_are_refused(rig, args, match):
    clock, robot = rig
    at, increment, *number = args
    with pytest.raises(RobotError, match=match):
        robot.cut(clock.now_s() + at, increment, number=number[0] if number else 0)


def test_close_aborts_a_pending_cut_and_is_final(rig):
    clock, robot = rig
    status = robot.cut(clock.now_s() + 5.0, "C1", number=1)
    robot.close()
    robot.close()
    assert status.done and status.result is CutResult.ABORTED
    with pytest.raises(RobotError, match="closed"):
        robot.cut(clock.now_s() + 5.0, "C2", number=2)


def test_cancel_withdraws_a_cut_only_before_the_cutter_moves(rig):
    clock, robot = rig
    assert robot.cancel() is False  # nothing pending
    robot.cut(clock.now_s() + 5.0, "C0", number=1).wait()
    status = robot.cut(clock.now_s() + 8.0, "C1", number=2)  # the rig's cut 2 would jam: it never moves
    assert robot.cancel() is True
    assert status.done and status.result is CutResult.ABORTED and not robot.busy
    assert robot.state is RobotState.IDLE
    clock.sleep_until(clock.now_s() + 9.0)
    assert status.result is CutResult.ABORTED and robot.counters.cuts_ok == 1  # the robot never cut it
    assert robot.state is RobotState.IDLE and robot.counters.jams == 0
    retimed = robot.cut(clock.now_s() + 5.0, "C1", number=2)  # the same increment, re-commanded
    clock.sleep_until(clock.now_s() + 4.5)
    assert robot.state is RobotState.CUTTING
    assert robot.cancel() is False  # in motion: the cut goes on
    assert retimed.wait().result is CutResult.CUT and robot.counters.cuts_ok == 2
