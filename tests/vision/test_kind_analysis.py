"""An object the camera cannot tell from an ore lump (kind ``uncertain``, vision.kind_decision) through the real
path: the camera station's detector reports it, the monitor raises a warning and asks for a targeted increment, and
the segment is neither contaminated nor left without a reason."""

from pathlib import Path

import numpy as np
import pytest

from conveyor.cargo import CargoModel, ForeignObject
from conveyor.clock import SimulatedClock
from conveyor.station import StationContext
from analysis.archive import open_archive
from analysis.fleet.rescore import _verdict_section, _vision_contaminated
from analysis.plc_state import alarm_bit
from plc import codes
from vision import kind_decision
from vision.kind_decision import KindRule
from vision.station import from_config

from tests.lines import build_line
from tests.lines.stations import TruthNir

#: A rule under which every reported object lies between the two levels: every detection is uncertain.
ALL_UNCERTAIN = KindRule(foreign_log_odds=np.inf, lump_log_odds=np.inf)
#: A 400 mm board at 75 t (segment 1 of 50 t segments) of a 100 t lot: the lot ends with the segment the tests read.
#: Half the belt of the 200 t lot of 100 t segments with the board at 150 t (a 300 t lot before that): the same
#: segment of the lot read, a segment holding the board and a whole segment of ore before it.
PLANK = ForeignObject(75.0, "wood", 400.0, 300.0, -0.3, 0.0)
LOT_T, SEGMENT_T = 100.0, 50.0


def _run(rule, monkeypatch, archive=None):
    monkeypatch.setattr(kind_decision, "ACTIVE_RULE", rule)
    cargo = CargoModel("fines", objects=[PLANK])
    clock = SimulatedClock()
    ctx = StationContext(clock, 1.8, 4.5, Path("/tmp"), seed=3, cargo=cargo)
    cam = from_config("cam", {"kind": "camera", "position_m": 60.0, "sim_mm_per_px": 4.0, "imaged_fraction": 1.0}, ctx)
    targeted = []
    rig = build_line([TruthNir("nir", 40.0, cargo), cam], mass_t=LOT_T, seed=3, decide=True, clock=clock, cargo=cargo,
                     archive=archive, on_targeted=lambda m, r, a: targeted.append((m, r, a)), segment_mass_t=SEGMENT_T)
    rig.run_lot("LOT-K", vessel="MV K")
    return rig.monitor, rig.alarms, targeted


@pytest.mark.slow
def test_an_uncertain_object_is_a_warning_and_a_targeted_increment_never_contamination_or_nothing(monkeypatch, tmp_path):
    monitor, alarms, targeted = _run(ALL_UNCERTAIN, monkeypatch, tmp_path / "lot.h5")
    near = [d for d in monitor.detections if abs(d["mark_t"] - PLANK.mark_t) < 1.0]
    assert near and all(d["kind"] == "uncertain" for d in near), [(d["mark_t"], d["kind"]) for d in monitor.detections]
    seg = monitor.segments[1]
    assert seg.segment_class != "contaminated"
    assert any("could not tell from an ore lump" in r for r in seg.reasons), seg.reasons
    raised = [a for a in alarms.all() if a.code == "uncertain_object"]
    assert raised and all(a.severity == "warning" and a.category == "contamination" for a in raised)
    # the PLC sees its own bit, not "a segment was classed contaminated"
    assert all(alarm_bit(a) is codes.AlarmBit.UNCERTAIN_OBJECT for a in raised)
    assert any(abs(m - PLANK.mark_t) < 1.0 and "uncertain object" in r for m, r, _ in targeted), targeted
    assert monitor.verdict.verdict != "contaminated"
    # the fleet re-score reads the archived detections by the monitor's rule: the uncertain object is no contamination
    with open_archive(tmp_path / "lot.h5") as reader:
        assert "uncertain" in set(reader.stream_table("cam", ["kind"])["kind"].astype(str))
        flags = _vision_contaminated(reader, reader.segment_table(), _verdict_section(reader))
    assert not flags.any()


@pytest.mark.slow
def test_the_same_plank_under_the_classifier_s_own_call_contaminates_its_segment(monkeypatch):
    monitor, alarms, targeted = _run(None, monkeypatch)
    near = [d for d in monitor.detections if abs(d["mark_t"] - PLANK.mark_t) < 1.0]
    assert near and all(d["kind"] != "uncertain" for d in near)
    assert monitor.segments[1].segment_class == "contaminated"
    assert not [a for a in alarms.all() if a.code == "uncertain_object"]


@pytest.mark.parametrize("length_mm, flagged", [(120.0, True), (30.0, False)])
def test_an_uncertain_object_counts_from_the_size_a_foreign_object_would(length_mm, flagged):
    """The monitor's size gate (``min_object_length_mm``, 50 mm in the shipped site) holds for uncertain objects as
    for foreign ones: a 120 mm uncertain object is a warning and a targeted increment, a 30 mm one neither."""
    from analysis.decide.alarms import AlarmBook
    from analysis.decide.monitor import LotMonitor
    from analysis.site import load_site
    from conveyor.records import Coverage, LotEnd, LotIdentity, LotStart, Measurement, StreamDescription

    targeted = []
    clock = SimulatedClock()
    monitor = LotMonitor(AlarmBook(clock.now_s), load_site()["verdict"], on_targeted=lambda m, r, a: targeted.append(r))
    fields = {"kind": ((), "str"), "probability": ((), "float32"), "length_mm": ((), "float32")}
    for r in (LotStart(LotIdentity("L1", "V", "H1", "fines", 200.0), 0.0, 0.0, 100.0),
              StreamDescription("cam", "cam", "vision", fields),
              Measurement("L1", "cam", 1.0, 40.0, {"kind": "uncertain", "probability": 0.8, "length_mm": length_mm}),
              Coverage("L1", "cam", 0.0, 200.0, True, time_s=2.0), LotEnd("L1", 3.0, 200.0, "complete")):
        monitor.handle(r)
    seg = monitor.segments[0]
    assert seg.segment_class == "ore"  # the camera is the only inspecting station and saw it all
    assert any("could not tell from an ore lump" in r for r in seg.reasons) is flagged
    assert (targeted == ["vision: uncertain object (ore lump or foreign)"]) is flagged
    assert any(a.code == "uncertain_object" for a in monitor.alarms.all()) is flagged
