"""A simulated PLC with a BW500-like belt-scale integrator, served over Modbus TCP (127.0.0.1 by default).

:class:`SimulatedPlc` takes a feed (normally :class:`conveyor.feed.SimulatedFeed`)
and, on each :meth:`SimulatedPlc.update`, writes the feed's reading for that
time into the integrator registers of :mod:`plc.bw500` (UINT32, three implied
decimals, word order per the FORMAT_WORD register R40,062, which clients may
write) and into the PLC's drive block (drive state, encoder count). The line
runtime calls ``update(time_s)`` each tick before the belt-scale client reads, so
a demo runs on the simulated clock. Faults for tests: :meth:`inject_totaliser_step`,
:meth:`set_diagnostic`, and stopping/restarting the server (a PLC disconnect).
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any, Sequence

from pymodbus.constants import ExcCodes
from pymodbus.pdu.device import ModbusDeviceIdentification

from conveyor.feed import FeedSource, ScaleReading
from conveyor.units import loading_kg_m
from plc.bw500 import (
    BW500_TABLE,
    DRIVE_TABLE,
    FORMAT_BY_WORD_ORDER,
    UINT32_TOTAL_MODULUS_T,
    WORD_ORDER_BY_FORMAT,
    bw500_table,
)
from plc.codes import DriveState
from plc.errors import ServerError
from plc.registers import RegisterTable
from plc.robot_block import ROBOT_BASE, RobotBlockHost
from plc.runner import ModbusServerThread, ThreadServed
from plc.store import RegisterStore
from plc.words import check_word_order

log = logging.getLogger(__name__)

_FORMAT = BW500_TABLE["FORMAT_WORD"].address
_BW500_VALUE_MAX = 0xFFFFFFFF * 0.001


def _blocks(table: RegisterTable, max_gap: int = 4) -> list[tuple[int, int]]:
    """(start, end) runs of a table's entries; gaps of up to ``max_gap`` registers inside a run read as 0."""
    runs: list[tuple[int, int]] = []
    for e in table:
        if runs and e.address - runs[-1][1] <= max_gap:
            runs[-1] = (runs[-1][0], e.end)
        else:
            runs.append((e.address, e.end))
    return runs


