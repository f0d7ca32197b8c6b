import math
import struct

import pytest

from conveyor.clock import SimulatedClock
from sampler.errors import RobotBusyError, RobotCommunicationError, RobotError, RobotFaultError
from sampler.robot import CutResult, RobotState, RobotTimings, create_robot
from sampler.robot_registers import (
    COMMAND_OFFSET,
    REGISTERS_BY_NAME,
    ROBOT_BLOCK_SIZE,
    ROBOT_REGISTERS,
    AckCode,
    CommandCode,
    RobotBlockAdapter,
    decode_value,
    encode_command,
    encode_value,
    next_seq,
    read_field,
    register_table_rows,
    write_field,
)
from sampler.robot_sim import FaultPlan, SimulatedRobot

from tests.sampler.modbus_server import robot_server
from tests.support import refused_port

T = RobotTimings(travel_s=1.0, cut_s=2.0, return_s=1.5, jitter_s=0.0)


# ---- the table ------------------------------------------------------------------------------------
def test_register_table_is_contiguous_and_unique():
    names = [r.name for r in ROBOT_REGISTERS]
    assert len(set(names)) == len(names)
    covered = []
    for r in ROBOT_REGISTERS:
        covered += list(range(r.offset, r.offset + r.count))
    assert covered == list(range(ROBOT_BLOCK_SIZE))  # no gaps, no overlaps, in offset order
    rw = [r for r in ROBOT_REGISTERS if r.access == "RW"]
    assert min(r.offset for r in rw) == COMMAND_OFFSET  # the command area is one block at the end
    assert REGISTERS_BY_NAME["CMD_SEQ"].offset + 1 == ROBOT_BLOCK_SIZE  # sequence written last
    assert len(register_table_rows()) == len(ROBOT_REGISTERS)


def test_codecs_big_endian_word_order():
    f = REGISTERS_BY_NAME["CUT_S"]
    assert encode_value(f, 1.0) == [0x3F80, 0x0000]
    assert decode_value(f, encode_value(f, -2.5)) == -2.5
    assert math.isnan(decode_value(f, encode_value(f, math.nan)))
    u = REGISTERS_BY_NAME["CUTS_OK"]
    assert encode_value(u, 0x12345678) == [0x1234, 0x5678]
    assert decode_value(u, [0x1234, 0x5678]) == 0x12345678
    with pytest.raises(RobotError, match="uint32"):
        encode_value(u, 2**32)
    with pytest.raises(RobotError, match="uint16"):
        encode_value(REGISTERS_BY_NAME["CMD_SEQ"], -1)
    assert next_seq(65535) == 1 and next_seq(1) == 2
    words = encode_command(CommandCode.CUT, 7, 2.5, 42)
    assert len(words) == ROBOT_BLOCK_SIZE - COMMAND_OFFSET and words[-1] == 7
    assert struct.unpack(">f", struct.pack(">HH", words[1], words[2]))[0] == 2.5


def test_adapter_without_a_network():
    clock = SimulatedClock()
    adapter = RobotBlockAdapter(SimulatedRobot(clock, timings=T, travel_variation=0.0))
    block = adapter.new_block()
    assert read_field(block, "BLOCK_VERSION") == 1 and read_field(block, "STATE") == 0
    adapter.handle_write(block, COMMAND_OFFSET, encode_command(CommandCode.CUT, 1, 5.0, 9))
    assert read_field(block, "ACK_SEQ") == 1 and read_field(block, "ACK_CODE") == AckCode.ACCEPTED
    adapter.handle_write(block, COMMAND_OFFSET, encode_command(CommandCode.CUT, 2, 5.0, 10))
    assert read_field(block, "ACK_CODE") == AckCode.BUSY
    clock.sleep_until(10.0)
    adapter.refresh(block)
    assert read_field(block, "DONE_SEQ") == 1 and read_field(block, "RESULT_CODE") == CutResult.CUT
    assert read_field(block, "RESULT_NUMBER") == 9
    adapter.handle_write(block, COMMAND_OFFSET, encode_command(CommandCode.CUT, 3, -1.0, 1))
    assert read_field(block, "ACK_CODE") == AckCode.BAD_VALUE
    write_field(block, "CMD_CODE", 99)
    block[ROBOT_BLOCK_SIZE - 1] = 4
    adapter.handle_write(block, ROBOT_BLOCK_SIZE - 1, [4])
    assert read_field(block, "ACK_CODE") == AckCode.BAD_COMMAND
    with pytest.raises(RobotCommunicationError, match="writes allowed"):
        adapter.handle_write(block, 2, [1])


