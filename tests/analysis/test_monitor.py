from conveyor.cargo import Admixture, CargoModel, ForeignObject
from conveyor.clock import SimulatedClock
from conveyor.feed import SimulatedFeed
from conveyor.records import LotIdentity
from conveyor.runtime import Line
from analysis.decide.alarms import AlarmBook
from analysis.decide.monitor import LotMonitor
from analysis.site import load_site

from tests.analysis.stations import TruthCamera, TruthNir, MeanScorer


def run(cargo, mass_t=1000.0, nir_dropout=(), camera=True, targeted=None):
    clock = SimulatedClock()
    alarms = AlarmBook(clock.now_s)
    verdict_cfg = load_site()["verdict"]
    monitor = LotMonitor(alarms, verdict_cfg, nir_scorer_factory=MeanScorer,
                         on_targeted=(lambda m, r, a: targeted.append((m, r, a))) if targeted is not None else None)
    stations = [TruthNir("nir", 40.0, cargo, nir_dropout)]
    if camera:
        stations.append(TruthCamera("cam", 60.0, cargo))
    line = Line(clock, SimulatedFeed(6000.0, 4.5, mass_t, seed=3), stations, sinks=[monitor])
    end = line.run_lot(LotIdentity("LOT-M", "MV T", "H1", "fines", mass_t))
    return monitor, alarms, end


def test_clean_lot_is_ore_with_every_segment_inspected():
    monitor, alarms, _ = run(CargoModel("fines"))
    assert [s.segment_class for s in monitor.segments] == ["ore"] * 10
    assert monitor.verdict.verdict == "ore" and monitor.verdict.final
    assert alarms.active() == []


def test_waste_admixture_gives_waste_verdict_early_and_requests_targeted_cuts():
    targeted = []
    cargo = CargoModel("fines", [Admixture(300.0, 700.0, "waste", "slag", 0.08)])
    monitor, alarms, _ = run(cargo, targeted=targeted)
    classes = [s.segment_class for s in monitor.segments]
    assert classes[3:7] == ["waste-suspect"] * 4 and classes[:3] == ["ore"] * 3
    assert monitor.verdict.verdict == "waste" and monitor.verdict.decided_at_t == 500.0
    assert {a.category for a in alarms.active()} >= {"waste"}
    assert targeted and all(r == "NIR waste-suspect segment" for _, r, _ in targeted)


def test_foreign_object_contaminates_its_segment_and_raises_an_alarm_with_the_evidence():
    cargo = CargoModel("fines", objects=[ForeignObject(450.0, "wood", 300.0, 80.0)])
    monitor, alarms, _ = run(cargo)
    assert monitor.segments[4].segment_class == "contaminated"
    assert "wood" in monitor.segments[4].reasons[0]
    assert monitor.verdict.verdict == "contaminated"
    cats = [a.category for a in alarms.all()]
    assert "contamination" in cats


def test_dropout_makes_segments_uninspected_never_ore():
    monitor, alarms, _ = run(CargoModel("fines"), nir_dropout=[(200.0, 400.0)])
    classes = [s.segment_class for s in monitor.segments]
    assert classes[2:4] == ["uninspected", "uninspected"]
    assert "dropout" in " ".join(monitor.segments[2].reasons)
    assert monitor.verdict.verdict == "inconclusive"
    assert any(a.category == "uninspected" for a in alarms.active())


def test_a_line_without_a_camera_decides_on_the_stations_it_has():
    monitor, _, _ = run(CargoModel("fines"), camera=False, mass_t=300.0)
    assert [s.segment_class for s in monitor.segments] == ["ore"] * 3
