"""The shipped demo's hidden slag is at a fraction the NIR lot detector sees in the demo's own product ore.

At 8 % (the old default) the demo's dark magnetite/hematite product hid it from the 900-1700 nm instrument
(``ingaas256``) until the lot detector's waste probes were wetted at the lot's moisture (w21k): onset waste scores
2-6 against a limit of 4.4, and the first unflagged slag segment joined the lot baseline. The scene and detector here are the
line's own (CargoScene, the shipped model's LotDetector), fed segment by segment as the NIR station does.
"""

import tomllib
from pathlib import Path

import numpy as np

from conveyor.cargo import Admixture, CargoModel
from spectra.cache import prepared_model
from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
from spectra.grid import DEFAULT_GRID
from spectra.lotdetector import LotDetector
from spectra.scene import CargoScene

SITE = Path(__file__).resolve().parents[2] / "analysis" / "default_site.toml"
#: the shipped site's instrument grid
LINE_GRID = tomllib.loads(SITE.read_text())["stations"]["nir"].get("grid", DEFAULT_GRID)


def _flags(fraction: float, grid: str = LINE_GRID, n_spectra: int = 117) -> list[bool | None]:
    sim = tomllib.loads(SITE.read_text())["simulation"]
    model = prepared_model(grid)  # the shipped model (never fits)
    cargo = CargoModel("iron ore fines", [Admixture(300.0, 800.0, "waste", sim["waste_material"], fraction)])
    scene = CargoScene(model.grid, cargo, seed=int(sim["seed"]), segment_mass_t=100.0)
    det, rng = DetectorModel(model.grid, DetectorConfig(), seed=7), np.random.default_rng(1)
    lot = LotDetector(model.lot_detector)
    out: list[bool | None] = []
    for s in range(9):
        marks_t = s * 100.0 + np.arange(n_spectra + 1) * 100.0 / n_spectra
        r = np.array([scene.reflectance(a, b) for a, b in zip(marks_t[:-1], marks_t[1:])])
        t_h = np.ones(n_spectra)
        d = lot.update(simulate_referenced(det, r, rng, t_h, 0.05 * t_h))
        out.append(None if d.warmup else bool(d.flagged_waste))
    return out


def test_demo_slag_fraction_is_seen_by_the_lot_detector() -> None:
    fraction = tomllib.loads(SITE.read_text())["simulation"]["waste_fraction"]
    flags = _flags(fraction)
    assert flags[2] is False and flags[8] is False  # clean segments before and after
    assert sum(bool(f) for f in flags[3:8]) >= 4, flags  # slag at 300-800 t


def test_ingaas_sees_eight_percent_slag_since_the_wet_probes() -> None:
    """900-1700 nm missed 8 % slag in this product with dry waste probes (scores 2-6 against 4.4); with the waste
    probes wetted at the lot's moisture (w21k) it flags every slag segment, and the clean segment before them is
    not flagged. (The clean segment right after them scores 5.2 against 5.0: its baseline is 500 t old, every slag
    segment having been refused; docs/spectra.md "Round w21k".)"""
    flags = _flags(0.08, "ingaas256")
    assert flags[2] is False
    assert sum(bool(f) for f in flags[3:8]) >= 4, flags


def test_the_full_range_sees_five_percent_slag_in_the_demo_ore() -> None:
    """Why the shipped site measures 400-2400 nm (docs/spectra.md "Instrument range decided by measurement"): the
    slag 900-1700 nm misses at 8 % in this product is flagged at 5 %, and the clean segments around it are not."""
    flags = _flags(0.05, "full")
    assert flags[2] is False and flags[8] is False
    assert sum(bool(f) for f in flags[3:8]) >= 4, flags
