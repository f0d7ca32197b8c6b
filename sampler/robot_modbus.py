"""The Modbus robot backend: commands and status through the robot block of the PLC register map.

The robot (or the PLC that drives it) hosts the block of :mod:`sampler.robot_registers`
at ``base_address`` (holding registers). A cut is one FC16 write of the command
area; the backend then waits (line clock, bounded) for ACK_SEQ, and on every poll
reads the block to follow STATE, counters and the result (DONE_SEQ).
"""

from __future__ import annotations

import math
from typing import Any

from conveyor.clock import Clock

from sampler.errors import RobotBusyError, RobotCommunicationError, RobotFaultError
from sampler.robot import CutResult, CutStatus, Robot, RobotCounters, RobotState, RobotTimings
from sampler.robot_registers import (
    COMMAND_OFFSET,
    ROBOT_BLOCK_SIZE,
    ROBOT_BLOCK_VERSION,
    AckCode,
    CommandCode,
    encode_command,
    next_seq,
    read_field,
)


class ModbusRobot(Robot):
    """A robot behind Modbus TCP.

    ``host``/``port``/``device_id`` address the server; ``base_address`` is the first
    holding register of the robot block. ``timeout_s`` bounds each request (wall
    seconds, pymodbus) and ``ack_timeout_s`` the wait for ACK_SEQ (line-clock seconds,
    polled every ``poll_interval_s``). Connects on :meth:`open` (every public call opens
    first), which raises :class:`RobotCommunicationError` when the server cannot be reached
    or the block version does not match.
    """

    backend = "modbus"

    def __init__(
        self, clock: Clock, *, host: str = "127.0.0.1", port: int = 502, device_id: int = 1, base_address: int = 0,
        timeout_s: float = 1.0, ack_timeout_s: float = 2.0, poll_interval_s: float = 0.02, retries: int = 1,
        status_margin_s: float = 10.0,
    ) -> None:
        super().__init__(clock, status_margin_s=status_margin_s)
        if not 0 <= base_address <= 65535 - ROBOT_BLOCK_SIZE:
            raise RobotCommunicationError(f"base_address must be 0..{65535 - ROBOT_BLOCK_SIZE}, got {base_address!r}")
        self.host, self.port, self.device_id, self.base_address = host, int(port), int(device_id), int(base_address)
        self.timeout_s, self.retries = float(timeout_s), int(retries)
        self.ack_timeout_s = float(ack_timeout_s)
        self.poll_interval_s = float(poll_interval_s)
        self._client: Any = None
        self._block: list[int] = []
        self._seq = 0
        self._pending_seq: int | None = None

    def _open_backend(self) -> None:
        """Connect, read the block and check its version (no I/O happens in ``__init__``)."""
        from pymodbus.client import ModbusTcpClient

        self._client = ModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=self.retries)
        if not self._client.connect():
            raise RobotCommunicationError(f"cannot connect to robot at {self.host}:{self.port}")
        self._block = self._read_block()
        version = int(read_field(self._block, "BLOCK_VERSION"))
        if version != ROBOT_BLOCK_VERSION:
            self._client.close()
            raise RobotCommunicationError(
                f"robot block at {self.host}:{self.port} address {self.base_address}: expected version "
                f"{ROBOT_BLOCK_VERSION}, got {version}"
            )
        self._seq = int(read_field(self._block, "ACK_SEQ"))

    # ---- transport ------------------------------------------------------------------------------
    def _read_block(self) -> list[int]:
        try:
            rr = self._client.read_holding_registers(self.base_address, count=ROBOT_BLOCK_SIZE, device_id=self.device_id)
        except Exception as exc:  # pymodbus raises ConnectionException/ModbusIOException
            raise RobotCommunicationError(f"reading robot block at {self.host}:{self.port}: {exc}") from exc
        if rr.isError():
            raise RobotCommunicationError(f"reading robot block at {self.host}:{self.port}: {rr}")
        return list(rr.registers)

    def _write_command(self, code: CommandCode, delay_s: float = 0.0, number: int = 0) -> int:
        seq = next_seq(self._seq)
        words = encode_command(code, seq, delay_s, number)
        try:
            wr = self._client.write_registers(self.base_address + COMMAND_OFFSET, words, device_id=self.device_id)
        except Exception as exc:
            raise RobotCommunicationError(f"writing robot command to {self.host}:{self.port}: {exc}") from exc
        if wr.isError():
            raise RobotCommunicationError(f"writing robot command to {self.host}:{self.port}: {wr}")
        self._seq = seq
        deadline = self.clock.now_s() + self.ack_timeout_s
        while True:
            self._block = self._read_block()
            if int(read_field(self._block, "ACK_SEQ")) == seq:
                return int(read_field(self._block, "ACK_CODE"))
            now = self.clock.now_s()
            if now >= deadline:
                raise RobotCommunicationError(
                    f"robot did not acknowledge command {code.name} seq {seq} within {self.ack_timeout_s} s"
                )
            self.clock.sleep_until(min(deadline, now + self.poll_interval_s))

    # ---- hooks ----------------------------------------------------------------------------------
    @property
    def timings(self) -> RobotTimings:
        self.open()
        b = self._block  # float32 on the wire: round away the representation noise (µs)
        return RobotTimings(
            travel_s=round(float(read_field(b, "TRAVEL_S")), 6), cut_s=round(float(read_field(b, "CUT_S")), 6),
            return_s=round(float(read_field(b, "RETURN_S")), 6), jitter_s=round(float(read_field(b, "JITTER_S")), 6),
        )

    def _command_cut(self, status: CutStatus) -> None:
        delay = max(0.0, status.target_time_s - self.clock.now_s())
        ack = self._write_command(CommandCode.CUT, delay, status.number)
        if ack == AckCode.BUSY:
            raise RobotBusyError(f"cut {status.increment_id}: robot reports busy")
        if ack == AckCode.FAULTED:
            raise RobotFaultError(f"cut {status.increment_id}: robot reports a fault; reset it first")
        if ack != AckCode.ACCEPTED:
            raise RobotCommunicationError(f"cut {status.increment_id}: robot refused the command (ACK_CODE {ack})")
        self._pending_seq = self._seq

    def _poll_backend(self) -> None:
        self._block = self._read_block()
        status = self._active
        if status is None or status.result is not CutResult.PENDING or self._pending_seq is None:
            return
        if int(read_field(self._block, "DONE_SEQ")) != self._pending_seq:
            return
        code = int(read_field(self._block, "RESULT_CODE"))
        try:
            result = CutResult(code)
        except ValueError:
            result = CutResult.REJECTED
        offset = float(read_field(self._block, "RESULT_OFFSET_S"))
        actual = status.target_time_s + offset if math.isfinite(offset) else math.nan
        fault = "" if result is CutResult.CUT else f"robot reported {result.name}"
        self._pending_seq = None
        status._finish(result, actual, fault)

    def _read_state(self) -> RobotState:
        return RobotState(int(read_field(self._block, "STATE")))

    def _read_counters(self) -> RobotCounters:
        b = self._block
        return RobotCounters(
            cuts_commanded=int(read_field(b, "CUTS_COMMANDED")), cuts_ok=int(read_field(b, "CUTS_OK")),
            missed=int(read_field(b, "MISSED_TOTAL")), jams=int(read_field(b, "JAMS_TOTAL")),
            estops=int(read_field(b, "ESTOPS_TOTAL")),
        )

    def _reset_backend(self) -> None:
        ack = self._write_command(CommandCode.RESET)
        if ack != AckCode.ACCEPTED:
            raise RobotCommunicationError(f"robot refused RESET (ACK_CODE {ack})")
        if self._active is not None and self._active.result is CutResult.PENDING:
            self._active._finish(CutResult.ABORTED, math.nan, "aborted by reset")
        self._pending_seq = None

    def _estop_backend(self) -> None:
        ack = self._write_command(CommandCode.ESTOP)
        if ack != AckCode.ACCEPTED:
            raise RobotCommunicationError(f"robot refused ESTOP (ACK_CODE {ack})")

    def _close_backend(self) -> None:
        self._client.close()

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(host=self.host, port=self.port, device_id=self.device_id, base_address=self.base_address)
        return info

