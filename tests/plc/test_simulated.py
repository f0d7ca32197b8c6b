"""The simulated PLC: integrator registers, write rules, and sampler's robot block hosted in it."""

from __future__ import annotations

import pytest

from conveyor.clock import SimulatedClock
from plc import codes
from plc.bw500 import BW500_TABLE, DRIVE_TABLE
from plc.errors import ServerError
from plc.robot_block import ROBOT_BASE, robot_register_table, sampler_state_code
from plc.simulated import SimulatedPlc
from tests.plc.conftest import connect, make_feed

sampler_robot = pytest.importorskip("sampler.robot_sim", reason="sampler/ not available")


def test_registers_follow_the_feed_and_only_the_format_word_is_writable(sim_plc):
    truth = sim_plc.update(0.0)
    truth = sim_plc.update(40.0)
    c = connect(sim_plc.port)
    try:
        rr = c.read_holding_registers(BW500_TABLE["RATE"].address, count=11, device_id=1)
        named = BW500_TABLE.decode_image(list(rr.registers), BW500_TABLE["RATE"].address)
        assert named["TOTAL_1"] == pytest.approx(truth.totaliser_t, abs=0.0011)
        assert named["TOTAL_2"] == named["TOTAL_1"]
        assert named["LOAD"] == pytest.approx(truth.rate_t_h / 3.6 / truth.speed_m_s, abs=0.002)
        ident = c.read_holding_registers(BW500_TABLE["DEVICE_IDENTIFIER"].address, count=1, device_id=1)
        assert ident.registers == [2]
        assert c.write_register(BW500_TABLE["RATE"].address, 1, device_id=1).exception_code == 2
        assert c.write_register(BW500_TABLE["FORMAT_WORD"].address, 2, device_id=1).exception_code == 3
        assert c.read_holding_registers(500, count=1, device_id=1).exception_code == 2
        drive = c.read_holding_registers(DRIVE_TABLE.start, count=4, device_id=1).registers
        assert drive[0] == codes.DriveState.FORWARD
    finally:
        c.close()


def test_bad_simulator_settings():
    with pytest.raises(ServerError, match="device_id"):
        SimulatedPlc(make_feed(), device_id=0)
    with pytest.raises(ServerError, match="diagnostic"):
        SimulatedPlc(make_feed()).set_diagnostic(70000)


def test_robot_block_is_served_and_drives_sampler_modbus_robot():
    from sampler.robot import CutResult
    from sampler.robot_modbus import ModbusRobot

    clock = SimulatedClock()
    robot = sampler_robot.SimulatedRobot(clock, seed=1)
    with SimulatedPlc(make_feed(), robot=robot) as plc:
        plc.update(0.0)
        remote = ModbusRobot(clock, host="127.0.0.1", port=plc.port, base_address=ROBOT_BASE, timeout_s=1.0)
        try:
            status = remote.cut(clock.now_s() + 10.0, "inc-1", number=7)
            for _ in range(100):
                clock.advance(0.5)
                plc.update(clock.now_s())
                remote.poll()
                if status.done:
                    break
            assert status.result is CutResult.CUT
            assert remote.counters.cuts_ok == 1 == robot.counters.cuts_ok
        finally:
            remote.close()
        c = connect(plc.port)
        try:
            table = robot_register_table()
            assert c.write_register(table["STATE"].address, 3, device_id=1).exception_code == 2
            rr = c.read_holding_registers(ROBOT_BASE, count=table.end - ROBOT_BASE, device_id=1)
            assert table.decode_image(list(rr.registers))["CUTS_OK"] == 1
        finally:
            c.close()


def test_sampler_state_codes_map_robot_states():
    from sampler.robot import RobotState

    assert sampler_state_code(RobotState.CUTTING) is codes.SamplerState.CUTTING
    assert sampler_state_code(RobotState.ESTOP) is codes.SamplerState.ESTOP
    assert sampler_state_code(None) is codes.SamplerState.OFFLINE
    assert {sampler_state_code(s).name for s in RobotState} == {s.name for s in RobotState}
