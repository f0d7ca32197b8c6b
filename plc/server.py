"""oreline's Modbus TCP server: publishes :class:`~plc.snapshot.LineSnapshot` and takes commands from the PLC.

Command handshake (registers in :data:`~plc.registers.ORELINE_MAP`):

1. the PLC writes ``CMD_CODE`` and ``CMD_ARG``, then a new non-zero ``CMD_SEQ``
   (or all of them in one write-multiple);
2. oreline checks code and argument as the ``CMD_SEQ`` write arrives: an unknown
   code or a bad argument is refused with exception 0x03 (illegal data value)
   and nothing is queued; a full queue answers 0x06 (device busy); rewriting the
   current ``CMD_SEQ`` does nothing (so cyclic block writes are safe);
3. a valid command is queued, ``CMD_RESULT`` = PENDING, ``CMD_QUEUED`` counts it;
4. the line takes it with :meth:`OrelineModbusServer.poll_commands`, acts, and
   calls :meth:`OrelineModbusServer.complete`, which writes ``CMD_ACK_SEQ`` =
   sequence and ``CMD_RESULT`` = DONE / REJECTED / FAILED;
5. the PLC waits (with its own timeout) for ``CMD_ACK_SEQ == CMD_SEQ``, then reads ``CMD_RESULT``.

Link supervision: :meth:`OrelineModbusServer.link_status` says whether a
client is connected and polling, and whether the PLC's ``PLC_WATCHDOG`` still
changes; while the link is down, :meth:`publish` also sets
:attr:`~plc.codes.AlarmBit.PLC_LINK` in ``ALARMS_ACTIVE`` (the line keeps running).
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.pdu.device import ModbusDeviceIdentification

from plc import codes
from plc.errors import CommandError, ServerError
from plc.events import SegmentEvent, SegmentEventRing
from plc.registers import MAP_VERSION, ORELINE_MAP, STATUS_END
from plc.runner import ModbusServerThread, ThreadServed
from plc.snapshot import LineSnapshot
from plc.store import RegisterStore

log = logging.getLogger(__name__)

_CODE = ORELINE_MAP["CMD_CODE"].address
_ARG = ORELINE_MAP["CMD_ARG"].address
_SEQ = ORELINE_MAP["CMD_SEQ"].address
_ACK = ORELINE_MAP["CMD_ACK_SEQ"].address
_RESULT = ORELINE_MAP["CMD_RESULT"].address
_QUEUED = ORELINE_MAP["CMD_QUEUED"].address
_WATCHDOG = ORELINE_MAP["PLC_WATCHDOG"].address
_VERDICT_ACK = ORELINE_MAP["VERDICT_ACK_SEQ"].address
_SERIALS = itertools.count(1)


@dataclass(frozen=True)
class Command:
    """One command from the PLC: ``code``, its ``arg``, the PLC's ``seq`` and when it arrived (monotonic s).

    ``serial`` is the server's own unique number: PLCs reuse sequence numbers (toggling between two values),
    so pending commands are never keyed by ``seq``.
    """

    seq: int
    code: codes.CommandCode
    arg: int
    received_monotonic_s: float
    serial: int = 0

    @property
    def alarm_bit(self) -> int | None:
        """For ACK_ALARM: the alarm bit (0..31), or None for "all alarms"."""
        if self.code is not codes.CommandCode.ACK_ALARM:
            raise CommandError(f"alarm_bit only applies to ACK_ALARM, this is {self.code.name}")
        return None if self.arg == codes.ACK_ALL_ALARMS else self.arg

    @property
    def lot_number(self) -> int:
        """For START_LOT / STOP_LOT: the lot number (0 for STOP_LOT means the open lot)."""
        if self.code not in (codes.CommandCode.START_LOT, codes.CommandCode.STOP_LOT):
            raise CommandError(f"lot_number only applies to START_LOT/STOP_LOT, this is {self.code.name}")
        return self.arg


@dataclass(frozen=True)
class LinkStatus:
    """Health of the PLC link as seen by the server.

    ``ok`` is False once a client has been seen and then none polled for
    ``link_timeout_s``, or the watchdog stopped changing for ``watchdog_timeout_s``;
    ``reason`` says which. ``seen_client`` is False until the first client connects.
    """

    ok: bool
    clients: int
    seen_client: bool
    last_request_age_s: float | None
    watchdog_age_s: float | None
    disconnects: int
    reason: str = ""
    supervised: bool = False  #: True once a client was seen, or from start-up when a watchdog is configured


def validate_command(code: int, arg: int) -> str:
    """Why ``(code, arg)`` is not a valid command ("" when it is)."""
    try:
        cmd = codes.CommandCode(code)
    except ValueError:
        return f"unknown command code {code}; expected one of {[int(c) for c in codes.CommandCode if c]}"
    if cmd is codes.CommandCode.NONE:
        return "command code 0 (NONE) cannot be submitted"
    if cmd is codes.CommandCode.ACK_ALARM and not (arg < 32 or arg == codes.ACK_ALL_ALARMS):
        return f"ACK_ALARM argument must be an alarm bit 0..31 or 0xFFFFFFFF (all), got {arg}"
    if cmd is codes.CommandCode.START_LOT and arg < 1:
        return "START_LOT argument must be a lot number >= 1, got 0"
    if cmd is codes.CommandCode.ACK_REQUEST and arg not in (1, 2, codes.ACK_ALL_ALARMS):
        return f"ACK_REQUEST argument must be 1 (stop belt), 2 (divert) or 0xFFFFFFFF (both), got {arg}"
    return ""


class OrelineModbusServer(ThreadServed):
    """The oreline register map served over Modbus TCP (127.0.0.1 by default; port 0 = any free port).

    ``device_id`` is the unit id this server answers, 0..255 (others get exception 0x0B).
    ``link_timeout_s``: no request for this long (after a client was seen) means
    the PLC link is down. ``watchdog_timeout_s``: if set, ``PLC_WATCHDOG`` must
    change at least this often, counted from start-up. A link state change counts
    only once it has lasted ``link_debounce_s``. ``max_queued`` bounds the command queue.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        device_id: int = 1,
        *,
        link_timeout_s: float = 10.0,
        watchdog_timeout_s: float | None = None,
        link_debounce_s: float = 2.0,
        max_queued: int = 16,
        options: Any = None,
    ) -> None:
        if isinstance(device_id, bool) or not isinstance(device_id, int) or not 0 <= device_id <= 255:
            raise ServerError(f"device_id must be 0..255, got {device_id!r}")
        if not link_timeout_s > 0:
            raise ServerError(f"link_timeout_s must be > 0 s, got {link_timeout_s}")
        if watchdog_timeout_s is not None and not watchdog_timeout_s > 0:
            raise ServerError(f"watchdog_timeout_s must be > 0 s or None, got {watchdog_timeout_s}")
        if not link_debounce_s >= 0:
            raise ServerError(f"link_debounce_s must be >= 0 s, got {link_debounce_s}")
        if not 1 <= max_queued <= 1024:
            raise ServerError(f"max_queued must be 1..1024, got {max_queued}")
        self.device_id = device_id
        self.link_timeout_s = link_timeout_s
        self.watchdog_timeout_s = watchdog_timeout_s
        self.link_debounce_s = link_debounce_s
        self.max_queued = max_queued
        self._seq_register = 0
        self._just_queued = False
        self._queue: collections.deque[Command] = collections.deque()
        self._pending: dict[int, Command] = {}
        self._qlock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._heartbeat = 0
        self._verdict_seq = 0
        self._events = SegmentEventRing()
        self._watchdog_value: int | None = None
        self._watchdog_changed_s: float | None = None
        self._link_ok = True
        self._link_flip_s: float | None = None
        self.store = RegisterStore(
            [(ORELINE_MAP.start, ORELINE_MAP.end)],
            [device_id],
            ORELINE_MAP.writable_addresses(),
            validator=self._validate_write,
            listener=self._on_write,
        )
        self.store.set(0, ORELINE_MAP.image({}, 0, ORELINE_MAP.end))
        identity = ModbusDeviceIdentification(
            info_name={
                "VendorName": "oreline",
                "ProductCode": "ORELINE-MAP",
                "ProductName": "oreline inline ore inspection",
                "MajorMinorRevision": f"{MAP_VERSION[0]}.{MAP_VERSION[1]}",
            }
        )
        self._runner = ModbusServerThread(self.store, host, port, "oreline", identity, options=options)

    def start(self, timeout_s: float = 5.0) -> OrelineModbusServer:
        """Listen (see :class:`ThreadServed`); a configured watchdog is armed now, not at its first write."""
        super().start(timeout_s)
        if self._watchdog_changed_s is None:
            self._watchdog_changed_s = time.monotonic()
        return self

    # ---- state out ----
    @property
    def heartbeat(self) -> int:
        return self._heartbeat

    @property
    def verdict_seq(self) -> int:
        """Sequence number of the last final verdict published (0: none yet)."""
        return self._verdict_seq

    @property
    def verdict_acked(self) -> bool:
        """True when the PLC wrote the current ``VERDICT_SEQ`` into ``VERDICT_ACK_SEQ``."""
        return self._verdict_seq != 0 and self.store.get(_VERDICT_ACK)[0] == self._verdict_seq

    def publish(self, snapshot: LineSnapshot, *, new_verdict: bool = False) -> int:
        """Show ``snapshot`` in the registers (at once, atomically) and increment the heartbeat; returns the heartbeat.

        ``new_verdict`` (with a snapshot holding a final verdict) increments ``VERDICT_SEQ`` for the PLC to
        acknowledge. Raises :class:`TypeError` for anything but a :class:`LineSnapshot`.
        """
        if not isinstance(snapshot, LineSnapshot):
            raise TypeError(f"publish() expects a LineSnapshot, got {type(snapshot).__name__}")
        with self._publish_lock:
            self._heartbeat = (self._heartbeat + 1) & 0xFFFFFFFF
            if new_verdict:
                self._verdict_seq = self._verdict_seq % 0xFFFF + 1
            link = self.link_status()
            if not link.ok:
                bit = 1 << codes.AlarmBit.PLC_LINK
                snapshot = snapshot.replace(alarms_active=snapshot.alarms_active | bit,
                                            alarms_unacked=snapshot.alarms_unacked | bit)
            regs = snapshot.to_registers(self._heartbeat, link.clients, self._verdict_seq, self.verdict_acked)
            self.store.set(0, regs[:STATUS_END])
            return self._heartbeat

    def push_event(self, event: SegmentEvent) -> int:
        """Add a decided segment to the segment-event FIFO; returns its sequence number (``EVENT_HEAD``)."""
        if not isinstance(event, SegmentEvent):
            raise TypeError(f"push_event() expects a SegmentEvent, got {type(event).__name__}")
        with self._publish_lock:
            self.store.update(self._events.push(event))
            return self._events.head

    def registers(self, address: int = 0, count: int = STATUS_END) -> list[int]:
        """Current register values (local read, for diagnostics and tests)."""
        return self.store.get(address, count)

    # ---- commands in ----
    def _validate_write(self, address: int, values: Sequence[int], peek: Callable[[int], int]) -> ExcCodes | None:
        end = address + len(values)
        if address <= _CODE < end:
            try:
                codes.CommandCode(peek(_CODE))
            except ValueError:
                return ExcCodes.ILLEGAL_VALUE
        if not address <= _SEQ < end:
            return None
        seq = peek(_SEQ)
        if seq == 0 or seq == self._seq_register:  # no new submission
            return None
        arg = (peek(_ARG) << 16) | peek(_ARG + 1)
        why = validate_command(peek(_CODE), arg)
        if why:
            log.warning("PLC command refused (seq %d): %s", seq, why)
            return ExcCodes.ILLEGAL_VALUE
        with self._qlock:
            if len(self._queue) + len(self._pending) >= self.max_queued:
                log.warning("PLC command refused (seq %d): %d commands already queued", seq, self.max_queued)
                return ExcCodes.DEVICE_BUSY
            self._queue.append(Command(seq, codes.CommandCode(peek(_CODE)), arg, time.monotonic(), next(_SERIALS)))
        self._just_queued = True
        return None

    def _on_write(self, address: int, values: Sequence[int]) -> None:
        end = address + len(values)
        if address <= _WATCHDOG < end:
            value = values[_WATCHDOG - address]
            if value != self._watchdog_value:
                self._watchdog_value, self._watchdog_changed_s = value, time.monotonic()
        if address <= _SEQ < end:
            self._seq_register = values[_SEQ - address]
        if self._just_queued:
            self._just_queued = False
            with self._qlock:
                queued = len(self._queue) + len(self._pending)
            self.store.update([(_RESULT, [int(codes.CommandResult.PENDING)]), (_QUEUED, [queued])])

    def poll_commands(self) -> list[Command]:
        """Commands received since the last call, oldest first. Each must be answered with :meth:`complete`."""
        with self._qlock:
            out = list(self._queue)
            self._queue.clear()
            for cmd in out:
                self._pending[cmd.serial] = cmd
        return out

    def complete(self, command: Command, result: codes.CommandResult | int) -> None:
        """Write ``CMD_ACK_SEQ`` = ``command.seq`` and ``CMD_RESULT`` = ``result`` (DONE, REJECTED or FAILED).

        Raises :class:`CommandError` for a command not taken by :meth:`poll_commands`
        (or already completed) or a result that is not final.
        """
        try:
            result = codes.CommandResult(result)
        except ValueError:
            raise CommandError(f"result must be a CommandResult, got {result!r}") from None
        if result not in (codes.CommandResult.DONE, codes.CommandResult.REJECTED, codes.CommandResult.FAILED):
            raise CommandError(f"result must be DONE, REJECTED or FAILED, got {result.name}")
        with self._qlock:
            if self._pending.get(command.serial) != command:
                raise CommandError(f"command seq {command.seq} ({command.code.name}) is not awaiting completion")
            del self._pending[command.serial]
            queued = len(self._queue) + len(self._pending)
        self.store.update([(_ACK, [command.seq]), (_RESULT, [int(result)]), (_QUEUED, [queued])])

    # ---- link supervision ----
    def link_status(self) -> LinkStatus:
        """Whether the PLC is connected and polling (see :class:`LinkStatus`); changes are debounced."""
        now = time.monotonic()
        clients = self._runner.clients
        seen = self._runner.connects > 0
        last = self.store.last_request_monotonic
        req_age = None if last is None else max(0.0, now - last)
        wd_age = None if self._watchdog_changed_s is None else max(0.0, now - self._watchdog_changed_s)
        reason = ""
        if self.watchdog_timeout_s is not None and wd_age is not None and wd_age > self.watchdog_timeout_s:
            reason = f"PLC_WATCHDOG unchanged for {wd_age:.1f} s (limit {self.watchdog_timeout_s} s)"
        elif seen and clients == 0:
            reason = f"no Modbus client connected ({self._runner.disconnects} disconnects so far)"
        elif seen and req_age is not None and req_age > self.link_timeout_s:
            reason = f"no request for {req_age:.1f} s (limit {self.link_timeout_s} s)"
        ok = self._debounced(not reason, now)
        if ok and reason:
            reason = ""
        elif not ok and not reason:
            reason = "link recovering (debounce)"
        supervised = seen or (self.watchdog_timeout_s is not None and wd_age is not None)
        return LinkStatus(ok, clients, seen, req_age, wd_age, self._runner.disconnects, reason, supervised)

    def _debounced(self, raw_ok: bool, now: float) -> bool:
        """The link state, changed only when ``raw_ok`` has differed from it for ``link_debounce_s``."""
        with self._qlock:
            if raw_ok == self._link_ok:
                self._link_flip_s = None
            elif self._link_flip_s is None:
                self._link_flip_s = now
            if self._link_flip_s is not None and now - self._link_flip_s >= self.link_debounce_s:
                self._link_ok, self._link_flip_s = raw_ok, None
            return self._link_ok
