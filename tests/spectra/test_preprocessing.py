"""Preprocessing transformers: scikit-learn estimator checks and reference values."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from spectra.preprocessing import (Absorbance, ContinuumRemoval, MultiplicativeScatterCorrection, SavitzkyGolay,
                                   StandardNormalVariate)


@parametrize_with_checks([StandardNormalVariate(), MultiplicativeScatterCorrection(), SavitzkyGolay(),
                          SavitzkyGolay(window_length=5, deriv=1), ContinuumRemoval(), Absorbance()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
