"""Product fingerprints (spectra/fingerprint.py) on simulated lots of held-out library samples."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from spectra.detector import DetectorConfig, DetectorModel
from spectra.errors import FingerprintError
from spectra.fingerprint import (MIN_LOTS, MIN_SEGMENT_SPECTRA, SignatureBuilder, build_fingerprint,
                                 fingerprint_key, load_fingerprint, lot_signature)
from spectra.lots import simulate_lot
from spectra.scene import MixtureSimulator, draw_lots, product_lot


@pytest.fixture(scope="module")
def product_case(model, rlib):
    """A fingerprint from 20 genuine lots of one held-out product; signatures of new genuine and waste lots."""
    sim = MixtureSimulator(rlib, allowed_groups=model.info["test_groups"])
    det = DetectorModel(model.grid, DetectorConfig(), seed=4)
    rng = np.random.default_rng(8)
    product = draw_lots(sim, rng, 1)[0]

    def sig(idx=None, frac=0.0):
        lot = simulate_lot(sim, det, rng, 3, 40, profile=product_lot(sim, rng, product), admix_index=idx,
                           mass_frac=frac)
        return lot_signature(model.lot_detector, lot, 3)

    fp = build_fingerprint(model, "Gamma", "PB fines", [sig() for _ in range(20)],
                           lot_ids=[f"L{i}" for i in range(20)])
    genuine = [sig() for _ in range(4)]
    waste = [sig(int(i), 0.95) for i in sim.pool("waste")]
    return fp, genuine, waste


def test_whole_lot_waste_is_not_like_the_product(model, product_case):
    fp, genuine, waste = product_case
    assert fp.lots == 20 and fp.false_alarm_bound == pytest.approx(1 / 21)
    assert fp.threshold == pytest.approx(np.quantile(fp.loo_statistics, 0.95, method="higher"))
    g = [fp.check(model, s) for s in genuine]
    w = [fp.check(model, s) for s in waste]
    assert sum(c.flagged for c in g) <= 1
    assert sum(c.flagged for c in w) >= 2  # held-out samples; ~80 % of such lots over 12 products (docs/spectra.md)
    assert np.median([c.statistic for c in w]) > 3 * np.median([c.statistic for c in g])


def test_save_load_round_trip_and_refusals(model, product_case, tmp_path):
    fp, genuine, _ = product_case
    path = fp.save(tmp_path / f"{fingerprint_key(fp.supplier, fp.product)}.npz")
    assert path.name == "Gamma__PB_fines.npz"
    back = load_fingerprint(path)
    assert back.lot_ids == fp.lot_ids and back.threshold == fp.threshold
    np.testing.assert_array_equal(back.features, fp.features)
    assert back.check(model, genuine[0]).statistic == pytest.approx(fp.check(model, genuine[0]).statistic)
    with pytest.raises(FingerprintError, match="rebuild it"):
        replace(fp, model_hash="0" * 32).check(model, genuine[0])
    with pytest.raises(FingerprintError, match="expected a signature of"):
        fp.check(model, replace(genuine[0], features=genuine[0].features[:-1]))
    other = tmp_path / "old.npz"
    np.savez(other, header=np.array(json.dumps({**fp.header(), "format": 0})), features=fp.features,
             reflectance=fp.reflectance, within=fp.within, loo_statistics=fp.loo_statistics)
    with pytest.raises(FingerprintError, match="expected fingerprint format 2, got 0"):
        load_fingerprint(other)


def test_too_few_lots_and_bad_rates_are_errors(model, product_case):
    fp, genuine, _ = product_case
    with pytest.raises(FingerprintError, match=f"expected >= {MIN_LOTS} earlier genuine lots, got 4"):
        build_fingerprint(model, "Gamma", "PB fines", genuine)
    with pytest.raises(FingerprintError, match="false_alarm"):
        build_fingerprint(model, "Gamma", "PB fines", genuine * 2, false_alarm=1.5)


def test_signature_skips_thin_segments_and_needs_enough(model, rlib):
    b = SignatureBuilder(model.lot_detector, 2)
    r = np.full((MIN_SEGMENT_SPECTRA + 1, model.grid.n_channels), 0.3)
    b.add(r[:MIN_SEGMENT_SPECTRA - 1])  # too few spectra: not counted
    b.add(r)
    assert not b.complete
    with pytest.raises(FingerprintError, match="needs 2 segments"):
        b.signature()
    b.add(r * 1.01)
    s = b.signature()
    assert b.complete and s.segments == 2 and s.spectra == 2 * r.shape[0]
    assert s.features.shape == (model.lot_detector.basis.shape[0],)
