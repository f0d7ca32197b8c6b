"""Small real stations producing nir-kind and vision-kind streams from the cargo truth.

They stand in for the full spectra/vision packages in tests of the decision logic:
each is a complete Station (describe/process/coverage), reading the same
CargoModel the simulators use.
"""

from __future__ import annotations

import numpy as np

from conveyor.cargo import CargoModel
from conveyor.records import Measurement, StreamDescription
from conveyor.station import MaterialWindow, Station


class TruthNir(Station):
    """One 'spectrum' per window whose p_waste is the true waste fraction × 10 (capped), or a dropout."""

    def __init__(self, name, position_m, cargo: CargoModel, dropout_t=()):
        super().__init__(name, position_m)
        self.cargo, self.dropout_t = cargo, dropout_t

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
        waste = sum(self.cargo.fraction_at(np.array([rel])).get(k, np.zeros(1))[0]
                    for k in self.cargo.fraction_at(np.array([rel])) if k.startswith("waste"))
        data = dict(p_waste=np.float32(min(1.0, 10 * waste)), p_contaminant=np.float32(0), t2=np.float32(1),
                    q=np.float32(1), novel=False, valid=True)
        return [Measurement(w.lot_id, self.name, w.end_time_s, w.start_mark_t, data), w.coverage(True)]


class TruthCamera(Station):
    """Reports every cargo object that passes as a detection."""

    def __init__(self, name, position_m, cargo: CargoModel):
        super().__init__(name, position_m)
        self.cargo = cargo

    def describe(self):
        f = {"kind": ((), "str"), "probability": ((), "float32"), "length_mm": ((), "float32")}
        return [StreamDescription(self.name, self.name, "vision", f)]

    def process(self, w: MaterialWindow):
        if w.empty:
            return [w.coverage(False, "no material")]
        rel0, rel1 = w.start_mark_t - w.lot_start_mark_t, w.end_mark_t - w.lot_start_mark_t
        out = [Measurement(w.lot_id, self.name, w.end_time_s, o.mark_t + w.lot_start_mark_t,
                           {"kind": o.kind, "probability": np.float32(0.9), "length_mm": np.float32(o.length_mm)})
               for o in self.cargo.objects_between(rel0, rel1)]
        return out + [w.coverage(True)]


class MeanScorer:
    """Segment statistic for the truth station: mean p_waste against 0.3."""

    def __init__(self, metadata):
        self.metadata = metadata

    def score(self, arrays):
        from spectra.segment import NirSegmentScore

        valid = arrays["valid"].astype(bool)
        score = float(arrays["p_waste"][valid].mean()) if valid.any() else float("nan")
        return NirSegmentScore(score, 0.0, 0.0, int(valid.sum()), score > 0.3, False, 0.3, 1.0)