class SimulatedPlc(ThreadServed):
    """A PLC + BW500-like integrator fed by ``feed``; serve with :meth:`start`, drive with :meth:`update`.

    ``word_order`` is the integrator's initial FORMAT_WORD; ``pulses_per_m`` the
    simulated encoder resolution. ``robot`` (a :class:`sampler.robot.Robot`, normally
    ``SimulatedRobot``) is served as sampler's robot block at ``robot_base``.
    Raises :class:`ServerError` for bad settings.
    """

    def __init__(
        self,
        feed: FeedSource,
        host: str = "127.0.0.1",
        port: int = 0,
        device_id: int = 1,
        *,
        word_order: str = "msw_first",
        pulses_per_m: float = 100.0,
        robot: Any = None,
        robot_base: int = ROBOT_BASE,
    ) -> None:
        if not isinstance(device_id, int) or not 1 <= device_id <= 247:
            raise ServerError(f"device_id must be 1..247, got {device_id!r}")
        if not pulses_per_m > 0:
            raise ServerError(f"pulses_per_m must be > 0, got {pulses_per_m}")
        self.feed = feed
        self.device_id = device_id
        self.pulses_per_m = pulses_per_m
        self._format = FORMAT_BY_WORD_ORDER[check_word_order(word_order)]
        self._tables = {order: bw500_table(order) for order in FORMAT_BY_WORD_ORDER}
        self._lock = threading.Lock()
        self._last: ScaleReading | None = None
        self._last_time_s: float | None = None
        self._totaliser_offset_t = 0.0
        self._diagnostic = 0
        self._encoder_m = 0.0
        self.updates = 0
        blocks = _blocks(BW500_TABLE) + _blocks(DRIVE_TABLE)
        writable: list[int] = [_FORMAT]
        self.robot_host: RobotBlockHost | None = None
        if robot is not None:
            self.robot_host = RobotBlockHost(robot, robot_base)
            blocks.append(self.robot_host.block)
            writable += list(self.robot_host.writable())
        self.store = RegisterStore(
            blocks,
            [device_id],
            writable,
            validator=self._validate_write,
            listener=self._on_write,
            before_read=self._before_read,
        )
        self.store.update(self._static_registers())
        if self.robot_host is not None:
            self.robot_host.attach(self.store)
        identity = ModbusDeviceIdentification(
            info_name={"VendorName": "oreline", "ProductCode": "SIM-BW500", "ProductName": "simulated PLC + belt scale"}
        )
        self._runner = ModbusServerThread(self.store, host, port, "simulated-plc", identity)

    # ---- lifecycle: host, port, running, start, stop (ThreadServed) ----
    @property
    def clients(self) -> int:
        return self._runner.clients

    # ---- integrator ----
    @property
    def word_order(self) -> str:
        """The integrator's current UINT32 word order (FORMAT_WORD, clients may change it)."""
        return WORD_ORDER_BY_FORMAT[self._format]

    def _static_registers(self) -> list[tuple[int, Sequence[int]]]:
        table = self._tables[self.word_order]
        return [
            (_FORMAT, [self._format]),
            (table["DEVICE_IDENTIFIER"].address, table.encode_value(table["DEVICE_IDENTIFIER"], 2)),
        ]

    def _registers_for(self, reading: ScaleReading) -> list[tuple[int, Sequence[int]]]:
        table = self._tables[self.word_order]
        total = math.fmod(max(0.0, reading.totaliser_t + self._totaliser_offset_t), UINT32_TOTAL_MODULUS_T)
        speed = abs(reading.speed_m_s)
        rate = max(0.0, reading.rate_t_h)
        values: dict[str, Any] = {
            "RATE": min(rate, _BW500_VALUE_MAX),
            "LOAD": min(loading_kg_m(rate, speed), _BW500_VALUE_MAX),
            "SPEED": min(speed, _BW500_VALUE_MAX),
            "TOTAL_1": min(total, _BW500_VALUE_MAX),
            "TOTAL_2": min(total, _BW500_VALUE_MAX),
            "DEVICE_STATE": 0,
            "DIAGNOSTIC_STATE": self._diagnostic,
        }
        changes: list[tuple[int, Sequence[int]]] = [(table[n].address, table.encode_value(table[n], v)) for n, v in values.items()]
        if reading.speed_m_s > 0:
            drive = DriveState.FORWARD
        elif reading.speed_m_s < 0:
            drive = DriveState.REVERSE
        else:
            drive = DriveState.STOPPED
        pulses = int(math.floor(self._encoder_m * self.pulses_per_m)) % 2**32
        d = DRIVE_TABLE
        changes += [
            (d["DRIVE_STATE"].address, d.encode_value(d["DRIVE_STATE"], drive)),
            (d["DRIVE_FAULT_CODE"].address, [0]),
            (d["ENCODER_COUNT"].address, d.encode_value(d["ENCODER_COUNT"], pulses)),
        ]
        return changes

    def update(self, time_s: float) -> ScaleReading:
        """Read the feed at ``time_s`` and show it in the registers (atomically); returns the feed's reading."""
        reading = self.feed.read(time_s)
        with self._lock:
            if self._last_time_s is not None and time_s > self._last_time_s:
                self._encoder_m += reading.speed_m_s * (time_s - self._last_time_s)
            self._last_time_s = time_s if self._last_time_s is None else max(self._last_time_s, time_s)
            self._last = reading
            self.store.update(self._registers_for(reading))
            self.updates += 1
        if self.robot_host is not None:
            self.robot_host.refresh()
        return reading

    # ---- fault injection ----
    def inject_totaliser_step(self, delta_t: float) -> None:
        """Shift the shown totaliser by ``delta_t`` tonnes from now on (negative = a backwards step)."""
        with self._lock:
            self._totaliser_offset_t += delta_t
            if self._last is not None:
                self.store.update(self._registers_for(self._last))

    def set_diagnostic(self, code: int) -> None:
        """Show diagnostic ``code`` (0..65535) in R41,200 from the next update on."""
        if not 0 <= code <= 0xFFFF:
            raise ServerError(f"diagnostic code must be 0..65535, got {code}")
        with self._lock:
            self._diagnostic = code
            if self._last is not None:
                self.store.update(self._registers_for(self._last))

    # ---- client writes (server loop thread) ----
    def _validate_write(self, address: int, values: Sequence[int], peek: Any) -> ExcCodes | None:
        if address <= _FORMAT < address + len(values) and peek(_FORMAT) not in WORD_ORDER_BY_FORMAT:
            return ExcCodes.ILLEGAL_VALUE
        return None

    def _before_read(self, address: int, count: int) -> None:
        if self.robot_host is not None and self.robot_host.overlaps(address, count):
            self.robot_host.refresh()

    def _on_write(self, address: int, values: Sequence[int]) -> None:
        if self.robot_host is not None:
            self.robot_host.on_write(address, list(values))
        if address <= _FORMAT < address + len(values):
            with self._lock:
                self._format = values[_FORMAT - address]
                log.info("simulated BW500: word order set to %s by a client", self.word_order)
                if self._last is not None:
                    self.store.update(self._registers_for(self._last))
