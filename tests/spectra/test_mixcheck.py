"""The simulator's physics against real measurements: USGS mixtures, the GDS69 grain series, moisture."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.errors import LibraryError
from spectra.grid import ingaas256
from spectra.hapke import band_depth, water_path_cm
from spectra.mixcheck import check_grain, check_mixtures, check_moisture, check_series, stated_fractions
from spectra.scene import SceneConfig


def test_stated_fractions_are_read_from_usgs_mixture_names():
    assert stated_fractions("chlorite 0.2 + epidote 0.6 + calcite 0.2") == {"chlorite": 0.2, "epidote": 0.6,
                                                                           "calcite": 0.2}
    assert stated_fractions("calcite 0.80 wt + kaolinite CM9 0.20") == {"calcite": 0.8, "kaolinite": 0.2}
    with pytest.raises(LibraryError, match="fraction"):
        stated_fractions("hematite + quartz")


def test_hapke_mixing_beats_areal_mixing_on_real_mixtures(library):
    rows = check_mixtures(library, ingaas256())
    assert len(rows) == 5  # the mixtures whose components all have library samples
    by = {r.name: r for r in rows}
    hq = by["Hematite.02+Quartz.98 GDS76"]
    assert hq.rms_hapke < hq.rms_areal and "hematite" in hq.components["hematite"].lower()
    assert sum(r.rms_hapke < r.rms_areal for r in rows) >= 4
    # the dark phase of an intimate mixture is recovered at more than its stated mass (it dominates)
    assert hq.recovered["hematite"] > hq.stated["hematite"]
    series = check_series(library, ingaas256())
    assert len(series) == 10
    assert np.mean([s.rms_hapke for s in series]) < 0.7 * np.mean([s.rms_areal for s in series])


def test_grain_exponent_half_predicts_the_hematite_series_far_better_than_the_slab(library):
    slab, model = check_grain(library, ingaas256())
    assert slab.exponent == 1.0 and model.exponent == 0.5
    assert model.mean_rms < 0.5 * slab.mean_rms and model.mean_rms < 0.5 * model.unchanged_rms


def test_demo_lot_is_wet_ore_not_mud(library):
    m = check_moisture(library, ingaas256(), n_spectra=60)
    lo, hi = SceneConfig().moisture_frac_range
    assert (lo, hi) == (0.06, 0.10) and lo <= m.demo_moisture <= hi + 0.02
    assert 0.1 < m.demo_band_depth < 0.6 * m.wet_sludge_band_depth
    assert m.model_band_depth_at["0.00"] < 0.02 < m.model_band_depth_at["0.06"] < m.model_band_depth_at["0.10"]
    assert 0.15 < m.sludge_moisture_reproducing_wet < 0.5  # a saturated sludge
    assert water_path_cm(0.08) * 1e4 == pytest.approx(60.0, rel=0.01)
    wl = np.array([1300.0, 1450.0, 1650.0])
    assert band_depth(np.array([0.5, 0.25, 0.5]), wl) == pytest.approx(0.5)


def test_on_the_full_range_a_mixture_measured_from_513_nm_is_left_out_not_fatal(library):
    from spectra.grid import full_range

    rows = check_mixtures(library, full_range())  # raised GridError on the calcite + kaolinite mixture before
    assert rows and all("calcite.80wt+kaol" not in r.name.lower() for r in rows)
    assert len(rows) < len(check_mixtures(library, ingaas256()))
