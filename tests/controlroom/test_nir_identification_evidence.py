"""The evidence panel's spectrum carries the per-spectrum identification the NIR station archived."""

from __future__ import annotations

import numpy as np

from analysis.web.evidence import SpectrumCache
from conveyor.records import LotIdentity, LotStart, Measurement, StreamDescription


def test_segment_spectrum_reports_groups_unknown_share_and_features():
    cache = SpectrumCache()
    cache.handle(LotStart(LotIdentity("LOT1", "MV X", "H1", "ore", 100.0), 0.0, 1000.0, 10.0))
    meta = {"wavelength_nm": np.linspace(1000, 1600, 8).tolist(), "id_classes": ["ore", "waste", "contaminant", "unknown"],
            "id_groups": ["Fe-oxide ore", "polyethylene", "unknown"], "id_features": ["C-H 1.21", "OH/H2O 1.45"]}
    fields = {"reflectance": ((8,), "float32"), "valid": ((), "bool"), "id_class": ((), "int16"),
              "id_group": ((), "int16"), "band_depth": ((2,), "float32")}
    cache.handle(StreamDescription("nir", "nir", "nir", fields, metadata=meta))
    rows = [(0, 0, [0.0, 0.01])] * 6 + [(2, 1, [0.3, 0.02])] * 2 + [(3, 2, [0.05, 0.0])] * 2
    for k, (c, g, depth) in enumerate(rows):
        cache.handle(Measurement("LOT1", "nir", 0.0, 1000.5 + 0.1 * k,
                                 {"reflectance": np.full(8, 0.2), "valid": True, "id_class": np.int16(c),
                                  "id_group": np.int16(g), "band_depth": np.asarray(depth, np.float32)}))
    ident = cache.spectrum(0)["identification"]
    assert ident["spectra"] == 10 and ident["classes"] == {"ore": 6, "contaminant": 2, "unknown": 2}
    assert ident["groups"][0] == {"group": "Fe-oxide ore", "spectra": 6}
    assert ident["unknown_share"] == 0.2 and ident["unknown_features"] == "C-H 1.21 µm 5 %"


def test_a_stream_without_identification_reports_none():
    cache = SpectrumCache()
    cache.handle(LotStart(LotIdentity("LOT1", "MV X", "H1", "ore", 100.0), 0.0, 1000.0, 10.0))
    cache.handle(StreamDescription("nir", "nir", "nir", {"reflectance": ((8,), "float32")}))
    cache.handle(Measurement("LOT1", "nir", 0.0, 1000.5, {"reflectance": np.full(8, 0.2)}))
    assert cache.spectrum(0)["identification"] is None
