"""Spectrometer drivers: one suite for every backend, referencing, saturation and bad pixels."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from spectra.detector import DetectorConfig
from spectra.driver import BACKENDS, open_spectrometer
from spectra.errors import (AcquisitionTimeout, BackendError, BackendUnavailableError, InvalidSpectrumError,
                            ReferencingError)
from spectra.formats import write_csv, write_jcamp, write_hdf5
from spectra.grid import ingaas256

GRID = ingaas256()
TRUTH = 0.15 + 0.2 * (GRID.wavelength_nm - 900) / 800


@pytest.fixture(params=["simulated", "replay", "ocean"])
def spectrometer(request, tmp_path):
    if request.param == "ocean":
        pytest.importorskip("seabreeze", reason="seabreeze not installed: Ocean Insight backend not testable")
        try:
            spec = open_spectrometer("ocean", GRID)
        except BackendError as exc:
            pytest.skip(f"no Ocean Insight device: {exc}")
    elif request.param == "replay":
        wl = np.linspace(850, 1750, 901)
        r = np.interp(wl, GRID.wavelength_nm, TRUTH)
        write_csv(tmp_path / "a.csv", wl, r)
        write_jcamp(tmp_path / "b.jdx", wl, r)
        write_hdf5(tmp_path / "c.h5", GRID.wavelength_nm, TRUTH[None, :])
        spec = open_spectrometer("replay", GRID, path=tmp_path)
    else:
        spec = open_spectrometer("simulated", GRID, seed=3)
        spec.present(TRUTH)
    yield spec
    spec.close()


def test_backend_contract(spectrometer):
    with pytest.raises(ReferencingError):
        spectrometer.reflectance(spectrometer.acquire(1.0))
    assert spectrometer.take_dark().success
    assert spectrometer.take_white().success
    acq = spectrometer.acquire(tonnage_mark_t=12.5)
    assert acq.counts.shape == (GRID.n_channels,) and acq.tonnage_mark_t == 12.5
    assert acq.integration_time_ms > 0 and acq.kind == "sample" and not acq.any_saturated
    r = spectrometer.reflectance(acq)
    assert r.shape == (GRID.n_channels,)
    if type(spectrometer).__name__ != "OceanSpectrometer":
        assert np.allclose(r, TRUTH, atol=0.01)
    spectrometer.close()
    with pytest.raises(BackendError):
        spectrometer.acquire()


def test_unknown_backend_and_missing_sdk():
    with pytest.raises(BackendError, match="expected spectrometer backend"):
        open_spectrometer("nope", GRID)
    assert set(BACKENDS) == {"simulated", "replay", "ocean"}
    if importlib.util.find_spec("seabreeze") is None:
        with pytest.raises(BackendUnavailableError, match="seabreeze"):
            open_spectrometer("ocean", GRID)


def test_saturation_detected_and_refused():
    spec = open_spectrometer("simulated", GRID)
    spec.take_dark(), spec.take_white()
    spec.set_fault("saturate")
    acq = spec.acquire()
    assert acq.any_saturated
    with pytest.raises(InvalidSpectrumError, match="saturated"):
        spec.reflectance(acq)
    spec.close()


def test_dead_and_hot_pixels_detected_and_repaired():
    det = DetectorConfig(dead_pixels=(40, 41), hot_pixels=(100,))
    spec = open_spectrometer("simulated", GRID, detector=det)
    spec.present(TRUTH)
    spec.take_dark(), spec.take_white()
    assert list(spec.pixels.dead) == [40, 41] and list(spec.pixels.hot) == [100]
    r = spec.reflectance(spec.acquire())
    assert np.all(np.isfinite(r)) and np.allclose(r[[40, 41, 100]], TRUTH[[40, 41, 100]], atol=0.01)
    spec.close()
    too_many = DetectorConfig(dead_pixels=tuple(range(0, 60)))
    spec = open_spectrometer("simulated", GRID, detector=too_many)
    spec.take_dark(), spec.take_white()
    with pytest.raises(InvalidSpectrumError, match="dead/hot"):
        spec.reflectance(spec.acquire())
    spec.close()


def test_dropout_and_timeout():
    spec = open_spectrometer("simulated", GRID, latency_s=0.2, timeout_s=0.02)
    with pytest.raises(AcquisitionTimeout, match="within"):
        spec.acquire()
    status = spec.take_dark(timeout_s=0.02)
    assert status.done and not status.success and "within" in status.error
    spec.close()
    spec = open_spectrometer("simulated", GRID)
    spec.set_fault("dropout")
    with pytest.raises(AcquisitionTimeout, match="dropout"):
        spec.acquire()
    spec.close()


def test_white_ageing_and_dark_drift_bias_reflectance():
    t = {"s": 0.0}
    det = DetectorConfig(white_ageing_per_h=0.05, dark_drift_counts_per_h=2000.0)
    spec = open_spectrometer("simulated", GRID, detector=det, clock=lambda: t["s"])
    spec.present(TRUTH)
    spec.take_dark(), spec.take_white()
    fresh = spec.reflectance(spec.acquire())
    t["s"] = 4 * 3600.0
    stale = spec.reflectance(spec.acquire())  # old references: dark drifted upward → reflectance biased up
    spec.take_dark(), spec.take_white()
    renewed = spec.reflectance(spec.acquire())  # tile aged 20 %: reflectance biased high by 1/0.8
    assert np.mean(stale - fresh) > 0.005
    assert np.mean(renewed / TRUTH) == pytest.approx(1 / 0.8, rel=0.03)
    spec.close()


def test_replay_exhausts_without_loop(tmp_path):
    write_csv(tmp_path / "a.csv", np.linspace(850, 1750, 500), np.full(500, 0.3))
    spec = open_spectrometer("replay", GRID, path=tmp_path / "a.csv", loop=False)
    spec.take_dark(), spec.take_white()
    spec.acquire()
    with pytest.raises(BackendError, match="exhausted"):
        spec.acquire()
    spec.close()
    with pytest.raises(BackendError):
        open_spectrometer("replay", GRID, path=tmp_path / "missing")
