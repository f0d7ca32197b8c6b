"""The evidence panel's spectrum carries the per-spectrum identification the NIR station archived."""

from __future__ import annotations

import numpy as np

from analysis.web.evidence import SpectrumCache
from conveyor.records import LotIdentity, LotStart, Measurement, StreamDescription
from spectra.identify.labels import NO_FEATURE


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
    ore, pe = ident["groups"][0], ident["groups"][1]
    assert (ore["group"], ore["class"], ore["spectra"], ore["share"]) == ("Fe-oxide ore", "ore", 6, 0.6)
    assert ore["features"] == NO_FEATURE  # the 1 % band of the ore spectra is below the 2 % floor: not shown
    assert (pe["group"], pe["class"], pe["features"]) == ("polyethylene", "contaminant", "C-H 1.21 µm 30 %")
    assert pe["label"] == "polyethylene 20 % (C-H 1.21 µm 30 %)"
    assert ident["unknown_share"] == 0.2 and ident["unknown_features"] == "C-H 1.21 µm 5 %"


def test_a_stream_without_identification_reports_none():
    cache = SpectrumCache()
    cache.handle(LotStart(LotIdentity("LOT1", "MV X", "H1", "ore", 100.0), 0.0, 1000.0, 10.0))
    cache.handle(StreamDescription("nir", "nir", "nir", {"reflectance": ((8,), "float32")}))
    cache.handle(Measurement("LOT1", "nir", 0.0, 1000.5, {"reflectance": np.full(8, 0.2)}))
    assert cache.spectrum(0)["identification"] is None


def test_a_band_within_the_spectra_noise_is_not_shown():
    cache = SpectrumCache()
    cache.handle(LotStart(LotIdentity("LOT1", "MV X", "H1", "ore", 100.0), 0.0, 1000.0, 10.0))
    meta = {"wavelength_nm": np.linspace(1000, 1600, 64).tolist(), "id_classes": ["ore", "waste", "contaminant", "unknown"],
            "id_groups": ["Fe-oxide ore", "unknown"], "id_features": ["OH/H2O 1.45"]}
    fields = {"reflectance": ((64,), "float32"), "valid": ((), "bool"), "id_class": ((), "int16"),
              "id_group": ((), "int16"), "band_depth": ((1,), "float32")}
    cache.handle(StreamDescription("nir", "nir", "nir", fields, metadata=meta))
    rng = np.random.default_rng(0)
    for k, noise in enumerate([0.02] * 5 + [0.0005] * 5):  # 10 % relative noise, then 0.25 %
        cache.handle(Measurement("LOT1", "nir", 0.0, 1000.5 + 0.1 * k + 50.0 * (noise < 0.01),
                                 {"reflectance": (0.2 + noise * rng.standard_normal(64)).astype(np.float32),
                                  "valid": True, "id_class": np.int16(0), "id_group": np.int16(0),
                                  "band_depth": np.asarray([0.12], np.float32)}))
    noisy, clean = cache.spectrum(0)["identification"], cache.spectrum(5)["identification"]
    assert noisy["groups"][0]["features"] == NO_FEATURE  # 12 % deep but 10 % noise: not a detected band
    assert clean["groups"][0]["features"] == "OH/H2O 1.45 µm 12 %"
