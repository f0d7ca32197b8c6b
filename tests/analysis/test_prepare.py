"""First-run preparation: station models built in worker processes, with progress lines while they work."""

import io

import pytest

from analysis.prepare import prepare_station_models
from analysis.site import load_site


def test_nothing_to_prepare_prints_nothing():
    site = load_site()
    site["stations"] = {name: s for name, s in site["stations"].items() if s["kind"] == "sampler"}
    out = io.StringIO()
    assert prepare_station_models(site, stream=out) == {}
    assert out.getvalue() == ""


@pytest.mark.slow
def test_a_failing_station_is_left_to_compose_and_progress_is_logged(tmp_path):
    """A station whose model file is missing fails in its worker; preparation still ends, with log lines."""
    site = load_site()
    site["stations"] = {"nir": {**site["stations"]["nir"], "model": str(tmp_path / "missing.npz")}}
    out = io.StringIO()
    ready = prepare_station_models(site, stream=out, log_interval_s=0.5)
    assert set(ready) == {"nir"}
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("preparing station models") and "importing spectrometer" in lines[0]
    assert lines[-1].endswith("nir " + f"{ready['nir']:.0f} s")
