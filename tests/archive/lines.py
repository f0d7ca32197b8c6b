"""Real lines that write real archives, for the archive, report and fleet tests.

The stations here are complete :class:`~conveyor.station.Station` subclasses (not
mocks): a NIR-like station that mixes real USGS library spectra (resampled onto
the 256-channel InGaAs grid) according to the cargo truth, a camera-like station
that reports cargo objects with a 64×64 RGB thumbnail, and a generic probe
station with a stream of arbitrary fields. They produce exactly the stream
layouts the brief names ("nir", "vision"), so the archive, the report and the
fleet see what the full spectra/vision packages will give them.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from conveyor.cargo import CargoModel
from conveyor.clock import SimulatedClock
from conveyor.feed import SimulatedFeed
from conveyor.records import LotIdentity, Measurement, StreamDescription
from conveyor.runtime import Line
from conveyor.station import MaterialWindow, Station
from analysis.decide.alarms import AlarmBook
from analysis.archive import LotArchive
from analysis.decide.monitor import LotMonitor
from spectra.segment import NirSegmentScore
from analysis.site import load_site

ENDMEMBERS = ("hematite", "goethite", "quartz")


@functools.lru_cache(maxsize=1)
def library_on_grid() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(wavelength_nm (256,), {class: mean reflectance (256,)}) from the shared USGS library."""
    from spectra.grid import ingaas256
    from spectra.library import load_library

    grid = ingaas256()
    lib = load_library().resample(grid, skip_uncovered=True)
    means = {}
    for klass in ("ore", "gangue", "waste", "contaminant"):
        idx = lib.indices(classes=[klass])
        if idx.size:
            means[klass] = np.nanmean(lib.reflectance[idx], axis=0)
    return grid.wavelength_nm, means


class LibraryNir(Station):
    """One reflectance spectrum per window: ore mixed with waste by the cargo's waste fraction, plus noise.

    ``offline_t`` lists lot-tonnage intervals where the spectrometer is down (uninspected).
    """

    def __init__(self, name: str, position_m: float, cargo: CargoModel, *, offline_t: Sequence[tuple[float, float]] = (),
                 seed: int = 0, per_window: int = 1) -> None:
        super().__init__(name, position_m)
        self.cargo, self.offline_t = cargo, tuple(offline_t)
        self.rng = np.random.default_rng(seed)
        self.per_window = per_window
        self.wavelength_nm, self.refs = library_on_grid()

    def describe(self):
        n, k = self.wavelength_nm.size, len(ENDMEMBERS)
        fields = {"reflectance": ((n,), "float32"), "abundances": ((k,), "float32")}
        fields.update({key: ((), "float32") for key in ("p_ore", "p_waste", "p_contaminant", "t2", "q", "unmix_residual")})
        fields.update(novel=((), "bool"), valid=((), "bool"))
        meta = {"grid": {"name": "ingaas256", "wavelength_nm": self.wavelength_nm.tolist()},
                "endmembers": list(ENDMEMBERS), "model_version": "test-nir-1"}
        return [StreamDescription(self.name, self.name, "nir", fields, {"reflectance": "1"}, meta)]

    def process(self, w: MaterialWindow):
        if w.empty:
            return [w.coverage(False, "belt empty")]
        rel = w.start_mark_t - w.lot_start_mark_t
        if any(a <= rel < b for a, b in self.offline_t):
            return [w.coverage(False, "NIR offline")]
        fr = self.cargo.fraction_at(np.array([rel]))
        waste = float(sum(v[0] for key, v in fr.items() if key.startswith("waste")))
        out = []
        for j in range(self.per_window):
            refl = (1 - waste) * self.refs["ore"] + waste * self.refs["waste"]
            refl = (refl + self.rng.normal(0, 0.004, refl.shape)).astype(np.float32)
            p_waste = float(np.clip(10 * waste + self.rng.normal(0, 0.02), 0, 1))
            ab = np.array([0.6 * (1 - waste), 0.3 * (1 - waste), 0.1 + 0.9 * waste], np.float32)
            data = dict(reflectance=refl, abundances=ab, p_ore=np.float32(1 - p_waste), p_waste=np.float32(p_waste),
                        p_contaminant=np.float32(0.0), t2=np.float32(self.rng.gamma(2.0)), q=np.float32(0.01),
                        unmix_residual=np.float32(0.005), novel=False, valid=True)
            mark = w.start_mark_t + (j + 0.5) / self.per_window * w.mass_t
            out.append(Measurement(w.lot_id, self.name, w.end_time_s, mark, data))
        return out + [w.coverage(True)]


def thumbnail(kind: str, seed: int) -> np.ndarray:
    """A 64×64×3 uint8 image: grey ore texture with a coloured object in the middle."""
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 110, (64, 64, 3), dtype=np.uint8)
    colour = {"wood": (150, 100, 40), "plastic": (30, 90, 200), "rubber": (20, 20, 20), "metal": (200, 200, 210)}
    img[20:44, 12:52] = colour.get(kind, (180, 60, 60))
    return img


