"""PlcBridge with real plants (no inspecting stations, so a lot takes seconds) and a pymodbus client as the PLC.

One bridge, one server, two lots: lot numbers from START_LOT, STOP_LOT's argument, the held final verdict and
its handshake, latched alarms, interlock requests with their windows, the event FIFO and LINE_STATUS FAULT.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from analysis.model import Alarm, SegmentDecision
from analysis.decide.verdict import SequentialVerdict
from analysis.plc_bridge import PlcBridge, alarm_bit
from analysis.plc_state import earliest_safe_tonnage_t
from analysis.site import DEFAULT_SITE, compose, validate
from plc import codes
from plc.events import read_events
from plc.registers import EVENT_BASE, ORELINE_MAP, STATUS_END
from plc.server import OrelineModbusServer
from tests.plc.conftest import connect
from tests.support import wait_until

CMD = ORELINE_MAP["CMD_CODE"].address
ACK = ORELINE_MAP["CMD_ACK_SEQ"].address


def bare_site(tmp_path) -> dict:
    """The shipped site without stations (nothing to fit or inspect): a 300 t lot in about 3 s."""
    import tomllib

    text = re.sub(r"(?ms)^\[stations\.[a-z]+\].*?(?=^\[)", "", DEFAULT_SITE.read_text())
    raw = tomllib.loads(text)
    raw["simulation"].update(lot_mass_t=300.0, speedup=60.0, events=[])
    raw["plc"].update(port=0, link_debounce_s=0.0)
    return validate(raw)


def plant_of(site, path):
    plant = compose(site, path, simulated=True)
    plant.new_lot()
    return plant


def named(client) -> dict:
    rr = client.read_holding_registers(0, count=STATUS_END, device_id=1)
    assert not rr.isError(), rr
    return ORELINE_MAP.decode_image(list(rr.registers), 0)


class Plc:
    """The PLC side of the command handshake."""

    def __init__(self, client) -> None:
        self.client, self.seq = client, 0

    def command(self, code: int, arg: int = 0, timeout_s: float = 10.0) -> codes.CommandResult:
        self.seq = self.seq % 65535 + 1
        rr = self.client.write_registers(CMD, [code, 0, arg >> 16, arg & 0xFFFF, self.seq], device_id=1)
        assert not rr.isError(), rr
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ack, result = self.client.read_holding_registers(ACK, count=2, device_id=1).registers
            if ack == self.seq and result != codes.CommandResult.PENDING:
                return codes.CommandResult(result)
            time.sleep(0.02)
        raise AssertionError(f"command {code} not completed in {timeout_s} s")


def wait_for(predicate, timeout_s: float = 20.0, what: str = ""):
    return wait_until(predicate, timeout_s=timeout_s, what=what, interval_s=0.02)


def run_in_thread(plant) -> threading.Thread:
    thread = threading.Thread(target=plant.run_lot, args=(plant.lot,), daemon=True)
    thread.start()
    return thread


@pytest.fixture
def bridge():
    b = PlcBridge(OrelineModbusServer(port=0, link_debounce_s=0), idle_period_s=0.05).start()
    yield b
    b.stop()


def test_two_lots_on_one_server(tmp_path, bridge):
    site = bare_site(tmp_path)
    client = connect(bridge.port)
    plc = Plc(client)
    try:
        first = plant_of(site, tmp_path / "a")
        bridge.attach(first)
        assert plc.command(codes.CommandCode.START_LOT, 7) is codes.CommandResult.DONE  # between lots
        assert bridge.wait_for_start_lot(0)  # what `[plc] wait_for_start_lot` waits for
        thread = run_in_thread(first)
        wait_for(lambda: named(client)["LOT_NUMBER"] == 7, what="lot 7")
        assert plc.command(codes.CommandCode.START_LOT, 9) is codes.CommandResult.REJECTED  # a lot is open
        assert named(client)["SAMPLER_STATE"] == codes.SamplerState.DISABLED  # this line has no sampler
        assert plc.command(codes.CommandCode.STOP_LOT, 8) is codes.CommandResult.REJECTED  # not the open lot
        assert plc.command(codes.CommandCode.STOP_LOT, 7) is codes.CommandResult.DONE
        thread.join(30)
        final = wait_for(lambda: (n := named(client))["VERDICT_FINAL"] and n, what="the final verdict")
        assert final["LOT_NUMBER"] == 7 and final["VERDICT_SEQ"] == 1 and not final["VERDICT_ACKED"]
        assert final["LOT_VERDICT"] == codes.LotVerdict[first.monitor.verdict.verdict.upper()]
        assert final["LINE_STATUS"] == codes.LineStatus.IDLE
        assert not final["INTERLOCKS"] & 1  # no lot running: inspection is not healthy
        client.write_register(ORELINE_MAP["VERDICT_ACK_SEQ"].address, 1, device_id=1)
        assert wait_for(lambda: bridge.server.verdict_acked and named(client)["VERDICT_ACKED"] == 1, what="ack")
        heartbeat = final["HEARTBEAT"]
        wait_for(lambda: named(client)["HEARTBEAT"] > heartbeat, what="heartbeat between lots")

        second = plant_of(site, tmp_path / "b")
        bridge.attach(second)
        assert named(client)["LOT_NUMBER"] == 7  # held until the next lot starts
        run_in_thread(second).join(60)
        final = wait_for(lambda: (n := named(client))["VERDICT_SEQ"] == 2 and n, what="the second verdict")
        assert final["LOT_NUMBER"] == 8 and final["VERDICT_FINAL"] == 1
        events = read_events(client.read_holding_registers(EVENT_BASE, count=98, device_id=1).registers, 0)
        assert [(e["LOT_NUMBER"], e["SEGMENT_INDEX"]) for e in events][-3:] == [(8, 0), (8, 1), (8, 2)]
        assert [e["LOT_NUMBER"] for e in events] == sorted(e["LOT_NUMBER"] for e in events)  # lot 7's come first
    finally:
        client.close()


def test_latched_alarms_interlock_requests_and_fault(tmp_path, bridge):
    site = bare_site(tmp_path)
    client = connect(bridge.port)
    plc = Plc(client)
    try:
        plant = plant_of(site, tmp_path / "a")
        bridge.attach(plant)
        run_in_thread(plant).join(60)
        wait_for(lambda: named(client)["VERDICT_FINAL"], what="lot end")
        assert plc.command(codes.CommandCode.ACK_ALARM, codes.ACK_ALL_ALARMS) in (codes.CommandResult.DONE,
                                                                                  codes.CommandResult.REJECTED)
        nir = 1 << codes.AlarmBit.NIR_FAULT
        plant.alarms.raise_alarm("nir:test", "nir_fault", "alarm", "test fault")
        plant.alarms.clear("nir:test")  # gone before anyone acknowledged it
        now = wait_for(lambda: (n := named(client))["ALARMS_UNACKED"] & nir and n, what="latched alarm")
        assert not now["ALARMS_ACTIVE"] & nir
        assert plc.command(codes.CommandCode.ACK_ALARM, codes.AlarmBit.NIR_FAULT) is codes.CommandResult.DONE
        wait_for(lambda: not named(client)["ALARMS_UNACKED"] & nir, what="acknowledged")

        flagged = SegmentDecision(plant.monitor.lot_id, 2, 200.0, 300.0, "contaminated", 0.0, detections=2)
        for listener in plant.monitor.segment_listeners:  # as the monitor tells its listeners
            listener(flagged)
        now = wait_for(lambda: (n := named(client))["INTERLOCKS"] & 2 and n, what="stop request")
        assert (now["STOP_SEGMENT_INDEX"], now["STOP_MASS_T"], now["STOP_WINDOW_START_T"],
                now["STOP_WINDOW_END_T"]) == (2, 100.0, 200.0, 300.0)
        assert not now["INTERLOCKS"] & 4
        assert plc.command(codes.CommandCode.ACK_REQUEST, 2) is codes.CommandResult.REJECTED  # no divert latched
        assert plc.command(codes.CommandCode.ACK_REQUEST, 1) is codes.CommandResult.DONE
        wait_for(lambda: not named(client)["INTERLOCKS"] & 2, what="request cleared")

        bridge.lot_failed("test: the line could not run")
        wait_for(lambda: named(client)["LINE_STATUS"] == codes.LineStatus.FAULT, what="FAULT")
    finally:
        client.close()


@pytest.mark.parametrize("category, code, bit", [
    ("archive", "", codes.AlarmBit.ARCHIVE_FAULT),
    ("sampler_fault", "sample_missed", codes.AlarmBit.SAMPLE_MISSED),
    ("sampler_fault", "", codes.AlarmBit.SAMPLER_FAULT),
    ("system", "lot_inconclusive", codes.AlarmBit.LOT_INCONCLUSIVE),
    ("waste", "lot_waste", codes.AlarmBit.LOT_WASTE),
    ("contamination", "foreign_object", codes.AlarmBit.FOREIGN_OBJECT),
    ("scale_fault", "totaliser_resync", codes.AlarmBit.TOTALISER_FAULT),
])
def test_alarm_bits_come_from_category_codes_not_message_text(category, code, bit):
    for message in ("", "increment missed", "skipped: totaliser"):  # the text never decides
        alarm = Alarm(1, "k", category, "alarm", message, 0.0, code=code)
        assert alarm_bit(alarm) is bit


def test_earliest_safe_tonnage_is_a_forecast_until_decided():
    sequential = SequentialVerdict("L")  # default limits: two flagged segments in a row decide waste
    plan = [("ore", 0.0, 100.0), ("waste-suspect", 100.0, 200.0), ("waste-suspect", 200.0, 300.0)]
    seen = []
    for index, (cls, start, end) in enumerate(plan):
        segment = SegmentDecision("L", index, start, end, cls, 0.0)
        verdict = sequential.update(segment)
        seen.append((verdict.verdict, earliest_safe_tonnage_t(verdict, sequential, segment)))
    assert seen == [("pending", 300.0), ("pending", 300.0), ("waste", 300.0)]
    assert earliest_safe_tonnage_t(None, sequential, None) == 0.0
