"""Liquid water's optical constants and the wet-surface physics built on them (w21i)."""

from __future__ import annotations

import numpy as np
import pytest

from spectra.hapke import (R_EXTERNAL, R_INTERNAL, pore_saturation_frac, reff_from_ssa, ssa_from_reff, wet,
                           wet_surface, water_absorption_per_cm)
from spectra.water_constants import SEGELSTEIN_1981_K, water_k


def test_absorption_matches_the_published_constants_at_the_band_centres_and_between_them():
    # α = 4πk/λ with Segelstein's (1981) k; literature values (Hale & Querry 1973; Kou et al. 1993), 1/cm
    alpha = water_absorption_per_cm(np.array([970.0, 1450.0, 1650.0, 1940.0, 2120.0]))
    assert alpha == pytest.approx([0.45, 31.5, 5.76, 123.7, 24.5], rel=0.02)
    wl = SEGELSTEIN_1981_K[:, 0]
    assert np.all(np.diff(wl) > 0) and wl[0] < 400.0 and wl[-1] > 2500.0
    assert water_k(wl[10]) == pytest.approx(SEGELSTEIN_1981_K[10, 1])  # the table itself, not a curve fit


def test_the_water_surface_reflects_two_percent_and_traps_half_of_the_light_from_below():
    assert R_EXTERNAL == pytest.approx(0.020, abs=0.002)  # Fresnel, n = 1.32 at 30° incidence
    assert R_INTERNAL == pytest.approx(0.46, abs=0.02)  # Lekner & Dorf: 1 - (1 - 0.066) / n²
    r = np.array([0.0, 0.1, 0.5])
    film = wet_surface(r, 1.0)
    assert film[0] == pytest.approx(R_EXTERNAL)  # a black surface under water shows the water's reflection
    assert np.all(film[1:] < r[1:]) and film[2] / r[2] < film[1] / r[1] + 0.2  # darker when wet
    assert np.allclose(wet_surface(r, 0.0), r)


def test_moist_fines_absorb_where_water_does_and_a_free_water_surface_forms_only_beyond_pore_saturation():
    wl = np.array([500.0, 1300.0, 1450.0, 1650.0, 1940.0])
    alpha = water_absorption_per_cm(wl)
    w = ssa_from_reff(np.full((1, 5), 0.3))
    r6, r10 = (reff_from_ssa(wet(w, m, alpha))[0] for m in (0.06, 0.10))
    assert np.all(r10[1:] < r6[1:]) and np.all(r6[1:] < 0.3)
    assert r6[4] < r6[2] < r6[3] < r6[1]  # 1.94 µm band deepest, then 1.45; 1.65 between them
    assert r10[0] == pytest.approx(0.3, abs=1e-3)  # pore water below saturation: no absorption, no film at 0.5 µm
    m_sat = pore_saturation_frac()
    assert m_sat == pytest.approx(0.127, abs=0.001)
    slurry = reff_from_ssa(wet(w, 2.5 * m_sat, alpha))[0]
    assert slurry[0] == pytest.approx(float(wet_surface(np.array([0.3]), 1.0)[0]), abs=1e-3)  # fully covered
    assert slurry[4] == pytest.approx(R_EXTERNAL, abs=0.005)  # the 1.94 µm band bottoms at the water's reflection
    dry = reff_from_ssa(wet(w, 0.0, alpha))[0]
    assert dry == pytest.approx(np.full(5, 0.3), abs=1e-6)  # no water, no change
