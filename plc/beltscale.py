"""Belt-scale client: polls a BW500-like integrator over Modbus TCP and yields :class:`conveyor.feed.ScaleReading`.

:class:`BeltScaleClient` implements the conveyor ``FeedSource`` protocol. It
never raises into the line for a communication problem: a failed read returns
``ok=False`` with the last good values and a ``fault`` text, and the client
reconnects with exponential backoff (``backoff_initial_s`` doubling up to
``backoff_max_s``; between attempts a read returns at once). Suspicious values
are flagged in ``fault`` (the reading stays ``ok=True`` since it was taken):
a totaliser that goes backwards (other than a UINT32 wrap), one that jumps by
more than ``max_rate_t_h`` could deliver since the last reading plus
``jump_margin_t``, rate or speed above their plausible maxima, a non-zero
integrator diagnostic code. On connect the client checks the integrator's
device identifier (R40,064 = 2) and FORMAT_WORD (R40,062) against ``word_order``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from conveyor.config import Field
from conveyor.errors import ConfigError
from conveyor.feed import FeedSource, ScaleReading
from conveyor.station import StationContext
from plc.bw500 import (
    DEVICE_IDENTIFIER_BW500,
    DRIVE_TABLE,
    FORMAT_BY_WORD_ORDER,
    PROCESS_BLOCK_COUNT,
    PROCESS_BLOCK_START,
    UINT32_TOTAL_MODULUS_T,
    WORD_ORDER_BY_FORMAT,
    bw500_table,
)
from plc.codes import DriveState
from plc.errors import BeltScaleError, EncodingError
from plc.scale import BeltScale
from plc.words import check_word_order

log = logging.getLogger(__name__)

_EXC_NAMES = {1: "illegal function", 2: "illegal address", 3: "illegal data value", 4: "device failure",
              6: "device busy", 10: "gateway path unavailable", 11: "gateway target failed to respond"}


class _ReadFailed(Exception):
    """Internal: one poll failed; ``reconnect`` says whether the link must be re-established."""

    def __init__(self, message: str, reconnect: bool) -> None:
        super().__init__(message)
        self.reconnect = reconnect


def link_fields(simulated: bool) -> dict[str, Field]:
    """Keys of the belt-scale client, shared by the simulated and the real integrator."""
    return {
        "position_m": Field(float, 0.0, min=0.0, doc="Belt-scale position along the belt, m."),
        "device_id": Field(int, 1, min=1, max=247, doc="Modbus unit id of the integrator."),
        "word_order": Field(str, "msw_first", choices=("msw_first", "lsw_first"),
                            doc="32-bit word order; must match the integrator's R40,062."),
        "timeout_s": Field(float, 1.0, min=0.0, min_exclusive=True, doc="Per connect/request, s."),
        "drive_state_address": Field(int, DRIVE_TABLE["DRIVE_STATE"].address if simulated else None, min=0, max=65534,
                                     doc="0-based address of the PLC's drive-state word (unset: not read)."),
        "encoder_address": Field(int, DRIVE_TABLE["ENCODER_COUNT"].address if simulated else None, min=0, max=65534,
                                 doc="0-based address of a UINT32 encoder count (unset: not read)."),
        "backoff_initial_s": Field(float, 0.5, min=0.0, min_exclusive=True, doc="First reconnect delay, s."),
        "backoff_max_s": Field(float, 30.0, min=0.0, min_exclusive=True, doc="Reconnect delay cap, s."),
        "max_rate_t_h": Field(float, 20000.0, min=0.0, min_exclusive=True,
                              doc="Plausibility limit for rate and totaliser jumps, t/h."),
        "max_speed_m_s": Field(float, 10.0, min=0.0, min_exclusive=True, doc="Plausibility limit for speed, m/s."),
        "verify_device": Field(bool, True, doc="Check R40,064 = 2 and R40,062 on connect."),
    }


def client_options(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`BeltScaleClient` keyword options of validated ``[scale]`` keys (raises ConfigError)."""
    options = {k: cfg[k] for k in ("drive_state_address", "encoder_address", "verify_device", "backoff_initial_s",
                                   "backoff_max_s", "max_rate_t_h", "max_speed_m_s")}
    if options["backoff_max_s"] < options["backoff_initial_s"]:
        raise ConfigError("scale.backoff_max_s", f"expected >= backoff_initial_s ({options['backoff_initial_s']}), "
                                                 f"got {options['backoff_max_s']}")
    return options


