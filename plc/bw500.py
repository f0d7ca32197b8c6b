"""The belt-scale integrator's register map, modelled on the Siemens Milltronics BW500 / BW500/L.

Source: Siemens, *Milltronics BW500 and BW500/L Operating Instructions*, 12/2016,
A5E33482052-AD, section 11.5 "Modbus RTU/ASCII Protocol" (pp. 135-146), and the
Milltronics *Accumass BW500 Instruction Manual* PL-565 (2001), "Modbus Register
Map" (pp. 125, 131). What those sections state, and we follow:

* "Format (R40,062)": word order of all UINT32 values: 0 = most significant
  word first (default), 1 = least significant word first.
* "Device Identifier (R40,064)": 2 for the BW500 and BW500/L.
* "Process Values (R41,010 - R41,048) / Rate, Load, Speed, and Total
  (R41,010 - R41,019)": rate, load, speed, totaliser 1 and totaliser 2 in
  engineering units as displayed.
* "Parameter Values / 32 Bit": large numbers are unsigned 32-bit integers with
  a fixed decimal place of three ('7345' means 7.345).
* "Device State (41,020)": a bit-mapped state word.
* "Diagnostic State (41,200)": a number code (see the manual's Troubleshooting).

Not confirmed from the manual text we could read (documented as assumptions):
the order of the five values inside R41,010-R41,019 (taken as the order the
text lists them: rate, load, speed, total 1, total 2, two registers each); the
meaning of the Device State bits (not decoded; shown raw); that diagnostic
code 0 means "no fault". Engineering units are taken as t/h, kg/m, m/s and t
(the integrator's configured units must match). The BW500 speaks Modbus RTU;
over TCP it is reached through a gateway or SmartLinx module, which we assume
passes these registers through unchanged. The BW500 also has no signed speed: a
reversing belt is seen through the PLC's drive-state word (:data:`DRIVE_TABLE`),
which is ours, not Siemens'.

Addresses below are 0-based PDU addresses (reference R4x,xxx minus 40,001).
"""

from __future__ import annotations

from plc.codes import DriveState
from plc.registers import READ_WRITE, RegisterSpec, RegisterTable
from plc.words import RegType

DEVICE_IDENTIFIER_BW500 = 2
SCALE_3_DECIMALS = 0.001
UINT32_TOTAL_MODULUS_T = 2**32 * SCALE_3_DECIMALS
"""Where a UINT32 totaliser with three implied decimals wraps (4,294,967.296 t)."""

FORMAT_WORD_MSW_FIRST = 0
FORMAT_WORD_LSW_FIRST = 1
WORD_ORDER_BY_FORMAT = {FORMAT_WORD_MSW_FIRST: "msw_first", FORMAT_WORD_LSW_FIRST: "lsw_first"}
FORMAT_BY_WORD_ORDER = {v: k for k, v in WORD_ORDER_BY_FORMAT.items()}

PROCESS_BLOCK_START = 1009  # R41,010
PROCESS_BLOCK_COUNT = 11  # R41,010 .. R41,020 (rate .. device state)

_U16, _U32, _B16 = RegType.UINT16, RegType.UINT32, RegType.BITS16
_S = SCALE_3_DECIMALS


def bw500_table(word_order: str = "msw_first") -> RegisterTable:
    """The BW500 registers oreline reads, with UINT32 values in ``word_order``."""
    return RegisterTable(
        "bw500",
        (
            RegisterSpec(61, "FORMAT_WORD", _U16, "", READ_WRITE, "R40,062 word order of UINT32 values: "
                         "0 = most significant word first (default), 1 = least significant word first."),
            RegisterSpec(63, "DEVICE_IDENTIFIER", _U16, "", "R", "R40,064 device type: 2 = BW500 / BW500/L.",
                         constant=DEVICE_IDENTIFIER_BW500),
            RegisterSpec(1009, "RATE", _U32, "t/h", "R", "R41,010 flow rate.", scale=_S),
            RegisterSpec(1011, "LOAD", _U32, "kg/m", "R", "R41,012 belt loading.", scale=_S),
            RegisterSpec(1013, "SPEED", _U32, "m/s", "R", "R41,014 belt speed (unsigned).", scale=_S),
            RegisterSpec(1015, "TOTAL_1", _U32, "t", "R", "R41,016 totaliser 1 (wraps at 4,294,967.296 t).", scale=_S),
            RegisterSpec(1017, "TOTAL_2", _U32, "t", "R", "R41,018 totaliser 2.", scale=_S),
            RegisterSpec(1019, "DEVICE_STATE", _B16, "", "R", "R41,020 device state word (bits not decoded here)."),
            RegisterSpec(1199, "DIAGNOSTIC_STATE", _U16, "", "R", "R41,200 diagnostic code; 0 = no fault (assumed)."),
        ),
        word_order=word_order,
        title="Belt-scale integrator (Siemens Milltronics BW500-like)",
    )


BW500_TABLE = bw500_table()

DRIVE_BASE = 1999  # R42,000
DRIVE_TABLE = RegisterTable(
    "drive",
    (
        RegisterSpec(DRIVE_BASE, "DRIVE_STATE", _U16, "", "R", "Belt drive state (simulated PLC).", enum=DriveState),
        RegisterSpec(DRIVE_BASE + 1, "DRIVE_FAULT_CODE", _U16, "", "R", "Drive fault code, 0 = none (simulated PLC)."),
        RegisterSpec(DRIVE_BASE + 2, "ENCODER_COUNT", _U32, "pulses", "R", "Belt encoder pulses, counts down while "
                     "reversing, wraps at 2^32 (simulated PLC, MSW first)."),
    ),
    word_order="msw_first",
    title="Belt drive (simulated PLC; oreline's own block, not Siemens')",
)
