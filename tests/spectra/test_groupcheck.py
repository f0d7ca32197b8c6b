"""Leave-one-sample-group-out check of the per-spectrum classifier on real spectra (a quick subset)."""

from __future__ import annotations

import pytest

from spectra.grid import ingaas256
from spectra.models.groupcheck import group_folds, leave_group_out, markdown


def test_folds_hold_out_each_real_group_once(library):
    folds = group_folds(library.entries, 4, 0)
    flat = [g for f in folds for g in f]
    assert len(flat) == len(set(flat))
    real = {e.group for e in library.entries if e.klass in ("ore", "gangue", "waste", "contaminant")
            and not e.spectrum.meta.get("synthetic")}
    assert set(flat) == real
    assert not any(g.startswith("synthetic") for g in flat)
    assert all(len(f) == 1 for f in folds[:-4])  # ore, gangue and waste groups one at a time


@pytest.mark.slow
def test_held_out_hematite_series_is_not_waste(small_config):
    rep = leave_group_out(ingaas256(), small_config, n_per_class=150, only_groups=["gds69", "gds27", "sm93-15"])
    rows = {r["group"]: r for r in rep["rows"]}
    assert set(rows) == {"gds69", "gds27", "sm93-15"} and rows["gds69"]["spectra"] == 7
    assert rows["gds69"]["max_p_waste"] < 0.5 and rows["gds27"]["max_p_waste"] < 0.5
    assert rep["summary"]["genuine_groups"] == 2
    md = markdown(rep)
    assert "leave one sample group out" in md and "| gds69 | ore | 7 |" in md
