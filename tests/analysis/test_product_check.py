"""The live line checks a lot's first segments against its declared product's fingerprint (spectra/fingerprint.py):
a lot that is waste from its first tonne raises an alarm, asks for a sample and cannot end ore."""

from __future__ import annotations

import numpy as np
import pytest

from conveyor.errors import ConfigError
from conveyor.records import Measurement, StreamDescription
from conveyor.station import MaterialWindow, Station
from analysis.site import product_check_factory
from spectra.detector import DetectorConfig, DetectorModel
from spectra.fingerprint import build_fingerprint, live_checks, lot_signature
from spectra.grid import ingaas256
from spectra.library import load_library
from spectra.lots import simulate_lot
from spectra.models.bundle import SpectraModel
from spectra.scene import MixtureSimulator, draw_lots, product_lot

from tests.lines import build_line
from tests.spectra.small_model import small_model_path

SEGMENTS, SPECTRA = 6, 60


class SpectraNir(Station):
    """Emits the spectra of a pre-simulated lot (library spectra, :func:`spectra.lots.simulate_lot`), one per
    window, from the segment the window's tonnage falls in."""

    def __init__(self, name: str, position_m: float, lot: np.ndarray) -> None:
        super().__init__(name, position_m)
        self.lot = lot.astype(np.float32)
        self.count = 0

    def describe(self):
        fields = {"reflectance": ((self.lot.shape[-1],), "float32"), "p_waste": ((), "float32"),
                  "valid": ((), "bool")}
        return [StreamDescription(self.name, self.name, "nir", fields, metadata={"grid": "ingaas256"})]

    def process(self, w: MaterialWindow):
        if w.empty:
            return [w.coverage(False, "no material")]
        k = min(int((w.start_mark_t - w.lot_start_mark_t) // 100.0), self.lot.shape[0] - 1)
        r = self.lot[k, self.count % self.lot.shape[1]]
        self.count += 1
        data = {"reflectance": r, "p_waste": np.float32(0.0), "valid": True}
        return [Measurement(w.lot_id, self.name, w.end_time_s, w.start_mark_t, data), w.coverage(True)]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    model = SpectraModel.load(small_model_path())  # the spectra tests' small model, fitted once a session
    rlib = load_library().resample(ingaas256(), skip_uncovered=True)
    sim = MixtureSimulator(rlib, allowed_groups=model.info["test_groups"])
    det = DetectorModel(model.grid, DetectorConfig(), seed=2)
    rng = np.random.default_rng(5)
    product = draw_lots(sim, rng, 1)[0]

    def lot(idx=None, frac=0.0, n=SEGMENTS):
        return simulate_lot(sim, det, rng, n, SPECTRA, profile=product_lot(sim, rng, product), admix_index=idx,
                            mass_frac=frac)

    fp = build_fingerprint(model, "Gamma", "PB fines", [lot_signature(model.lot_detector, lot(n=3)) for _ in range(20)])
    folder = tmp_path_factory.mktemp("fingerprints")
    fp.save(folder / "Gamma__PB_fines.npz")
    genuine = lot()
    # the held-out waste sample the fingerprint separates best, as a whole cargo (95 % of the mass)
    wastes = [lot(int(i), 0.95) for i in sim.pool("waste")]
    stats = [fp.check(model, lot_signature(model.lot_detector, w, 3)).statistic for w in wastes]
    return {"model": model, "fp": fp, "folder": folder, "genuine": genuine, "waste": wastes[int(np.argmax(stats))]}


def run(case, lot_array, supplier="Gamma", product="PB fines"):
    targeted = []
    model = case["model"]
    checks = live_checks(case["folder"], model_for=lambda _md: model)
    rig = build_line([SpectraNir("nir", 40.0, lot_array)], mass_t=100.0 * SEGMENTS, seed=3, decide=True,
                     on_targeted=lambda m, r, a: targeted.append((m, r, a)),
                     monitor_options={"product_check_factory": checks})
    rig.run_lot("LOT-F", vessel="MV T", product=product, supplier=supplier)
    return rig.monitor, rig.alarms, targeted


def test_whole_lot_waste_is_held_from_an_ore_verdict(case):
    monitor, alarms, targeted = run(case, case["waste"])
    check = monitor.product_check
    assert check.flagged and check.statistic > check.threshold
    assert [s.segment_class for s in monitor.segments] == ["ore"] * SEGMENTS  # the segments alone look clean
    v = monitor.verdict
    assert v.final and v.verdict == "inconclusive" and "not like 20 earlier genuine lots" in v.reasons[0]
    alarm = next(a for a in alarms.all() if a.key == "lot:fingerprint")
    assert alarm.category == "waste" and "assay the lot" in alarm.message
    assert [r for _, r, _ in targeted] == ["NIR: lot not like its product"]
    assert targeted[0][0] == pytest.approx(300.0, abs=1.0)  # after the 3 signature segments


def test_a_genuine_lot_of_the_product_ends_ore(case):
    monitor, alarms, targeted = run(case, case["genuine"])
    assert not monitor.product_check.flagged
    assert monitor.verdict.verdict == "ore" and not targeted
    assert not [a for a in alarms.all() if a.key == "lot:fingerprint"]


def test_a_product_without_fingerprint_is_said_and_not_held(case):
    monitor, _, _ = run(case, case["waste"], product="lump ore")
    assert monitor.product_check == "no fingerprint for 'lump ore' (Gamma)"
    assert monitor.verdict.verdict == "ore"  # what the NIR segments can see: nothing; the note says why


def test_an_unreadable_fingerprint_folder_is_a_config_error(tmp_path):
    assert product_check_factory("") is None
    with pytest.raises(ConfigError, match="verdict.product_fingerprints"):
        product_check_factory(str(tmp_path / "missing"))
