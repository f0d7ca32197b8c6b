"""The register image a pymodbus server serves, shared between the line's thread and the server's event loop.

:class:`RegisterStore` implements the small datastore protocol pymodbus 3.16's
request handler calls (``device_ids``, ``async_getValues``, ``async_setValues``)
and answers Modbus exception codes itself:

* unknown function family (coils, discrete inputs) → 0x01 illegal function;
* a quantity outside 1..125 → 0x03 illegal data value;
* any register outside the defined blocks → 0x02 illegal address;
* a write touching a register that is not writable → 0x02 illegal address;
* a value the write validator refuses → 0x03 illegal data value
  (or what the validator returns, e.g. 0x06 device busy);
* a unit id this device does not answer to → 0x0B gateway target failed to respond.

Holding registers (FC 3/6/16/22/23) and input registers (FC 4, read-only mirror)
address the same image. Every access holds a lock for a few microseconds, so a
multi-register value is never read half-updated.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterable, Sequence

from pymodbus.constants import ExcCodes

from plc.errors import RegisterMapError

WriteValidator = Callable[[int, Sequence[int], Callable[[int], int]], "ExcCodes | None"]
"""``(address, values, peek) -> exception code or None``; ``peek(a)`` is register ``a`` as it would be after the write."""

WriteListener = Callable[[int, Sequence[int]], None]
ReadHook = Callable[[int, int], None]
"""``(address, count)``: called before a client read is answered (outside the lock), e.g. to refresh a block."""

_WRITE_FCS = frozenset({6, 16, 22, 23})
_REGISTER_FCS = frozenset({3, 4, 6, 16, 22, 23})


class RegisterStore:
    """A holding-register image made of blocks ``[(start, end), ...]`` (end exclusive, 0-based addresses).

    Gaps inside a block read as 0; addresses outside every block are illegal.
    ``writable`` lists the addresses clients may write; ``validator`` may refuse
    a write with an exception code (it runs under the store's lock: it must not
    call back into the store); ``listener`` is told about every accepted write
    after the lock is released, and ``before_read`` before a read is answered
    (both in the server's loop thread; keep them short).
    """

    def __init__(
        self,
        blocks: Iterable[tuple[int, int]],
        device_ids: Iterable[int],
        writable: Iterable[int] = (),
        validator: WriteValidator | None = None,
        listener: WriteListener | None = None,
        before_read: ReadHook | None = None,
    ) -> None:
        blocks = sorted(blocks)
        if not blocks:
            raise RegisterMapError("a register store needs at least one block")
        for (s0, e0), (s1, _e1) in zip(blocks, blocks[1:]):
            if s1 < e0:
                raise RegisterMapError(f"register blocks overlap: {s0}..{e0 - 1} and {s1}..")
        for start, end in blocks:
            if not 0 <= start < end <= 0x10000:
                raise RegisterMapError(f"block must satisfy 0 <= start < end <= 65536, got {start}..{end}")
        self.blocks = tuple(blocks)
        size = blocks[-1][1]
        self._regs = [0] * size
        # run_end[a] = end of the block containing a (0 when a is outside every block)
        self._run_end = [0] * size
        for start, end in blocks:
            self._run_end[start:end] = [end] * (end - start)
        self._writable = frozenset(writable)
        bad = [a for a in self._writable if a >= size or self._run_end[a] == 0]
        if bad:
            raise RegisterMapError(f"writable addresses outside every block: {sorted(bad)[:5]}")
        self._device_ids = frozenset(device_ids)
        if not self._device_ids or any(not 0 <= d <= 255 for d in self._device_ids):
            raise RegisterMapError(f"device ids must be 0..255, got {sorted(self._device_ids)}")
        self._validator = validator
        self._listener = listener
        self._before_read = before_read
        self._lock = threading.Lock()
        self.last_request_monotonic: float | None = None
        self.requests = 0
        self.exceptions = 0

    # ---- local access (any thread) ----
    def get(self, address: int, count: int = 1) -> list[int]:
        """Registers ``address..address+count-1`` (local access, no exception codes)."""
        with self._lock:
            return self._regs[address : address + count]

    def set(self, address: int, values: Sequence[int]) -> None:
        """Overwrite registers locally (the owner's side; no writability check). Values must be 0..65535."""
        if address < 0 or address + len(values) > len(self._regs) or self._run_end[address] < address + len(values):
            raise RegisterMapError(f"registers {address}..{address + len(values) - 1} are outside the store's blocks")
        if any(not 0 <= v <= 0xFFFF for v in values):
            raise RegisterMapError(f"register values must be 0..65535, got {list(values)[:8]}")
        with self._lock:
            self._regs[address : address + len(values)] = values

    def update(self, changes: Sequence[tuple[int, Sequence[int]]]) -> None:
        """Apply several ``(address, values)`` writes atomically (one lock hold)."""
        for address, values in changes:
            if not 0 <= address < len(self._regs) or self._run_end[address] < address + len(values):
                raise RegisterMapError(f"registers {address}..{address + len(values) - 1} are outside the blocks")
        with self._lock:
            for address, values in changes:
                self._regs[address : address + len(values)] = values

    # ---- pymodbus datastore protocol (server loop thread) ----
    def device_ids(self) -> list[int]:
        return sorted(self._device_ids)

    def _check(self, device_id: int, func_code: int, address: int, count: int) -> ExcCodes | None:
        self.requests += 1
        self.last_request_monotonic = time.monotonic()
        if device_id not in self._device_ids:
            return ExcCodes.GATEWAY_NO_RESPONSE
        if func_code not in _REGISTER_FCS:
            return ExcCodes.ILLEGAL_FUNCTION
        if not 1 <= count <= 125:  # Modbus: quantity out of range is an illegal data value
            return ExcCodes.ILLEGAL_VALUE
        if address < 0 or address >= len(self._regs) or self._run_end[address] < address + count:
            return ExcCodes.ILLEGAL_ADDRESS
        return None

    async def async_getValues(self, device_id: int, func_code: int, address: int, count: int = 1) -> list[int] | ExcCodes:
        err = self._check(device_id, func_code, address, count)
        if err is not None:
            self.exceptions += 1
            return err
        if self._before_read is not None:
            self._before_read(address, count)
        with self._lock:
            return self._regs[address : address + count]

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: Sequence[int] | Sequence[bool]
    ) -> ExcCodes | None:
        values = [int(v) for v in values]
        err = self._check(device_id, func_code, address, len(values))
        if err is None and func_code not in _WRITE_FCS:
            err = ExcCodes.ILLEGAL_FUNCTION
        if err is None and any(a not in self._writable for a in range(address, address + len(values))):
            err = ExcCodes.ILLEGAL_ADDRESS
        if err is None and any(not 0 <= v <= 0xFFFF for v in values):
            err = ExcCodes.ILLEGAL_VALUE
        if err is not None:
            self.exceptions += 1
            return err
        with self._lock:
            if self._validator is not None:
                end = address + len(values)

                def peek(a: int) -> int:
                    return values[a - address] if address <= a < end else self._regs[a]

                err = self._validator(address, values, peek)
                if err is not None:
                    self.exceptions += 1
                    return err
            self._regs[address : address + len(values)] = values
        if self._listener is not None:
            self._listener(address, values)
        return None
