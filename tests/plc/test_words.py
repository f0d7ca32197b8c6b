from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plc.errors import EncodingError
from plc.words import RegType, decode, encode


def test_float32_msw_first_matches_ieee754_big_endian():
    regs = encode(123.5, RegType.FLOAT32)
    assert regs == list(struct.unpack(">HH", struct.pack(">f", 123.5)))
    assert regs == [0x42F7, 0x0000]


def test_lsw_first_swaps_words_only():
    assert encode(0x12345678, RegType.UINT32, word_order="lsw_first") == [0x5678, 0x1234]
    assert decode([0x5678, 0x1234], RegType.UINT32, "lsw_first") == 0x12345678


def test_ascii_is_two_chars_per_register_high_byte_first():
    assert encode("AB", RegType.ASCII, 2) == [0x4142, 0]
    assert decode([0x4142, 0x4300], RegType.ASCII) == "ABC"


@pytest.mark.parametrize(
    "value, reg_type, length",
    [
        (70000, RegType.UINT16, 0),
        (-1, RegType.UINT32, 0),
        (2**32, RegType.UINT32, 0),
        (1.5, RegType.UINT16, 0),
        (math.nan, RegType.FLOAT32, 0),
        (math.inf, RegType.FLOAT32, 0),
        (1e39, RegType.FLOAT32, 0),
        ("é", RegType.ASCII, 4),
        ("x" * 9, RegType.ASCII, 4),
        ("12", RegType.UINT16, 0),
    ],
)
def test_out_of_range_values_are_refused_with_a_clear_error(value, reg_type, length):
    with pytest.raises(EncodingError) as info:
        encode(value, reg_type, length)
    assert str(value)[:3] in str(info.value) or repr(value)[:3] in str(info.value)


def test_bad_word_order_and_bad_register_counts():
    with pytest.raises(EncodingError, match="word_order"):
        encode(1, RegType.UINT32, word_order="cdab")
    with pytest.raises(EncodingError, match="needs 2 registers"):
        decode([1], RegType.FLOAT32)
    with pytest.raises(EncodingError, match="0..65535"):
        decode([70000], RegType.UINT16)


@given(st.integers(0, 2**32 - 1), st.sampled_from(["msw_first", "lsw_first"]))
def test_uint32_round_trip(value, order):
    assert decode(encode(value, RegType.UINT32, word_order=order), RegType.UINT32, order) == value


@given(st.floats(width=32, allow_nan=False, allow_infinity=False), st.sampled_from(["msw_first", "lsw_first"]))
def test_float32_round_trip_is_exact_for_float32_values(value, order):
    assert decode(encode(value, RegType.FLOAT32, word_order=order), RegType.FLOAT32, order) == value


@given(st.integers(-(2**31), 2**31 - 1))
def test_int32_round_trip(value):
    assert decode(encode(value, RegType.INT32), RegType.INT32) == value
