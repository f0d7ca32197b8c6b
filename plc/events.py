"""The segment-event FIFO of the register map: the last :data:`~plc.registers.EVENT_SLOTS` segment decisions.

Event ``n`` (1, 2, ...) sits in slot ``n % EVENT_SLOTS``; ``EVENT_HEAD`` is the newest sequence number. A PLC
that reads ``EVENT_HEAD`` and the slots at least once per :data:`~plc.registers.EVENT_SLOTS` segments takes
every decision, even across polling gaps and lot changes (each event carries its lot number).
"""

from __future__ import annotations

from dataclasses import dataclass

from plc import codes
from plc.errors import SnapshotError
from plc.registers import EVENT_BASE, EVENT_SLOT_SIZE, EVENT_SLOTS, ORELINE_MAP

_U32_MAX = 0xFFFFFFFF


@dataclass(frozen=True)
class SegmentEvent:
    """One decided segment as the FIFO shows it (tonnages lot-relative, t)."""

    lot_number: int
    segment_index: int
    segment_class: int
    detections: int
    start_t: float
    end_t: float

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "segment_class", codes.SegmentClass(self.segment_class))
        except ValueError:
            raise SnapshotError(f"segment_class: expected a SegmentClass code, got {self.segment_class!r}") from None
        for name in ("lot_number", "segment_index"):
            if not 0 <= getattr(self, name) <= _U32_MAX:
                raise SnapshotError(f"{name}: expected 0..{_U32_MAX}, got {getattr(self, name)!r}")


class SegmentEventRing:
    """Sequence numbers and register images of the FIFO (not thread-safe: the server serialises calls)."""

    def __init__(self) -> None:
        self.head = 0

    def push(self, event: SegmentEvent) -> list[tuple[int, list[int]]]:
        """Number ``event`` and return the register writes ``[(address, values), ...]`` that show it."""
        self.head = self.head + 1 if self.head < _U32_MAX else 1
        slot = self.head % EVENT_SLOTS
        k = f"EVENT{slot}_"
        values = {
            f"{k}SEQ": self.head, f"{k}LOT_NUMBER": event.lot_number, f"{k}SEGMENT_INDEX": event.segment_index,
            f"{k}SEGMENT_CLASS": int(event.segment_class), f"{k}DETECTIONS": min(event.detections, 0xFFFF),
            f"{k}START_T": float(event.start_t), f"{k}END_T": float(event.end_t),
        }
        start = EVENT_BASE + 2 + slot * EVENT_SLOT_SIZE
        slot_regs = ORELINE_MAP.image(values, start, start + EVENT_SLOT_SIZE)
        head_regs = ORELINE_MAP.image({"EVENT_HEAD": self.head}, EVENT_BASE, EVENT_BASE + 2)
        return [(start, slot_regs), (EVENT_BASE, head_regs)]


def read_events(registers: list[int], after_seq: int) -> list[dict[str, int | float | str]]:
    """Decode the FIFO block (registers from ``EVENT_BASE``) and return events newer than ``after_seq``, oldest first.

    For clients and tests (a PLC does the same in its own language).
    """
    named = ORELINE_MAP.decode_image(registers, EVENT_BASE)
    events = []
    for k in range(EVENT_SLOTS):
        seq = int(named[f"EVENT{k}_SEQ"])
        if seq > after_seq:
            events.append({key.removeprefix(f"EVENT{k}_"): v for key, v in named.items() if key.startswith(f"EVENT{k}_")})
    return sorted(events, key=lambda e: int(e["SEQ"]))
