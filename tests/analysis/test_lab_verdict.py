"""The lot verdict after the lab (pure logic): waste, ore, contaminated, inconclusive with what is missing."""

from __future__ import annotations

from analysis.decide import lab_verdict
from analysis.model import Alarm, LotVerdict, SegmentDecision
from sampler.lab import LabResult, parse_phases
from sampler.labrules import classify

ORE = LabResult("x", {"tfe": 62.0, "feo": 0.3, "sio2": 4.0, "al2o3": 2.2, "cao": 0.05, "zn": 0.01})
SLAGGY = LabResult("x", {"tfe": 60.0, "feo": 1.2, "sio2": 4.6, "al2o3": 2.2, "cao": 2.3, "zn": 0.01},
                   parse_phases("hematite; larnite (trace)"))


def seg(i, cls):
    return SegmentDecision("L", i, 100.0 * i, 100.0 * (i + 1), cls, 0.0)


def line(v):
    return LotVerdict("L", v, 0.99, True, 500.0)


SEGS = [seg(0, "ore"), seg(1, "waste-suspect"), seg(2, "ore"), seg(3, "waste-suspect"), seg(4, "ore")]
SAMPLES = [{"sample_id": "G1", "role": "routine"}, {"sample_id": "T1", "role": "targeted"},
           {"sample_id": "T2", "role": "targeted"}]
INCS = [{"sample_id": "G1", "mark_t": 50.0}, {"sample_id": "T1", "mark_t": 200.0, "alarm_id": 7},
        {"sample_id": "T2", "mark_t": 400.0}]
ALARMS = [Alarm(7, "segment:1:waste-suspect", "waste", "alarm", "m", 0.0, segment_index=1)]


def decide(results, line_v="waste", segs=SEGS, samples=SAMPLES):
    decisions = {sid: classify(LabResult(sid, r.assays_pct, r.phases)) for sid, r in results.items()}
    return lab_verdict("L", line(line_v), segs, samples, INCS, ALARMS, decisions)


def test_by_product_material_in_a_targeted_sample_confirms_waste():
    v = decide({"G1": ORE, "T1": SLAGGY, "T2": ORE})
    assert (v.verdict, v.basis, v.evidence) == ("waste", "lab-confirmed", ("T1",))
    assert v.line_verdict == "waste"


def test_gross_sample_finds_waste_the_line_called_ore():
    v = decide({"G1": SLAGGY, "T1": ORE, "T2": ORE}, line_v="ore")
    assert (v.verdict, v.basis) == ("waste", "found by the lab")
    assert "the line called the lot ore" in v.reasons[0]


def test_every_suspect_segment_sampled_and_clean_clears_the_lot():
    v = decide({"G1": ORE, "T1": ORE, "T2": ORE})
    assert (v.verdict, v.basis) == ("ore", "lab-cleared")
    assert v.suspect_segments == (1, 3)


def test_missing_assays_and_unsampled_segments_keep_it_inconclusive():
    v = decide({"G1": ORE})
    assert v.verdict == "inconclusive" and v.awaiting == ("T1", "T2")
    assert any("awaiting assay: T1, T2" in m for m in v.missing)
    segs = SEGS + [seg(5, "waste-suspect")]
    v = decide({"G1": ORE, "T1": ORE, "T2": ORE}, segs=segs)
    assert v.verdict == "inconclusive" and any("segment 5: no targeted sample" in m for m in v.missing)
    v = decide({"G1": LabResult("G1", {"tfe": 62.0, "sio2": 4.0}), "T1": ORE, "T2": ORE})
    assert v.verdict == "inconclusive" and any("G1: undetermined" in m for m in v.missing)


def test_foreign_objects_are_not_cleared_by_the_lab():
    v = decide({"G1": ORE, "T1": ORE, "T2": ORE}, line_v="contaminated")
    assert v.verdict == "contaminated"


def test_targeted_sample_maps_to_its_segment_by_alarm_then_by_mark():
    v = decide({"G1": ORE, "T1": ORE, "T2": ORE})
    seg_of = {r["sample_id"]: r["segment"] for r in v.samples}
    assert seg_of == {"G1": -1, "T1": 1, "T2": 3}  # T2's mark 400 t ends segment 3
