"""Confidence only with evidence, the dark outcome, and the leave-one-sample-out report (spectra.identify, issue 21).

The fixture scores every real shared spectrum, as measured and wet (10 % pore water), through the detector model
with its own physical sample left out of the references and of the learned decision's training (20 folds).
"""

from __future__ import annotations

import numpy as np
import pytest

from spectra.grid import grid_by_name
from spectra.identify import Identifier
from spectra.identify.temper import CAP, DARK_GROUP, temper
from spectra.identify.validation import leave_one_sample_out, render
from spectra.models.evaluation import roc_curve

pytestmark = pytest.mark.slow  # the leave-one-sample-out fixture: 20 folds

RENDERINGS = (("as measured", 1.0, 0.0), ("wet 10 %", 1.0, 0.10))


@pytest.fixture(scope="module")
def loso() -> dict:
    return leave_one_sample_out(grid_by_name("ingaas256"), renderings=RENDERINGS)


@pytest.fixture(scope="module")
def idf() -> Identifier:
    return Identifier.from_library(grid_by_name("ingaas256"))


def _rows(loso: dict, name: str, rendering: str = "as measured") -> list[dict]:
    rows = [r for r in loso["rows"] if name in r["name"] and r["rendering"] == rendering]
    assert rows, name
    return rows


def test_held_out_ore_and_gangue_is_never_called_waste_or_contaminant_with_confidence(loso):
    ore = [r for r in loso["rows"] if r["class"] == "ore"]
    assert len(ore) > 100
    worst = max(max(r["p"][1], r["p"][2]) for r in ore)
    assert worst <= CAP + 1e-9, worst  # dark rows included
    assert loso["summary"]["targets"]["ore_wrong_p_over_half"][0] == 0
    # ferroan dolomite shows the Fe²⁺ band of olivine: ranked waste, but never confident
    dol = _rows(loso, "Dolomite ML97-3 Ferroan")[0]
    assert dol["p"][1] <= CAP + 1e-9 and dol["p"][0] < 0.5


def test_dark_featureless_spectra_are_unknown_on_both_sides(loso):
    for name in ("Magnetite HS195.1B", "Carbon Black GDS68", "Plastic ABS GDS341 BlackPipe"):
        for r in _rows(loso, name):
            assert r["black"] and r["called"] == "unknown" and r["called_group"] == DARK_GROUP, r
            assert r["p"][3] >= 0.5 and r["p"][0] < 0.5 and "dark, featureless" in r["evidence"]
    black = loso["summary"]["black"]
    assert black["by_class"]["ore"]["unknown"] == black["classes"]["ore"] > 0
    assert black["by_class"]["contaminant"]["ore"] == 0 and black["classes"]["contaminant"] > 0


def test_held_out_hdpe_is_called_contaminant_by_its_ch_band(loso):
    for r in _rows(loso, "Plastic_HDPE GDS387"):
        assert r["called"] == "contaminant" and r["p"][2] > CAP and "C–H 1.2" in r["evidence"], r


def test_pore_water_is_not_c_h_but_a_plastic_is(idf):
    wl = idf.grid.wavelength_nm
    rows = [i for i, r in enumerate(idf.references) if r.name in ("Goethite WS220", "Kaolinite KL502 (pxl)")]
    hdpe = [i for i, r in enumerate(idf.references) if "Plastic_HDPE GDS387" in r.name]
    assert len(rows) == 2 and len(hdpe) == 1
    wet = np.vstack([render(idf.reference_reflectance[rows], wl, 1.0, m) for m in (0.10, 0.15)])
    d = idf.describe(np.vstack([wet, idf.reference_reflectance[hdpe]]))
    j = idf.bank.keys.index("C-H 1.21")
    # water's own 1.20 µm band (1.2 cm⁻¹, Segelstein 1981) reaches the C–H depth limit in wet goethite ...
    assert np.any(d.depth[:-1, j] > idf.params.ch_depth_min) and np.all(d.depth[:-1, j] > 0.0)
    assert idf.organic(d).tolist() == [False] * 4 + [True]  # ... but it is not C–H


def test_probabilities_move_for_every_true_class(loso):
    s = loso["summary"]
    assert not any(s["at_prior"].values())
    for cls in ("ore", "waste", "contaminant"):
        q = s["spread_by_class"][cls][cls]
        assert q[-1] - q[0] > 0.4, (cls, q)  # each class's own probability spans its range
    assert s["spread"]["waste"][-1] <= CAP + 1e-9


def test_report_names_the_ambiguous_groups_and_prints_both_headlines(loso):
    s = loso["summary"]
    sep = s["separability"]
    assert "fired clay" in sep["contaminant / building rubble"]["ambiguous"]
    assert sep["contaminant / polyethylene"]["ambiguous"] == ""
    assert sep["contaminant / polyethylene"]["auc"] > sep["contaminant / building rubble"]["auc"]
    assert s["targets_without_ambiguous"]["spectra"][0] < s["targets"]["spectra"][0]


def test_tempering_caps_a_class_without_evidence_and_never_feeds_ore():
    p = np.array([[0.1, 0.0, 0.9, 0.0], [0.1, 0.0, 0.9, 0.0], [0.3, 0.6, 0.1, 0.0]])
    evidence = np.array([[True, False, False], [True, False, True], [True, False, False]])
    out = temper(p, evidence, np.array([False, False, True]))
    assert out[0].tolist() == pytest.approx([0.1, 0.0, 0.5, 0.4])
    assert out[1].tolist() == pytest.approx([0.1, 0.0, 0.9, 0.0])
    assert out[2, 3] == pytest.approx(0.6) and out[2, 0] < 0.3 and np.allclose(out.sum(axis=1), 1.0)


def test_roc_counts_tied_scores_half_whatever_the_row_order():
    score = np.array([0.5, 0.5, 0.5, 0.5])
    assert roc_curve(score, np.array([False, False, True, True]))[2] == pytest.approx(0.5)
    assert roc_curve(score, np.array([True, True, False, False]))[2] == pytest.approx(0.5)
