from __future__ import annotations

import math

import pytest

from plc import codes
from plc.errors import SnapshotError
from plc.registers import ORELINE_MAP, STATUS_END
from plc.snapshot import LineSnapshot


def full_snapshot(**kw) -> LineSnapshot:
    args = dict(
        line_status=codes.LineStatus.RUNNING, lot_number=17, lot_id="MV IRON STAR/H4/L17", lot_tonnage_t=1523.25,
        belt_speed_m_s=-0.25, rate_t_h=3987.5, segment_index=15, segment_class=codes.SegmentClass.WASTE_SUSPECT,
        nir_waste_score=0.625, vision_detections=3, lot_verdict=codes.LotVerdict.INCONCLUSIVE, verdict_confidence=0.5,
        earliest_safe_tonnage_t=2400.0, alarms_active=(1 << 5) | (1 << 31), alarms_unacked=1 << 5,
        sampler_state=codes.SamplerState.CUTTING, samples_routine=12, samples_targeted=2, samples_missed=1,
    )
    args.update(kw)
    return LineSnapshot(**args)


def test_round_trip_through_registers_is_exact_for_float32_values():
    snap = full_snapshot()
    regs = snap.to_registers(heartbeat=9, clients=2)
    assert len(regs) == STATUS_END
    assert LineSnapshot.from_registers(regs) == snap
    named = ORELINE_MAP.decode_image(regs)
    assert named["HEARTBEAT"] == 9 and named["MODBUS_CLIENTS"] == 2


def test_codes_accept_plain_ints_and_become_enums():
    snap = LineSnapshot(segment_class=3, lot_verdict=2)
    assert snap.segment_class is codes.SegmentClass.CONTAMINATED
    assert snap.lot_verdict is codes.LotVerdict.WASTE


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("segment_class", 9, "segment_class"),
        ("lot_verdict", -1, "lot_verdict"),
        ("lot_number", 2**32, "lot_number"),
        ("samples_missed", -1, "samples_missed"),
        ("vision_detections", 1.5, "vision_detections"),
        ("lot_tonnage_t", math.nan, "lot_tonnage_t"),
        ("rate_t_h", math.inf, "rate_t_h"),
        ("nir_waste_score", 1.5, "0..1"),
        ("verdict_confidence", -0.1, "0..1"),
        ("lot_tonnage_t", -1.0, "tonnages"),
        ("lot_id", "x" * 33, "32 characters"),
        ("lot_id", "Lot ü", "ASCII"),
        ("lot_id", "a\nb", "printable"),
    ],
)
def test_bad_fields_raise_snapshot_error_naming_the_field(field, value, words):
    with pytest.raises(SnapshotError, match=words):
        LineSnapshot(**{field: value})


def test_replace_validates_and_rejects_unknown_fields():
    snap = full_snapshot()
    assert snap.replace(lot_number=18).lot_number == 18
    with pytest.raises(SnapshotError, match="unknown"):
        snap.replace(heartbeat=1)
    with pytest.raises(SnapshotError):
        snap.replace(segment_class=7)
