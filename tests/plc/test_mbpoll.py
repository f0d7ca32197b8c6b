"""mbpoll (Debian package) as an outside Modbus client of the oreline server and the simulated PLC."""

from __future__ import annotations

import re
import subprocess

import pytest

from plc import codes
from plc.bw500 import BW500_TABLE
from plc.registers import MAP_MAGIC, MAP_VERSION, ORELINE_MAP
from plc.snapshot import LineSnapshot

pytestmark = pytest.mark.e2e


def mbpoll_run(exe: str, port: int, *args: str) -> subprocess.CompletedProcess:
    cmd = [exe, "-m", "tcp", "-a", "1", "-0", "-1", "-t", "4", "-o", "2", "-p", str(port), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


def values(out: str) -> dict[int, str]:
    return {int(a): v for a, v in re.findall(r"^\[(\d+)\]:\s+(\S+)", out, re.MULTILINE)}


def test_mbpoll_reads_identity_and_a_published_float(server, mbpoll):
    server.publish(LineSnapshot(lot_tonnage_t=1234.5, lot_number=77))
    r = mbpoll_run(mbpoll, server.port, "-r", "0", "-c", "3", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    assert values(r.stdout) == {0: str(MAP_MAGIC), 1: str(MAP_VERSION[0]), 2: str(MAP_VERSION[1])}
    addr = ORELINE_MAP["LOT_TONNAGE_T"].address
    r = mbpoll_run(mbpoll, server.port, "-B", "-t", "4:float", "-r", str(addr), "-c", "1", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    assert float(values(r.stdout)[addr]) == 1234.5
    addr = ORELINE_MAP["LOT_NUMBER"].address
    r = mbpoll_run(mbpoll, server.port, "-B", "-t", "4:int", "-r", str(addr), "-c", "1", "127.0.0.1")
    assert int(values(r.stdout)[addr]) == 77


def test_mbpoll_submits_a_command_and_is_refused_outside_the_command_area(server, mbpoll):
    cmd = ORELINE_MAP["CMD_CODE"].address
    r = mbpoll_run(mbpoll, server.port, "-r", str(cmd), "127.0.0.1", "3", "0", "0", "42", "1")
    assert r.returncode == 0, r.stderr
    [command] = server.poll_commands()
    assert command.code is codes.CommandCode.START_LOT and command.arg == 42
    r = mbpoll_run(mbpoll, server.port, "-r", "3", "127.0.0.1", "4")
    assert r.returncode != 0 and "Illegal data address" in r.stderr
    r = mbpoll_run(mbpoll, server.port, "-r", str(cmd), "127.0.0.1", "99")
    assert r.returncode != 0 and "Illegal data value" in r.stderr
    r = mbpoll_run(mbpoll, server.port, "-r", str(ORELINE_MAP.end), "-c", "1", "127.0.0.1")
    assert r.returncode != 0 and "Illegal data address" in r.stderr


def test_mbpoll_reads_the_simulated_bw500(sim_plc, mbpoll):
    sim_plc.update(0.0)
    sim_plc.update(60.0)
    rate_addr = BW500_TABLE["RATE"].address
    r = mbpoll_run(mbpoll, sim_plc.port, "-B", "-t", "4:int", "-r", str(rate_addr), "-c", "5", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    raw = values(r.stdout)
    truth = sim_plc.feed.read(60.0)
    assert int(raw[BW500_TABLE["TOTAL_1"].address]) / 1000 == pytest.approx(truth.totaliser_t, abs=0.001)
    assert int(raw[BW500_TABLE["SPEED"].address]) / 1000 == pytest.approx(4.0)
