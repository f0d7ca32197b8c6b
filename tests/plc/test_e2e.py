"""A line-like loop: simulated PLC + belt scale over Modbus, oreline's server publishing, a PLC client commanding."""

from __future__ import annotations

import time

import pytest

from conveyor.clock import SimulatedClock
from conveyor.station import StationContext
from conveyor.totaliser import TonnageCounter
from plc import codes
from plc.config import scale_from_config, server_from_config
from plc.registers import ORELINE_MAP, STATUS_END
from plc.snapshot import LineSnapshot
from tests.plc.conftest import connect

pytestmark = pytest.mark.e2e


def test_line_loop_with_commands_and_a_plc_disconnect(tmp_path):
    clock = SimulatedClock()
    ctx = StationContext(clock=clock, belt_width_m=1.6, nominal_speed_m_s=4.0, run_dir=tmp_path, seed=1)
    scale = scale_from_config({"backend": "simulated", "rate_t_h": 7200.0, "lot_mass_t": 200.0}, ctx)
    server = server_from_config({"port": 0, "link_timeout_s": 30.0, "link_debounce_s": 0.0}).start()
    plc = connect(server.port)
    counter = TonnageCounter()
    lot_number, lot_start_t, status = 0, 0.0, codes.LineStatus.IDLE
    try:
        # the PLC starts lot 5 before the belt runs
        plc.write_registers(ORELINE_MAP["CMD_CODE"].address, [codes.CommandCode.START_LOT, 1, 0, 5, 1], device_id=1)
        for tick in range(240):  # 120 s of line time at 0.5 s ticks
            now = clock.advance(0.5)
            reading = scale.read(now)
            assert reading.ok, reading.fault
            total = counter.update(reading.totaliser_t)
            for cmd in server.poll_commands():
                if cmd.code is codes.CommandCode.START_LOT and lot_number == 0:
                    lot_number, lot_start_t, status = cmd.lot_number, total, codes.LineStatus.RUNNING
                    server.complete(cmd, codes.CommandResult.DONE)
                else:
                    server.complete(cmd, codes.CommandResult.REJECTED)
            server.publish(LineSnapshot(line_status=status, lot_number=lot_number, lot_id=f"LOT-{lot_number}",
                                        lot_tonnage_t=total - lot_start_t, belt_speed_m_s=reading.speed_m_s,
                                        rate_t_h=reading.rate_t_h))
            if tick == 100:
                plc.close()  # the PLC drops off; the line goes on
        named = ORELINE_MAP.decode_image(server.registers(0, STATUS_END))
        assert named["LOT_NUMBER"] == 5 and named["LINE_STATUS"] == codes.LineStatus.RUNNING
        assert named["LOT_TONNAGE_T"] == pytest.approx(200.0, abs=0.01)  # the whole lot was fed and weighed
        assert named["HEARTBEAT"] == 240
        deadline = time.monotonic() + 3
        while server.link_status().clients and time.monotonic() < deadline:
            time.sleep(0.01)
        server.publish(LineSnapshot(line_status=status, lot_number=lot_number))
        assert ORELINE_MAP.decode_image(server.registers(0, STATUS_END))["ALARMS_ACTIVE"] & (1 << codes.AlarmBit.PLC_LINK)
        # the PLC comes back and sees the acknowledgement of its command
        plc = connect(server.port)
        ack, result = plc.read_holding_registers(ORELINE_MAP["CMD_ACK_SEQ"].address, count=2, device_id=1).registers
        assert (ack, result) == (1, codes.CommandResult.DONE)
    finally:
        plc.close()
        server.stop()
        scale.close()
