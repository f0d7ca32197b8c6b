from __future__ import annotations

import dataclasses

import pytest

from plc import codes
from plc.bw500 import BW500_TABLE, DRIVE_TABLE, bw500_table
from plc.errors import EncodingError, RegisterMapError
from plc.registers import COMMAND_BASE, ORELINE_MAP, STATUS_END, RegisterSpec, RegisterTable
from plc.snapshot import LineSnapshot
from plc.words import RegType

PHYSICAL_UNITS = {"t", "t/h", "m/s", "kg/m", "s", "m"}


def test_every_snapshot_field_has_exactly_one_register():
    fields = [f.name for f in dataclasses.fields(LineSnapshot)]
    mapped = [e.field for e in ORELINE_MAP if e.field]
    assert sorted(mapped) == sorted(fields)


def test_no_16_bit_register_carries_a_scaled_or_physical_value():
    for e in ORELINE_MAP:
        if e.type in (RegType.UINT16, RegType.INT16):
            assert e.scale == 1.0, e.name
            assert e.units not in PHYSICAL_UNITS, e.name
        if e.units in PHYSICAL_UNITS:
            assert e.type is RegType.FLOAT32, e.name


def test_32_bit_values_start_on_even_addresses():
    for e in ORELINE_MAP:
        if e.length == 2:
            assert e.address % 2 == 0, e.name


def test_only_the_command_area_is_writable_and_it_is_contiguous():
    writable = ORELINE_MAP.writable_addresses()
    assert min(writable) == COMMAND_BASE
    assert sorted(writable) == [*range(COMMAND_BASE, ORELINE_MAP["CMD_SEQ"].end), ORELINE_MAP["VERDICT_ACK_SEQ"].address]
    assert all(e.end <= STATUS_END for e in ORELINE_MAP if e.address < COMMAND_BASE)


def test_enums_used_by_the_map_are_the_ones_in_codes():
    assert ORELINE_MAP["SEGMENT_CLASS"].enum is codes.SegmentClass
    assert ORELINE_MAP["LOT_VERDICT"].enum is codes.LotVerdict
    assert [int(v) for v in codes.SegmentClass] == [0, 1, 2, 3]
    assert [int(v) for v in codes.LotVerdict] == [0, 1, 2, 3, 4]
    assert max(codes.AlarmBit) < 32


def test_overlapping_or_duplicate_entries_are_refused():
    a = RegisterSpec(0, "A", RegType.UINT32)
    with pytest.raises(RegisterMapError, match="overlaps"):
        RegisterTable("t", (a, RegisterSpec(1, "B", RegType.UINT16)))
    with pytest.raises(RegisterMapError, match="duplicate"):
        RegisterTable("t", (a, RegisterSpec(2, "A", RegType.UINT16)))
    with pytest.raises(RegisterMapError, match="ASCII"):
        RegisterSpec(0, "T", RegType.ASCII)
    with pytest.raises(RegisterMapError, match="access"):
        RegisterSpec(0, "T", RegType.UINT16, access="W")
    with pytest.raises(RegisterMapError, match="UPPER_CASE"):
        RegisterSpec(0, "lower", RegType.UINT16)
    with pytest.raises(RegisterMapError, match="address"):
        RegisterSpec(65535, "T", RegType.UINT32)


def test_image_and_decode_round_trip_by_name():
    values = {"LOT_NUMBER": 42, "LOT_ID": "MV X/H2", "LOT_TONNAGE_T": 1234.5, "ALARMS_ACTIVE": 0b101}
    regs = ORELINE_MAP.image(values)
    back = ORELINE_MAP.decode_image(regs)
    for name, value in values.items():
        assert back[name] == value
    assert back["MAP_MAGIC"] == 0x4F4C
    with pytest.raises(KeyError, match="NOPE"):
        ORELINE_MAP.image({"NOPE": 1})
    with pytest.raises(EncodingError, match="LOT_NUMBER"):
        ORELINE_MAP.image({"LOT_NUMBER": -1})


def test_bw500_scaled_values_use_three_implied_decimals_and_word_order():
    t = bw500_table("lsw_first")
    spec = t["TOTAL_1"]
    assert spec.address == 41016 - 40001
    regs = t.encode_value(spec, 7.345)
    assert regs == [7345, 0]
    assert t.decode_value(spec, regs) == pytest.approx(7.345)
    assert BW500_TABLE["RATE"].address == 1009 and BW500_TABLE["FORMAT_WORD"].reference == 40062
    assert DRIVE_TABLE["DRIVE_STATE"].enum is codes.DriveState
