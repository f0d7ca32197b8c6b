"""A short soak in the test suite: the whole line for 1,000 t at 8,000 t/h, RSS bounded by tonnage (not time).

The full 200,000 t lot is ``benchmarks/soak.py``.
"""

from __future__ import annotations

import pytest

from benchmarks.soak import run_soak
from tests.faults.figures import record

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_short_soak_keeps_memory_flat_and_loses_nothing(tmp_path):
    fig = run_soak(1_000.0, 8_000.0, sample_every_t=50.0, out=None, run_dir=tmp_path, serve=True, verbose=False,
                   camera_mm_per_px=4.0)  # the shipped camera model: the test fits none
    assert fig["status"] == "complete" and fig["lot_done_t"] == pytest.approx(1_000.0)
    assert fig["segments"] == 10
    assert fig["station_faults"] == {}
    assert fig["coverage_fraction"]["nir"] > 0.95 and fig["coverage_fraction"]["camera"] > 0.95
    # second-half growth, by tonnage: a leak of 1 kB per spectrum would show as > 1 MB here
    samples = fig["rss_samples"]
    half = [s for s in samples if s[0] >= 500.0]
    growth_mb = max(s[2] for s in half) - half[0][2]
    assert growth_mb < 40.0, samples
    record("load.short_soak", group="load", fault="1,000 t lot at 8,000 t/h, all stations, archive, Modbus server",
           injected=0, survived=True, segments=fig["segments"], spectra=fig["spectra"],
           rss_peak_mb=round(fig["rss_peak_mb"] / 10) * 10, rss_growth_2nd_half_mb=round(growth_mb / 5) * 5)
