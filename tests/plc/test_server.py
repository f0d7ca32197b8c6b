"""The oreline Modbus server against a real pymodbus client over loopback."""

from __future__ import annotations

import socket
import struct
import threading

import pytest
from pymodbus.client import ModbusTcpClient

from plc import codes
from plc.errors import CommandError, ServerError
from plc.registers import MAP_MAGIC, MAP_VERSION, ORELINE_MAP, STATUS_END
from plc.server import OrelineModbusServer
from plc.snapshot import LineSnapshot
from tests.plc.conftest import connect
from tests.plc.test_snapshot import full_snapshot
from tests.support import wait_until

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE, DEVICE_BUSY, GATEWAY_NO_RESPONSE = 1, 2, 3, 6, 11
SEQ = ORELINE_MAP["CMD_SEQ"].address
ACK = ORELINE_MAP["CMD_ACK_SEQ"].address
CMD = ORELINE_MAP["CMD_CODE"].address


def read(client: ModbusTcpClient, address: int, count: int, device_id: int = 1) -> list[int]:
    rr = client.read_holding_registers(address, count=count, device_id=device_id)
    assert not rr.isError(), rr
    return list(rr.registers)


def link_when(srv: OrelineModbusServer, condition, what: str):
    """The server's link status once ``condition(status)`` holds (deadline polling, 5 s)."""
    def check():
        status = srv.link_status()
        return status if condition(status) else None
    return wait_until(check, timeout_s=5, what=what)


def exception_code(response) -> int:
    assert response.isError(), f"expected an exception response, got {response}"
    return response.exception_code


def submit(client: ModbusTcpClient, code: int, arg: int, seq: int, watchdog: int = 0):
    """One FC16 write of the command area: CODE, WATCHDOG, ARG (2 regs), SEQ."""
    return client.write_registers(CMD, [code, watchdog, arg >> 16, arg & 0xFFFF, seq], device_id=1)


def test_identity_registers_and_a_100_register_read(server, client):
    regs = read(client, 0, 100)
    assert regs[0] == MAP_MAGIC and tuple(regs[1:3]) == MAP_VERSION
    assert ORELINE_MAP.decode_image(regs[:STATUS_END])["LINE_STATUS"] == codes.LineStatus.IDLE


def test_publish_is_visible_at_once_and_increments_the_heartbeat(server, client):
    snap = full_snapshot()
    read(client, 0, 1)  # the server has surely accepted this client now
    hb = server.publish(snap)
    regs = read(client, 0, STATUS_END)
    assert LineSnapshot.from_registers(regs) == snap
    named = ORELINE_MAP.decode_image(regs)
    assert named["HEARTBEAT"] == hb == 1
    assert named["MODBUS_CLIENTS"] == 1
    server.publish(snap.replace(lot_tonnage_t=1600.0))
    named = ORELINE_MAP.decode_image(read(client, 0, STATUS_END))
    assert named["HEARTBEAT"] == 2 and named["LOT_TONNAGE_T"] == 1600.0


def test_input_registers_mirror_holding_registers(server, client):
    server.publish(full_snapshot())
    ir = client.read_input_registers(0, count=STATUS_END, device_id=1)
    assert list(ir.registers) == read(client, 0, STATUS_END)


def test_publish_rejects_anything_but_a_snapshot(server):
    with pytest.raises(TypeError, match="LineSnapshot"):
        server.publish({"lot_number": 1})


@pytest.mark.parametrize("address, values", [(0, [1]), (3, [2]), (28, [0, 0]), (ACK, [5]), (99, [0, 0])])
def test_writes_outside_the_command_area_get_illegal_address(server, client, address, values):
    before = read(client, 0, 110)
    assert exception_code(client.write_registers(address, values, device_id=1)) == ILLEGAL_ADDRESS
    assert exception_code(client.write_register(address, values[0], device_id=1)) == ILLEGAL_ADDRESS
    assert read(client, 0, 110) == before


