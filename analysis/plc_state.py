"""What the PLC sees, computed from a plant: the parts of :class:`plc.snapshot.LineSnapshot` one at a time.

Pure functions of the line's state, so :mod:`analysis.plc_bridge` stays about lifecycle and commands.
Alarm bits come from an alarm's ``code`` (a category code such as ``sample_missed``), else its category;
never from message text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from analysis.model import Alarm, LotVerdict, SegmentDecision
from conveyor.runtime import LineState
from plc import codes
from plc.robot_block import sampler_state_code

#: alarm category (analysis) → PLC alarm bit
CATEGORY_BITS: dict[str, codes.AlarmBit] = {
    "waste": codes.AlarmBit.WASTE_SUSPECT,
    "contamination": codes.AlarmBit.CONTAMINANT,
    "nir_fault": codes.AlarmBit.NIR_FAULT,
    "camera_fault": codes.AlarmBit.CAMERA_FAULT,
    "sampler_fault": codes.AlarmBit.SAMPLER_FAULT,
    "scale_fault": codes.AlarmBit.BELT_SCALE_LINK,
    "plc_fault": codes.AlarmBit.PLC_LINK,
    "uninspected": codes.AlarmBit.UNINSPECTED,
    "archive": codes.AlarmBit.ARCHIVE_FAULT,
    "system": codes.AlarmBit.STATION_ERROR,
}

#: alarm code (refines the category) → PLC alarm bit
CODE_BITS: dict[str, codes.AlarmBit] = {
    "lot_waste": codes.AlarmBit.LOT_WASTE,
    "lot_contaminated": codes.AlarmBit.LOT_CONTAMINATED,
    "lot_inconclusive": codes.AlarmBit.LOT_INCONCLUSIVE,
    "foreign_object": codes.AlarmBit.FOREIGN_OBJECT,
    "uncertain_object": codes.AlarmBit.UNCERTAIN_OBJECT,
    "sample_missed": codes.AlarmBit.SAMPLE_MISSED,
    "totaliser_resync": codes.AlarmBit.TOTALISER_FAULT,
    "archive_fault": codes.AlarmBit.ARCHIVE_FAULT,
}

VERDICT_CODES: dict[str, codes.LotVerdict] = {
    "pending": codes.LotVerdict.PENDING, "ore": codes.LotVerdict.ORE, "waste": codes.LotVerdict.WASTE,
    "contaminated": codes.LotVerdict.CONTAMINATED, "inconclusive": codes.LotVerdict.INCONCLUSIVE,
}
SEGMENT_CODES: dict[str, codes.SegmentClass] = {
    "uninspected": codes.SegmentClass.UNINSPECTED, "ore": codes.SegmentClass.ORE,
    "waste-suspect": codes.SegmentClass.WASTE_SUSPECT, "contaminated": codes.SegmentClass.CONTAMINATED,
}


def alarm_bit(alarm: Alarm) -> codes.AlarmBit:
    """The PLC bit an alarm sets: by its code when it has a mapped one, else by its category."""
    code = getattr(alarm, "code", "") or ""
    if code in CODE_BITS:
        return CODE_BITS[code]
    return CATEGORY_BITS.get(alarm.category, codes.AlarmBit.STATION_ERROR)


def alarm_words(active: Iterable[Alarm], latched_bits: int) -> tuple[int, int]:
    """``(ALARMS_ACTIVE, ALARMS_UNACKED)``: unacknowledged bits include alarms cleared but never acknowledged."""
    active_bits, unacked_bits = 0, latched_bits
    for alarm in active:
        bit = 1 << int(alarm_bit(alarm))
        active_bits |= bit
        if alarm.state == "raised":
            unacked_bits |= bit
    return active_bits, unacked_bits


def line_status(state: LineState | None, *, in_lot: bool, failed: bool, inspecting_stations: int) -> codes.LineStatus:
    """LINE_STATUS: FAULT when oreline cannot inspect (line failed, or every inspecting station faulted)."""
    if failed:
        return codes.LineStatus.FAULT
    if not in_lot or state is None or state.phase == "ended":
        return codes.LineStatus.IDLE
    if inspecting_stations and len(state.stations_faulted) >= inspecting_stations:
        return codes.LineStatus.FAULT
    if not state.scale_ok or state.stations_faulted:
        return codes.LineStatus.DEGRADED
    if not state.running:
        return codes.LineStatus.BELT_STOPPED
    return codes.LineStatus.RUNNING


def _unit(x: float) -> float:
    return min(1.0, max(0.0, x)) if math.isfinite(x) else 0.0


def segment_fields(segment: SegmentDecision | None) -> dict[str, Any]:
    """The segment block: every value about the same (last decided) segment."""
    if segment is None:
        return {}
    return {
        "segment_index": max(0, segment.index),
        "segment_class": SEGMENT_CODES.get(segment.segment_class, codes.SegmentClass.UNINSPECTED),
        "nir_waste_score": _unit(segment.nir_waste_score),
        "vision_detections": max(0, int(segment.detections)),
    }


def earliest_safe_tonnage_t(verdict: LotVerdict | None, sequential: Any, last: SegmentDecision | None) -> float:
    """Decided: the tonnage it was decided at. Pending: the earliest lot tonnage a waste decision could be
    reached (flagged segments still needed x segment mass, after the last decided segment). 0: not known."""
    if verdict is not None and math.isfinite(verdict.decided_at_t) and verdict.decided_at_t > 0:
        return float(verdict.decided_at_t)
    if verdict is None or verdict.final or sequential is None or last is None:
        return 0.0
    needed = max(1, math.ceil((sequential.upper - sequential.cusum) / sequential.llr_flag))
    return max(0.0, float(last.end_t + needed * (last.end_t - last.start_t)))


def verdict_fields(verdict: LotVerdict | None, sequential: Any, last: SegmentDecision | None) -> dict[str, Any]:
    """LOT_VERDICT, VERDICT_FINAL, VERDICT_CONFIDENCE and EARLIEST_SAFE_TONNAGE_T."""
    if verdict is None:
        return {}
    return {
        "lot_verdict": VERDICT_CODES.get(verdict.verdict, codes.LotVerdict.PENDING),
        "verdict_final": int(bool(verdict.final)),
        "verdict_confidence": _unit(verdict.confidence),
        "earliest_safe_tonnage_t": earliest_safe_tonnage_t(verdict, sequential, last),
    }


def sampler_fields(plant: Any) -> dict[str, Any]:
    """SAMPLER_STATE and the increment counters (DISABLED when the line has no sampler)."""
    increments: list[Mapping[str, Any]] = list(plant.monitor.increments)
    routine = sum(1 for i in increments if i.get("role") == "routine" and i.get("status") == "cut")
    targeted = sum(1 for i in increments if i.get("role") == "targeted" and i.get("status") == "cut")
    missed = sum(1 for i in increments if i.get("status") not in ("cut", "requested", "scheduled"))
    sampler = next((s for s in plant.stations.values() if hasattr(s, "request_targeted")), None)
    if sampler is None:
        state = codes.SamplerState.DISABLED
    else:
        try:
            state = sampler_state_code(getattr(sampler.robot, "state", None))
        except Exception:  # an unknown robot state must not stop publishing
            state = codes.SamplerState.OFFLINE
    return {"sampler_state": state, "samples_routine": routine, "samples_targeted": targeted,
            "samples_missed": missed}


@dataclass(frozen=True)
class Request:
    """A latched interlock request: the flagged segment, its tonnage and its belt window (lot tonnage)."""

    lot_number: int
    segment_index: int
    mass_t: float
    window_start_t: float
    window_end_t: float

    @classmethod
    def of(cls, lot_number: int, segment: SegmentDecision) -> Request:
        return cls(lot_number, segment.index, max(0.0, segment.end_t - segment.start_t), max(0.0, segment.start_t),
                   max(0.0, segment.end_t))

    def fields(self, prefix: str) -> dict[str, Any]:
        return {f"{prefix}_segment_index": self.segment_index, f"{prefix}_mass_t": self.mass_t,
                f"{prefix}_window_start_t": self.window_start_t, f"{prefix}_window_end_t": self.window_end_t}
