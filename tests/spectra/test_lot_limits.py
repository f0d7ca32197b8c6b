"""The lot detector's limits: a confidence bound of the null quantile over whole calibration lots (round w21l)."""

import numpy as np
import pytest
from scipy import stats

from spectra.lotdetector import LotDetectorParams, quantile_bound

Q = 0.995


def _clustered_lots(rng: np.random.Generator, n_lots: int, per_lot: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Statistics of clean segments whose tail clusters by lot: each lot has its own scale (as a lot whose blend
    drifts away from its baseline gives several large statistics in a row)."""
    scale = np.exp(0.5 * rng.standard_normal(n_lots))
    t = (scale[:, None] * rng.chisquare(2, (n_lots, per_lot))).ravel()
    return t, np.repeat(np.arange(n_lots), per_lot)


def _true_quantile() -> float:
    rng = np.random.default_rng(99)
    t, _ = _clustered_lots(rng, 40000)
    return float(np.quantile(t, Q))


def test_without_confidence_the_limit_is_the_point_quantile():
    t, lot = _clustered_lots(np.random.default_rng(1), 80)
    assert quantile_bound(t, lot, Q, 0.0) == pytest.approx(float(np.quantile(t, Q)))


def test_the_bound_is_above_the_point_quantile_and_grows_with_the_confidence():
    t, lot = _clustered_lots(np.random.default_rng(2), 80)
    b50, b90, b99 = (quantile_bound(t, lot, Q, c) for c in (0.5, 0.9, 0.99))
    assert float(np.quantile(t, Q)) <= b90
    assert b50 < b90 < b99


def test_the_bound_covers_the_true_quantile_where_the_point_quantile_lands_low():
    truth = _true_quantile()
    rng = np.random.default_rng(3)
    point_low = bound_low = 0
    fits = 60
    for _ in range(fits):
        t, lot = _clustered_lots(rng, 80)
        point_low += float(np.quantile(t, Q)) < truth
        bound_low += quantile_bound(t, lot, Q, 0.9, n_boot=200) < truth
    # the point quantile of ~6 clustered exceedances lands below the truth in about half the fits; the 90 %
    # bound in clearly fewer (binomial 99.9 % bounds on 60 fits)
    assert point_low >= stats.binom.ppf(0.001, fits, 0.4)
    assert bound_low <= stats.binom.ppf(0.999, fits, 0.2)
    assert bound_low < point_low


def test_resampling_whole_lots_widens_the_bound_when_the_tail_is_one_lots():
    rng = np.random.default_rng(4)
    t = rng.chisquare(2, 80 * 14)
    lot = np.repeat(np.arange(80), 14)
    t[lot == 7] += 30.0  # one lot carries the whole tail
    per_segment = quantile_bound(t, np.arange(t.size), Q, 0.9)
    per_lot = quantile_bound(t, lot, Q, 0.9)
    assert per_lot > per_segment


def test_models_fitted_before_w21l_load_with_point_quantile_limits(model):
    lm = model.lot_detector
    assert lm.params.limit_confidence == LotDetectorParams().limit_confidence > 0.0
    header = lm.header()
    del header["params"]["limit_confidence"]  # as saved before w21l
    old = type(lm).from_arrays(lm.wavelength_nm, lm.raw_features, lm.novel, lm.to_arrays("x_"), "x_", header,
                               moisture=lm.moisture)
    assert old.params.limit_confidence == 0.0
    assert old.thresholds == lm.thresholds