def test_out_of_range_reads_wrong_unit_and_bit_functions(server, client):
    assert exception_code(client.read_holding_registers(ORELINE_MAP.end - 2, count=5, device_id=1)) == ILLEGAL_ADDRESS
    assert exception_code(client.read_holding_registers(60000, count=1, device_id=1)) == ILLEGAL_ADDRESS
    assert exception_code(client.read_holding_registers(0, count=10, device_id=9)) == GATEWAY_NO_RESPONSE
    assert exception_code(client.read_coils(0, count=8, device_id=1)) == ILLEGAL_FUNCTION
    assert exception_code(client.write_coil(0, True, device_id=1)) == ILLEGAL_FUNCTION
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:  # quantity 0 is invalid
        sock.sendall(_frame(5, 1, b"\x03\x00\x00\x00\x00"))
        answer = sock.recv(64)
        assert answer[7] & 0x80 and answer[8] in (ILLEGAL_FUNCTION, ILLEGAL_VALUE)  # pymodbus refuses it at decode
        sock.sendall(_frame(6, 1, b"\x03\x00\x00\x00\x7e"))  # 126 registers: more than Modbus allows
        answer = sock.recv(64)
        assert answer[7] & 0x80 and answer[8] in (ILLEGAL_FUNCTION, ILLEGAL_VALUE)
    assert read(client, 0, 3)[0] == MAP_MAGIC  # still serving


def test_command_handshake_full_cycle(server, client):
    assert not submit(client, codes.CommandCode.START_LOT, 42, seq=1).isError()
    code, arg, seq, ack, result, queued = (read(client, CMD, 8)[i] for i in (0, 3, 4, 5, 6, 7))
    assert (code, arg, seq, ack, result, queued) == (3, 42, 1, 0, codes.CommandResult.PENDING, 1)
    cmds = server.poll_commands()
    assert [(c.code, c.lot_number, c.seq) for c in cmds] == [(codes.CommandCode.START_LOT, 42, 1)]
    assert server.poll_commands() == []
    server.complete(cmds[0], codes.CommandResult.DONE)
    ack, result, queued = read(client, ACK, 3)
    assert (ack, result, queued) == (1, codes.CommandResult.DONE, 0)
    # rewriting the same block (cyclic PLC write) submits nothing
    assert not submit(client, codes.CommandCode.START_LOT, 42, seq=1).isError()
    assert server.poll_commands() == []
    # next command: ack one alarm, then all alarms, in separate writes (code/arg first, seq last)
    client.write_registers(CMD, [codes.CommandCode.ACK_ALARM, 0, 0, 5], device_id=1)
    client.write_register(SEQ, 2, device_id=1)
    submit(client, codes.CommandCode.ACK_ALARM, codes.ACK_ALL_ALARMS, seq=3)
    cmds = server.poll_commands()
    assert [(c.seq, c.alarm_bit) for c in cmds] == [(2, 5), (3, None)]
    server.complete(cmds[1], codes.CommandResult.REJECTED)
    assert read(client, ACK, 2) == [3, codes.CommandResult.REJECTED]
    with pytest.raises(CommandError, match="not awaiting"):
        server.complete(cmds[1], codes.CommandResult.DONE)
    with pytest.raises(CommandError, match="DONE, REJECTED or FAILED"):
        server.complete(cmds[0], codes.CommandResult.PENDING)
    with pytest.raises(CommandError, match="lot_number only"):
        _ = cmds[0].lot_number


@pytest.mark.parametrize(
    "code, arg",
    [(9, 0), (codes.CommandCode.NONE, 0), (codes.CommandCode.ACK_ALARM, 32), (codes.CommandCode.START_LOT, 0)],
)
def test_invalid_commands_get_illegal_data_value_and_queue_nothing(server, client, code, arg):
    before = read(client, CMD, 8)
    assert exception_code(submit(client, code, arg, seq=7)) == ILLEGAL_VALUE
    assert server.poll_commands() == []
    assert read(client, CMD, 8) == before


