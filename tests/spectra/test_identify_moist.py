"""The line's moist ore on the full range (w21h): brightness judged where every grid looks, wet ore references where
the grid reaches the 1.93 µm water band, and the ore-group table of leave-one-sample-out."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_moist_ore import moist_ore_shares
from spectra.grid import grid_by_name
from spectra.identify import temper
from spectra.identify.identifier import ORE_VARIANTS, VARIANTS, Identifier
from spectra.identify.ore_groups import ore_groups, ore_recall_with_kin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def full_idf() -> Identifier:
    return Identifier.from_library(grid_by_name("full"), learned=False)


def test_water_darkened_long_wave_range_does_not_make_a_spectrum_dark(full_idf):
    wl = full_idf.grid.wavelength_nm
    r = np.where(wl < 900, 0.05, np.where(wl > 1750, 0.02, 0.15))[None, :]  # bright 0.9-1.75 µm, wet beyond
    d = full_idf.describe(r)
    assert np.exp(d.log_albedo[0]) < temper.DARK_ALBEDO  # the whole-grid mean (the rule before) says dark
    assert d.brightness[0] == pytest.approx(0.15, abs=0.01)
    assert not temper.dark(d, np.zeros(1, bool))[0]
    assert temper.dark(full_idf.describe(r * 0.5), np.zeros(1, bool))[0]  # 0.075 over 0.9-1.75 µm is dark


def test_wet_ore_variants_only_where_the_grid_reaches_the_water_band(full_idf):
    ingaas = Identifier.from_library(grid_by_name("ingaas256"), learned=False)
    k_full, k_in = len(full_idf.references), len(ingaas.references)
    n_ore = sum(r.line_class == "ore" for r in full_idf.references)
    assert len(full_idf._ref_of_row) == len(VARIANTS) * k_full + len(ORE_VARIANTS) * n_ore
    assert len(ingaas._ref_of_row) == len(VARIANTS) * k_in and not ingaas.moist_ore_physics
    assert {full_idf.references[i].line_class for i in full_idf._ref_of_row[len(VARIANTS) * k_full:]} == {"ore"}


def test_moist_hematite_fines_on_the_full_range_are_ore_not_waste():
    """The lot (seed 3) in which main's full-range identifier called 60 % of the moist fines waste."""
    s = moist_ore_shares("full", "hematite fines", 150, seed=3)
    assert s["waste"] < 0.2 and s["ore"] > 0.8 and s["confident_wrong"] == 0, s


def _row(group: str, sample: str, called: str, rendering: str = "as measured") -> dict:
    return {"class": "ore", "group": group, "sample": sample, "called": called, "rendering": rendering,
            "black": False, "d2_own": 1.0, "d2_other": 2.0 if called == "ore" else 0.5}


def test_ore_groups_name_single_sample_groups_and_leave_them_out_of_the_secondary_figure():
    rows = ([_row("Fe-oxide ore", s, "ore") for s in ("a", "b", "c")] + [_row("Fe-oxide ore", "d", "waste")]
            + [_row("gibbsite", "g", "contaminant"), _row("gibbsite", "g", "ore", "wet 10 %")])
    table = {g["group"]: g for g in ore_groups(rows)}
    assert table["gibbsite"]["samples"] == 1 and table["gibbsite"]["why"].startswith("single sample")
    assert table["Fe-oxide ore"]["why"].startswith("confusion") and table["Fe-oxide ore"]["recall"] == 0.75
    kin = ore_recall_with_kin(rows)
    assert kin["left_out"] == ["gibbsite"] and kin["as_measured"] == 0.75 and kin["spectra"] == 4


def test_bench_moist_ore_quick_runs_and_reports_the_criteria():
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_moist_ore", "--quick", "--grids=ingaas256",
                          "--seeds", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "hematite fines" in out.stdout and "genuine ore called waste, worst of 1 lots" in out.stdout
