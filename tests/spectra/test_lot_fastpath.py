"""The lot detector's optimised update (cached baseline, stacked triangular solve, single-threaded BLAS) equals a
straightforward per-segment computation of the same statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.optimize import nnls

from spectra.constants import REFLECTANCE_FLOOR
from spectra.detector import DetectorConfig, DetectorModel
from spectra.lotdetector import LotDetector, LotDetectorModel
from spectra.lots import simulate_lot
from spectra.scene import MixtureSimulator

N_SPECTRA = 30


def _reference_lot(model: LotDetectorModel, segments: np.ndarray) -> list[tuple]:
    """(t_waste, t_contaminant, est_waste, est_contaminant, novelty, accepted) per segment, recomputing every
    quantity from scratch per segment with dense inverses (no caching, no factorisation reuse)."""
    p, th = model.params, model.thresholds
    ms, rs, cws, dofs, devs = [], [], [], [], []
    out = []
    for r in segments:
        r = np.asarray(r, float)
        raw = model.raw_features(np.clip(r, REFLECTANCE_FLOOR, None))
        f = model.project(raw)
        n, m = f.shape[0], f.mean(axis=0)
        cw = (f - m).T @ (f - m)
        nov = float(np.mean(model.novel(raw)))
        lflag = nov > th.library_novelty
        if len(ms) < p.warmup_segments:
            if not lflag:
                ms, rs, cws, dofs = ms + [m], rs + [r.mean(0)], cws + [cw], dofs + [n - 1]
            out.append((np.nan, np.nan, np.nan, np.nan, nov, not lflag))
            continue
        w = p.window_segments
        nb = min(len(ms), w)
        mu, rb = np.mean(ms[-w:], axis=0), np.mean(rs[-w:], axis=0)
        cw_lot = np.sum(cws[-w:], axis=0) / sum(dofs[-w:])
        c = 1.0 + 1.0 / nb
        prior = p.between_to_within * cw_lot
        prior += np.eye(len(m)) * (p.ridge * np.trace(prior) / len(m) + 1e-12)
        g = model.condition_directions(rb)
        prior += g @ g.T
        n_eff = min(n, th.spectra_per_segment) if th.spectra_per_segment > 0 else n
        recent = devs[-p.scatter_window:] if p.scatter_window > 0 else devs
        scatter = sum((np.outer(x, x) / cx for x, cx in recent), np.zeros_like(prior))
        sigma = (p.prior_weight * prior + scatter) / (p.prior_weight + len(recent)) * c + cw / (n - 1) / n_eff
        inv_l = np.linalg.inv(np.linalg.cholesky(sigma))
        d = m - mu
        dw = inv_l @ d
        row = []
        for ends in (model.waste, model.contaminant):
            a, rn = nnls(inv_l @ model.admix_directions(rb, ends), dw, maxiter=1000)
            row += [max(dw @ dw - rn ** 2, 0.0), a.sum()]
        accepted = row[0] <= th.accept_waste and row[2] <= th.accept_contaminant and not lflag
        if accepted:
            ms, rs, cws, dofs = ms + [m], rs + [r.mean(0)], cws + [cw], dofs + [n - 1]
            devs.append((d, c))
        out.append((row[0], row[2], row[1], row[3], nov, accepted))
    return out


@pytest.fixture(scope="module")
def lot_segments(model, rlib):
    sim = MixtureSimulator(rlib, allowed_groups=model.info["test_groups"])
    det = DetectorModel(model.grid, DetectorConfig(), seed=5)
    rng = np.random.default_rng(17)
    waste = [int(i) for i in sim.pool("waste")]
    frac = np.where(np.arange(7) >= 4, 0.25, 0.0)
    return np.concatenate([simulate_lot(sim, det, rng, 4, N_SPECTRA),
                           simulate_lot(sim, det, rng, 7, N_SPECTRA, admix_index=waste[0], mass_frac=frac)[3:]])


def test_batched_directions_equal_per_group_directions(model, lot_segments):
    lm = model.lot_detector
    rbar = lot_segments[0].mean(axis=0)
    dw, dc, g = lm.directions(rbar)
    np.testing.assert_allclose(dw, lm.admix_directions(rbar, lm.waste), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dc, lm.admix_directions(rbar, lm.contaminant), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g, lm.condition_directions(rbar), rtol=1e-9, atol=1e-12)


def test_optimised_update_equals_reference(model, lot_segments):
    lm = model.lot_detector
    det = LotDetector(lm)
    got = [det.update(s) for s in lot_segments]
    ref = _reference_lot(lm, lot_segments)
    accepted = [x.accepted for x in got]
    # the case must exercise both a baseline that changes (accepted) and one that is reused (rejected)
    assert any(accepted[lm.params.warmup_segments:]) and not all(accepted)
    assert accepted == [x[5] for x in ref]
    actual = np.array([[x.t_waste, x.t_contaminant, x.est_waste_frac, x.est_contaminant_frac, x.novelty_fraction]
                       for x in got])
    expected = np.array([x[:5] for x in ref], float)
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9)


def test_scatter_window_forgets_old_deviations(model, lot_segments):
    """With a window of 2 the covariance update uses only the last 2 accepted deviations (the reference too)."""
    from dataclasses import replace

    lm = model.lot_detector
    saved = lm.params
    try:
        lm.params = replace(saved, scatter_window=2)
        det = LotDetector(lm)
        got = [det.update(s) for s in lot_segments]
        ref = _reference_lot(lm, lot_segments)
        assert det._k <= 2
        np.testing.assert_allclose([x.t_waste for x in got], [x[0] for x in ref], rtol=1e-7, atol=1e-9)
    finally:
        lm.params = saved


def test_precomputed_features_give_the_same_decisions(model, lot_segments):
    """Batch re-scoring hands the detector features it computed already: nothing changes; a wrong shape is an
    error, not a silent recomputation."""
    from spectra.errors import ModelError

    lm = model.lot_detector
    plain, fed = LotDetector(lm), LotDetector(lm)
    for s in lot_segments:
        a = plain.update(s)
        b = fed.update(s, lm.raw_features(np.clip(s, REFLECTANCE_FLOOR, None)))
        assert np.array_equal([a.t_waste, a.t_contaminant, a.novelty_fraction],
                              [b.t_waste, b.t_contaminant, b.novelty_fraction], equal_nan=True)
        assert a.accepted == b.accepted
    with pytest.raises(ModelError, match="features of shape"):
        LotDetector(lm).update(lot_segments[0], lm.raw_features(lot_segments[0])[:-1])


def test_scorer_accepts_batch_features_and_checks_their_rows(model, lot_segments):
    from spectra.errors import InvalidSpectrumError
    from spectra.segment import LotSegmentScorer

    lm = model.lot_detector
    plain, fed = LotSegmentScorer(model), LotSegmentScorer(model)
    for s in lot_segments:
        valid = np.ones(len(s), bool)
        valid[0] = False  # an invalid row: features are for the valid rows only
        arrays = {"reflectance": s, "valid": valid}
        a = plain.score(arrays)
        b = fed.score(arrays, features=lm.raw_features(np.clip(s[valid], REFLECTANCE_FLOOR, None)), validity_checked=True)
        assert np.array_equal(np.array(dataclasses.astuple(a), float), np.array(dataclasses.astuple(b), float),
                              equal_nan=True)
    with pytest.raises(InvalidSpectrumError, match="expected 29 rows"):
        LotSegmentScorer(model).score({"reflectance": lot_segments[0], "valid": valid},
                                      features=lm.raw_features(lot_segments[0]))