class ThumbCamera(Station):
    """Reports every cargo object passing under it, with size, kind and a thumbnail."""

    def __init__(self, name: str, position_m: float, cargo: CargoModel) -> None:
        super().__init__(name, position_m)
        self.cargo = cargo

    def describe(self):
        f = {"kind": ((), "str"), "probability": ((), "float32"), "length_mm": ((), "float32"),
             "width_mm": ((), "float32"), "area_mm2": ((), "float32"), "lateral_m": ((), "float32"),
             "anomaly_score": ((), "float32"), "thumbnail": ((64, 64, 3), "uint8")}
        return [StreamDescription(self.name, self.name, "vision", f, {"length_mm": "mm"},
                                  {"image_size": [2048, 1], "detector_version": "test-vision-1"})]

    def process(self, w: MaterialWindow):
        if w.empty:
            return [w.coverage(False, "belt empty")]
        rel0, rel1 = w.start_mark_t - w.lot_start_mark_t, w.end_mark_t - w.lot_start_mark_t
        out = []
        for i, o in enumerate(self.cargo.objects_between(rel0, rel1)):
            data = {"kind": o.kind, "probability": np.float32(0.9), "length_mm": np.float32(o.length_mm),
                    "width_mm": np.float32(o.width_mm), "area_mm2": np.float32(o.length_mm * o.width_mm),
                    "lateral_m": np.float32(o.lateral_m), "anomaly_score": np.float32(3.0),
                    "thumbnail": thumbnail(o.kind, int(o.mark_t * 1000) + i)}
            out.append(Measurement(w.lot_id, self.name, w.end_time_s, o.mark_t + w.lot_start_mark_t, data))
        return out + [w.coverage(True)]


class Probe(Station):
    """A generic stream (not known to the archive): vector, string, integer and boolean fields."""

    def describe(self):
        f = {"level": ((), "float64"), "profile": ((8,), "float32"), "label": ((), "str"), "count": ((), "int32"),
             "ok": ((), "bool")}
        return [StreamDescription(self.name, self.name, "probe", f, {"level": "mm"}, {"sensor": "laser", "rate_hz": 1})]

    def process(self, w: MaterialWindow):
        if w.empty:
            return [w.coverage(False, "belt empty")]
        n = int(w.end_time_s)
        data = {"level": float(w.mass_t), "profile": np.full(8, w.belt_speed_m_s, np.float32),
                "label": f"tick-{n}", "count": np.int32(n), "ok": n % 2 == 0}
        return [Measurement(w.lot_id, self.name, w.end_time_s, w.start_mark_t, data), w.coverage(True)]


class ThresholdScorer:
    """Segment NIR statistic: mean p_waste of valid spectra against 0.3 (built per lot from stream metadata)."""

    def __init__(self, metadata):
        self.metadata = metadata

    def score(self, arrays):
        valid = arrays["valid"].astype(bool)
        score = float(arrays["p_waste"][valid].mean()) if valid.any() else math.nan
        return NirSegmentScore(score, 0.0, 0.0, int(valid.sum()), score > 0.3, False, 0.3, 1.0)


def run_lot(path: Path, cargo: CargoModel | None = None, *, mass_t: float = 800.0, stations: str = "nir,cam",
            offline_t: Sequence[tuple[float, float]] = (), lot_id: str = "LOT-A", supplier: str = "Supplier A",
            product: str = "fines", flush_interval_s: float = 0.0, seed: int = 1, per_window: int = 1,
            rate_t_h: float = 6000.0) -> dict[str, Any]:
    """Run one simulated lot on a real :class:`Line` with the archive wired as the lead wires it.

    Returns the archive, monitor, alarm book and LotEnd.
    """
    cargo = cargo or CargoModel(product)
    clock = SimulatedClock()
    alarms = AlarmBook(clock.now_s)
    monitor = LotMonitor(alarms, load_site()["verdict"], nir_scorer_factory=ThresholdScorer)
    chosen = []
    for key in stations.split(","):
        if key == "nir":
            chosen.append(LibraryNir("nir", 40.0, cargo, offline_t=offline_t, seed=seed, per_window=per_window))
        elif key == "cam":
            chosen.append(ThumbCamera("cam", 60.0, cargo))
        elif key == "probe":
            chosen.append(Probe("probe", 20.0))
    archive = LotArchive(path, flush_interval_s=flush_interval_s, clock=clock)
    line = Line(clock, SimulatedFeed(rate_t_h, 4.5, mass_t, seed=seed), chosen, sinks=[monitor, archive])
    monitor.segment_listeners.append(archive.add_segment)
    monitor.verdict_listeners.append(archive.add_verdict)
    alarms.listeners.append(archive.alarm_changed)
    end = line.run_lot(LotIdentity(lot_id, "MV Test", "H2", product, mass_t, supplier=supplier))
    archive.close()
    return {"archive": archive, "monitor": monitor, "alarms": alarms, "end": end, "cargo": cargo, "line": line}
