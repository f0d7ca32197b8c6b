"""Values ↔ 16-bit Modbus registers: the register types of the map and their encoding.

32-bit values (UINT32, INT32, FLOAT32 as IEEE-754 single precision) take two
registers; ``word_order`` says which comes first: ``"msw_first"`` (most
significant word at the lower address, "ABCD", the oreline map's fixed order and
the BW500 default) or ``"lsw_first"`` ("CDAB"). Bytes inside a register are
always big-endian, as Modbus defines. Text is ASCII, two characters per
register (first character in the high byte), padded with NUL.

The bytes are pymodbus's own codec (``convert_to_registers`` / ``convert_from_registers``, also used by
sampler's robot block); this module adds the map's types, range checks and error messages.
"""

from __future__ import annotations

import enum
import math
from typing import Literal

from pymodbus.client.mixin import ModbusClientMixin

from plc.errors import EncodingError

WordOrder = Literal["msw_first", "lsw_first"]
WORD_ORDERS: tuple[str, ...] = ("msw_first", "lsw_first")


class RegType(enum.Enum):
    """A register type: its name in the docs, its size in registers and its ``struct`` code."""

    UINT16 = ("UINT16", 1, "H")
    INT16 = ("INT16", 1, "h")
    BITS16 = ("BITS16", 1, "H")
    UINT32 = ("UINT32", 2, "I")
    INT32 = ("INT32", 2, "i")
    BITS32 = ("BITS32", 2, "I")
    FLOAT32 = ("FLOAT32", 2, "f")
    ASCII = ("ASCII", 0, "s")  # length given per register entry

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def size(self) -> int:
        """Registers per value (0 for ASCII: the entry gives its length)."""
        return self.value[1]

    @property
    def code(self) -> str:
        return self.value[2]


_INT_RANGES = {
    RegType.UINT16: (0, 0xFFFF),
    RegType.BITS16: (0, 0xFFFF),
    RegType.INT16: (-0x8000, 0x7FFF),
    RegType.UINT32: (0, 0xFFFFFFFF),
    RegType.BITS32: (0, 0xFFFFFFFF),
    RegType.INT32: (-0x80000000, 0x7FFFFFFF),
}


def check_word_order(word_order: str) -> WordOrder:
    """Return ``word_order`` if it is ``"msw_first"`` or ``"lsw_first"``; raise :class:`EncodingError` otherwise."""
    if word_order == "msw_first":
        return "msw_first"
    if word_order == "lsw_first":
        return "lsw_first"
    raise EncodingError(f"word_order must be one of {WORD_ORDERS}, got {word_order!r}")


_PYMODBUS_TYPES = {
    RegType.UINT16: ModbusClientMixin.DATATYPE.UINT16, RegType.BITS16: ModbusClientMixin.DATATYPE.UINT16,
    RegType.INT16: ModbusClientMixin.DATATYPE.INT16, RegType.UINT32: ModbusClientMixin.DATATYPE.UINT32,
    RegType.BITS32: ModbusClientMixin.DATATYPE.UINT32, RegType.INT32: ModbusClientMixin.DATATYPE.INT32,
    RegType.FLOAT32: ModbusClientMixin.DATATYPE.FLOAT32, RegType.ASCII: ModbusClientMixin.DATATYPE.STRING,
}


def _pymodbus_order(word_order: str) -> Literal["big", "little"]:
    return "big" if check_word_order(word_order) == "msw_first" else "little"


def encode(value: int | float | str, reg_type: RegType, length: int = 0, word_order: str = "msw_first") -> list[int]:
    """Registers (each 0..65535) holding ``value`` as ``reg_type`` (pymodbus's ``convert_to_registers``).

    ``length`` is the register count for ASCII (ignored otherwise). Raises
    :class:`EncodingError` for a value out of the type's range, a non-finite float,
    a float that overflows FLOAT32, or text that is not ASCII or too long.
    """
    if reg_type is RegType.ASCII:
        if not isinstance(value, str):
            raise EncodingError(f"ASCII register expects str, got {type(value).__name__}")
        if not value.isascii():
            raise EncodingError(f"text must be ASCII, got {value!r}")
        if len(value) > 2 * length:
            raise EncodingError(f"text must be at most {2 * length} characters, got {len(value)}: {value!r}")
        return ModbusClientMixin.convert_to_registers(value.ljust(2 * length, "\0"), _PYMODBUS_TYPES[reg_type],
                                                      string_encoding="ascii")
    if reg_type is RegType.FLOAT32:
        if isinstance(value, str) or not math.isfinite(value):
            raise EncodingError(f"FLOAT32 expects a finite number, got {value!r}")
        if abs(value) > 3.4028234663852886e38:
            raise EncodingError(f"FLOAT32 overflow: {value!r} exceeds ±3.4e38")
        value = float(value)
    else:
        if isinstance(value, (str, float)) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise EncodingError(f"{reg_type.label} expects an integer, got {value!r}")
        lo, hi = _INT_RANGES[reg_type]
        if not lo <= value <= hi:
            raise EncodingError(f"{reg_type.label} value must be in [{lo}, {hi}], got {value}")
        value = int(value)
    return ModbusClientMixin.convert_to_registers(value, _PYMODBUS_TYPES[reg_type], _pymodbus_order(word_order))


def decode(registers: list[int], reg_type: RegType, word_order: str = "msw_first") -> int | float | str:
    """The value held by ``registers`` (exactly the type's size, or the ASCII length), by pymodbus's
    ``convert_from_registers``.

    ASCII drops trailing NULs (bytes above 127 read as Latin-1). Raises :class:`EncodingError` for a wrong
    register count or a register outside 0..65535.
    """
    size = reg_type.size or len(registers)
    if len(registers) != size:
        raise EncodingError(f"{reg_type.label} needs {size} registers, got {len(registers)}")
    if any(not 0 <= r <= 0xFFFF for r in registers):
        raise EncodingError(f"registers must be 0..65535, got {registers}")
    if reg_type is RegType.ASCII:
        value = ModbusClientMixin.convert_from_registers(list(registers), _PYMODBUS_TYPES[reg_type],
                                                         string_encoding="latin-1")
    else:
        value = ModbusClientMixin.convert_from_registers(list(registers), _PYMODBUS_TYPES[reg_type],
                                                         _pymodbus_order(word_order))
    if isinstance(value, list):  # pymodbus gives a list only for the BITS and multi-value data types
        raise EncodingError(f"{reg_type.label}: expected one value from {len(registers)} registers, got {value!r}")
    return value
