from conveyor.cargo import Admixture, CargoModel, ForeignObject

from tests.lines import build_line
from tests.lines.stations import CargoCamera, TruthNir


def run(cargo, mass_t=1000.0, nir_dropout=(), camera=True, targeted=None):
    stations = [TruthNir("nir", 40.0, cargo, nir_dropout)]
    if camera:
        stations.append(CargoCamera("cam", 60.0, cargo, thumbnails=False))
    rig = build_line(stations, mass_t=mass_t, seed=3, decide=True,
                     on_targeted=(lambda m, r, a: targeted.append((m, r, a))) if targeted is not None else None)
    end = rig.run_lot("LOT-M", vessel="MV T")
    return rig.monitor, rig.alarms, end


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
