"""The sampling robot's Modbus register block: one data table, codecs, and the robot-side adapter.

The block is a run of holding registers (function codes 3/6/16) starting at a base
address chosen by the PLC map (``plc/``). Offsets below are relative to that base.
Types: ``uint16`` one register; ``uint32`` two registers, high word first;
``float32`` IEEE-754 in two registers, big-endian word order (high word first).
``R`` registers are written by the robot side only; ``RW`` by the client.

Command handshake (client = oreline, robot side = PLC hosting the robot):

1. The client writes CMD_CODE, CMD_DELAY_S, CMD_NUMBER and, last, CMD_SEQ in one
   FC16 write of offsets 30..35. A CMD_SEQ different from the last one seen is a new
   command (sequence 1..65535, wrapping past 0).
2. The robot side sets ACK_SEQ = CMD_SEQ and ACK_CODE (0 accepted, else refused).
3. When a cut finishes, DONE_SEQ = its sequence number, RESULT_CODE its
   :class:`~sampler.robot.CutResult`, RESULT_NUMBER its increment number and
   RESULT_OFFSET_S actual − target mid-stream time in s (NaN when the cutter never
   reached the stream).

CMD_DELAY_S is "seconds from acceptance of the command to the wanted mid-stream
time": it avoids sharing an absolute clock; the Modbus round trip (ms) adds to the
timing error and is not measured.

The block layout is versioned by BLOCK_VERSION; any change of offsets or codes bumps it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, MutableSequence, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal

from pymodbus.client.mixin import ModbusClientMixin

from sampler.errors import (
    RobotBusyError,
    RobotCommunicationError,
    RobotError,
    RobotFaultError,
)
from sampler.robot import Robot, RobotState

RegisterType = Literal["uint16", "uint32", "float32"]
Access = Literal["R", "RW"]

#: Layout version stored in register BLOCK_VERSION.
ROBOT_BLOCK_VERSION = 1


@dataclass(frozen=True)
class RobotRegister:
    """One entry of the robot block: offset from the block base, name, type, access, unit, description."""

    offset: int
    name: str
    type: RegisterType
    access: Access
    description: str
    unit: str = ""

    @property
    def count(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return 1 if self.type == "uint16" else 2


class CommandCode(IntEnum):
    """Values of CMD_CODE."""

    NONE = 0
    CUT = 1  #: cut with mid-stream CMD_DELAY_S seconds after acceptance; tag CMD_NUMBER
    RESET = 2  #: clear FAULT/ESTOP; aborts a pending cut
    ESTOP = 3  #: emergency stop


class AckCode(IntEnum):
    """Values of ACK_CODE."""

    ACCEPTED = 0
    BUSY = 1  #: a cut is still pending
    FAULTED = 2  #: robot in FAULT/ESTOP
    BAD_COMMAND = 3  #: unknown CMD_CODE
    BAD_VALUE = 4  #: CMD_DELAY_S not finite or negative


class FaultCode(IntEnum):
    """Values of FAULT_CODE."""

    NONE = 0
    JAM = 1
    ESTOP = 2


# fmt: off
#: The robot block. One table: the client, the robot-side adapter, the PLC map document and the tests use it.
ROBOT_REGISTERS: tuple[RobotRegister, ...] = (
    RobotRegister(0,  "BLOCK_VERSION",   "uint16",  "R",  f"register layout version (= {ROBOT_BLOCK_VERSION})"),
    RobotRegister(1,  "HEARTBEAT",       "uint16",  "R",  "incremented at every refresh by the robot side (wraps)"),
    RobotRegister(2,  "STATE",           "uint16",  "R",  "0 idle, 1 moving, 2 cutting, 3 returning, 4 fault, 5 e-stop"),
    RobotRegister(3,  "FAULT_CODE",      "uint16",  "R",  "0 none, 1 jam, 2 e-stop"),
    RobotRegister(4,  "ACK_SEQ",         "uint16",  "R",  "CMD_SEQ of the last command seen"),
    RobotRegister(5,  "ACK_CODE",        "uint16",  "R",  "0 accepted, 1 busy, 2 faulted, 3 bad command, 4 bad value"),
    RobotRegister(6,  "DONE_SEQ",        "uint16",  "R",  "CMD_SEQ of the last finished cut"),
    RobotRegister(7,  "RESULT_CODE",     "uint16",  "R",  "result of DONE_SEQ: 1 cut, 2 missed, 3 jammed, 4 e-stop, 6 aborted"),
    RobotRegister(8,  "RESULT_NUMBER",   "uint32",  "R",  "increment number of the last finished cut"),
    RobotRegister(10, "RESULT_OFFSET_S", "float32", "R",  "actual - target mid-stream time of the last cut (NaN: never reached)", "s"),
    RobotRegister(12, "CUTS_COMMANDED",  "uint32",  "R",  "cuts accepted since power-up"),
    RobotRegister(14, "CUTS_OK",         "uint32",  "R",  "cuts that collected an increment"),
    RobotRegister(16, "MISSED_TOTAL",    "uint32",  "R",  "cuts that crossed but collected nothing"),
    RobotRegister(18, "JAMS_TOTAL",      "uint32",  "R",  "jams"),
    RobotRegister(20, "ESTOPS_TOTAL",    "uint32",  "R",  "emergency stops"),
    RobotRegister(22, "TRAVEL_S",        "float32", "R",  "park -> stream edge travel time", "s"),
    RobotRegister(24, "CUT_S",           "float32", "R",  "time to cross the stream", "s"),
    RobotRegister(26, "RETURN_S",        "float32", "R",  "stream edge -> park time", "s"),
    RobotRegister(28, "JITTER_S",        "float32", "R",  "standard deviation of motion start", "s"),
    RobotRegister(30, "CMD_CODE",        "uint16",  "RW", "0 none, 1 cut, 2 reset, 3 e-stop"),
    RobotRegister(31, "CMD_DELAY_S",     "float32", "RW", "cut: seconds from acceptance to the wanted mid-stream time", "s"),
    RobotRegister(33, "CMD_NUMBER",      "uint32",  "RW", "cut: increment number (echoed in RESULT_NUMBER)"),
    RobotRegister(35, "CMD_SEQ",         "uint16",  "RW", "command sequence 1..65535; write last, a change triggers the command"),
)
# fmt: on

#: Registers by name.
REGISTERS_BY_NAME: dict[str, RobotRegister] = {r.name: r for r in ROBOT_REGISTERS}
#: Number of 16-bit registers in the block.
ROBOT_BLOCK_SIZE: int = max(r.offset + r.count for r in ROBOT_REGISTERS)
#: First offset of the client-written command area (written in one FC16 request).
COMMAND_OFFSET: int = REGISTERS_BY_NAME["CMD_CODE"].offset
#: Number of registers in the command area.
COMMAND_SIZE: int = ROBOT_BLOCK_SIZE - COMMAND_OFFSET


#: robot state → FAULT_CODE (keyed by the enum, never by its numbers)
_FAULT_OF_STATE: dict[RobotState, FaultCode] = {RobotState.FAULT: FaultCode.JAM, RobotState.ESTOP: FaultCode.ESTOP}


# ---- codecs ------------------------------------------------------------------------------------
_DATATYPES = {"uint16": ModbusClientMixin.DATATYPE.UINT16, "uint32": ModbusClientMixin.DATATYPE.UINT32,
              "float32": ModbusClientMixin.DATATYPE.FLOAT32}
_LIMITS = {"uint16": 2**16, "uint32": 2**32}


def encode_value(reg: RobotRegister, value: float | int) -> list[int]:
    """Registers (16-bit ints) holding ``value`` as ``reg.type`` (pymodbus's codec, high word first);
    raises RobotError when it does not fit."""
    if reg.type in _LIMITS:
        v = int(value)
        if not 0 <= v < _LIMITS[reg.type]:
            raise RobotError(f"{reg.name}: expected {reg.type} 0..{_LIMITS[reg.type] - 1}, got {value!r}")
        return ModbusClientMixin.convert_to_registers(v, _DATATYPES[reg.type])
    return ModbusClientMixin.convert_to_registers(float(value), _DATATYPES[reg.type])


def decode_value(reg: RobotRegister, words: Sequence[int]) -> float | int:
    """The value of ``reg`` from its registers (``reg.count`` words, pymodbus's codec)."""
    if len(words) != reg.count:
        raise RobotError(f"{reg.name}: expected {reg.count} registers, got {len(words)}")
    value = ModbusClientMixin.convert_from_registers([int(w) for w in words], _DATATYPES[reg.type])
    if isinstance(value, (list, str)):  # pymodbus gives these only for the BITS, multi-value and STRING types
        raise RobotError(f"{reg.name}: expected one number from {reg.count} registers, got {value!r}")
    return value


def read_field(block: Sequence[int], name: str) -> float | int:
    """Decode register ``name`` from a whole block (a sequence of ROBOT_BLOCK_SIZE words)."""
    reg = REGISTERS_BY_NAME[name]
    return decode_value(reg, block[reg.offset: reg.offset + reg.count])


def write_field(block: MutableSequence[int], name: str, value: float | int) -> None:
    """Encode ``value`` into register ``name`` of a whole block, in place."""
    reg = REGISTERS_BY_NAME[name]
    block[reg.offset: reg.offset + reg.count] = encode_value(reg, value)


def encode_command(code: CommandCode, seq: int, delay_s: float = 0.0, number: int = 0) -> list[int]:
    """The COMMAND_SIZE words to write at COMMAND_OFFSET (CMD_SEQ last)."""
    if not 1 <= seq < 2**16:
        raise RobotError(f"CMD_SEQ must be 1..65535, got {seq!r}")
    words = [0] * COMMAND_SIZE
    for name, value in (("CMD_CODE", int(code)), ("CMD_DELAY_S", delay_s), ("CMD_NUMBER", number), ("CMD_SEQ", seq)):
        reg = REGISTERS_BY_NAME[name]
        words[reg.offset - COMMAND_OFFSET: reg.offset - COMMAND_OFFSET + reg.count] = encode_value(reg, value)
    return words


def next_seq(seq: int) -> int:
    """The command sequence number after ``seq`` (1..65535, skipping 0)."""
    return seq % 65535 + 1


def register_table_rows() -> list[dict[str, Any]]:
    """The table as plain rows (for the PLC register-map document and CSV exports)."""
    return [
        {"offset": r.offset, "count": r.count, "name": r.name, "type": r.type, "access": r.access, "unit": r.unit,
         "description": r.description}
        for r in ROBOT_REGISTERS
    ]


# ---- robot side ------------------------------------------------------------------------------
class RobotBlockAdapter:
    """Serves the block for a local robot (normally a :class:`~sampler.robot_sim.SimulatedRobot`).

    The host (the simulated PLC, or a test server) keeps the block's words and calls
    :meth:`refresh` before answering a read and :meth:`handle_write` for a client write.
    Both work on a mutable sequence of ROBOT_BLOCK_SIZE words; pymodbus is not needed.
    """

    def __init__(self, robot: Any) -> None:
        if not isinstance(robot, Robot):
            raise RobotError(f"expected a sampler.robot.Robot, got {type(robot).__name__}")
        self.robot = robot
        self._last_seq = 0
        self._seq_of: dict[int, Any] = {}
        self._heartbeat = 0
        self._reported_done: Any = None

    def new_block(self) -> list[int]:
        """A fresh, refreshed block."""
        block = [0] * ROBOT_BLOCK_SIZE
        self.refresh(block)
        return block

    def handle_write(self, block: MutableSequence[int], offset: int, values: Sequence[int]) -> None:
        """Apply a client write of ``values`` at block ``offset``; run a new command; refresh.

        Raises :class:`RobotCommunicationError` for a write outside the block or to an ``R`` register
        (the host should answer with an ILLEGAL_ADDRESS exception).
        """
        end = offset + len(values)
        if offset < COMMAND_OFFSET or end > ROBOT_BLOCK_SIZE:
            raise RobotCommunicationError(
                f"robot block: writes allowed at offsets {COMMAND_OFFSET}..{ROBOT_BLOCK_SIZE - 1}, "
                f"got {offset}..{end - 1}"
            )
        block[offset:end] = [int(v) & 0xFFFF for v in values]
        seq = int(read_field(block, "CMD_SEQ"))
        if seq != self._last_seq and seq != 0:
            self._last_seq = seq
            write_field(block, "ACK_CODE", int(self._run(block, seq)))
            write_field(block, "ACK_SEQ", seq)
        self.refresh(block)

    def _run(self, block: Sequence[int], seq: int) -> AckCode:
        try:
            code = CommandCode(int(read_field(block, "CMD_CODE")))
        except ValueError:
            return AckCode.BAD_COMMAND
        if code is CommandCode.NONE:
            return AckCode.BAD_COMMAND
        if code is CommandCode.RESET:
            self.robot.reset()
            return AckCode.ACCEPTED
        if code is CommandCode.ESTOP:
            self.robot.estop()
            return AckCode.ACCEPTED
        delay = float(read_field(block, "CMD_DELAY_S"))
        if not (math.isfinite(delay) and delay >= 0):
            return AckCode.BAD_VALUE
        number = int(read_field(block, "CMD_NUMBER"))
        try:
            status = self.robot.cut(self.robot.clock.now_s() + delay, f"modbus-seq-{seq}", number=number)
        except RobotBusyError:
            return AckCode.BUSY
        except RobotFaultError:
            return AckCode.FAULTED
        self._seq_of = {seq: status}
        return AckCode.ACCEPTED

    def refresh(self, block: MutableSequence[int]) -> None:
        """Write the robot's current state, counters, timings and last result into ``block``."""
        robot = self.robot
        state = robot.state
        counters = robot.counters
        t = robot.timings
        self._heartbeat = (self._heartbeat + 1) % 65536
        write_field(block, "BLOCK_VERSION", ROBOT_BLOCK_VERSION)
        write_field(block, "HEARTBEAT", self._heartbeat)
        write_field(block, "STATE", int(state))
        fault = _FAULT_OF_STATE.get(RobotState(int(state)), FaultCode.NONE)
        write_field(block, "FAULT_CODE", int(fault))
        for name, value in (
            ("CUTS_COMMANDED", counters.cuts_commanded), ("CUTS_OK", counters.cuts_ok),
            ("MISSED_TOTAL", counters.missed), ("JAMS_TOTAL", counters.jams), ("ESTOPS_TOTAL", counters.estops),
            ("TRAVEL_S", t.travel_s), ("CUT_S", t.cut_s), ("RETURN_S", t.return_s), ("JITTER_S", t.jitter_s),
        ):
            write_field(block, name, value)
        for seq, status in self._seq_of.items():
            if status.done and self._reported_done is not status:
                self._reported_done = status
                write_field(block, "RESULT_CODE", int(status.result))
                write_field(block, "RESULT_NUMBER", status.number)
                write_field(block, "RESULT_OFFSET_S", status.timing_error_s)
                write_field(block, "DONE_SEQ", seq)


def pymodbus_action(adapter: RobotBlockAdapter, block_address: int) -> Callable[..., Awaitable[Any]]:
    """An async ``SimDevice(action=...)`` callback serving ``adapter`` at holding-register ``block_address``.

    The device's register list must include the block (ROBOT_BLOCK_SIZE holding registers
    from ``block_address``). Requests that do not touch the block pass through unchanged.
    Writes to read-only block registers are answered with ILLEGAL_ADDRESS.
    """
    from pymodbus.constants import ExcCodes

    async def action(function_code: int, start_address: int, address: int, count: int,
                     current_registers: list[int], set_values: list[int] | None) -> Any:
        lo, hi = block_address, block_address + ROBOT_BLOCK_SIZE
        if address + count <= lo or address >= hi:
            return None
        base = block_address - start_address
        block = current_registers[base: base + ROBOT_BLOCK_SIZE]
        if set_values:
            if address < lo or address + len(set_values) > hi:
                return ExcCodes.ILLEGAL_ADDRESS
            try:
                adapter.handle_write(block, address - lo, set_values)
            except RobotCommunicationError:
                return ExcCodes.ILLEGAL_ADDRESS
            # keep the client's words (pymodbus writes set_values after this call) and the refreshed status
            current_registers[base: base + ROBOT_BLOCK_SIZE] = block
            return None
        adapter.refresh(block)
        current_registers[base: base + ROBOT_BLOCK_SIZE] = block
        return None

    return action


def register_table_markdown() -> str:
    """The block as a Markdown table (docs/sampling.md embeds it; a test checks they agree)."""
    lines = ["| offset | name | type | access | unit | description |", "|---:|---|---|---|---|---|"]
    for r in ROBOT_REGISTERS:
        lines.append(f"| {r.offset} | {r.name} | {r.type} | {r.access} | {r.unit} | {r.description} |")
    return "\n".join(lines)
