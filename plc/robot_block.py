"""The sampling robot's register block, hosted by the simulated PLC and backed by sampler's simulated robot.

The block layout is sampler's (:mod:`sampler.robot_registers`, one data table);
plc places it at :data:`ROBOT_BASE` (0-based; reference 43,001) in the simulated
PLC, serves reads through sampler's :class:`~sampler.robot_registers.RobotBlockAdapter`
(refreshed before each read and at every :meth:`~plc.simulated.SimulatedPlc.update`)
and hands client writes of the command area to it. Writes to the read-only part
of the block get exception 0x02 (illegal address), as everywhere in oreline.
"""

from __future__ import annotations

import threading
from typing import Any

from plc import codes
from plc.registers import READ, READ_WRITE, RegisterSpec, RegisterTable
from plc.store import RegisterStore
from plc.words import RegType
from sampler.robot import RobotState
from sampler.robot_registers import (
    COMMAND_OFFSET,
    ROBOT_BLOCK_SIZE,
    ROBOT_BLOCK_VERSION,
    ROBOT_REGISTERS,
    RobotBlockAdapter,
)

ROBOT_BASE = 3000
"""0-based address of the robot block's offset 0 in the simulated PLC (reference 43,001)."""

_TYPES = {"uint16": RegType.UINT16, "uint32": RegType.UINT32, "float32": RegType.FLOAT32}

#: sampler's robot state → the oreline map's SAMPLER_STATE (keyed by the enum, never by its numbers)
STATE_CODES: dict[RobotState, codes.SamplerState] = {
    RobotState.IDLE: codes.SamplerState.IDLE,
    RobotState.MOVING: codes.SamplerState.MOVING,
    RobotState.CUTTING: codes.SamplerState.CUTTING,
    RobotState.RETURNING: codes.SamplerState.RETURNING,
    RobotState.FAULT: codes.SamplerState.FAULT,
    RobotState.ESTOP: codes.SamplerState.ESTOP,
}


def sampler_state_code(robot_state: RobotState | int | None) -> codes.SamplerState:
    """The oreline map's SAMPLER_STATE for a :class:`sampler.robot.RobotState` (None or unknown → OFFLINE)."""
    if robot_state is None:
        return codes.SamplerState.OFFLINE
    try:
        return STATE_CODES[RobotState(robot_state)]
    except ValueError:
        return codes.SamplerState.OFFLINE


def robot_register_table(base: int = ROBOT_BASE) -> RegisterTable:
    """sampler's robot block as a :class:`RegisterTable` at ``base`` (for docs and address checks)."""
    rows = tuple(
        RegisterSpec(
            base + r.offset,
            r.name,
            _TYPES[r.type],
            r.unit,
            READ_WRITE if r.access == "RW" else READ,
            r.description,
        )
        for r in ROBOT_REGISTERS
    )
    return RegisterTable(
        "robot",
        rows,
        word_order="msw_first",
        version=(ROBOT_BLOCK_VERSION, 0),
        title="Sampling robot block (sampler/robot_registers.py)",
    )


class RobotBlockHost:
    """Keeps the robot block inside a :class:`RegisterStore` in step with a robot.

    ``robot`` is a :class:`sampler.robot.Robot` (normally ``SimulatedRobot``).
    :meth:`refresh` rewrites the block from the robot; :meth:`on_write` passes a
    client's write of the command area to the robot. Thread-safe.
    """

    def __init__(self, robot: Any, base: int = ROBOT_BASE) -> None:
        self.adapter = RobotBlockAdapter(robot)
        self.robot = robot
        self.base = base
        self.size = ROBOT_BLOCK_SIZE
        self.command_offset = COMMAND_OFFSET
        self.store: RegisterStore | None = None
        self._lock = threading.Lock()

    @property
    def block(self) -> tuple[int, int]:
        return (self.base, self.base + self.size)

    def writable(self) -> range:
        return range(self.base + self.command_offset, self.base + self.size)

    def attach(self, store: RegisterStore) -> None:
        self.store = store
        self.refresh()

    def overlaps(self, address: int, count: int) -> bool:
        return address < self.base + self.size and address + count > self.base

    def refresh(self) -> None:
        """Bring the block up to the robot's current state."""
        if self.store is None:
            return
        with self._lock:
            block = self.store.get(self.base, self.size)
            self.adapter.refresh(block)
            self.store.set(self.base, block)

    def on_write(self, address: int, values: list[int] | tuple[int, ...]) -> None:
        """A client wrote ``values`` at ``address`` (already stored); run the command it submits."""
        if self.store is None or not self.overlaps(address, len(values)):
            return
        with self._lock:
            block = self.store.get(self.base, self.size)
            self.adapter.handle_write(block, address - self.base, list(values))
            self.store.set(self.base, block)
