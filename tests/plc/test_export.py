"""Generated PLC sources (SCL, L5X, CSV) parsed back, and `oreline plc serve-sim --map` as a real process."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from plc import codes
from plc.bw500 import BW500_TABLE, DRIVE_TABLE
from plc.docs import render_csv
from plc.export import BLOCKS, render_l5x, render_scl
from plc.registers import ORELINE_MAP
from plc.robot_block import robot_register_table
from plc.words import RegType
from tests.plc.plc_poller import PlcPoller

ORELINE = Path(sys.executable).with_name("oreline")
SCL_BYTES = {"UInt": 2, "Int": 2, "Word": 2, "UDInt": 4, "DInt": 4, "DWord": 4, "Real": 4, "Char": 1}
L5X_BYTES = {"UINT": 2, "INT": 2, "UDINT": 4, "DINT": 4, "REAL": 4, "SINT": 1}
SCL_TYPE = re.compile(r'TYPE "(\w+)"\s+VERSION : [\d.]+\s+(?://[^\n]*\n\s*)?STRUCT\n(.*?)\n\s*END_STRUCT;\s*END_TYPE',
                      re.DOTALL)
SCL_MEMBER = re.compile(r"^\s*(\w+) : (?:Array\[0\.\.(\d+)\] of )?(\w+);\s*// reg (\d+) ", re.MULTILINE)


def parse_scl(text: str) -> dict[str, list[tuple[str, int, int]]]:
    """UDT name → [(member, byte offset, register)], checking the TYPE … STRUCT … END_STRUCT; END_TYPE grammar."""
    stripped = re.sub(r"(?m)^//.*\n", "", text).strip()
    types = SCL_TYPE.findall(stripped)
    assert types and len(SCL_TYPE.sub("", stripped).strip()) == 0, "text outside TYPE … END_TYPE"
    out = {}
    for name, body in types:
        offset, rows = 0, []
        lines = [ln for ln in body.splitlines() if ln.strip()]
        for line in lines:
            m = SCL_MEMBER.match(line)
            assert m, f"not a member declaration: {line!r}"
            member, upper, base, reg = m.group(1), m.group(2), m.group(3), int(m.group(4))
            rows.append((member, offset, reg))
            offset += SCL_BYTES[base] * (int(upper) + 1 if upper else 1)
        out[name] = rows
    return out


def test_scl_udts_parse_and_offsets_match_the_map():
    udts = parse_scl(render_scl())
    assert list(udts) == [f"oreline_{b.name}" for b in BLOCKS]
    for block in BLOCKS:
        rows = udts[f"oreline_{block.name}"]
        for member, offset, reg in rows:
            assert offset == 2 * (reg - block.start), member
            if not member.startswith("RESERVED_"):
                assert ORELINE_MAP[member].address == reg
        assert {m for m, _, _ in rows if not m.startswith("RESERVED_")} == {e.name for e in block.entries}


def test_l5x_is_xml_with_every_member_at_its_offset():
    root = ET.fromstring(render_l5x())
    assert root.tag == "RSLogix5000Content" and root.get("TargetType") == "DataType"
    types = root.findall("./Controller/DataTypes/DataType")
    assert [t.get("Name") for t in types] == [f"oreline_{b.name}" for b in BLOCKS]
    for block, udt in zip(BLOCKS, types):
        offset = 0
        for member in udt.findall("./Members/Member"):
            reg = int(re.match(r"reg (\d+)", member.find("Description").text.strip()).group(1))
            assert offset == 2 * (reg - block.start), member.get("Name")
            size = L5X_BYTES[member.get("DataType")]
            if size == 4:
                assert offset % 4 == 0, f"{member.get('Name')} is not 4-byte aligned"
            offset += size * max(1, int(member.get("Dimension")))
        assert offset == 2 * (block.end - block.start)


def test_every_32_bit_register_is_at_an_even_address():
    assert all(e.address % 2 == 0 for e in ORELINE_MAP if e.type.size == 2 and e.type is not RegType.ASCII)


def test_csv_has_every_block_and_every_code():
    rows = list(csv.DictReader(io.StringIO(render_csv())))
    tables = (ORELINE_MAP, BW500_TABLE, DRIVE_TABLE, robot_register_table())
    for table in tables:
        assert [r["name"] for r in rows if r["block"] == table.name] == [e.name for e in table]
    code_rows = {r["name"]: int(r["address"]) for r in rows if r["block"] == "code"}
    for enum_cls in (*codes.ALL_ENUMS, codes.DriveState):
        for m in enum_cls:
            assert code_rows[f"{enum_cls.__name__}.{m.name}"] == m.value


def _serve(*args: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([str(ORELINE), "plc", "serve-sim", "--map", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    match = re.search(r"on 127\.0\.0\.1:(\d+)", line)
    assert match, line
    return proc, int(match.group(1))


def test_serve_sim_map_runs_scripted_lots_for_a_plc():
    proc, port = _serve("--port=0", "--speedup", "900", "--tick-s=2", "--duration-s", "120")
    try:
        poller = PlcPoller(port, period_s=0.01, stop_after=4).start()
        deadline = time.monotonic() + 100
        while len(poller.poll.verdicts) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        poll = poller.stop()
    finally:
        proc.kill()
        proc.wait(10)
    assert [v[1] for v in poll.verdicts] == ["CONTAMINATED", "ORE", "WASTE", "INCONCLUSIVE"]
    assert [v[0] for v in poll.verdicts] == [1, 2, 3, 4] and poll.failed == 0
    assert len(poll.events) == 40 and [e["SEQ"] for e in poll.events] == list(range(1, 41))


def test_serve_sim_map_answers_mbpoll(mbpoll):
    proc, port = _serve("--port", "0", "--duration-s=60")
    try:
        r = subprocess.run([mbpoll, "-m", "tcp", "-a", "1", "-0", "-r", "0", "-c", "3", "-1", "-p", str(port),
                            "127.0.0.1"], capture_output=True, text=True, timeout=30, check=False)
        assert r.returncode == 0, r.stderr
        assert re.search(r"\[0\]:\s+20300", r.stdout) and re.search(r"\[1\]:\s+2\b", r.stdout)
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("bad", [["--port", "70000"], ["--speedup=0"], ["--device-id", "300"]])
def test_serve_sim_bad_options_exit_2(bad):
    r = subprocess.run([str(ORELINE), "plc", "serve-sim", "--map", *bad], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and "expected" in r.stderr
