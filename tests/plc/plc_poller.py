"""A PLC-like poller for the line-process tests: reads the status block over Modbus TCP, acknowledges verdicts.

It runs in a thread next to an ``oreline run`` / ``control-room`` subprocess, like a PLC scan: every
``period_s`` it reads registers 0..99 and the segment-event FIFO, counts failed reads, records each final
verdict (with its lot number and VERDICT_SEQ) and acknowledges it by writing VERDICT_ACK_SEQ.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass, field

from pymodbus.client import ModbusTcpClient

from plc import codes
from plc.events import read_events
from plc.registers import (
    EVENT_BASE,
    EVENT_SLOT_SIZE,
    EVENT_SLOTS,
    ORELINE_MAP,
    STATUS_END,
)

MODBUS_LINE = re.compile(r"modbus:?\s+127\.0\.0\.1:(\d+)")


@dataclass
class Poll:
    reads: int = 0
    failed: int = 0
    verdicts: list[tuple[int, str, int]] = field(default_factory=list)  # (lot number, verdict, VERDICT_SEQ)
    events: list[dict] = field(default_factory=list)
    heartbeats: list[int] = field(default_factory=list)
    lot_numbers: set[int] = field(default_factory=set)
    last: dict = field(default_factory=dict)


class PlcPoller:
    """Polls ``127.0.0.1:port`` from a thread until :meth:`stop` (or ``stop_after`` verdicts were acknowledged)."""

    def __init__(self, port: int, period_s: float = 0.02, ack: bool = True, stop_after: int = 0) -> None:
        self.client = ModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        assert self.client.connect(), f"cannot connect to the oreline Modbus server on port {port}"
        self.period_s, self.ack, self.stop_after = period_s, ack, stop_after
        self.poll = Poll()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._last_event = 0

    def start(self) -> PlcPoller:
        self._thread.start()
        return self

    def stop(self) -> Poll:
        self._stop.set()
        self._thread.join(5)
        self.client.close()
        return self.poll

    def _read(self, address: int, count: int) -> list[int] | None:
        try:
            rr = self.client.read_holding_registers(address, count=count, device_id=1)
        except Exception:  # a connection loss is a failed read, like on a PLC
            rr = None
        self.poll.reads += 1
        if rr is None or rr.isError():
            self.poll.failed += 1
            return None
        return list(rr.registers)

    def _run(self) -> None:
        fifo_end = EVENT_BASE + 2 + EVENT_SLOTS * EVENT_SLOT_SIZE
        while not self._stop.wait(self.period_s):
            regs = self._read(0, STATUS_END)
            fifo = []
            for start in range(EVENT_BASE, fifo_end, 120):
                part = self._read(start, min(120, fifo_end - start))
                fifo = fifo + part if part is not None and fifo is not None else None
            if regs is None or fifo is None:
                continue
            named = ORELINE_MAP.decode_image(regs, 0)
            self.poll.last = named
            self.poll.heartbeats.append(int(named["HEARTBEAT"]))
            if named["LOT_NUMBER"]:
                self.poll.lot_numbers.add(int(named["LOT_NUMBER"]))
            new = read_events(fifo, self._last_event)
            if new:
                self.poll.events += new
                self._last_event = int(new[-1]["SEQ"])
            seq = int(named["VERDICT_SEQ"])
            if named["VERDICT_FINAL"] and seq and not any(v[2] == seq for v in self.poll.verdicts):
                verdict = codes.LotVerdict(int(named["LOT_VERDICT"])).name
                self.poll.verdicts.append((int(named["LOT_NUMBER"]), verdict, seq))
                if self.ack:
                    self.client.write_register(ORELINE_MAP["VERDICT_ACK_SEQ"].address, seq, device_id=1)
                if self.stop_after and len(self.poll.verdicts) >= self.stop_after:
                    return  # like a PLC that has what it needs: no reads after the server may have gone


def modbus_port(proc: subprocess.Popen, lines: list[str], timeout_s: float = 600.0) -> int:
    """Read the process's stdout (into ``lines``) until it prints its Modbus address; return the port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("the process ended before printing its Modbus address:\n" + "".join(lines))
        lines.append(line)
        match = MODBUS_LINE.search(line)
        if match:
            return int(match.group(1))
    raise AssertionError("no Modbus address printed in time:\n" + "".join(lines))


def drain(proc: subprocess.Popen, lines: list[str]) -> threading.Thread:
    """Keep reading the process's stdout into ``lines`` (so it never blocks on a full pipe)."""
    def run() -> None:
        lines.extend(proc.stdout)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
