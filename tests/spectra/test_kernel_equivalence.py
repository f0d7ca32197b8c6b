"""One numeric path: the line's features (``Preprocessing.features``, used by training, the line, the lot detector
and the fleet) and the scikit-learn transformers agree to 1e-12 on edge spectra, because both run one kernel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spectra.constants import REFLECTANCE_FLOOR, SNV_MIN_STD
from spectra.models.bundle import Preprocessing, SpectraModel
from spectra.preprocessing import Absorbance, SavitzkyGolay, StandardNormalVariate

SHIPPED = Path(__file__).resolve().parents[2] / "spectra" / "shipped"
N = 256
X = np.linspace(0.0, 1.0, N)
SMOOTH = 0.12 + 0.25 * X + 0.03 * np.sin(9 * X)


def _edge_spectra() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    saturated = SMOOTH * 4.0
    saturated[saturated > 1.0] = 1.0  # a clipped detector: a flat top over part of the range
    edge = SMOOTH.copy()
    edge[0], edge[-1] = 0.9, 1e-6  # single-channel spikes at both edges
    return {
        "typical": SMOOTH + rng.normal(0.0, 1e-3, N),
        "flat": np.full(N, 0.3),
        "near-flat": 0.3 + 1e-14 * X,  # std of absorbance ~1e-14: below SNV_MIN_STD, centred only
        "just-above-guard": 0.3 * 10 ** (-1e-10 * X),  # std ~3e-11: scaled to unit variance
        "dark": np.zeros(N),
        "below-floor": np.where(X < 0.5, -0.01, 1e-5),  # negative and sub-floor reflectance
        "saturated": saturated,
        "over-range": np.full(N, 1.7) + 0.01 * X,
        "edge-spike": edge,
    }


def _both(pre: Preprocessing, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pre.features(r), pre.sklearn_pipeline().fit_transform(r)


@pytest.mark.parametrize("name", list(_edge_spectra()))
def test_line_features_equal_the_transformers_on_edge_spectra(name):
    r = _edge_spectra()[name][None, :]
    line, sk = _both(Preprocessing(), r)
    assert np.all(np.isfinite(line))
    np.testing.assert_allclose(line, sk, rtol=0, atol=1e-12)


def test_the_snv_guard_is_one_guard():
    a = np.vstack([np.full(N, 2.0), 2.0 + 1e-14 * X, 2.0 + 1e-9 * X])
    out = StandardNormalVariate().fit_transform(a)
    assert np.all(out[0] == 0.0) and np.all(np.abs(out[1]) < 1e-13)  # flat and near-flat: centred, not blown up
    assert a[1].std() < SNV_MIN_STD < a[2].std() and out[2].std() == pytest.approx(1.0)
    line = Preprocessing().features(10 ** -a)  # the line's path takes reflectance
    np.testing.assert_allclose(line, Preprocessing().sklearn_pipeline().fit_transform(10 ** -a), rtol=0, atol=1e-12)


def test_many_spectra_at_once_and_a_single_channel():
    batch = np.vstack(list(_edge_spectra().values()))
    line, sk = _both(Preprocessing(), batch)
    np.testing.assert_allclose(line, sk, rtol=0, atol=1e-12)
    one = np.array([[0.2], [0.0], [1.2]])  # one channel: SNV gives zeros, the filter keeps them
    line, sk = _both(Preprocessing(), one)
    assert np.all(line == 0.0) and np.all(sk == 0.0)


@pytest.mark.parametrize("window,poly,deriv", [(5, 2, 0), (11, 2, 1), (15, 3, 2)])
def test_other_filter_settings_agree(window, poly, deriv):
    pre = Preprocessing(floor=1e-3, window_length=window, polyorder=poly, deriv=deriv)
    r = np.vstack(list(_edge_spectra().values()))
    np.testing.assert_allclose(*_both(pre, r), rtol=0, atol=1e-12)


def test_nan_stays_in_its_row_on_the_line_and_is_refused_by_the_transformers():
    r = np.vstack([SMOOTH, SMOOTH * 0.5])
    r[1, 40] = np.nan
    line = Preprocessing().features(r)
    np.testing.assert_allclose(line[0], Preprocessing().features(SMOOTH[None, :])[0], rtol=0, atol=0)
    assert np.all(np.isnan(line[1]))  # SNV spreads it over the row; the model marks the row invalid before
    with pytest.raises(ValueError, match="NaN"):
        Preprocessing().sklearn_pipeline().fit_transform(r)


def test_the_transformers_default_to_the_named_floor():
    assert Absorbance().floor == Preprocessing().floor == REFLECTANCE_FLOOR
    out = Absorbance().fit_transform(np.array([[0.0, -1.0, 1.0]]))
    np.testing.assert_array_equal(out, [[4.0, 4.0, -0.0]])
    assert SavitzkyGolay().mode == "nearest"


def test_the_shipped_line_model_runs_the_same_path():
    (path,) = SHIPPED.glob("nir-ingaas256-*.npz")
    model = SpectraModel.load(path)
    r = np.vstack([SMOOTH[:model.grid.n_channels]] * 2) if model.grid.n_channels <= N else None
    assert r is not None
    b = model.score(r)
    x = model.preprocessing.sklearn_pipeline().fit_transform(r)
    np.testing.assert_allclose(b.p, model.classifier.predict_proba(x), rtol=0, atol=1e-12)
