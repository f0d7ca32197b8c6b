"""Band-convolution resampling and its refusal to extrapolate."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.errors import GridError
from spectra.grid import InstrumentGrid, grid_by_name, ingaas256
from spectra.resample import resample


def test_narrow_line_becomes_the_band_shape():
    src = np.arange(800.0, 1800.0, 0.5)
    line = np.where(np.abs(src - 1200.0) < 0.26, 1.0, 0.0)
    grid = InstrumentGrid("g", np.arange(1150.0, 1250.0, 1.0), np.full(100, 20.0))
    out = resample(src, line, grid)
    # a Gaussian band of 20 nm FWHM: half height at ±10 nm
    peak = out.max()
    assert grid.wavelength_nm[np.argmax(out)] == pytest.approx(1200.0, abs=1.0)
    half = grid.wavelength_nm[out >= peak / 2]
    assert half[-1] - half[0] == pytest.approx(20.0, abs=2.0)


def test_convolution_differs_from_interpolation_on_sharp_features():
    src = np.arange(850.0, 1750.0, 1.0)
    vals = 0.5 + 0.3 * (np.arange(src.size) % 6 == 0)  # comb finer than the band
    grid = ingaas256()
    conv = resample(src, vals, grid)
    interp = np.interp(grid.wavelength_nm, src, vals)
    assert np.std(conv) < 0.2 * np.std(interp)
    assert conv.mean() == pytest.approx(vals.mean(), abs=0.01)


def test_constant_is_preserved_and_irregular_source_ok():
    src = np.sort(np.random.default_rng(0).uniform(800, 1800, 300))
    out = resample(src, np.full(src.size, 0.42), ingaas256())
    assert np.allclose(out, 0.42)


def test_refuses_target_outside_source():
    src = np.arange(950.0, 1800.0, 1.0)
    with pytest.raises(GridError, match="extrapolate"):
        resample(src, np.ones(src.size), ingaas256())


def test_refuses_wide_gap_inside_target():
    src = np.arange(800.0, 1800.0, 1.0)
    v = np.ones(src.size)
    v[(src > 1200) & (src < 1300)] = np.nan
    with pytest.raises(GridError, match="gap"):
        resample(src, v, ingaas256())
    v2 = np.ones(src.size)
    v2[(src > 1200) & (src < 1210)] = np.nan  # small gap: interpolated
    assert np.allclose(resample(src, v2, ingaas256()), 1.0)


def test_library_resample_skips_or_raises(library):
    with pytest.raises(GridError):
        library.resample(ingaas256())
    r = library.resample(grid_by_name("full"), skip_uncovered=True)
    # refused: the paper's 84 nm gap at 921–1005 nm and the calcite+kaolinite mixture's deleted channels
    assert r.reflectance.shape == (len(library) - 2, 501) and len(r.skipped) == 2
    assert np.all(np.isfinite(r.reflectance))


def test_shape_mismatch():
    with pytest.raises(GridError):
        resample(np.arange(10.0), np.ones(9), ingaas256())
    with pytest.raises(GridError):
        grid_by_name("nope")
