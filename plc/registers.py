"""Register tables: one data table per register block, from which the server image, the docs and the tests come.

A :class:`RegisterSpec` is one row (address, name, type, units, scaling,
access, description). A :class:`RegisterTable` checks its rows (no overlap,
unique names, addresses in 0..65535) and turns values ↔ registers. Addresses
are 0-based Modbus PDU addresses (what goes on the wire); the docs also give the
1-based "4xxxx" reference (address + 40001) that many PLC tools show.

:data:`ORELINE_MAP` is oreline's versioned map (:data:`MAP_VERSION`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from plc import codes
from plc.errors import EncodingError, RegisterMapError
from plc.words import RegType, check_word_order, decode, encode

READ = "R"
READ_WRITE = "RW"


#: An IntEnum class (a name: inside RegisterSpec, ``type`` is the field, not the builtin).
IntEnumClass = type[enum.IntEnum]

@dataclass(frozen=True)
class RegisterSpec:
    """One entry of a register table.

    ``length`` is the register count (derived from ``type`` except for ASCII);
    ``scale`` multiplies the raw integer to get the value in ``units`` (1 for
    none); ``enum`` names the code enum a UINT16/BITS value uses; ``field`` is the
    :class:`~plc.snapshot.LineSnapshot` attribute the register shows (None when the
    server owns it).
    """

    address: int
    name: str
    type: RegType
    units: str = ""
    access: str = READ
    description: str = ""
    length: int = 0
    scale: float = 1.0
    enum: IntEnumClass | None = None
    field: str | None = None
    constant: int | None = None

    def __post_init__(self) -> None:
        if self.type is RegType.ASCII:
            if self.length < 1:
                raise RegisterMapError(f"{self.name}: ASCII entry needs length >= 1 register, got {self.length}")
        else:
            if self.length not in (0, self.type.size):
                raise RegisterMapError(f"{self.name}: {self.type.label} takes {self.type.size} registers, got {self.length}")
            object.__setattr__(self, "length", self.type.size)
        if not 0 <= self.address <= 0xFFFF - self.length + 1:
            raise RegisterMapError(f"{self.name}: address must be in 0..{0x10000 - self.length}, got {self.address}")
        if self.access not in (READ, READ_WRITE):
            raise RegisterMapError(f"{self.name}: access must be 'R' or 'RW', got {self.access!r}")
        if not self.name.isidentifier() or self.name.upper() != self.name:
            raise RegisterMapError(f"{self.name!r}: names must be UPPER_CASE identifiers")
        if self.scale <= 0:
            raise RegisterMapError(f"{self.name}: scale must be > 0, got {self.scale}")

    @property
    def end(self) -> int:
        """One past the last register."""
        return self.address + self.length

    @property
    def reference(self) -> int:
        """The 1-based holding-register reference (4xxxx style: address + 40001)."""
        return self.address + 40001

    @property
    def scaling(self) -> str:
        """How the raw registers become the value, as the docs print it."""
        if self.type is RegType.FLOAT32:
            return "IEEE-754 float32, no scaling"
        if self.type is RegType.ASCII:
            return f"ASCII, {2 * self.length} chars, NUL padded"
        if self.enum is not None:
            kind = "bits" if self.type in (RegType.BITS16, RegType.BITS32) else "code"
            return f"{kind}: {self.enum.__name__}"
        if self.type in (RegType.BITS16, RegType.BITS32):
            return "bit field"
        if self.scale != 1.0:
            return f"x{self.scale:g}"
        return "1"


@dataclass(frozen=True)
class RegisterTable:
    """A block of registers defined by its rows. Raises :class:`RegisterMapError` when inconsistent."""

    name: str
    entries: tuple[RegisterSpec, ...]
    word_order: str = "msw_first"
    version: tuple[int, int] | None = None
    title: str = ""
    _by_name: dict[str, RegisterSpec] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_word_order(self.word_order)
        if not self.entries:
            raise RegisterMapError(f"{self.name}: a register table needs at least one entry")
        ordered = tuple(sorted(self.entries, key=lambda e: e.address))
        object.__setattr__(self, "entries", ordered)
        for prev, nxt in zip(ordered, ordered[1:]):
            if nxt.address < prev.end:
                raise RegisterMapError(
                    f"{self.name}: {nxt.name} at {nxt.address} overlaps {prev.name} ({prev.address}..{prev.end - 1})"
                )
        for e in ordered:
            if e.name in self._by_name:
                raise RegisterMapError(f"{self.name}: duplicate register name {e.name}")
            self._by_name[e.name] = e

    @property
    def start(self) -> int:
        return self.entries[0].address

    @property
    def end(self) -> int:
        return self.entries[-1].end

    def __getitem__(self, name: str) -> RegisterSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no register {name!r}; known: {sorted(self._by_name)}") from None

    def __iter__(self) -> Iterator[RegisterSpec]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def writable_addresses(self) -> frozenset[int]:
        """Every register address a client may write."""
        return frozenset(a for e in self.entries if e.access == READ_WRITE for a in range(e.address, e.end))

    def encode_value(self, spec: RegisterSpec, value: Any) -> list[int]:
        """Registers for ``value`` of entry ``spec`` (scaled integers are divided by ``scale`` and rounded)."""
        try:
            if isinstance(value, enum.Enum):
                value = int(value.value)
            if spec.scale != 1.0 and spec.type not in (RegType.FLOAT32, RegType.ASCII):
                value = round(float(value) / spec.scale)
            return encode(value, spec.type, spec.length, self.word_order)
        except EncodingError as exc:
            raise EncodingError(f"{self.name}.{spec.name}: {exc}") from None

    def decode_value(self, spec: RegisterSpec, registers: Sequence[int]) -> int | float | str:
        """The value of entry ``spec`` from its registers (scaled integers come back as float)."""
        raw = decode(list(registers), spec.type, self.word_order)
        if spec.scale != 1.0 and isinstance(raw, int):
            return raw * spec.scale
        return raw

    def image(self, values: Mapping[str, Any], start: int | None = None, end: int | None = None) -> list[int]:
        """Registers ``start..end-1`` (default: the whole table) with ``values`` by name; gaps and missing names are 0.

        Entries with a ``constant`` always show it. Raises :class:`EncodingError` for a
        value that does not fit and :class:`KeyError` for an unknown name.
        """
        start = self.start if start is None else start
        end = self.end if end is None else end
        for name in values:
            self[name]
        regs = [0] * (end - start)
        for e in self.entries:
            if e.address < start or e.end > end:
                continue
            value = e.constant if e.constant is not None else values.get(e.name)
            if value is None:
                continue
            regs[e.address - start : e.end - start] = self.encode_value(e, value)
        return regs

    def decode_image(self, registers: Sequence[int], start: int | None = None) -> dict[str, int | float | str]:
        """Values by name of every entry wholly inside ``registers`` (which begin at ``start``, default the table start)."""
        start = self.start if start is None else start
        out: dict[str, int | float | str] = {}
        for e in self.entries:
            lo, hi = e.address - start, e.end - start
            if lo >= 0 and hi <= len(registers):
                out[e.name] = self.decode_value(e, registers[lo:hi])
        return out


def _r(address: int, name: str, reg_type: RegType, units: str = "", desc: str = "", **kw: Any) -> RegisterSpec:
    return RegisterSpec(address, name, reg_type, units, kw.pop("access", READ), desc, **kw)


MAP_VERSION = (2, 0)
"""Major changes break PLC programs (moved/removed/retyped registers); minor ones only add."""

MAP_MAGIC = 0x4F4C
"""``MAP_MAGIC`` register value: ASCII "OL"."""

STATUS_END = 100
"""Registers ``0..STATUS_END-1`` are rewritten by every publish."""

EVENT_BASE = 200
"""First register of the segment-event FIFO (``EVENT_HEAD``, then :data:`EVENT_SLOTS` slots)."""

EVENT_SLOTS = 8
"""Segment events the FIFO holds: a PLC that polls at least once per 8 segments loses none."""

EVENT_SLOT_SIZE = 12
"""Registers per FIFO slot."""

COMMAND_BASE = 100
"""First register of the command area; writes are only allowed from here on."""

def _event_fifo() -> list[RegisterSpec]:
    """``EVENT_HEAD`` and the slots of the segment-event FIFO (slot k holds events whose sequence % 8 == k)."""
    rows = [_r(EVENT_BASE, "EVENT_HEAD", RegType.UINT32, "", "Sequence number (1, 2, ...) of the newest segment "
               "event; 0 = none yet. Event n is in slot n % 8; read EVENT_HEAD and the slots, take every event with "
               "a sequence above the last one you took (a jump of more than 8 means events were lost).")]
    for k in range(EVENT_SLOTS):
        a = EVENT_BASE + 2 + k * EVENT_SLOT_SIZE
        rows += [
            _r(a, f"EVENT{k}_SEQ", RegType.UINT32, "", f"Slot {k}: event sequence number (0 = empty)."),
            _r(a + 2, f"EVENT{k}_LOT_NUMBER", RegType.UINT32, "", f"Slot {k}: LOT_NUMBER of the segment's lot."),
            _r(a + 4, f"EVENT{k}_SEGMENT_INDEX", RegType.UINT32, "", f"Slot {k}: segment index in its lot."),
            _r(a + 6, f"EVENT{k}_SEGMENT_CLASS", RegType.UINT16, "", f"Slot {k}: segment class.",
               enum=codes.SegmentClass),
            _r(a + 7, f"EVENT{k}_DETECTIONS", RegType.UINT16, "count", f"Slot {k}: camera detections in the segment."),
            _r(a + 8, f"EVENT{k}_START_T", RegType.FLOAT32, "t", f"Slot {k}: lot tonnage at the segment start."),
            _r(a + 10, f"EVENT{k}_END_T", RegType.FLOAT32, "t", f"Slot {k}: lot tonnage at the segment end."),
        ]
    return rows


_U16, _U32, _F32, _B16, _B32, _TXT = (RegType.UINT16, RegType.UINT32, RegType.FLOAT32, RegType.BITS16, RegType.BITS32,
                                      RegType.ASCII)

ORELINE_MAP = RegisterTable(
    "oreline",
    (
        # --- identity and health (server-owned) ---
        _r(0, "MAP_MAGIC", _U16, "", 'Constant 0x4F4C ("OL"): this is an oreline register map.', constant=MAP_MAGIC),
        _r(1, "MAP_VERSION_MAJOR", _U16, "", "Map major version; a change breaks PLC programs.", constant=MAP_VERSION[0]),
        _r(2, "MAP_VERSION_MINOR", _U16, "", "Map minor version; a change only adds registers.", constant=MAP_VERSION[1]),
        _r(3, "LINE_STATUS", _U16, "", "Overall line state.", enum=codes.LineStatus, field="line_status"),
        _r(4, "HEARTBEAT", _U32, "count", "Incremented by every snapshot oreline publishes (wraps at 2^32); "
           "if it stops changing for longer than the publish period plus margin, treat oreline as down."),
        _r(6, "MODBUS_CLIENTS", _U16, "count", "Modbus TCP clients connected to this server right now."),
        # --- lot ---
        _r(10, "LOT_NUMBER", _U32, "", "Number of the open lot, or of the lot that just ended (held until the next "
           "lot starts): the number the PLC gave with START_LOT, else one more than the previous lot's (1 for the "
           "first lot of the line process); 0 = no lot yet.", field="lot_number"),
        _r(12, "LOT_ID", _TXT, "", "Lot identifier text (vessel-hold-time-unique suffix), ASCII: other letters are "
           "transliterated (São → Sao); an id over 32 characters keeps its head and its unique tail, joined by '~'.",
           length=16, field="lot_id"),
        _r(28, "LOT_TONNAGE_T", _F32, "t", "Tonnes weighed since the lot started.", field="lot_tonnage_t"),
        _r(30, "BELT_SPEED_M_S", _F32, "m/s", "Belt speed from the belt scale (negative while reversing).",
           field="belt_speed_m_s"),
        _r(32, "FEED_RATE_T_H", _F32, "t/h", "Flow rate from the belt scale.", field="rate_t_h"),
        # --- last decided segment: every register of this block describes the same segment ---
        _r(34, "SEGMENT_INDEX", _U32, "", "Index (0-based in the lot) of the last segment oreline decided; "
           "SEGMENT_CLASS, NIR_WASTE_SCORE and VISION_DETECTIONS describe this same segment. Held after lot end "
           "until the next lot starts.", field="segment_index"),
        _r(36, "SEGMENT_CLASS", _U16, "", "Class of that segment.", enum=codes.SegmentClass, field="segment_class"),
        _r(38, "NIR_WASTE_SCORE", _F32, "1", "NIR waste score of that segment, 0..1 (0 when uninspected).",
           field="nir_waste_score"),
        _r(40, "VISION_DETECTIONS", _U32, "count", "Objects the camera found in that segment (not the lot total).",
           field="vision_detections"),
        # --- lot verdict ---
        _r(42, "LOT_VERDICT", _U16, "", "Sequential verdict for the lot; after lot end the final verdict, held until "
           "the next lot starts.", enum=codes.LotVerdict, field="lot_verdict"),
        _r(43, "VERDICT_FINAL", _U16, "", "1 once LOT_VERDICT is the final verdict of the lot (after lot end).",
           field="verdict_final"),
        _r(44, "VERDICT_CONFIDENCE", _F32, "1", "Confidence of the verdict, 0..1.", field="verdict_confidence"),
        _r(46, "EARLIEST_SAFE_TONNAGE_T", _F32, "t", "Lot tonnage from which the verdict can be final at the stated "
           "error rates: once decided, the tonnage it was decided at; while pending, the earliest lot tonnage at "
           "which a waste decision could be reached (flagged segments still needed x segment mass, from the last "
           "decided segment); 0 = not yet known (no segment decided).", field="earliest_safe_tonnage_t"),
        # --- alarms ---
        _r(48, "ALARMS_ACTIVE", _B32, "", "Alarm conditions present now (bit n = AlarmBit n).", enum=codes.AlarmBit,
           field="alarms_active"),
        _r(50, "ALARMS_UNACKED", _B32, "", "Alarms raised and not yet acknowledged.", enum=codes.AlarmBit,
           field="alarms_unacked"),
        # --- sampler ---
        _r(52, "SAMPLER_STATE", _U16, "", "Sampling robot state.", enum=codes.SamplerState, field="sampler_state"),
        _r(54, "SAMPLES_ROUTINE", _U32, "count", "Routine (plan) increments taken in this lot.", field="samples_routine"),
        _r(56, "SAMPLES_TARGETED", _U32, "count", "Targeted (alarm) increments taken in this lot.",
           field="samples_targeted"),
        _r(58, "SAMPLES_MISSED", _U32, "count", "Increments the robot missed in this lot.", field="samples_missed"),
        # --- interlocks ---
        _r(60, "INTERLOCKS", _B16, "", "Permissive and latched requests (bit n = InterlockBit n); see "
           "\"Interlocks\" for the fail-safe rule.", enum=codes.InterlockBit, field="interlocks"),
        _r(62, "STOP_SEGMENT_INDEX", _U32, "", "Segment that set STOP_BELT_REQUEST (latest, while latched).",
           field="stop_segment_index"),
        _r(64, "STOP_MASS_T", _F32, "t", "Tonnage of that segment.", field="stop_mass_t"),
        _r(66, "STOP_WINDOW_START_T", _F32, "t", "Belt window of that segment: lot tonnage at its start (as the "
           "belt scale totals the lot).", field="stop_window_start_t"),
        _r(68, "STOP_WINDOW_END_T", _F32, "t", "Lot tonnage at its end.", field="stop_window_end_t"),
        _r(70, "DIVERT_SEGMENT_INDEX", _U32, "", "Segment that set DIVERT_REQUEST (latest, while latched).",
           field="divert_segment_index"),
        _r(72, "DIVERT_MASS_T", _F32, "t", "Tonnage of that segment.", field="divert_mass_t"),
        _r(74, "DIVERT_WINDOW_START_T", _F32, "t", "Belt window of that segment: lot tonnage at its start.",
           field="divert_window_start_t"),
        _r(76, "DIVERT_WINDOW_END_T", _F32, "t", "Lot tonnage at its end.", field="divert_window_end_t"),
        # --- verdict handshake ---
        _r(78, "VERDICT_SEQ", _U16, "", "Incremented (1..65535, wrapping past 0) each time a final verdict is "
           "published; the PLC acknowledges it by writing this value to VERDICT_ACK_SEQ."),
        _r(79, "VERDICT_ACKED", _U16, "", "1 when VERDICT_ACK_SEQ equals VERDICT_SEQ (the PLC has the verdict)."),
        # --- command area: the PLC writes 100..104 (CMD_SEQ last, or all in one write); 105..107 are oreline's ---
        _r(100, "CMD_CODE", _U16, "", "Command to carry out.", access=READ_WRITE, enum=codes.CommandCode),
        _r(101, "PLC_WATCHDOG", _U16, "", "The PLC writes a changing value here (e.g. every second); oreline raises "
           "PLC_LINK when it stops changing (if a watchdog timeout is configured).", access=READ_WRITE),
        _r(102, "CMD_ARG", _U32, "", "Command argument (see CommandCode).", access=READ_WRITE),
        _r(104, "CMD_SEQ", _U16, "", "Write a new non-zero sequence number (last, or in the same write) to submit "
           "CMD_CODE/CMD_ARG; rewriting the current value does nothing.", access=READ_WRITE),
        _r(105, "CMD_ACK_SEQ", _U16, "", "Sequence number of the last command oreline finished."),
        _r(106, "CMD_RESULT", _U16, "", "Result of that command (PENDING while queued).", enum=codes.CommandResult),
        _r(107, "CMD_QUEUED", _U16, "count", "Commands received and not yet finished."),
        _r(108, "VERDICT_ACK_SEQ", _U16, "", "The PLC writes VERDICT_SEQ here once it has read the final verdict.",
           access=READ_WRITE),
        # --- segment-event FIFO ---
        *_event_fifo(),
    ),
    word_order="msw_first",
    version=MAP_VERSION,
    title="oreline line state and commands",
)
"""oreline's register map (holding registers; input registers mirror them read-only)."""


