import math

import pytest

from analysis.decide.alarms import ALARM_CATEGORIES, AlarmBook
from analysis.errors import AlarmError, VerdictConfigError
from analysis.model import SegmentDecision, to_dict
from analysis.decide.verdict import SequentialVerdict


def seg(i, cls_, size=100.0):
    return SegmentDecision("L", i, i * size, (i + 1) * size, cls_, 0.0)


def test_waste_is_declared_at_the_first_safe_tonnage():
    sv = SequentialVerdict("L", alpha=0.001, beta=0.01, p0=0.01, p1=0.95)
    assert sv.segments_needed_for_waste == 2
    v = sv.update(seg(0, "waste-suspect"))
    assert v.verdict == "pending"
    v = sv.update(seg(1, "waste-suspect"))
    assert v.verdict == "waste" and v.decided_at_t == 200.0 and v.confidence == pytest.approx(0.999)
    assert sv.finish(20_000).verdict == "waste"


def test_five_percent_waste_lot_is_decided_within_the_first_five_percent():
    # per-segment sensitivity 0.95 at a 5 % admixture: even with a miss the verdict comes early
    sv = SequentialVerdict("L")
    pattern = ["waste-suspect", "ore", "waste-suspect", "waste-suspect"] + ["waste-suspect"] * 196
    decided = None
    for i, c in enumerate(pattern):
        v = sv.update(seg(i, c))
        if v.verdict == "waste":
            decided = v.decided_at_t
            break
    assert decided is not None and decided <= 0.05 * 20_000


def test_an_isolated_false_alarm_does_not_condemn_a_genuine_lot():
    sv = SequentialVerdict("L")
    classes = ["ore"] * 50 + ["waste-suspect"] + ["ore"] * 50 + ["waste-suspect"] + ["ore"] * 98
    for i, c in enumerate(classes):
        sv.update(seg(i, c))
    final = sv.finish(20_000)
    assert final.verdict == "ore" and final.final and final.confidence == pytest.approx(0.99)


def test_sparse_flags_beyond_false_alarms_end_inconclusive_not_ore():
    # waste the NIR sees in ~1 segment of 12 (e.g. mill scale in magnetite ore): the SPRT never crosses, but 17
    # flags in 200 segments are far more than genuine ore gives at p0 = 1 % (limit 7 at alpha = 0.001)
    sv = SequentialVerdict("L")
    for i in range(200):
        v = sv.update(seg(i, "waste-suspect" if i % 12 == 5 else "ore"))
    assert v.verdict == "pending"
    flags, limit, scored = sv.excess_flags()
    assert (flags, scored) == (17, 200) and limit < flags
    final = sv.finish(20_000)
    assert final.verdict == "inconclusive" and "17 NIR waste-suspect segments of 200" in final.reasons[0]
    # as many flags as genuine ore gives: ore
    sv = SequentialVerdict("L")
    for i in range(200):
        sv.update(seg(i, "waste-suspect" if i in (40, 120, 190) else "ore"))
    assert sv.finish(20_000).verdict == "ore"


def test_cusum_does_not_let_a_clean_start_hide_later_waste():
    sv = SequentialVerdict("L")
    for i in range(150):
        sv.update(seg(i, "ore"))
    sv.update(seg(150, "waste-suspect"))
    v = sv.update(seg(151, "waste-suspect"))
    assert v.verdict == "waste" and v.decided_at_t == 15_200


def test_unseen_lot_is_inconclusive_never_ore():
    sv = SequentialVerdict("L", max_uninspected_fraction=0.05)
    for i in range(10):
        sv.update(seg(i, "uninspected" if i < 2 else "ore"))
    final = sv.finish(1000)
    assert final.verdict == "inconclusive" and "uninspected" in final.reasons[0]


def test_contaminated_segments_make_a_contaminated_lot():
    sv = SequentialVerdict("L", contaminated_segments_min=2)
    sv.update(seg(0, "contaminated"))
    assert sv.update(seg(1, "ore")).verdict == "pending"
    assert sv.update(seg(2, "contaminated")).verdict == "contaminated"


@pytest.mark.parametrize("kw", [dict(p0=0.5, p1=0.4), dict(alpha=0.0), dict(beta=0.7)])
def test_bad_error_rates_are_refused(kw):
    with pytest.raises(VerdictConfigError):
        SequentialVerdict("L", **kw)


def test_alarm_lifecycle_and_history():
    now = [0.0]
    book = AlarmBook(lambda: now[0])
    seen = []
    book.listeners.append(lambda action, a: seen.append((action, a.state)))
    a = book.raise_alarm("nir:fault", "nir_fault", "alarm", "dropout")
    again = book.raise_alarm("nir:fault", "nir_fault", "alarm", "dropout")
    assert again.alarm_id == a.alarm_id and len(book.active()) == 1
    assert book.category_bits() == 1 << ALARM_CATEGORIES.index("nir_fault")
    now[0] = 5.0
    acked = book.acknowledge(a.alarm_id, "operator1")
    assert acked.state == "acknowledged" and acked.acknowledged_by == "operator1"
    assert book.category_bits(unacknowledged_only=True) == 0
    book.clear("nir:fault")
    assert book.active() == [] and book.get(a.alarm_id).state == "cleared"
    assert seen == [("raised", "raised"), ("acknowledged", "acknowledged"), ("cleared", "cleared")]
    assert len(book.history) == 3
    b = book.raise_alarm("nir:fault", "nir_fault", "alarm", "dropout again")
    assert b.alarm_id != a.alarm_id


def test_alarm_errors_are_clear():
    book = AlarmBook(lambda: 0.0)
    with pytest.raises(AlarmError, match="no alarm with id 99"):
        book.acknowledge(99, "x")
    with pytest.raises(AlarmError, match="category"):
        book.raise_alarm("k", "weather", "alarm", "m")
    with pytest.raises(AlarmError, match="severity"):
        book.raise_alarm("k", "system", "panic", "m")


def test_to_dict_makes_json_ready_data():
    d = to_dict(SegmentDecision("L", 0, 0.0, 100.0, "ore", 0.0))
    assert d["nir_waste_score"] is None and d["segment_class"] == "ore"
    assert not any(isinstance(v, float) and math.isnan(v) for v in d.values())
