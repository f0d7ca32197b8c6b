"""The stand-in stations of the test lines (:mod:`tests.lines`), and the segment scorer for their NIR streams.

Complete :class:`~conveyor.station.Station` subclasses (not mocks), reading the same cargo truth the simulators use:

- archive kind: :class:`LibraryNir` mixes real USGS library spectra (resampled onto the 256-channel InGaAs grid)
  by the cargo's waste fraction; :class:`CargoCamera` reports cargo objects with a 64×64 RGB thumbnail;
  :class:`Probe` is a stream of arbitrary fields. They produce the stream layouts the archive, the report and the
  fleet read ("nir", "vision");
- decision kind: :class:`TruthNir` (p_waste = 10 × the true waste fraction, or a dropout) and :class:`CargoCamera`
  without thumbnails (every cargo object, detected) for the monitor's logic;
- :class:`MassProbe` reports the tonnes each window carried, for the runtime's own tests.

The control room's stand-ins (NIR by unmixing, a camera cropping a real belt photo, a sampler) are in
:mod:`tests.lines.service`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Mapping, Sequence

import numpy as np

from conveyor.cargo import CargoModel
from conveyor.records import Measurement, StreamDescription
from conveyor.station import MaterialWindow, Station
from spectra.segment import NirSegmentScore

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


class CargoCamera(Station):
    """Reports every cargo object passing under it as a detection: kind, probability and length, and with
    ``thumbnails`` (the archive's layout) also width, area, lateral position, anomaly score and a 64×64 thumbnail."""

    def __init__(self, name: str, position_m: float, cargo: CargoModel, thumbnails: bool = True) -> None:
        super().__init__(name, position_m)
        self.cargo = cargo
        self.thumbnails = thumbnails

    def describe(self):
        f = {"kind": ((), "str"), "probability": ((), "float32"), "length_mm": ((), "float32")}
        if not self.thumbnails:
            return [StreamDescription(self.name, self.name, "vision", f)]
        f |= {"width_mm": ((), "float32"), "area_mm2": ((), "float32"), "lateral_m": ((), "float32"),
              "anomaly_score": ((), "float32"), "thumbnail": ((64, 64, 3), "uint8")}
        return [StreamDescription(self.name, self.name, "vision", f, {"length_mm": "mm"},
                                  {"image_size": [2048, 1], "detector_version": "test-vision-1"})]

    def process(self, w: MaterialWindow):
        if w.empty:
            return [w.coverage(False, "belt empty")]
        rel0, rel1 = w.start_mark_t - w.lot_start_mark_t, w.end_mark_t - w.lot_start_mark_t
        out = []
        for i, o in enumerate(self.cargo.objects_between(rel0, rel1)):
            data = {"kind": o.kind, "probability": np.float32(0.9), "length_mm": np.float32(o.length_mm)}
            if self.thumbnails:
                data |= {"width_mm": np.float32(o.width_mm), "area_mm2": np.float32(o.length_mm * o.width_mm),
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
    """Segment NIR statistic: mean p_waste of the valid spectra against ``threshold``; a segment without a valid
    spectrum is not scored (never clean). Built per lot from the stream metadata (the monitor's scorer factory)."""

    def __init__(self, metadata: Mapping[str, Any] | None = None, *, threshold: float = 0.3,
                 contaminant_threshold: float = 1.0) -> None:
        self.metadata = metadata
        self.threshold, self.contaminant_threshold = threshold, contaminant_threshold

    def score(self, arrays: Mapping[str, np.ndarray]) -> NirSegmentScore:
        p = np.asarray(arrays["p_waste"], float)
        valid = np.asarray(arrays.get("valid", np.ones(p.size)), bool).reshape(p.shape)
        p = p[valid]
        score = float(p.mean()) if p.size else math.nan
        return NirSegmentScore(score, 0.0, 0.0, int(p.size), bool(p.size and score > self.threshold), False,
                               self.threshold, self.contaminant_threshold, scored=bool(p.size))


class TruthNir(Station):
    """One 'spectrum' per window whose p_waste is the true waste fraction × 10 (capped), or a dropout
    (``dropout_t``: lot-tonnage intervals)."""

    def __init__(self, name: str, position_m: float, cargo: CargoModel,
                 dropout_t: Sequence[tuple[float, float]] = ()) -> None:
        super().__init__(name, position_m)
        self.cargo, self.dropout_t = cargo, tuple(dropout_t)

    def describe(self):
        f = {k: ((), "float32") for k in ("p_waste", "p_contaminant", "t2", "q")}
        f.update(novel=((), "bool"), valid=((), "bool"))
        return [StreamDescription(self.name, self.name, "nir", f)]

    def process(self, w: MaterialWindow):
        if w.empty:
            return [w.coverage(False, "no material")]
        rel = w.start_mark_t - w.lot_start_mark_t
        if any(a <= rel < b for a, b in self.dropout_t):
            return [w.coverage(False, "dropout")]
        fr = self.cargo.fraction_at(np.array([rel]))
        waste = sum(v[0] for k, v in fr.items() if k.startswith("waste"))
        data = dict(p_waste=np.float32(min(1.0, 10 * waste)), p_contaminant=np.float32(0), t2=np.float32(1),
                    q=np.float32(1), novel=False, valid=True)
        return [Measurement(w.lot_id, self.name, w.end_time_s, w.start_mark_t, data), w.coverage(True)]


class MassProbe(Station):
    """Reports the tonnes it saw per window (and coverage); keeps every window it was given."""

    def __init__(self, name: str, position_m: float) -> None:
        super().__init__(name, position_m)
        self.windows: list[MaterialWindow] = []

    def describe(self):
        return [StreamDescription(self.name, self.name, "probe", {"mass_t": ((), "float64")}, {"mass_t": "t"})]

    def process(self, window: MaterialWindow):
        self.windows.append(window)
        if window.empty:
            return [window.coverage(False, "no material")]
        m = Measurement(window.lot_id, self.name, window.end_time_s, window.start_mark_t, {"mass_t": window.mass_t})
        return [m, window.coverage(True)]
