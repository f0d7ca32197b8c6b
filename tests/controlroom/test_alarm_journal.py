"""The alarm journal (ISA-18.2): ids unique across lots, lot-checked acknowledgement with a comment, alarms
carried across lots, shelving, acknowledge-all, follow-on alarms under their cause, warm-up as an event."""

from __future__ import annotations

import itertools

import pytest

from analysis.decide import AlarmBook, AlarmIds, AlarmJournal, AlarmLotError
from analysis.errors import AlarmError


def _book(epoch=None) -> AlarmBook:
    ticks = itertools.count()
    return AlarmBook(lambda: float(next(ticks)), epoch=epoch or (lambda: 1.8e9))


def test_ids_unique_across_lots_and_acknowledge_checks_the_lot():
    lot1 = _book()
    journal = AlarmJournal(lot1)
    a1 = lot1.raise_alarm("nir:fault", "nir_fault", "alarm", "dropout", lot_id="LOT-1")
    lot1.raise_alarm("cam:fault", "camera_fault", "alarm", "frames", lot_id="LOT-1")
    lot2 = _book()
    journal.switch(lot2)
    b1 = lot2.raise_alarm("nir:fault", "nir_fault", "alarm", "dropout", lot_id="LOT-2")
    assert b1.alarm_id not in (a1.alarm_id, a1.alarm_id + 1), "an id names one alarm of one lot"
    # the old bug: an acknowledgement meant for lot 1's alarm reached lot 2's alarm of the same number
    with pytest.raises(AlarmLotError, match="belongs to lot 'LOT-1'"):
        journal.acknowledge(a1.alarm_id, "Ana", lot_id="LOT-2")
    assert journal.get(b1.alarm_id).state == "raised"
    acked = journal.acknowledge(a1.alarm_id, "Ana", comment="NIR window cleaned", lot_id="LOT-1")
    assert (acked.state, acked.acknowledged_by, acked.ack_comment) == ("acknowledged", "Ana", "NIR window cleaned")
    assert acked.acknowledged_epoch_s == 1.8e9
    with pytest.raises(AlarmError, match="no alarm with id 999"):
        journal.acknowledge(999, "Ana")


def test_unacknowledged_alarms_carry_across_lots_until_acknowledged():
    lot1 = _book()
    journal = AlarmJournal(lot1)
    crit = lot1.raise_alarm("verdict:waste", "waste", "critical", "lot verdict waste", lot_id="LOT-1")
    journal.switch(_book())
    assert [a.alarm_id for a in journal.unacknowledged()] == [crit.alarm_id]
    assert crit.alarm_id in [a.alarm_id for a in journal.all()]
    journal.acknowledge(crit.alarm_id, "Ben")
    journal.switch(_book())
    assert journal.unacknowledged() == [], "an acknowledged alarm of an earlier lot is not carried further"


def test_follow_on_alarms_are_grouped_under_their_cause():
    book = _book()
    cause = book.raise_alarm("detection:1", "contamination", "alarm", "plastic 120 mm", lot_id="L", segment_index=3)
    seg = book.raise_alarm("segment:3:contaminated", "contamination", "alarm", "segment 3", lot_id="L",
                           segment_index=3)
    verdict = book.raise_alarm("verdict:contaminated", "contamination", "critical", "lot", lot_id="L")
    other = book.raise_alarm("segment:7:contaminated", "contamination", "alarm", "segment 7", lot_id="L",
                             segment_index=7)
    assert seg.parent_id == cause.alarm_id and verdict.parent_id == cause.alarm_id
    assert other.parent_id == -1, "a segment without its own cause is not grouped under another segment's"
    assert [a.alarm_id for a in book.unacknowledged()] == [other.alarm_id, cause.alarm_id], \
        "one plastic item is one alarm to act on"
    book.acknowledge(cause.alarm_id, "Ana")
    assert book.get(seg.alarm_id).state == book.get(verdict.alarm_id).state == "acknowledged"


def test_shelving_needs_a_reason_and_expires():
    now = [1.8e9]
    book = _book(epoch=lambda: now[0])
    a = book.raise_alarm("cam:appearance", "camera_fault", "warning", "cargo unlike model", lot_id="L")
    with pytest.raises(AlarmError, match="reason"):
        book.shelve(a.alarm_id, "Ana", reason=" ", duration_s=600)
    with pytest.raises(AlarmError, match="duration"):
        book.shelve(a.alarm_id, "Ana", reason="known", duration_s=10 * 24 * 3600)
    shelved = book.shelve(a.alarm_id, "Ana", reason="known cargo change", duration_s=600)
    assert shelved.shelve_reason.startswith("known cargo change") and book.unacknowledged() == []
    assert book.category_bits(unacknowledged_only=True) == 0
    now[0] += 601
    assert [x.alarm_id for x in book.unacknowledged()] == [a.alarm_id], "shelving expires"


def test_acknowledge_all_leaves_shelved_alarms():
    book = _book()
    a = book.raise_alarm("a", "system", "warning", "a", lot_id="L")
    b = book.raise_alarm("b", "system", "alarm", "b", lot_id="L")
    book.shelve(b.alarm_id, "Ana", reason="maintenance", duration_s=60)
    done = book.acknowledge_all("Ana", comment="shift handover")
    assert [x.alarm_id for x in done] == [a.alarm_id]
    assert book.get(b.alarm_id).state == "raised"


def test_expected_states_are_events_not_alarms():
    book = _book()
    seen = []
    book.event_listeners.append(seen.append)
    book.note_event("nir_warmup", "segment 0 uninspected: NIR lot baseline still forming", lot_id="L", lot_t=0.0)
    assert book.all() == [] and seen[0]["kind"] == "nir_warmup"


def test_ids_are_shared_only_before_the_first_alarm():
    book = _book()
    book.raise_alarm("x", "system", "info", "x")
    with pytest.raises(AlarmError):
        book.use_ids(AlarmIds(100))
