import numpy as np
import pytest

from conveyor.errors import ConfigError, RecordError
from conveyor.records import (Coverage, LotEnd, LotIdentity, LotRun, LotStart, Measurement,
                              StreamDescription)
from conveyor.segments import SegmentPlan


def test_segment_boundaries_and_index():
    plan = SegmentPlan(100.0, lot_start_mark_t=1000.0)
    assert plan.index_of(np.array([999.9, 1000.0, 1099.999, 1100.0])).tolist() == [-1, 0, 0, 1]
    assert plan.bounds_t(2) == (1200.0, 1300.0)
    assert plan.count(250.0) == 3
    assert plan.count(300.0) == 3


def test_split_cuts_a_stretch_at_segment_boundaries():
    plan = SegmentPlan(100.0)
    assert plan.split(50.0, 260.0) == [(0, 50.0, 100.0), (1, 100.0, 200.0), (2, 200.0, 260.0)]
    assert plan.split(10.0, 10.0) == []


@pytest.mark.parametrize("bad", [0.0, -5.0, float("inf")])
def test_segment_size_must_be_positive_and_finite(bad):
    with pytest.raises(ConfigError, match="segment_mass_t"):
        SegmentPlan(bad)


def _start(lot_id="L1"):
    return LotStart(LotIdentity(lot_id, "MV A", "H1", "fines", 1000.0), 0.0, 0.0, 100.0)


DESC = StreamDescription("nir", "nir", "nir", {"x": ((3,), "float32"), "ok": ((), "bool")})


def test_lot_run_accepts_a_well_formed_lot():
    run = LotRun()
    run.add(_start())
    run.add(DESC)
    run.add(Measurement("L1", "nir", 1.0, 5.0, {"x": np.zeros(3, np.float32), "ok": True}))
    run.add(Coverage("L1", "nir", 0.0, 5.0, True))
    run.add(LotEnd("L1", 2.0, 10.0, "complete"))
    assert run.counts["nir"] == 1


@pytest.mark.parametrize(
    "records, message",
    [
        ([DESC], "before LotStart"),
        ([_start(), _start()], "second LotStart"),
        ([_start(), Measurement("L1", "nir", 1.0, 0.0, {})], "undescribed stream"),
        ([_start(), DESC, Measurement("L1", "nir", 1.0, 0.0, {"x": np.zeros(3)})], "expected keys"),
        ([_start(), DESC, Measurement("L1", "nir", 1.0, 0.0, {"x": np.zeros(4), "ok": True})], "expected shape"),
        ([_start(), DESC, Measurement("L1", "nir", 1.0, 0.0, {"x": ["a", "b", "c"], "ok": True})], "expected float32"),
        ([_start(), DESC, Measurement("L2", "nir", 1.0, 0.0, {"x": np.zeros(3), "ok": True})], "in run of lot"),
        ([_start(), DESC, DESC], "described twice"),
        ([_start(), LotEnd("L1", 1.0, 1.0, "complete"), LotEnd("L1", 1.0, 1.0, "complete")], "after LotEnd"),
        ([_start(), Measurement("L1", "nir", 1.0, float("nan"), {})], "undescribed"),
        ([_start(), DESC, Measurement("L1", "nir", 1.0, float("nan"), {"x": np.zeros(3), "ok": True})], "finite"),
        ([_start(), Coverage("L1", "nir", 5.0, 1.0, True)], "end mark"),
    ],
)
def test_lot_run_refuses_out_of_order_or_mismatched_records(records, message):
    run = LotRun()
    with pytest.raises(RecordError, match=message):
        for r in records:
            run.add(r)


def test_lot_identity_validation():
    with pytest.raises(RecordError, match="lot_id"):
        LotIdentity("bad id!", "MV", "H1", "fines", 100.0)
    with pytest.raises(RecordError, match="declared_mass_t"):
        LotIdentity("L1", "MV", "H1", "fines", 0.0)
    assert LotIdentity.new_lot_id("MV Cape Iron", "H3").startswith("MV-Cape-Iron-H3-")
