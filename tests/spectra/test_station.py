"""The NIR station on a simulated line: records, coverage, faults and configuration errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conveyor.cargo import Admixture, CargoModel
from conveyor.clock import SimulatedClock
from conveyor.errors import ConfigError
from conveyor.records import Coverage, LotIdentity, LotRun, LotStart, Measurement
from conveyor.station import MaterialWindow, StationContext
from spectra.formats import write_csv
from spectra.station import from_config


def _ctx(tmp_path, cargo=None):
    return StationContext(SimulatedClock(), 1.8, 4.0, Path(tmp_path), 3, cargo)


def _run(station, n_windows=40, rate_t_s=1.0, empty_at=()):
    lot = LotIdentity("LOT-1", "MV Test", "H1", "hematite fines", 1000.0)
    run = LotRun()
    run.add(LotStart(lot, 0.0, 500.0, 100.0))
    for d in station.describe():
        run.add(d)
    station.start_lot(run.start)
    records = []
    for i in range(n_windows):
        r = 0.0 if i in empty_at else rate_t_s
        m0 = 500.0 + sum(0.0 if j in empty_at else rate_t_s for j in range(i))
        w = MaterialWindow("LOT-1", station.name, float(i), float(i + 1), m0, m0 + r, 4.0 * i, 4.0 * (i + 1), 4.0, 500.0)
        for rec in station.process(w):
            records.append(run.add(rec))
    return run, records


def _uninspected(records):
    return [(round(c.start_mark_t - 500, 2), round(c.end_mark_t - 500, 2), c.reason)
            for c in records if isinstance(c, Coverage) and not c.inspected]


def test_station_produces_valid_records(tmp_path, model_path):
    cargo = CargoModel("hematite fines", [Admixture(10, 20, "waste", "slag", 0.2)])
    st = from_config("nir", {"kind": "spectrometer", "position_m": 30.0, "grid": "ingaas256", "model": str(model_path)}, _ctx(tmp_path, cargo))
    run, records = _run(st, 30)
    ms = [r for r in records if isinstance(r, Measurement)]
    assert len(ms) == 60 and run.counts["nir"] == 60
    desc = st.describe()[0]
    assert desc.kind == "nir" and len(desc.metadata["wavelength_nm"]) == 256
    assert {"model_version", "model_hash", "minerals", "t2_limit", "q_limit", "classes"} <= set(desc.metadata)
    m = ms[0]
    assert m.data["reflectance"].dtype == np.float32 and m.data["valid"] and m.inspected
    assert 0.0 <= float(m.data["p_waste"]) <= 1.0
    assert all(500 <= m.tonnage_mark_t <= 530 for m in ms)
    assert _uninspected(records) == []
    covered = sum(c.end_mark_t - c.start_mark_t for c in records if isinstance(c, Coverage))
    assert covered == pytest.approx(30.0)
    st.close()


def test_dropout_saturation_and_empty_belt_are_uninspected(tmp_path, model_path):
    section = {"kind": "spectrometer", "position_m": 30.0, "grid": "ingaas256", "model": str(model_path),
               "dropout_at_t": [[5.0, 8.0]], "saturate_at_t": [[15.0, 16.0]]}
    st = from_config("nir", section, _ctx(tmp_path, CargoModel("fines")))
    run, records = _run(st, 30, empty_at=(25,))
    gaps = _uninspected(records)
    reasons = {r for *_, r in gaps}
    assert reasons == {"dropout", "saturated", "empty belt"}
    dropout = [(a, b) for a, b, r in gaps if r == "dropout"]
    assert dropout[0][0] <= 5.0 and dropout[-1][1] >= 7.5
    invalid = [r for r in records if isinstance(r, Measurement) and not r.data["valid"]]
    assert invalid and all(np.isnan(r.data["p_waste"]) and not r.inspected for r in invalid)
    st.close()


def test_replay_backend_station(tmp_path, model_path, rlib):
    folder = tmp_path / "replay"
    folder.mkdir()
    for i in range(3):
        write_csv(folder / f"s{i}.csv", rlib.grid.wavelength_nm, rlib.reflectance[i])
    st = from_config("nir", {"kind": "spectrometer", "position_m": 30.0, "grid": "ingaas256", "model": str(model_path), "backend": "replay",
                             "replay_path": str(folder)}, _ctx(tmp_path))
    run, records = _run(st, 3)
    ms = [r for r in records if isinstance(r, Measurement)]
    assert len(ms) == 6 and np.allclose(ms[0].data["reflectance"], rlib.reflectance[0], atol=1e-3)
    st.close()


@pytest.mark.parametrize("section,key", [
    ({"kind": "camera", "position_m": 1.0}, "kind"),
    ({"kind": "spectrometer"}, "position_m"),
    ({"kind": "spectrometer", "position_m": -1.0}, "position_m"),
    ({"kind": "spectrometer", "position_m": 1.0, "colour": "red"}, "colour"),
    ({"kind": "spectrometer", "position_m": 1.0, "backend": "usb"}, "backend"),
    ({"kind": "spectrometer", "position_m": 1.0, "grid": "mwir"}, "grid"),
    ({"kind": "spectrometer", "position_m": 1.0, "spectra_per_s": 0}, "spectra_per_s"),
    ({"kind": "spectrometer", "position_m": 1.0, "dropout_at_t": [[5, 2]]}, "dropout_at_t"),
    ({"kind": "spectrometer", "position_m": 1.0, "window_dirt_rate": -1}, "window_dirt_rate"),
    ({"kind": "spectrometer", "position_m": 1.0, "model": "missing.npz"}, "model"),
    ({"kind": "spectrometer", "position_m": 1.0, "backend": "replay"}, "replay_path"),
    ({"kind": "spectrometer", "position_m": 1.0, "backend": "replay", "saturate_at_t": [[1, 2]]}, "saturate_at_t"),
])
def test_config_errors(tmp_path, model_path, section, key):
    section = dict(section)
    if "model" not in section and key not in ("model",):
        section["model"] = str(model_path)
        section.setdefault("grid", "ingaas256")
    with pytest.raises(ConfigError) as info:
        from_config("nir", section, _ctx(tmp_path))
    assert info.value.path == f"stations.nir.{key}"


def test_model_on_other_grid_is_a_config_error(tmp_path, model_path):
    with pytest.raises(ConfigError, match="grid") as info:
        from_config("nir", {"kind": "spectrometer", "position_m": 1.0, "grid": "full", "model": str(model_path)},
                    _ctx(tmp_path))
    assert info.value.path == "stations.nir.model"


def test_unknown_cargo_material_is_a_config_error(tmp_path, model_path):
    cargo = CargoModel("fines", [Admixture(1, 2, "contaminant", "unobtainium", 0.1)])
    with pytest.raises(ConfigError, match="unobtainium"):
        from_config("nir", {"kind": "spectrometer", "position_m": 1.0, "grid": "ingaas256", "model": str(model_path)},
                    _ctx(tmp_path, cargo))
