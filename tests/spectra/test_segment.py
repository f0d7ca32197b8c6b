"""Segment-level decision statistic."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.errors import InvalidSpectrumError
from spectra.segment_stats import (MIN_VALID_SPECTRA, ClassCalibration, SegmentCalibration, fit_class_calibration,
                                   score_segment)

CAL = SegmentCalibration(ClassCalibration(-2.0, 0.2, 1.0, 3.0), ClassCalibration(-2.0, 0.2, 1.0, 3.0), 0.01, 100, 60, 0.01)


def test_clean_segment_not_flagged_and_waste_flagged():
    n = 60
    ore = score_segment(np.full(n, 0.1), np.full(n, 0.05), np.zeros(n, bool), np.ones(n, bool), CAL)
    assert ore.scored and not ore.flagged_waste and not ore.flagged_contaminant and ore.n_valid == n
    waste = score_segment(np.full(n, 0.6), np.full(n, 0.05), np.ones(n, bool), np.ones(n, bool), CAL)
    assert waste.flagged_waste and not waste.flagged_contaminant and waste.novelty_fraction == 1.0
    assert waste.threshold == pytest.approx(-2.0 + 3.0 * np.sqrt(0.04 + 1.0 / n))


def test_invalid_spectra_ignored_and_too_few_not_scored():
    n = 20
    valid = np.zeros(n, bool)
    valid[: MIN_VALID_SPECTRA - 1] = True
    pw = np.full(n, 0.9)
    s = score_segment(pw, np.zeros(n), np.zeros(n, bool), valid, CAL)
    assert not s.scored and not s.flagged_waste and s.n_valid == MIN_VALID_SPECTRA - 1
    pw[valid] = 0.01
    valid[:10] = True
    pw_nan = pw.copy()
    pw_nan[12] = np.nan
    s = score_segment(pw_nan, np.zeros(n), np.zeros(n, bool), np.ones(n, bool), CAL)
    assert s.n_valid == n - 1


def test_mismatched_arrays():
    with pytest.raises(InvalidSpectrumError):
        score_segment(np.zeros(3), np.zeros(4), np.zeros(3, bool), np.ones(3, bool), CAL)


def test_calibration_meets_false_alarm_on_its_own_null():
    rng = np.random.default_rng(0)
    null = rng.normal(0, 1, (2000, 1)) * 0.3 + rng.normal(-1, 1, (2000, 40))
    cal = fit_class_calibration(null, 0.01)
    assert np.mean(null.mean(1) > cal.threshold(40)) <= 0.011
    assert cal.sigma_between == pytest.approx(0.3, abs=0.05) and cal.sigma_within == pytest.approx(1.0, abs=0.05)


def test_trained_model_calibration_recorded(model):
    c = model.calibration
    assert c.empirical_false_alarm <= c.false_alarm + 1e-9
    assert c.waste.threshold(10) > c.waste.threshold(1000)
