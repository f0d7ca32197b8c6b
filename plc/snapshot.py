"""The plain state oreline shows the PLC: :class:`LineSnapshot`, filled by analysis, encoded by the register map."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from plc import codes
from plc.errors import EncodingError, SnapshotError
from plc.registers import ORELINE_MAP, STATUS_END

_U32_MAX = 0xFFFFFFFF
_LOT_ID_CHARS = 2 * ORELINE_MAP["LOT_ID"].length

_ENUM_FIELDS = {
    "line_status": codes.LineStatus,
    "segment_class": codes.SegmentClass,
    "lot_verdict": codes.LotVerdict,
    "sampler_state": codes.SamplerState,
}
_COUNT_FIELDS = (
    "lot_number",
    "verdict_final",
    "interlocks",
    "stop_segment_index",
    "divert_segment_index",
    "segment_index",
    "vision_detections",
    "alarms_active",
    "alarms_unacked",
    "samples_routine",
    "samples_targeted",
    "samples_missed",
)
_FLOAT_FIELDS = (
    "lot_tonnage_t",
    "belt_speed_m_s",
    "rate_t_h",
    "nir_waste_score",
    "verdict_confidence",
    "earliest_safe_tonnage_t",
    "stop_mass_t",
    "stop_window_start_t",
    "stop_window_end_t",
    "divert_mass_t",
    "divert_window_start_t",
    "divert_window_end_t",
)
_UNIT_INTERVAL = ("nir_waste_score", "verdict_confidence")


@dataclass(frozen=True)
class LineSnapshot:
    """Everything the register map shows about the line at one moment.

    Codes are the enums of :mod:`plc.codes` (plain ints accepted); counts and
    alarm words are unsigned 32-bit; floats must be finite (use 0 and the
    segment class / verdict code for "not available"); ``nir_waste_score`` and
    ``verdict_confidence`` are in 0..1; ``lot_id`` is ASCII, at most 32 characters.
    The heartbeat and client count are not here: the server owns them.
    Raises :class:`SnapshotError` (a ``ValueError``) for anything else.
    """

    line_status: int = codes.LineStatus.IDLE
    lot_number: int = 0
    lot_id: str = ""
    lot_tonnage_t: float = 0.0
    belt_speed_m_s: float = 0.0
    rate_t_h: float = 0.0
    segment_index: int = 0
    segment_class: int = codes.SegmentClass.UNINSPECTED
    nir_waste_score: float = 0.0
    vision_detections: int = 0
    lot_verdict: int = codes.LotVerdict.PENDING
    verdict_confidence: float = 0.0
    earliest_safe_tonnage_t: float = 0.0
    alarms_active: int = 0
    alarms_unacked: int = 0
    sampler_state: int = codes.SamplerState.OFFLINE
    samples_routine: int = 0
    samples_targeted: int = 0
    samples_missed: int = 0
    verdict_final: int = 0
    interlocks: int = 0
    stop_segment_index: int = 0
    stop_mass_t: float = 0.0
    stop_window_start_t: float = 0.0
    stop_window_end_t: float = 0.0
    divert_segment_index: int = 0
    divert_mass_t: float = 0.0
    divert_window_start_t: float = 0.0
    divert_window_end_t: float = 0.0

    def __post_init__(self) -> None:
        for name, enum_cls in _ENUM_FIELDS.items():
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum_cls(value))
            except ValueError:
                allowed = ", ".join(f"{m.value}={m.name}" for m in enum_cls)
                raise SnapshotError(f"{name}: expected one of {allowed}, got {value!r}") from None
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U32_MAX:
                raise SnapshotError(f"{name}: expected an integer in 0..{_U32_MAX}, got {value!r}")
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SnapshotError(f"{name}: expected a finite number, got {value!r}")
            if abs(value) > 3.0e38:
                raise SnapshotError(f"{name}: expected |value| < 3e38 (float32), got {value!r}")
        for name in _UNIT_INTERVAL:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SnapshotError(f"{name}: expected a value in 0..1, got {value!r}")
        if self.lot_tonnage_t < 0 or self.earliest_safe_tonnage_t < 0:
            raise SnapshotError(
                f"tonnages must be >= 0 t, got lot_tonnage_t={self.lot_tonnage_t}, "
                f"earliest_safe_tonnage_t={self.earliest_safe_tonnage_t}"
            )
        if not isinstance(self.lot_id, str) or len(self.lot_id) > _LOT_ID_CHARS or not self.lot_id.isascii():
            raise SnapshotError(f"lot_id: expected ASCII text of at most {_LOT_ID_CHARS} characters, got {self.lot_id!r}")
        if self.verdict_final not in (0, 1) or self.interlocks > 0xFFFF:
            raise SnapshotError(f"verdict_final must be 0 or 1 and interlocks a 16-bit word, got "
                                f"{self.verdict_final}, {self.interlocks}")
        if any(not (" " <= ch <= "~") for ch in self.lot_id):
            raise SnapshotError(f"lot_id: expected printable ASCII, got {self.lot_id!r}")

    def register_values(self) -> dict[str, Any]:
        """Values by register name for every register the snapshot fills."""
        return {e.name: getattr(self, e.field) for e in ORELINE_MAP if e.field}

    def to_registers(self, heartbeat: int = 0, clients: int = 0, verdict_seq: int = 0,
                     verdict_acked: bool = False) -> list[int]:
        """The status block (registers ``0..STATUS_END-1``) for this snapshot and the server-owned values."""
        values = self.register_values()
        values["HEARTBEAT"] = heartbeat & _U32_MAX
        values["MODBUS_CLIENTS"] = min(clients, 0xFFFF)
        values["VERDICT_SEQ"] = verdict_seq & 0xFFFF
        values["VERDICT_ACKED"] = int(verdict_acked)
        try:
            return ORELINE_MAP.image(values, 0, STATUS_END)
        except EncodingError as exc:  # validated above; a failure here is a map/snapshot mismatch
            raise SnapshotError(str(exc)) from exc

    @classmethod
    def from_registers(cls, registers: Sequence[int], start: int = 0) -> LineSnapshot:
        """Decode a snapshot from registers read from the server (must cover ``0..STATUS_END-1``)."""
        if start != 0 or len(registers) < STATUS_END:
            raise SnapshotError(f"need registers 0..{STATUS_END - 1}, got {len(registers)} from {start}")
        by_name = ORELINE_MAP.decode_image(list(registers[:STATUS_END]), 0)
        kwargs: dict[str, Any] = {}
        for e in ORELINE_MAP:
            if e.field:
                value = by_name[e.name]
                kwargs[e.field] = float(value) if e.field in _FLOAT_FIELDS else value
        for name in _UNIT_INTERVAL:  # float32 rounding may step just outside 0..1
            kwargs[name] = min(1.0, max(0.0, kwargs[name]))
        return cls(**kwargs)

    def replace(self, **changes: Any) -> LineSnapshot:
        """A copy with ``changes`` applied (validated)."""
        data = asdict(self)
        unknown = set(changes) - set(data)
        if unknown:
            raise SnapshotError(f"unknown snapshot fields {sorted(unknown)}; known: {[f.name for f in fields(self)]}")
        data.update(changes)
        return LineSnapshot(**data)



def ascii_lot_id(lot_id: str, width: int = _LOT_ID_CHARS, tail: int = 22) -> str:
    """``lot_id`` as printable ASCII of at most ``width`` characters, keeping its unique tail.

    Letters with accents are transliterated (``São`` → ``Sao``), anything else unprintable becomes ``-``.
    An id longer than ``width`` keeps its head and its last ``tail`` characters (oreline's lot ids end in
    ``<UTC time>-<random hex>``), joined by ``~``.
    """
    folded = unicodedata.normalize("NFKD", str(lot_id)).encode("ascii", "ignore").decode("ascii")
    text = "".join(ch if " " <= ch <= "~" else "-" for ch in folded)
    if len(text) <= width:
        return text
    tail = min(tail, width - 2)
    return text[: width - tail - 1] + "~" + text[-tail:]