# ---- over TCP -------------------------------------------------------------------------------------
@pytest.fixture
def sim():
    clock = SimulatedClock()
    robot = SimulatedRobot(clock, timings=T, travel_variation=0.0, faults=FaultPlan(jam_at={2}))
    return clock, robot


def test_cut_over_modbus(sim):
    clock, robot = sim
    with robot_server(robot) as port:
        r = create_robot("modbus", clock, port=port, base_address=100)
        assert r.timings == T and r.state is RobotState.IDLE
        st = r.cut(clock.now_s() + 5.0, "R1", number=1)
        with pytest.raises(RobotBusyError):
            r.cut(clock.now_s() + 9.0, "R2", number=2)
        clock.sleep_until(4.5)
        assert r.state is RobotState.CUTTING
        st.wait()
        assert st.result is CutResult.CUT and abs(st.timing_error_s) < 0.05
        assert r.counters.cuts_ok == 1
        # second cut jams (scheduled fault); the fault is visible over Modbus; reset clears it
        st2 = r.cut(clock.now_s() + 5.0, "R2", number=2).wait()
        assert st2.result is CutResult.JAMMED
        assert r.state is RobotState.FAULT
        with pytest.raises(RobotFaultError):
            r.cut(clock.now_s() + 5.0, "R3", number=3)
        r.reset()
        assert r.state is RobotState.IDLE
        st3 = r.cut(clock.now_s() + 5.0, "R3", number=3)
        r.estop()
        assert st3.wait().result is CutResult.ESTOP and r.state is RobotState.ESTOP
        assert r.counters.to_dict() == {"cuts_commanded": 3, "cuts_ok": 1, "missed": 0, "jams": 1, "estops": 1}
        r.close()


def test_client_cannot_write_status_registers(sim):
    from pymodbus.client import ModbusTcpClient

    clock, robot = sim
    with robot_server(robot) as port:
        c = ModbusTcpClient("127.0.0.1", port=port)
        assert c.connect()
        assert c.write_register(100 + REGISTERS_BY_NAME["STATE"].offset, 3, device_id=1).isError()
        assert not c.write_register(100 + REGISTERS_BY_NAME["CMD_CODE"].offset, 0, device_id=1).isError()
        c.close()


def test_wrong_block_version_is_refused(sim):
    clock, robot = sim
    with robot_server(robot, block=[0] * ROBOT_BLOCK_SIZE) as port:
        r = create_robot("modbus", clock, port=port, base_address=100)  # no I/O yet
        with pytest.raises(RobotCommunicationError, match="expected version 1, got 0"):
            r.open()


def test_no_server_is_a_communication_error():
    with refused_port() as port:
        r = create_robot("modbus", SimulatedClock(), port=port, timeout_s=0.2, retries=0)  # no I/O yet
        with pytest.raises(RobotCommunicationError, match="cannot connect"):
            r.open()


def test_unacknowledged_command_times_out(sim):
    clock, robot = sim
    block = RobotBlockAdapter(robot).new_block()  # valid block, but nobody serves commands
    with robot_server(robot, block=block) as port:
        r = create_robot("modbus", clock, port=port, base_address=100, ack_timeout_s=0.5)
        with pytest.raises(RobotCommunicationError, match="did not acknowledge"):
            r.cut(clock.now_s() + 5.0, "R1")
        r.close()


@pytest.mark.e2e
def test_station_runs_a_lot_through_the_modbus_robot(tmp_path):
    """The whole chain: line runtime → station → Modbus TCP → robot block → simulated robot."""
    from conveyor.station import StationContext
    from sampler.station import from_config

    from tests.lines.sampler import by_status, increments, run_lot

    clock = SimulatedClock()
    robot = SimulatedRobot(clock, timings=RobotTimings.for_cutter(1.28, 0.45), seed=3)
    with robot_server(robot, base_address=200) as port:
        ctx = StationContext(clock, 1.6, 6.0, tmp_path)
        st = from_config("cutter", {"kind": "sampler", "position_m": 150.0, "backend": "modbus", "port": port,
                                    "base_address": 200}, ctx)
        res = run_lot(st, lot_mass_t=800.0)
        st.close()
    assert by_status(res) == {"cut": st.plan.n_total}
    errs = [abs(m.data["timing_error_s"]) for m in increments(res)]
    assert max(errs) < 0.5
    assert robot.counters.cuts_ok == st.plan.n_total


def test_document_shows_the_current_register_table():
    from pathlib import Path

    from sampler.robot_registers import register_table_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "sampling.md").read_text(encoding="utf-8")
    assert register_table_markdown() in doc