class BeltScaleClient(BeltScale):
    """Modbus TCP client of a BW500-like belt-scale integrator (belt-scale backend ``modbus``).

    ``word_order`` ("msw_first" | "lsw_first") must match the integrator's
    FORMAT_WORD; ``timeout_s`` bounds each connect and request;
    ``drive_state_address`` (0-based), when given, is read to sign the speed
    negative while the drive reverses (the BW500 speed is unsigned); ``None``
    reads no drive word. ``encoder_address``, when given, is a UINT32 (MSW first)
    encoder count reported as ``encoder_count``. ``totaliser_modulus_t`` is where the totaliser wraps.
    Raises :class:`BeltScaleError` for settings that cannot work.
    """

    backend = "modbus"
    fields: ClassVar[dict[str, Field]] = {
        "host": Field(str, doc="Address of the real integrator."),
        "port": Field(int, 502, min=1, max=65535, doc="Its Modbus TCP port."),
        **link_fields(simulated=False),
    }

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], context: StationContext, feed: FeedSource | None = None,
                    **options: Any) -> BeltScaleClient:
        """A client of the integrator at ``cfg["host"]`` (connects on the first read; ``feed`` is not used)."""
        client = cls(cfg["host"], cfg["port"], cfg["device_id"], cfg["word_order"], cfg["timeout_s"],
                     **client_options(cfg))
        client.position_m = cfg["position_m"]
        return client

    def __init__(
        self,
        host: str,
        port: int = 502,
        device_id: int = 1,
        word_order: str = "msw_first",
        timeout_s: float = 1.0,
        *,
        drive_state_address: int | None = None,
        encoder_address: int | None = None,
        read_diagnostic: bool = True,
        verify_device: bool = True,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_rate_t_h: float = 20000.0,
        max_speed_m_s: float = 10.0,
        jump_margin_t: float = 0.5,
        min_running_speed_m_s: float = 0.02,
        totaliser_modulus_t: float = UINT32_TOTAL_MODULUS_T,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            self.word_order = check_word_order(word_order)
        except EncodingError as exc:
            raise BeltScaleError(str(exc)) from None
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise BeltScaleError(f"port must be 1..65535, got {port!r}")
        if not isinstance(device_id, int) or not 0 <= device_id <= 255:
            raise BeltScaleError(f"device_id must be 0..255, got {device_id!r}")
        for name, value in (("timeout_s", timeout_s), ("backoff_initial_s", backoff_initial_s),
                            ("max_rate_t_h", max_rate_t_h), ("max_speed_m_s", max_speed_m_s),
                            ("totaliser_modulus_t", totaliser_modulus_t)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise BeltScaleError(f"{name} must be a finite number > 0, got {value!r}")
        if not backoff_max_s >= backoff_initial_s:
            raise BeltScaleError(f"backoff_max_s must be >= backoff_initial_s ({backoff_initial_s}), got {backoff_max_s}")
        if jump_margin_t < 0 or min_running_speed_m_s < 0:
            raise BeltScaleError("jump_margin_t and min_running_speed_m_s must be >= 0")
        for name, addr in (("drive_state_address", drive_state_address), ("encoder_address", encoder_address)):
            if addr is not None and not (isinstance(addr, int) and 0 <= addr <= 0xFFFE):
                raise BeltScaleError(f"{name} must be 0..65534 or None, got {addr!r}")
        self.host, self.port, self.device_id, self.timeout_s = host, port, device_id, float(timeout_s)
        self.drive_state_address = drive_state_address
        self.encoder_address = encoder_address
        self.read_diagnostic = read_diagnostic
        self.verify_device = verify_device
        self.backoff_initial_s, self.backoff_max_s = float(backoff_initial_s), float(backoff_max_s)
        self.max_rate_t_h, self.max_speed_m_s = float(max_rate_t_h), float(max_speed_m_s)
        self.jump_margin_t, self.min_running_speed_m_s = float(jump_margin_t), float(min_running_speed_m_s)
        self.totaliser_modulus_t = float(totaliser_modulus_t)
        self._monotonic = monotonic
        self._table = bw500_table(self.word_order)
        self._client: ModbusTcpClient | None = None
        self._connected = False
        self._backoff_s = self.backoff_initial_s
        self._next_attempt_s = -math.inf
        self._last_good: ScaleReading | None = None
        self._last_fault = ""
        self.stats = {"reads": 0, "ok": 0, "failed": 0, "connects": 0, "connect_failures": 0,
                      "skipped_backoff": 0, "backsteps": 0, "jumps": 0, "wraps": 0, "implausible": 0}

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def next_attempt_in_s(self) -> float:
        """Seconds until the next reconnect attempt (0 when connected or due)."""
        return 0.0 if self._connected else max(0.0, self._next_attempt_s - self._monotonic())

    # ---- connection ----
    def _close_client(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:
                pass
        self._client = None

    def _drop(self, why: str) -> None:
        self._close_client()
        if self._connected:
            log.warning("belt scale %s:%d disconnected: %s", self.host, self.port, why)
        self._connected = False
        self._next_attempt_s = self._monotonic() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2.0, self.backoff_max_s)

    def _regs(self, address: int, count: int) -> list[int]:
        assert self._client is not None
        try:
            rr = self._client.read_holding_registers(address, count=count, device_id=self.device_id)
        except (ModbusException, OSError, ValueError) as exc:
            raise _ReadFailed(f"no answer reading R4{address + 1:04d}..: {exc}", reconnect=True) from None
        if rr.isError():
            code = getattr(rr, "exception_code", 0)
            raise _ReadFailed(
                f"integrator refused read of {count} registers at address {address}: exception {code} "
                f"({_EXC_NAMES.get(code, 'unknown')})",
                reconnect=False,
            )
        if len(rr.registers) != count:
            raise _ReadFailed(f"integrator returned {len(rr.registers)} registers, expected {count}", reconnect=True)
        return list(rr.registers)

    def _connect(self) -> None:
        self.stats["connects"] += 1
        client = ModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=0)
        err: ModbusException | OSError | None
        try:
            ok = client.connect()
        except (ModbusException, OSError) as exc:
            ok, err = False, exc
        else:
            err = None
        if not ok:
            client.close()
            raise _ReadFailed(f"cannot connect to {self.host}:{self.port}" + (f": {err}" if err else ""), True)
        self._client, self._connected = client, True
        if self.verify_device:
            fmt_addr = self._table["FORMAT_WORD"].address
            fmt, _gap, ident = self._regs(fmt_addr, 3)
            if ident != DEVICE_IDENTIFIER_BW500:
                raise _ReadFailed(f"device identifier R40,064 = {ident}, expected {DEVICE_IDENTIFIER_BW500} (BW500)", True)
            if WORD_ORDER_BY_FORMAT.get(fmt) != self.word_order:
                raise _ReadFailed(
                    f"integrator FORMAT_WORD R40,062 = {fmt} ({WORD_ORDER_BY_FORMAT.get(fmt, 'unknown')}) but the client "
                    f"is configured for {self.word_order} (= {FORMAT_BY_WORD_ORDER[self.word_order]}); fix scale.word_order",
                    True,
                )
        self._backoff_s = self.backoff_initial_s
        log.info("belt scale %s:%d connected", self.host, self.port)

    # ---- reading ----
    def _poll(self, time_s: float) -> tuple[ScaleReading, list[str]]:
        t = self._table
        regs = self._regs(PROCESS_BLOCK_START, PROCESS_BLOCK_COUNT)
        vals = t.decode_image(regs, PROCESS_BLOCK_START)
        rate, speed, total = float(vals["RATE"]), float(vals["SPEED"]), float(vals["TOTAL_1"])
        notes: list[str] = []
        if self.read_diagnostic:
            diag = self._regs(t["DIAGNOSTIC_STATE"].address, 1)[0]
            if diag:
                notes.append(f"integrator diagnostic code {diag} (R41,200)")
        if self.drive_state_address is not None:
            word = self._regs(self.drive_state_address, 1)[0]
            try:
                drive = DriveState(word)
            except ValueError:
                drive = DriveState.FAULT
                notes.append(f"unknown drive state {word}")
            if drive is DriveState.REVERSE:
                speed = -speed
            elif drive in (DriveState.STOPPED, DriveState.FAULT) and speed != 0.0:
                notes.append(f"drive {drive.name.lower()} but integrator speed {speed:.3f} m/s")
        encoder = None
        if self.encoder_address is not None:
            hi, lo = self._regs(self.encoder_address, 2)
            encoder = (hi << 16) | lo
        running = abs(speed) >= self.min_running_speed_m_s and speed != 0.0
        reading = ScaleReading(time_s, total, rate, speed, running, encoder, True, "")
        return reading, notes

    def _check(self, reading: ScaleReading, notes: list[str]) -> list[str]:
        """Flag totaliser backsteps and jumps, implausible rate and speed."""
        last = self._last_good
        if reading.rate_t_h > self.max_rate_t_h:
            self.stats["implausible"] += 1
            notes.append(f"rate {reading.rate_t_h:.1f} t/h above plausible maximum {self.max_rate_t_h:g} t/h")
        if abs(reading.speed_m_s) > self.max_speed_m_s:
            self.stats["implausible"] += 1
            notes.append(f"speed {reading.speed_m_s:.3f} m/s beyond plausible maximum {self.max_speed_m_s:g} m/s")
        if last is None:
            return notes
        step = reading.totaliser_t - last.totaliser_t
        if step < 0 and -step > self.totaliser_modulus_t / 2:
            step += self.totaliser_modulus_t
            self.stats["wraps"] += 1
            log.info("belt-scale totaliser wrapped (%.3f t -> %.3f t)", last.totaliser_t, reading.totaliser_t)
        dt = max(0.0, reading.time_s - last.time_s)
        if step < -0.0005:
            self.stats["backsteps"] += 1
            notes.append(f"totaliser went backwards by {-step:.3f} t ({last.totaliser_t:.3f} t -> "
                         f"{reading.totaliser_t:.3f} t)")
        else:
            plausible = self.max_rate_t_h * dt / 3600.0 + self.jump_margin_t
            if step > plausible:
                self.stats["jumps"] += 1
                notes.append(f"totaliser jumped +{step:.3f} t in {dt:.1f} s (plausible at most {plausible:.3f} t)")
        return notes

    def _stale(self, time_s: float, fault: str) -> ScaleReading:
        last = self._last_good
        if last is None:
            return ScaleReading(time_s, 0.0, 0.0, 0.0, False, None, False, fault)
        return ScaleReading(time_s, last.totaliser_t, last.rate_t_h, last.speed_m_s, last.running,
                            last.encoder_count, False, fault)

    def read(self, time_s: float) -> ScaleReading:
        """The integrator's reading, stamped ``time_s`` (the line's clock). Never raises for a link problem."""
        self.stats["reads"] += 1
        if not self._connected:
            wait = self._next_attempt_s - self._monotonic()
            if wait > 0:
                self.stats["skipped_backoff"] += 1
                self.stats["failed"] += 1
                return self._stale(time_s, f"belt scale {self.host}:{self.port} disconnected ({self._last_fault}); "
                                           f"next reconnect in {wait:.1f} s")
            try:
                self._connect()
            except _ReadFailed as exc:
                self.stats["connect_failures"] += 1
                self.stats["failed"] += 1
                self._last_fault = str(exc)
                self._drop(str(exc))
                return self._stale(time_s, f"belt scale {self.host}:{self.port}: {exc}")
        try:
            reading, notes = self._poll(time_s)
        except _ReadFailed as exc:
            self.stats["failed"] += 1
            self._last_fault = str(exc)
            if exc.reconnect:
                self._drop(str(exc))
            return self._stale(time_s, f"belt scale {self.host}:{self.port}: {exc}")
        notes = self._check(reading, notes)
        if notes:
            fault = "; ".join(notes)
            log.warning("belt scale: %s", fault)
            reading = ScaleReading(reading.time_s, reading.totaliser_t, reading.rate_t_h, reading.speed_m_s,
                                   reading.running, reading.encoder_count, True, fault)
        self.stats["ok"] += 1
        self._last_good = reading
        return reading

    def close(self) -> None:
        """Close the connection (idempotent); a later :meth:`read` reconnects."""
        self._close_client()
        self._connected = False
        self._next_attempt_s = -math.inf
        self._backoff_s = self.backoff_initial_s
