"""How distinct a waste spectrum is from any ore blend (spectra/separability.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import LibraryError
from spectra.hapke import reff_from_ssa, ssa_from_reff
from spectra.library import ResampledLibrary
from spectra.scene import MixtureSimulator
from spectra.separability import cross_section_share, lot_separability, markdown, separability


def _with_waste(rlib: ResampledLibrary, waste_reflectance: np.ndarray, name: str) -> ResampledLibrary:
    """The ore/gangue entries of ``rlib`` plus one synthetic waste entry."""
    ore = list(rlib.indices(classes=("ore", "gangue")))
    template = rlib.entries[int(rlib.indices(classes=("waste",))[0])]
    entries = [rlib.entries[i] for i in ore] + [replace(template, usgs_name=name, group=name)]
    return ResampledLibrary(rlib.grid, entries, np.vstack([rlib.reflectance[ore], waste_reflectance]))


def test_a_waste_that_is_an_ore_blend_has_no_distinct_signal(rlib):
    ore = rlib.indices(classes=("ore",))
    w = ssa_from_reff(np.clip(rlib.reflectance[ore[:2]], REFLECTANCE_FLOOR, None))
    blend = reff_from_ssa(0.7 * w[0] + 0.3 * w[1])
    rows = separability(_with_waste(rlib, blend, "fake blend"))
    assert len(rows) == 1 and rows[0].residual_rel < 1e-3 and rows[0].distinct_signal_at_5pct < 1e-4
    assert rlib.entries[ore[0]].usgs_name in rows[0].nearest


def test_a_spectrum_no_ore_blend_can_make_is_distinct(rlib):
    wl = rlib.grid.wavelength_nm
    # a narrow deep band at 1450 nm on a flat bright continuum: nothing in the ore/gangue set looks like it
    odd = 0.6 - 0.5 * np.exp(-0.5 * ((wl - 1450.0) / 15.0) ** 2)
    rows = separability(_with_waste(rlib, odd, "odd band"))
    assert rows[0].residual_rel > 0.05
    assert "| odd band |" in "\n".join(markdown(rows))


def test_real_library_rows_are_sorted_and_physical(rlib):
    rows = separability(rlib)
    assert len(rows) == len(rlib.indices(classes=("waste",)))
    signals = [r.distinct_signal_at_5pct for r in rows]
    assert signals == sorted(signals)
    assert all(0.0 <= r.residual_rel <= 1.0 and 0.0 < r.cross_section_at_5pct < 0.6 for r in rows)
    # the wet tunnel sludge (water bands) is the most distinct waste stand-in of the library
    assert "Sldg" in rows[-1].name or "Sludge" in rows[-1].name


def test_cross_section_of_a_dense_coarse_admixture_is_small():
    # 5 % mass of steel (7.85 g/cm3, 300 um) in 4.6 g/cm3 ore fines of 150 um: ~1.5 % of the cross-section
    assert cross_section_share(0.05, 7.85, 300.0) == pytest.approx(0.0152, abs=5e-4)
    assert cross_section_share(0.05, 4.6, 150.0) == pytest.approx(0.05)


def test_no_waste_entries_is_an_error(rlib):
    with pytest.raises(LibraryError, match="waste entries"):
        separability(rlib, groups={"no such group"})


def test_lot_separability_fine_dark_dust_stands_out_mill_scale_does_not(rlib):
    sim = MixtureSimulator(rlib)
    blends = sim.ore_blends(np.random.default_rng(1), 40)
    dust = lot_separability(sim, int(sim.proxies("waste", "eaf_dust")[0]), blends)
    scale = lot_separability(sim, int(sim.proxies("waste", "mill_scale")[0]), blends)
    assert dust.n_lots == 40 and 0.0 <= dust.p10 <= dust.median <= dust.p90
    # EAF dust (10 µm, ~half the cross-section at 5 % mass) vs mill scale (magnetite/wüstite, the ore's own phases)
    assert dust.median > 10 * scale.median
