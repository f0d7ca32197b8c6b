"""What users are shown about NIR identification on a simulated lot, checked against the simulated truth.

A real NIR station on the real line runtime archives a lot of hematite fines with 60 % plastic between 200 and
300 t; the report's per-group rows and per-segment labels (analysis.report.nir_identification) must name ore groups
for ore segments, C–H features for the plastic segment, and no feature the truth's end-members do not have.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.archive import LotArchive
from analysis.archive.reader import open_archive
from analysis.report.nir_identification import identification_rows, segment_identification
from conveyor.cargo import Admixture, CargoModel
from conveyor.clock import SimulatedClock
from conveyor.feed import SimulatedFeed
from conveyor.records import LotIdentity
from conveyor.runtime import Line
from conveyor.station import StationContext
from spectra.identify.combine import identifier_for
from spectra.identify.labels import NO_FEATURE
from spectra.station import from_config

#: Feature key prefix → truth components that carry it (hydroxyl/water minerals, Fe³⁺/Fe²⁺ oxides; C–H only in
#: the organic admixture, which the truth counts as "other").
CARRIERS = {
    "OH/H2O": {"water", "kaolinite", "gibbsite", "chlorite", "mica", "talc", "jarosite", "goethite"},
    "H2O": {"water"},
    "Fe3+": {"hematite", "goethite", "jarosite"},
    "Fe2+": {"magnetite", "siderite", "chlorite"},
    "C-H": {"other"},
    # on the full range plastics' own combination bands reach the 2.20 µm window too (the identifier's reference
    # spectra, continuum-removed depth there: PET GDS380 0.18, vinyl GDS398 0.14, greenhouse film GGA-54 0.22)
    "Al-OH": {"kaolinite", "mica", "gibbsite", "other"},
    "Mg-OH/CO3": {"carbonate", "siderite", "talc", "chlorite"},  # siderite FeCO3: the CO3 band at 2.33 µm
}
PLASTIC_T = (200.0, 300.0)


@pytest.fixture(scope="module")
def lot(tmp_path_factory) -> tuple[Path, list[str]]:
    tmp = tmp_path_factory.mktemp("labels")
    clock = SimulatedClock()
    cargo = CargoModel("hematite fines", [Admixture(*PLASTIC_T, "contaminant", "plastic", 0.6)])
    station = from_config("nir", {"kind": "spectrometer", "position_m": 30.0},
                          StationContext(clock, 1.8, 4.0, tmp, 7, cargo))
    path = tmp / "LOT-LABELS.h5"
    archive = LotArchive(path, flush_interval_s=5.0, clock=clock)
    Line(clock, SimulatedFeed(6000.0, 4.5, 400.0, seed=7), [station], sinks=[archive]).run_lot(
        LotIdentity("LOT-LABELS", "MV Test", "H1", "hematite fines", 400.0))
    archive.close()
    ore_groups = sorted({r.group for r in identifier_for(station.model.grid).references if r.line_class == "ore"})
    return path, ore_groups


def _truth_per_segment(reader) -> tuple[list[str], dict[int, np.ndarray]]:
    (nir,) = reader.streams_of_kind("nir")
    cols = reader.stream_table(nir.name, ["tonnage_mark_t", "valid", "true_abundances"])
    ok = cols["valid"].astype(bool)
    seg = np.floor(reader.lot_tonnes(cols["tonnage_mark_t"][ok]) / reader.segment_mass_t).astype(int)
    truth = cols["true_abundances"][ok]
    return nir.metadata["truth_components"], {int(s): truth[seg == s].mean(axis=0) for s in np.unique(seg)}


def _features_shown(text: str) -> list[str]:
    return [] if text in ("", NO_FEATURE) else [part.split(" µm")[0] for part in text.split(", ")]


def _allowed(feature: str, present: set[str]) -> bool:
    prefix = feature.rsplit(" ", 1)[0]
    return bool(CARRIERS[prefix] & present)


def test_segment_labels_and_features_follow_the_simulated_truth(lot):
    path, ore_groups = lot
    with open_archive(path) as r:
        segments = segment_identification(r)
        components, truth = _truth_per_segment(r)
    assert [s["segment"] for s in segments] == sorted(truth)
    for s in segments:
        t = truth[s["segment"]]
        present = {c for c, v in zip(components, t) if v > 0.005}
        other = t[components.index("other")]
        # on the full range a single moist-ore spectrum of a segment can show a noise-level C–H band (w21i: one of
        # 250 in this lot, a 3 % 1.73 µm band, called contaminant): such a stray group holds < 1 % of the segment
        stray = [g for g in s["groups"] if other < 0.01 and g["class"] == "contaminant" and g["share"] < 0.01]
        for g in s["groups"]:
            if g not in stray:
                assert all(_allowed(f, present) for f in _features_shown(g["features"])), (g, present)
        top = s["groups"][0]
        if other < 0.01:  # genuine ore: ore groups, ore class, no C–H in any group but a stray spectrum
            assert top["group"] in ore_groups and top["share"] > 0.8, s
            assert s["classes"].get("ore", 0.0) > 0.8 and s["classes"].get("contaminant", 0.0) < 0.01, s
            assert all(g["group"] in ore_groups for g in s["groups"] if g["class"] == "ore"), s
            assert not any(f.startswith("C-H") for g in s["groups"] if g not in stray
                           for f in _features_shown(g["features"])), s
        elif other > 0.1:  # the plastic segment: contaminant groups, and the C–H bands detected in their spectra
            plastic = [g for g in s["groups"] if g["class"] == "contaminant"]
            assert sum(g["share"] for g in plastic) > 0.15, s
            assert any("C-H 1.21" in _features_shown(g["features"]) for g in plastic), s
            assert not any(g["group"] in ore_groups for g in plastic), s
    assert any(truth[s["segment"]][components.index("other")] > 0.1 for s in segments)


def test_report_group_rows_show_only_features_the_truth_has(lot):
    path, ore_groups = lot
    with open_archive(path) as r:
        rows = identification_rows(r)
        components, truth = _truth_per_segment(r)
    present = {c for c, v in zip(components, np.max(list(truth.values()), axis=0)) if v > 0.005}
    assert rows[0]["group"] in ore_groups and rows[0]["class"] == "ore"  # most spectra: genuine ore
    for row in rows:
        assert all(_allowed(f, present) for f in _features_shown(row["features"])), row
        if row["class"] == "ore":
            assert row["group"] in ore_groups, row