def test_unknown_code_alone_is_refused_too(server, client):
    assert exception_code(client.write_register(CMD, 77, device_id=1)) == ILLEGAL_VALUE


def test_full_queue_answers_device_busy():
    with OrelineModbusServer(max_queued=2) as srv:
        c = connect(srv.port)
        try:
            assert not submit(c, codes.CommandCode.REQUEST_SAMPLE, 1, seq=1).isError()
            assert not submit(c, codes.CommandCode.REQUEST_SAMPLE, 2, seq=2).isError()
            assert exception_code(submit(c, codes.CommandCode.REQUEST_SAMPLE, 3, seq=3)) == DEVICE_BUSY
            first = srv.poll_commands()
            srv.complete(first[0], codes.CommandResult.DONE)
            assert not submit(c, codes.CommandCode.REQUEST_SAMPLE, 3, seq=3).isError()
        finally:
            c.close()


def _frame(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def test_malformed_frames_do_not_stop_the_server(server, client):
    junk = [
        b"\x00" * 3,
        b"\xff" * 300,
        _frame(1, 1, b"\x03\x00"),  # truncated read request
        _frame(2, 1, b"\x63\x00\x00\x00\x01"),  # unknown function code 0x63
        struct.pack(">HHHB", 3, 7, 6, 1) + b"\x03\x00\x00\x00\x01",  # wrong protocol id
        struct.pack(">HHHB", 4, 0, 2000, 1) + b"\x03",  # length field far beyond the data
    ]
    for payload in junk:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
            sock.sendall(payload)
            sock.settimeout(0.3)
            try:
                sock.recv(512)
            except (socket.timeout, ConnectionError):
                pass
    # a well-formed raw request still works, and the long-lived client was never disturbed
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.sendall(_frame(9, 1, b"\x03\x00\x00\x00\x01"))
        answer = sock.recv(64)
    assert answer[7:11] == b"\x03\x02" + struct.pack(">H", MAP_MAGIC)
    assert read(client, 0, 1) == [MAP_MAGIC]


@pytest.mark.slow
def test_flooding_clients_do_not_starve_a_polite_one(server):
    stop = threading.Event()
    counts = [0] * 4

    def flood(i: int) -> None:
        c = connect(server.port)
        try:
            while not stop.is_set():
                c.read_holding_registers(0, count=100, device_id=1)
                counts[i] += 1
        finally:
            c.close()

    threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    polite = connect(server.port, timeout_s=3.0)
    try:
        for i in range(20):
            server.publish(LineSnapshot(lot_number=i + 1))
            assert ORELINE_MAP.decode_image(read(polite, 0, STATUS_END))["LOT_NUMBER"] == i + 1
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        polite.close()
    assert sum(counts) > 0


def test_disconnect_raises_plc_link_alarm_and_the_server_keeps_serving(server):
    assert server.link_status().ok and not server.link_status().seen_client
    plc = connect(server.port)
    read(plc, 0, 1)
    assert server.link_status().ok
    plc.close()
    wait_until(lambda: not server.link_status().clients, timeout_s=5, what="the server to see the client gone")
    link = server.link_status()
    assert not link.ok and "no Modbus client" in link.reason and link.disconnects == 1
    server.publish(LineSnapshot(alarms_active=1 << codes.AlarmBit.NIR_FAULT))
    other = connect(server.port)
    try:
        named = ORELINE_MAP.decode_image(read(other, 0, STATUS_END))
        bits = named["ALARMS_ACTIVE"]
        assert bits & (1 << codes.AlarmBit.PLC_LINK) and bits & (1 << codes.AlarmBit.NIR_FAULT)
        assert server.link_status().ok  # a client is back
    finally:
        other.close()


def test_silent_client_is_a_link_fault():
    with OrelineModbusServer(link_timeout_s=0.2, link_debounce_s=0) as srv:
        c = connect(srv.port)
        try:
            read(c, 0, 1)
            assert srv.link_status().ok
            link = link_when(srv, lambda st: not st.ok, "the link fault of a client silent for longer than link_timeout_s")
            assert "no request" in link.reason
            read(c, 0, 1)
            assert srv.link_status().ok
        finally:
            c.close()


def test_watchdog_is_armed_at_start_up_and_only_its_writes_keep_the_link_up():
    with OrelineModbusServer(link_timeout_s=30, watchdog_timeout_s=0.2, link_debounce_s=0) as srv:
        # never written, no client: the watchdog still runs from start-up
        link = link_when(srv, lambda st: not st.ok, "the watchdog fault of a PLC that never wrote PLC_WATCHDOG")
        assert link.supervised and "PLC_WATCHDOG" in link.reason and not link.seen_client
        c = connect(srv.port)
        try:
            read(c, 0, 1)  # any client polling does not keep the link up
            assert "PLC_WATCHDOG" in srv.link_status().reason
            c.write_register(ORELINE_MAP["PLC_WATCHDOG"].address, 1, device_id=1)
            assert srv.link_status().ok
            # polling reads while the watchdog runs out: only watchdog writes keep the link up
            wait_until(lambda: read(c, 0, 1) and not srv.link_status().ok, timeout_s=5,
                       what="the watchdog to run out while the client keeps reading")
            c.write_register(ORELINE_MAP["PLC_WATCHDOG"].address, 2, device_id=1)
            assert srv.link_status().ok
        finally:
            c.close()


def test_link_changes_are_debounced():
    with OrelineModbusServer(link_timeout_s=30, link_debounce_s=0.3) as srv:
        c = connect(srv.port)
        read(c, 0, 1)
        c.close()
        first = link_when(srv, lambda st: not st.clients, "the server to see the client gone")
        assert first.ok  # a reconnecting PLC is not a link loss yet
        wait_until(lambda: not srv.link_status().ok, timeout_s=5, what="the debounced link loss")
        assert "no Modbus client" in srv.link_status().reason
        c = connect(srv.port)
        try:
            read(c, 0, 1)
            assert not srv.link_status().ok  # and a single request is not a recovery yet
            wait_until(lambda: read(c, 0, 1) and srv.link_status().ok, timeout_s=5,
                       what="the debounced recovery while the client keeps reading", interval_s=0.02)
        finally:
            c.close()


def test_stop_is_idempotent_restart_reuses_the_port_and_busy_port_is_an_error():
    srv = OrelineModbusServer().start()
    port = srv.port
    srv.start()  # second start while running: no-op
    srv.stop()
    srv.stop()
    assert not srv.running
    srv.start()
    try:
        assert srv.port == port
        with pytest.raises(ServerError, match="cannot listen"):
            OrelineModbusServer(port=port).start()
    finally:
        srv.stop()


@pytest.mark.parametrize("kwargs, words", [({"device_id": 256}, "device_id"), ({"device_id": -1}, "device_id"), ({"port": 70000}, "port"),
                                           ({"link_timeout_s": 0}, "link_timeout_s"), ({"max_queued": 0}, "max_queued")])
def test_bad_server_settings(kwargs, words):
    with pytest.raises(ServerError, match=words):
        OrelineModbusServer(**kwargs)


def test_sequence_numbers_reused_within_a_tick_leak_nothing(server, client):
    """PLCs toggle CMD_SEQ between two values: three submissions 1, 2, 1 before the line polls, 40 times over."""
    for round_ in range(40):
        seqs = (1, 2, 1) if round_ % 2 == 0 else (2, 1, 2)
        for seq in seqs:
            assert not submit(client, codes.CommandCode.REQUEST_SAMPLE, 5, seq).isError()
        commands = server.poll_commands()
        assert tuple(c.seq for c in commands) == seqs
        for command in commands:
            server.complete(command, codes.CommandResult.DONE)
        assert read(client, ORELINE_MAP["CMD_QUEUED"].address, 1) == [0]
    assert not submit(client, codes.CommandCode.REQUEST_SAMPLE, 5, 1).isError()  # never 0x06 device busy
